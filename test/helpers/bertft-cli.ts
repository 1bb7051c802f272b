/** The compiled `bertft` run as a user runs it, for the CLI's end-to-end tests. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const CLI = path.join(__dirname, '..', '..', 'src', 'cli.js');

export function run(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
}

/** bertft's --json output: one object a line (the command must succeed). */
export function bertft<T>(...args: string[]): T[] {
  const r = run(...args);
  assert.equal(r.status, 0, `bertft ${args[0]} failed:\n${r.stderr}`);
  return r.stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as T);
}

/**
 * The family CLI tests' short run: `bertft train` of a tiny model folder on a sentiment CSV for 12 steps (batch 8,
 * lr 3e-3, seed 1, CPU); it must end with `done` after an evaluation.
 */
export function trainTinyFolder(data: string, out: string, model: string, maxLength: number): { event: string }[] {
  const events = bertft<{ event: string }>(
    'train',
    '--json',
    '--data',
    data,
    '--out',
    out,
    '--model',
    model,
    '--max-steps',
    '12',
    '--batch-size',
    '8',
    '--max-length',
    String(maxLength),
    '--lr',
    '3e-3',
    '--seed',
    '1',
    '--device',
    'cpu',
  );
  assert.equal(events[events.length - 1].event, 'done');
  assert.ok(events.some((e) => e.event === 'eval'));
  return events;
}

/** `bertft predict` on a sentiment run reloads it and gives one pos/neg label per text. */
export function assertPredictsSentiment(out: string): void {
  const predictions = bertft<{ label: string }>(
    'predict',
    '--model',
    out,
    '--json',
    '--text',
    'the movie was great',
    '--text',
    'the plot was awful',
  );
  assert.equal(predictions.length, 2);
  for (const p of predictions) assert.ok(['pos', 'neg'].includes(p.label), JSON.stringify(p));
}

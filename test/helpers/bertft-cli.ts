/** The compiled `bertft` run as a user runs it, for the CLI's end-to-end tests. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readMetricsLog } from '../../src/core/run/metrics-log';
import type { StepEvent } from '../../src/core/run/events';

const CLI = path.join(__dirname, '..', '..', 'src', 'cli.js');

export function run(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
}

/** The step events a run folder's metrics.jsonl holds so far. */
export const stepsOf = (out: string): StepEvent[] =>
  readMetricsLog(path.join(out, 'metrics.jsonl')).filter((e): e is StepEvent => e.event === 'step');

/**
 * `bertft train ARGS --out OUT` in its own process, as the training process itself (BERTFT_TRAINING_CHILD, no restart
 * into a child, so that the kill hits the process that writes), killed with SIGKILL as soon as its metrics log a step
 * at or past `step`: mid-run, with the work since the last checkpoint lost. Resolves to whether the kill landed before
 * the run ended.
 */
export async function trainKilledAtStep(args: string[], out: string, step: number): Promise<boolean> {
  const child = spawn(process.execPath, [CLI, 'train', ...args, '--out', out], {
    env: { ...process.env, BERTFT_TRAINING_CHILD: '1' },
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const metrics = path.join(out, 'metrics.jsonl');
  let landed = false;
  while (child.exitCode === null && child.signalCode === null) {
    if (fs.existsSync(metrics) && stepsOf(out).some((s) => s.step >= step)) {
      landed = child.kill('SIGKILL');
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await exited;
  return landed;
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
 * lr 3e-3, seed 1, CPU) unless `steps` says otherwise; it must end with `done` after an evaluation.
 */
export function trainTinyFolder(
  data: string,
  out: string,
  model: string,
  maxLength: number,
  steps = 12,
): { event: string; accuracy?: number }[] {
  const events = bertft<{ event: string; accuracy?: number }>(
    'train',
    '--json',
    '--data',
    data,
    '--out',
    out,
    '--model',
    model,
    '--max-steps',
    String(steps),
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

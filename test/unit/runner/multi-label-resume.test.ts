/**
 * Multi-label training through the run machinery (`bertft train` in its own process, on emojilib's keyword
 * annotations with per-label positive weights and dropout): killed with SIGKILL mid-run, `--resume` ends with the
 * uninterrupted run's weights byte for byte, the same losses and evaluations, and the same best/ with its thresholds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readMetricsLog } from '../../../src/core/run/metrics-log';
import type { StepEvent } from '../../../src/core/run/events';
import { emojiKeywordRows } from '../../helpers/emoji-keywords';
import { tempDir } from './fixtures';

const ROOT = path.join(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'out', 'src', 'cli.js');
// The training process itself (no restart into a child), so that SIGKILL hits the process that writes.
const ENV = { ...process.env, BERTFT_TRAINING_CHILD: '1' };
const LABELS = ['animal', 'food', 'nature', 'vehicle'];
// 96 rows, 25% held out: 72 training rows, 9 batches of 8 per epoch; 12 steps cross an epoch boundary.
const TOTAL_STEPS = 12;
const ARGS = [
  ...['--model', 'random:tiny', '--max-steps', String(TOTAL_STEPS), '--batch-size', '8', '--valid-ratio', '0.25'],
  ...['--max-length', '16', '--eval-steps', '4', '--seed', '7', '--device', 'cpu', '--lr', '2e-3', '--class-weights'],
];

function writeEmojiJsonl(dir: string): string {
  const rows = emojiKeywordRows()
    .rows.slice(0, 96)
    .map((r) => ({ text: r.text, labels: r.labels.filter((l) => LABELS.includes(l)) }));
  const file = path.join(dir, 'emoji.jsonl');
  fs.writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return file;
}

const train = (args: string[]) => spawnSync(process.execPath, [CLI, 'train', ...args], { env: ENV, encoding: 'utf8' });

const stepsOf = (out: string): StepEvent[] =>
  readMetricsLog(path.join(out, 'metrics.jsonl')).filter((e): e is StepEvent => e.event === 'step');

/** Each evaluation's figures (without its time) by step; a step logged again after a resume counts once, the last. */
const evalsOf = (out: string): string[] => {
  const byStep = new Map<number, string>();
  for (const e of readMetricsLog(path.join(out, 'metrics.jsonl')))
    if (e.event === 'eval') byStep.set(e.step, JSON.stringify({ ...e, time: undefined }));
  return [...byStep].sort(([a], [b]) => a - b).map(([, figures]) => figures);
};

const file = (out: string, ...parts: string[]): Buffer => fs.readFileSync(path.join(out, ...parts));

test('multi-label: kill -9 mid-run and --resume end with the uninterrupted run, byte for byte', async () => {
  const dir = tempDir('multi-label-kill');
  const data = writeEmojiJsonl(dir);
  const straight = path.join(dir, 'straight');
  const r = train(['--data', data, '--out', straight, ...ARGS]);
  assert.equal(r.status, 0, r.stderr);
  const evals = evalsOf(straight);
  const parsed = evals.map((e) => JSON.parse(e) as { step: number; task?: string });
  // Every 4 steps and at the end of the epoch (step 9).
  assert.deepEqual(
    parsed.map((e) => e.step),
    [4, 8, 9, 12],
  );
  assert.ok(parsed.every((e) => e.task === 'multi-label'));

  const killed = path.join(dir, 'killed');
  const child = spawn(process.execPath, [CLI, 'train', '--data', data, '--out', killed, ...ARGS], {
    env: ENV,
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const metrics = path.join(killed, 'metrics.jsonl');
  // Kill once the step after the first checkpoint (step 4) is logged: mid-run, with work since the checkpoint lost.
  let landed = false;
  while (child.exitCode === null && child.signalCode === null) {
    if (fs.existsSync(metrics) && stepsOf(killed).some((s) => s.step >= 5)) {
      landed = child.kill('SIGKILL');
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await exited;
  assert.ok(landed, 'the kill landed before the run ended');
  assert.ok(!fs.existsSync(path.join(killed, 'checkpoints', `step-${TOTAL_STEPS}`)), 'the run did not finish');

  const resumed = train(['--out', killed, '--resume']);
  assert.equal(resumed.status, 0, resumed.stderr);
  const starts = readMetricsLog(metrics).filter((e) => e.event === 'started');
  assert.equal(starts.length, 2);
  const from = starts[1].resumed_from_step ?? 0;
  assert.ok(from >= 4 && from < TOTAL_STEPS, `resumed from step ${from}, a checkpoint before the end`);
  const final = ['checkpoints', `step-${TOTAL_STEPS}`, 'model.safetensors'];
  assert.ok(file(killed, ...final).equals(file(straight, ...final)), 'resumed weights are bit-identical');
  const losses = (out: string) => {
    const byStep = new Map(stepsOf(out).map((s) => [s.step, s.loss]));
    return Array.from({ length: TOTAL_STEPS }, (_, i) => byStep.get(i + 1));
  };
  assert.deepEqual(losses(killed), losses(straight));
  assert.deepEqual(evalsOf(killed), evals, 'the same evaluations (micro/macro-F1, per-label thresholds)');
  for (const name of ['model.safetensors', 'thresholds.json', 'config.json']) {
    assert.ok(file(killed, 'best', name).equals(file(straight, 'best', name)), `best/${name} is the same`);
  }
  const thresholds = JSON.parse(file(killed, 'best', 'thresholds.json').toString('utf8')) as {
    thresholds: Record<string, number>;
  };
  assert.deepEqual(Object.keys(thresholds.thresholds).sort(), [...LABELS].sort());
});

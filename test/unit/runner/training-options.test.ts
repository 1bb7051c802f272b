/**
 * The training options through the run machinery (`bertft train` in its own process): gradient accumulation, the
 * learning-rate schedule and label smoothing are recorded in run.json, counted in optimizer steps, refused as
 * differing on --resume, and a run with them killed with SIGKILL mid-run resumes to the uninterrupted run's weights
 * byte for byte.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runTrainingSession, type SessionOptions } from '../../../src/core/finetune/session';
import { lrFactor } from '../../../src/core/train/schedule';
import { tempDir, writeSentimentCsv } from './fixtures';
import { stepsOf, trainKilledAtStep } from '../../helpers/bertft-cli';

const ROOT = path.join(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'out', 'src', 'cli.js');
// The training process itself (no restart into a child), so that SIGKILL hits the process that writes.
const ENV = { ...process.env, BERTFT_TRAINING_CHILD: '1' };
const ACCUMULATION = 3;
// 48 rows, 25% held out: 36 training rows, 9 batches of 4 per epoch → 3 optimizer steps per epoch, 6 in all.
const ARGS = [
  '--model',
  'random:tiny',
  '--epochs',
  '2',
  '--batch-size',
  '4',
  '--valid-ratio',
  '0.25',
  '--max-length',
  '16',
  '--eval-steps',
  '2',
  '--seed',
  '11',
  '--device',
  'cpu',
  '--gradient-accumulation-steps',
  String(ACCUMULATION),
  '--lr-schedule',
  'cosine',
  '--label-smoothing',
  '0.1',
  '--warmup-steps',
  '1',
  '--lr',
  '2e-3',
  // One model: these tests count a run's optimizer steps.
  '--ensemble',
  '1',
];
const TOTAL_STEPS = 6;

function train(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [CLI, 'train', ...args], { env: ENV, encoding: 'utf8' });
}

const finalWeights = (out: string): Buffer =>
  fs.readFileSync(path.join(out, 'checkpoints', `step-${TOTAL_STEPS}`, 'model.safetensors'));

test('accumulation, cosine schedule and label smoothing: run.json, optimizer steps, lr, refused differences on --resume', () => {
  const dir = tempDir('train-options');
  const data = writeSentimentCsv(dir, 48);
  const out = path.join(dir, 'run');
  const r = train(['--data', data, '--out', out, ...ARGS]);
  assert.equal(r.status, 0, r.stderr);
  const config = (
    JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')) as { config: Record<string, unknown> }
  ).config;
  assert.equal(config.gradientAccumulationSteps, ACCUMULATION);
  assert.equal(config.lrSchedule, 'cosine');
  assert.equal(config.labelSmoothing, 0.1);
  const steps = stepsOf(out);
  assert.deepEqual(
    steps.map((s) => s.step),
    Array.from({ length: TOTAL_STEPS }, (_, i) => i + 1),
  );
  assert.ok(steps.every((s) => s.total_steps === TOTAL_STEPS));
  // Epoch positions advance by a third of an epoch per optimizer step (3 of 9 batches).
  assert.deepEqual(
    steps.map((s) => Math.round(s.epoch * 3)),
    [1, 2, 3, 4, 5, 6],
  );
  steps.forEach((s, i) =>
    assert.ok(Math.abs(s.lr - 2e-3 * lrFactor('cosine', i, 1, TOTAL_STEPS)) < 1e-15, `lr of step ${s.step}: ${s.lr}`),
  );

  for (const [flag, value, key] of [
    ['--gradient-accumulation-steps', '2', 'gradientAccumulationSteps'],
    ['--lr-schedule', 'linear', 'lrSchedule'],
    ['--label-smoothing', '0.2', 'labelSmoothing'],
  ]) {
    const again = train(['--out', out, '--resume', flag, value]);
    assert.equal(again.status, 1, `${flag} ${value} on --resume is refused`);
    assert.match(again.stderr, new RegExp(`${key} \\(run: `));
  }
  const same = train(['--out', out, '--resume', '--lr-schedule', 'cosine', '--label-smoothing', '0.1']);
  assert.equal(same.status, 0, `the run's own values are accepted: ${same.stderr}`);

  const refused = train(['--data', data, '--out', path.join(dir, 'both'), ...ARGS, '--steps-per-run', '2']);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /Gradient accumulation and several steps per engine call cannot be combined/);
});

test('with gradient accumulation, kill -9 mid-run and --resume end with the uninterrupted run weights, byte for byte', async () => {
  const dir = tempDir('train-options-kill');
  const data = writeSentimentCsv(dir, 48);
  const straight = path.join(dir, 'straight');
  assert.equal(train(['--data', data, '--out', straight, ...ARGS]).status, 0);

  const killed = path.join(dir, 'killed');
  // Killed once the step after the first checkpoint (step 2) is logged: mid-run, with work since the checkpoint lost.
  const landed = await trainKilledAtStep(['--data', data, ...ARGS], killed, 3);
  assert.ok(landed, 'the kill landed before the run ended');
  assert.ok(!fs.existsSync(path.join(killed, 'checkpoints', `step-${TOTAL_STEPS}`)), 'the run did not finish');
  const resumed = train(['--out', killed, '--resume']);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.ok(finalWeights(killed).equals(finalWeights(straight)), 'resumed weights are bit-identical');
  const losses = (out: string) => {
    const byStep = new Map(stepsOf(out).map((s) => [s.step, s.loss]));
    return Array.from({ length: TOTAL_STEPS }, (_, i) => byStep.get(i + 1));
  };
  assert.deepEqual(losses(killed), losses(straight));
});

test('with gradient accumulation and dropout, a stop and --resume in process end with the uninterrupted weights', async () => {
  const dir = tempDir('train-options-stop');
  const data = writeSentimentCsv(dir, 48);
  const options = (out: string): SessionOptions => ({
    data,
    out,
    model: 'random:tiny',
    epochs: 2,
    batchSize: 4,
    validRatio: 0.25,
    maxLength: 16,
    evalSteps: 2,
    seed: 11,
    device: 'cpu',
    dropout: true,
    gradientAccumulationSteps: ACCUMULATION,
    labelSmoothing: 0.1,
    lrSchedule: 'constant_with_warmup',
    ensembleSize: 1,
  });
  const straight = path.join(dir, 'straight');
  const done = await runTrainingSession(options(straight), { emit: () => {}, shouldStop: () => false });
  assert.equal(done.final_step, TOTAL_STEPS);
  const split = path.join(dir, 'split');
  let step = 0;
  const stopped = await runTrainingSession(options(split), {
    emit: (e) => {
      if (e.event === 'step') step = e.step;
    },
    shouldStop: () => step >= 3,
  });
  assert.equal(stopped.stopped, true);
  assert.equal(stopped.final_step, 3);
  const resumed = await runTrainingSession(
    { data, out: split, resume: true },
    { emit: () => {}, shouldStop: () => false },
  );
  assert.equal(resumed.final_step, TOTAL_STEPS);
  assert.ok(finalWeights(split).equals(finalWeights(straight)), 'resumed weights are bit-identical');
});

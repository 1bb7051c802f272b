/**
 * --steps-per-run K: the loop hands the engine up to K batches at a time (one ONNX Loop), cut at evaluations, epoch
 * ends and the run's end, so the run has the same steps, evaluations, checkpoints and numbers as with single steps;
 * a stop requested mid-chunk lands at the chunk's end with a checkpoint that resumes exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { runTrainingSession, type SessionOptions } from '../../../src/core/finetune/session';
import type { EvalEvent, StepEvent, TrainerEvent } from '../../../src/core/run/events';
import { listCheckpoints } from '../../../src/core/train/checkpoint';
import { readSafetensors } from '../../../src/core/model/safetensors';
import { tempDir, writeSentimentCsv } from './fixtures';

const dir = tempDir('steps-per-run');
const data = writeSentimentCsv(dir);
// Opt level basic: the Loop body and the single step are then the same kernels (engine.test.ts checks 1e-5).
const SETTINGS: Omit<SessionOptions, 'out'> = {
  data,
  model: 'random:tiny',
  batchSize: 4,
  maxLength: 32,
  lr: 1e-3,
  device: 'cpu',
  validRatio: 0.25,
  epochs: 2,
  evalSteps: 5,
  dropout: false,
  seed: 3,
};

async function train(out: string, extra: Partial<SessionOptions>, stopAfter?: number): Promise<TrainerEvent[]> {
  const events: TrainerEvent[] = [];
  let steps = 0;
  await runTrainingSession(
    { ...SETTINGS, out, ...extra },
    {
      emit: (e) => {
        events.push(e);
        if (e.event === 'step') steps++;
      },
      shouldStop: () => stopAfter !== undefined && steps >= stopAfter,
    },
  );
  return events;
}

const stepsOf = (events: TrainerEvent[]) => events.filter((e): e is StepEvent => e.event === 'step');
const evalsOf = (events: TrainerEvent[]) => events.filter((e): e is EvalEvent => e.event === 'eval');

test('--steps-per-run 3 trains the same steps, evaluations and weights as single steps', async () => {
  const single = await train(path.join(dir, 'k1'), {});
  const looped = await train(path.join(dir, 'k3'), { stepsPerRun: 3 });
  assert.deepEqual(
    stepsOf(looped).map((e) => e.step),
    stepsOf(single).map((e) => e.step),
  );
  assert.deepEqual(
    stepsOf(looped).map((e) => e.lr),
    stepsOf(single).map((e) => e.lr),
  );
  assert.deepEqual(
    stepsOf(looped).map((e) => e.epoch),
    stepsOf(single).map((e) => e.epoch),
  );
  // Evaluations at every 5th step and each epoch end, although 5 is not a multiple of 3: chunks stop there.
  assert.deepEqual(
    evalsOf(looped).map((e) => e.step),
    evalsOf(single).map((e) => e.step),
  );
  stepsOf(single).forEach((e, i) =>
    assert.ok(
      Math.abs(e.loss - stepsOf(looped)[i].loss) <= 1e-4,
      `step ${e.step}: ${e.loss} vs ${stepsOf(looped)[i].loss}`,
    ),
  );
  const a = await readSafetensors(path.join(dir, 'k1', 'best', 'model.safetensors'));
  const b = await readSafetensors(path.join(dir, 'k3', 'best', 'model.safetensors'));
  for (const [name, t] of a) {
    const other = b.get(name)!.data;
    let worst = 0;
    for (let i = 0; i < t.data.length; i++) worst = Math.max(worst, Math.abs(t.data[i] - other[i]));
    assert.ok(worst <= 1e-4, `${name} differs by ${worst}`);
  }
});

test('--steps-per-run: a stop asked mid-chunk ends at the chunk with a checkpoint, and --resume finishes the run', async () => {
  const out = path.join(dir, 'stopped');
  const first = await train(out, { stepsPerRun: 3 }, 1);
  const done = first[first.length - 1];
  // Asked after step 1, the engine had already taken steps 2 and 3 of its chunk: the run stops (and saves) at 3.
  assert.ok(done.event === 'done' && done.stopped && done.final_step === 3, JSON.stringify(done));
  assert.deepEqual(listCheckpoints(path.join(out, 'checkpoints')), [3]);
  // The settings given again agree with the run's, so --resume accepts them.
  const rest = await train(out, { resume: true });
  const started = rest.find((e) => e.event === 'started');
  assert.ok(started?.event === 'started' && started.resumed_from_step === 3);
  const end = rest[rest.length - 1];
  assert.ok(end.event === 'done' && !end.stopped);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runTrainingSession, type SessionOptions } from '../../../src/core/finetune/session';
import { listCheckpoints } from '../../../src/core/train/checkpoint';
import { readMetricsLog } from '../../../src/core/run/metrics-log';
import { foldRun } from '../../helpers/fold-run';
import type { TrainerEvent } from '../../../src/trainer/protocol';
import { UserError } from '../../../src/core/errors';
import { tempDir, writeSentimentCsv } from './fixtures';

const MAX_STEPS = 10;

function options(data: string, out: string, dropout: boolean): SessionOptions {
  return {
    data,
    out,
    model: 'random:tiny',
    maxSteps: MAX_STEPS,
    batchSize: 4,
    evalSteps: 4,
    maxLength: 32,
    lr: 1e-3,
    dropout,
    seed: 7,
    device: 'cpu',
    validRatio: 0.25,
    epochs: 3,
  };
}

function finalWeights(out: string): Buffer {
  return fs.readFileSync(path.join(out, 'checkpoints', `step-${MAX_STEPS}`, 'model.safetensors'));
}

for (const dropout of [false, true]) {
  test(`stop after step 5, then resume: final weights equal an uninterrupted run (dropout ${dropout ? 'on' : 'off'})`, async () => {
    const dir = tempDir('resume');
    const data = writeSentimentCsv(dir);
    const straight = path.join(dir, 'straight');
    const done = await runTrainingSession(options(data, straight, dropout), {
      emit: () => {},
      shouldStop: () => false,
    });
    assert.equal(done.stopped, false);
    assert.equal(done.final_step, MAX_STEPS);

    const split = path.join(dir, 'split');
    const events: TrainerEvent[] = [];
    let steps = 0;
    const stopped = await runTrainingSession(options(data, split, dropout), {
      emit: (e) => {
        events.push(e);
        if (e.event === 'step') steps = e.step;
      },
      shouldStop: () => steps >= 5,
    });
    assert.equal(stopped.stopped, true);
    assert.equal(stopped.final_step, 5);
    assert.ok(listCheckpoints(path.join(split, 'checkpoints')).includes(5), 'a checkpoint at the stop step');
    assert.deepEqual(
      events.filter((e) => e.event === 'checkpoint').map((e) => (e as { step: number }).step),
      [4, 5],
    );

    const resumedEvents: TrainerEvent[] = [];
    const resumed = await runTrainingSession(
      { data, out: split, resume: true },
      { emit: (e) => resumedEvents.push(e), shouldStop: () => false },
    );
    assert.equal(resumed.stopped, false);
    assert.equal(resumed.final_step, MAX_STEPS);
    const started = resumedEvents.find((e) => e.event === 'started');
    assert.equal(started?.event === 'started' && started.resumed_from_step, 5);
    const firstStep = resumedEvents.find((e) => e.event === 'step');
    assert.equal(firstStep?.event === 'step' && firstStep.step, 6);
    assert.ok(finalWeights(straight).equals(finalWeights(split)), 'resumed weights are bit-identical');
    assert.equal(resumed.best_step, done.best_step);
    assert.equal(resumed.best_metric, done.best_metric);

    // metrics.jsonl alone tells the story of both sessions.
    const summary = foldRun(readMetricsLog(path.join(split, 'metrics.jsonl')));
    assert.equal(summary.phase, 'done');
    assert.deepEqual(
      summary.train.step,
      Array.from({ length: MAX_STEPS }, (_, i) => i + 1),
    );
    assert.deepEqual(
      summary.evals.map((e) => e.step),
      [4, 8, 9, 10],
    ); // every 4 steps, epoch end (9 batches), last step
    const straightLosses = foldRun(readMetricsLog(path.join(straight, 'metrics.jsonl'))).train.loss;
    assert.deepEqual(summary.train.loss, straightLosses);
  });
}

test('a second run into the same folder is refused; --resume without a run is refused', async () => {
  const dir = tempDir('refuse');
  const data = writeSentimentCsv(dir, 24);
  const out = path.join(dir, 'run');
  await runTrainingSession({ ...options(data, out, false), maxSteps: 2 }, { emit: () => {}, shouldStop: () => false });
  await assert.rejects(
    runTrainingSession(options(data, out, false), { emit: () => {}, shouldStop: () => false }),
    (e: unknown) => e instanceof UserError && /already holds a training run[\s\S]*--resume/.test(e.describe()),
  );
  await assert.rejects(
    runTrainingSession(
      { data, out: path.join(dir, 'none'), resume: true },
      { emit: () => {}, shouldStop: () => false },
    ),
    /no run to resume/,
  );
  fs.appendFileSync(data, '"one more row",pos\n');
  await assert.rejects(
    runTrainingSession({ data, out, resume: true }, { emit: () => {}, shouldStop: () => false }),
    /changed since the run started/,
  );
});

test('a start that failed on bad data does not block the corrected retry into the same folder', async () => {
  const dir = tempDir('retry');
  const out = path.join(dir, 'run');
  const bad = path.join(dir, 'bad.csv');
  fs.writeFileSync(bad, 'text,label\nonly one class,a\nstill one,a\n');
  await assert.rejects(
    runTrainingSession({ ...options(bad, out, false), maxSteps: 1 }, { emit: () => {}, shouldStop: () => false }),
    /one class/i,
  );
  assert.equal(foldRun(readMetricsLog(path.join(out, 'metrics.jsonl'))).phase, 'failed');
  const good = writeSentimentCsv(dir, 24);
  const done = await runTrainingSession(
    { ...options(good, out, false), maxSteps: 1 },
    { emit: () => {}, shouldStop: () => false },
  );
  assert.equal(done.final_step, 1);
  const events = readMetricsLog(path.join(out, 'metrics.jsonl'));
  assert.equal(events[0].event, 'started');
  assert.equal(foldRun(events).phase, 'done');
});

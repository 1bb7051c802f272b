import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runTrainingSession, type SessionOptions } from '../../../src/core/finetune/session';
import type { RunJson } from '../../../src/core/finetune/run-data';
import { listCheckpoints } from '../../../src/core/train/checkpoint';
import type { EvalEvent, TrainerEvent } from '../../../src/trainer/protocol';
import { tempDir, writeSentimentCsv } from './fixtures';

async function train(overrides: Partial<SessionOptions>): Promise<{ out: string; events: TrainerEvent[] }> {
  const dir = tempDir('loop');
  const out = path.join(dir, 'run');
  const events: TrainerEvent[] = [];
  await runTrainingSession(
    {
      data: writeSentimentCsv(dir),
      out,
      model: 'random:tiny',
      batchSize: 4,
      maxLength: 32,
      lr: 1e-3,
      device: 'cpu',
      validRatio: 0.25,
      epochs: 5,
      ...overrides,
    },
    { emit: (e) => events.push(e), shouldStop: () => false },
  );
  return { out, events };
}

test('early stopping: with an unreachable threshold the run ends after `patience` evaluations without improvement', async () => {
  const { events } = await train({ evalSteps: 2, maxSteps: 40, earlyStoppingPatience: 2, earlyStoppingThreshold: 100 });
  const evals = events.filter((e): e is EvalEvent => e.event === 'eval');
  assert.deepEqual(
    evals.map((e) => e.step),
    [2, 4, 6],
  );
  assert.deepEqual(
    evals.map((e) => e.is_best),
    [true, false, false],
  );
  const done = events[events.length - 1];
  assert.ok(
    done.event === 'done' &&
      !done.stopped &&
      done.early_stopped === true &&
      done.final_step === 6 &&
      done.best_step === 2,
  );
});

test('accuracy as the selection metric: best/ holds the evaluation with the highest accuracy; checkpoints pruned to best + last 1', async () => {
  const { out, events } = await train({
    evalSteps: 3,
    maxSteps: 18,
    metric: 'accuracy',
    saveTotalLimit: 1,
    classWeights: true,
  });
  const evals = events.filter((e): e is EvalEvent => e.event === 'eval');
  const bestAccuracy = Math.max(...evals.map((e) => e.accuracy));
  const firstBest = evals.find((e) => e.accuracy === bestAccuracy)!;
  const done = events[events.length - 1];
  assert.ok(done.event === 'done');
  assert.equal(done.metric_name, 'accuracy');
  assert.equal(done.best_metric, bestAccuracy);
  assert.equal(done.best_step, firstBest.step);
  const saved = JSON.parse(fs.readFileSync(path.join(out, 'best', 'eval.json'), 'utf8')) as {
    step: number;
    accuracy: number;
  };
  assert.equal(saved.step, firstBest.step);
  assert.equal(saved.accuracy, bestAccuracy);
  const config = JSON.parse(fs.readFileSync(path.join(out, 'best', 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(config.id2label, { 0: 'neg', 1: 'pos' });
  const kept = listCheckpoints(path.join(out, 'checkpoints'));
  assert.deepEqual(
    kept,
    [...new Set([firstBest.step, 18])].sort((a, b) => a - b),
  );
  const run = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')) as RunJson;
  assert.equal(run.config.classWeights, true);
  assert.match(run.data[0].sha256, /^[0-9a-f]{64}$/);
  assert.equal(run.package_version, '0.1.0');
});

test('--model of a run folder starts from its best/ (weights, tokenizer); a different label set gets a fresh head', async () => {
  const first = await train({ maxSteps: 3, evalSteps: 3 });
  const dir = tempDir('loop-from-model');
  const data = path.join(dir, 'three.csv');
  const rows = ['text,label'];
  for (let i = 0; i < 30; i++) rows.push(`"item ${i} is ${['red', 'green', 'blue'][i % 3]}",${['r', 'g', 'b'][i % 3]}`);
  fs.writeFileSync(data, rows.join('\n') + '\n');
  const out = path.join(dir, 'run');
  const events: TrainerEvent[] = [];
  await runTrainingSession(
    { data, out, model: first.out, batchSize: 4, maxLength: 16, maxSteps: 2, device: 'cpu', validRatio: 0.3 },
    { emit: (e) => events.push(e), shouldStop: () => false },
  );
  const config = JSON.parse(fs.readFileSync(path.join(out, 'best', 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(config.hidden_size, 64);
  assert.deepEqual(config.id2label, { 0: 'b', 1: 'g', 2: 'r' });
  const run = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')) as RunJson;
  assert.equal(run.model.dir, path.join(first.out, 'best'));
  assert.ok(fs.existsSync(path.join(out, 'best', 'tokenizer.json')));
});

test('window truncation: long texts become several rows in training; evaluation and prediction pool them per document', async () => {
  const { out, events } = await train({ truncation: 'window', maxLength: 12, maxSteps: 4, evalSteps: 4 });
  const ev = events.find((e): e is EvalEvent => e.event === 'eval')!;
  const started = events.find((e) => e.event === 'started');
  assert.ok(started?.event === 'started');
  // one prediction per validation document, not per window
  assert.equal(
    ev.confusion.flat().reduce((a, b) => a + b, 0),
    started.dataset.valid_rows,
  );
  const settings = JSON.parse(fs.readFileSync(path.join(out, 'best', 'bertft.json'), 'utf8')) as unknown;
  assert.deepEqual(settings, { max_length: 12, truncation: 'window' });
  const { loadPredictor } = await import('../../../src/core/infer/predictor');
  const predictor = await loadPredictor(out, { device: 'cpu' });
  const long =
    'the film was great and wonderful and the music was superb and the acting was lovely and the ending was excellent too';
  const { loadPreprocessor } = await import('../../../src/core/infer/preprocess');
  const pre = await loadPreprocessor(path.join(out, 'best'));
  assert.ok(pre.encode([long], predictor.settings).length > 1, 'the long text is split into several windows');
  const p = await predictor.predict([long, 'short']);
  assert.equal(p.length, 2);
  await predictor.dispose();
});

test('fast preset without --max-length sizes it from the training texts (p95 of token counts, multiple of 8)', async () => {
  const { out } = await train({ maxLength: undefined, maxSteps: 1 });
  const run = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')) as RunJson;
  // The fixture's reviews are 12–15 tokens with [CLS]/[SEP]: p95 rounds up to 16.
  assert.equal(run.config.maxLength, 16);
  assert.equal(run.config.dynamicPadding, true);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maxLengthFromLengths, resolveTrainConfig, totalSteps, warmupStepsFor } from '../../../src/core/train/presets';
import { isImprovement, metricValue } from '../../../src/core/train/trainer';
import { balancedClassWeights, ignoredOnResume, spreadSample } from '../../../src/core/finetune/task';

test('tutorial preset is the Hugging Face course recipe', () => {
  const c = resolveTrainConfig({ data: 'd', out: 'o', preset: 'tutorial' });
  assert.equal(c.maxLength, 512);
  assert.equal(c.epochs, 3);
  assert.equal(c.batchSize, 8);
  assert.equal(c.lr, 5e-5);
  assert.equal(c.warmupSteps, 500);
  assert.equal(c.weightDecay, 0.01);
  assert.equal(c.evalSteps, 400);
  assert.equal(c.dynamicPadding, false);
  assert.equal(warmupStepsFor(c, 10_000), 500);
});

test('fast preset: max length = p95 of token lengths rounded up to 8, capped; warmup ratio 0.1; dynamic padding', () => {
  const lengths = Array.from({ length: 100 }, (_, i) => i + 1); // p95 = 95 → 96
  const c = resolveTrainConfig({ data: 'd', out: 'o' }, lengths);
  assert.equal(c.preset, 'fast');
  assert.equal(c.maxLength, 96);
  assert.equal(c.dynamicPadding, true);
  assert.equal(c.groupByLength, false, 'random:tiny, the default model, trains from scratch: batches ungrouped');
  assert.equal(warmupStepsFor(c, 95), 10); // ceil(0.1 · 95)
  assert.equal(maxLengthFromLengths([2000, 3000]), 512);
  assert.equal(maxLengthFromLengths([3, 4]), 16);
  assert.equal(resolveTrainConfig({ data: 'd', out: 'o' }, [700], 128).maxLength, 128);
});

test('explicit choices win over the preset; warmup steps replace the ratio and the other way round', () => {
  const c = resolveTrainConfig({
    data: 'd',
    out: 'o',
    preset: 'tutorial',
    lr: 1e-3,
    maxLength: 64,
    warmupRatio: 0.2,
    epochs: undefined,
  });
  assert.equal(c.lr, 1e-3);
  assert.equal(c.maxLength, 64);
  assert.equal(c.epochs, 3);
  assert.equal(warmupStepsFor(c, 100), 20);
  const f = resolveTrainConfig({ data: 'd', out: 'o', warmupSteps: 7 });
  assert.equal(warmupStepsFor(f, 1000), 7);
  assert.throws(
    () => resolveTrainConfig({ data: 'd', out: 'o', maxLength: 600 }, [], 512),
    /more than the model's 512 positions/,
  );
});

test('total steps: epochs × batches, capped by max steps', () => {
  assert.equal(totalSteps({ epochs: 3, maxSteps: undefined }, 10), 30);
  assert.equal(totalSteps({ epochs: 3, maxSteps: 12 }, 10), 12);
  assert.equal(totalSteps({ epochs: 0.5, maxSteps: undefined }, 10), 5);
});

test('improvement: lower loss, higher accuracy/macro-F1, by more than the threshold', () => {
  assert.equal(isImprovement('loss', 0.5, null, 0), true);
  assert.equal(isImprovement('loss', 0.5, 0.6, 0), true);
  assert.equal(isImprovement('loss', 0.59, 0.6, 0.05), false);
  assert.equal(isImprovement('accuracy', 0.8, 0.7, 0), true);
  assert.equal(isImprovement('macro_f1', 0.7, 0.7, 0), false);
  assert.equal(metricValue('macro_f1', { loss: 1, accuracy: 2, macro_f1: 3 }), 3);
});

test('balanced class weights: n / (k · count)', () => {
  assert.deepEqual([...balancedClassWeights([0, 0, 0, 1], 2)], [Math.fround(4 / 6), 2]);
});

test("--resume names the given settings that differ from the run's (only the device may change; paths compare resolved)", () => {
  const previous = resolveTrainConfig({ data: '/d.csv', out: '/o', lr: 1e-3 });
  assert.deepEqual(ignoredOnResume({ data: '/d.csv', out: 'o', resume: true, lr: 1e-3, device: 'cpu' }, previous), []);
  assert.deepEqual(ignoredOnResume({ data: '', out: 'o', resume: true }, previous), [], 'no --data given');
  assert.deepEqual(
    ignoredOnResume({ data: '/d.csv', out: 'o', resume: true, lr: 2e-3, epochs: 9, seed: undefined }, previous),
    ['lr (run: 0.001, given: 0.002)', 'epochs (run: 12, given: 9)'],
  );
  assert.deepEqual(ignoredOnResume({ data: '/other.csv', out: 'o', resume: true }, previous), [
    'data (run: "/d.csv", given: "/other.csv")',
  ]);
});

test('spreadSample keeps small lists whole and spreads a large one evenly', () => {
  assert.deepEqual(spreadSample([1, 2, 3], 5), [1, 2, 3]);
  assert.deepEqual(
    spreadSample(
      Array.from({ length: 10 }, (_, i) => i),
      5,
    ),
    [0, 2, 4, 6, 8],
  );
});

test('a model from random initialisation gets the from-scratch values the user did not set; a pre-trained one does not', () => {
  const scratch = resolveTrainConfig({ data: 'd', out: 'o', model: 'random:tiny' }, [2000, 3000], 512, {
    hiddenSize: 64,
  });
  assert.deepEqual(
    [scratch.lr, scratch.epochs, scratch.dropout, scratch.metric, scratch.maxLength, scratch.groupByLength],
    [2e-3, 12, false, 'macro_f1', 256, false],
  );
  assert.equal(
    resolveTrainConfig({ data: 'd', out: 'o' }, [], 512, { hiddenSize: 256 }).lr,
    1e-3,
    'random:tiny is the default model; wider: ∝ 1/√hidden',
  );
  const mine = resolveTrainConfig(
    { data: 'd', out: 'o', model: 'random:mini', lr: 3e-4, dropout: true, groupByLength: true },
    [],
    512,
    { hiddenSize: 256 },
  );
  assert.deepEqual(
    [mine.lr, mine.dropout, mine.epochs, mine.groupByLength],
    [3e-4, true, 12, true],
    'explicit choices win',
  );
  const pretrained = resolveTrainConfig({ data: 'd', out: 'o', model: 'bert-base-uncased' }, [2000], 512, {
    hiddenSize: 768,
  });
  assert.deepEqual(
    [
      pretrained.lr,
      pretrained.epochs,
      pretrained.dropout,
      pretrained.metric,
      pretrained.maxLength,
      pretrained.groupByLength,
    ],
    [5e-5, 3, true, 'loss', 512, true],
  );
  assert.equal(
    resolveTrainConfig({ data: 'd', out: 'o', model: 'random:tiny', preset: 'tutorial' }).lr,
    5e-5,
    'the tutorial preset is taken as it is',
  );
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveTrainConfig, FROM_SCRATCH } from '../../../src/core/train/presets';
import {
  advancedDefaults,
  changedSettings,
  fastShape,
  resumeOptions,
  runFolderName,
  sessionOptions,
  validateNumber,
} from '../../../src/extension/training/options';

test('run folder names sort by time and name the dataset', () => {
  const date = new Date(2026, 10, 25, 8, 15, 2);
  assert.equal(runFolderName(date, '/ws/data/My Reviews.csv'), '20261125-081502-my-reviews');
  assert.equal(runFolderName(date, '/ws/news/'), '20261125-081502-news');
  assert.equal(runFolderName(date, '/ws/..csv'), '20261125-081502');
});

test('session options carry only what was chosen', () => {
  const options = sessionOptions(
    { data: '/ws/a.csv', model: 'random:tiny', preset: 'fast', device: 'cpu', textColumn: 'body' },
    '/ws/.bert/runs/r',
  );
  assert.deepEqual(options, {
    data: '/ws/a.csv',
    out: '/ws/.bert/runs/r',
    model: 'random:tiny',
    preset: 'fast',
    device: 'cpu',
    textColumn: 'body',
  });
  const custom = sessionOptions(
    { data: 'd', model: 'm', preset: 'tutorial', device: 'auto', epochs: 2, batchSize: 4, lr: 1e-4, maxLength: 64 },
    'o',
  );
  assert.deepEqual([custom.epochs, custom.batchSize, custom.lr, custom.maxLength], [2, 4, 1e-4, 64]);
});

test('resume options come from run.json and point at the run', () => {
  assert.deepEqual(
    resumeOptions({ config: { data: '/ws/a.csv', out: '/elsewhere', model: 'm', epochs: 3 } }, '/ws/runs/r'),
    { data: '/ws/a.csv', out: '/ws/runs/r', model: 'm', epochs: 3, resume: true },
  );
  assert.equal(resumeOptions({}, 'r'), undefined);
  assert.equal(resumeOptions(undefined, 'r'), undefined);
});

test('validateNumber: ranges, whole numbers, and a message saying what is allowed', () => {
  assert.equal(validateNumber('3', { min: 0, integer: true }), undefined);
  assert.equal(validateNumber('2e-5', { min: 0, max: 1 }), undefined);
  assert.match(validateNumber('1.5', { min: 0, integer: true }) ?? '', /whole/);
  assert.match(validateNumber('-1', { min: 0 }) ?? '', /greater than 0/);
  assert.match(validateNumber('', { min: 0 }) ?? '', /greater than 0/);
  assert.equal(validateNumber('0', { min: 0, max: 1, minIncluded: true }), undefined);
  assert.match(validateNumber('1', { min: 0, max: 1, minIncluded: true }) ?? '', /at least 0 and below 1/);
});

test('the Advanced step starts from what a Fast run of the chosen model would use', () => {
  const scratch = advancedDefaults('random:tiny');
  assert.deepEqual([scratch.epochs, scratch.lr, scratch.metric], [FROM_SCRATCH.epochs, 2e-3, 'macro_f1']);
  assert.equal(advancedDefaults('random:mini').lr, 1e-3, 'from-scratch rate ∝ 1/√hidden');
  const pretrained = advancedDefaults('bert-base-uncased');
  assert.deepEqual([pretrained.epochs, pretrained.lr, pretrained.metric], [3, 5e-5, 'loss']);
  assert.deepEqual(
    [pretrained.gradientAccumulationSteps, pretrained.lrSchedule, pretrained.labelSmoothing],
    [1, 'linear', 0],
  );
  assert.equal(pretrained.earlyStoppingPatience, 0, 'off');
});

test("the settings step's Fast summary says the batch order and the seed ensemble the run will use", () => {
  // A from-scratch run draws its batches at random (grouping cost accuracy there); a pre-trained model's groups them.
  // From scratch, one label per row, it averages three seeds' models; a pre-trained model, or another task, trains one.
  assert.deepEqual(fastShape('random:tiny'), { groupByLength: false, ensembleSize: 3 });
  assert.equal(fastShape('random:tiny').groupByLength, FROM_SCRATCH.groupByLength);
  assert.equal(fastShape('random:tiny').ensembleSize, FROM_SCRATCH.ensembleSize);
  assert.deepEqual(fastShape('random:tiny', 'regression'), { groupByLength: false, ensembleSize: 1 });
  assert.deepEqual(fastShape('random:tiny', 'multi-label'), { groupByLength: false, ensembleSize: 1 });
  assert.deepEqual(fastShape('bert-base-uncased'), { groupByLength: true, ensembleSize: 1 });
});

test('only changed Advanced settings reach the run, and the trainer resolves them as the CLI flags would', () => {
  const defaults = advancedDefaults('random:tiny');
  assert.deepEqual(changedSettings(defaults, defaults), {});
  const chosen = {
    ...defaults,
    epochs: 20,
    gradientAccumulationSteps: 4,
    lrSchedule: 'cosine' as const,
    labelSmoothing: 0.1,
    classWeights: true,
    earlyStoppingPatience: 3,
  };
  const changed = changedSettings(defaults, chosen);
  assert.deepEqual(changed, {
    epochs: 20,
    gradientAccumulationSteps: 4,
    lrSchedule: 'cosine',
    labelSmoothing: 0.1,
    classWeights: true,
    earlyStoppingPatience: 3,
  });
  const options = sessionOptions(
    { data: 'd.csv', model: 'random:tiny', preset: 'fast', device: 'cpu', advanced: changed },
    'out',
  );
  const config = resolveTrainConfig(options, [], 512, { hiddenSize: 64 });
  assert.deepEqual(
    [config.epochs, config.lr, config.gradientAccumulationSteps, config.lrSchedule, config.earlyStoppingPatience],
    [20, 2e-3, 4, 'cosine', 3],
  );
  // Early stopping switched back off is no setting at all.
  assert.deepEqual(changedSettings({ ...defaults, earlyStoppingPatience: 3 }, defaults), {
    earlyStoppingPatience: undefined,
  });
});

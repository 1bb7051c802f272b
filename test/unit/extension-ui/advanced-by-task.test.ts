/**
 * The Fine-tune flow's Advanced step offers the options of the task the dataset check detected: what it offers, the
 * trainer accepts; what it leaves out (label smoothing for label sets and numbers, class weights and the best-model
 * metric for numbers), the trainer refuses. Its defaults are the task's own (micro-F1 for label sets, MSE for numbers).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveTrainConfig, SELECTION_METRICS, type FineTuneTask } from '../../../src/core/train/presets';
import {
  advancedDefaults,
  advancedScope,
  changedSettings,
  sessionOptions,
  type AdvancedSettings,
} from '../../../src/extension/training/options';

const MODEL = 'random:tiny';

/** The trainer's config for a flow run of `task` with `chosen` in the Advanced step (throws what the CLI would). */
function resolve(task: FineTuneTask | undefined, chosen: AdvancedSettings) {
  const defaults = advancedDefaults(MODEL, task);
  const options = sessionOptions(
    {
      data: 'd.csv',
      model: MODEL,
      preset: 'fast',
      device: 'cpu',
      advanced: changedSettings(defaults, chosen),
      ...(task === undefined ? {} : { task: { problemType: task } }),
    },
    'out',
  );
  return resolveTrainConfig(options, [], 512, { hiddenSize: 64 });
}

test('each task starts from its own best-model metric', () => {
  assert.equal(advancedDefaults(MODEL).metric, 'macro_f1', 'from scratch, one label per row');
  assert.equal(advancedDefaults('bert-base-uncased').metric, 'loss');
  assert.equal(advancedDefaults(MODEL, 'multi-label').metric, 'micro_f1');
  assert.equal(advancedDefaults(MODEL, 'regression').metric, 'loss');
  for (const task of [undefined, 'multi-label'] as const) {
    const defaults = advancedDefaults(MODEL, task);
    assert.ok(advancedScope(task).metrics.includes(defaults.metric), `${task}: the default metric is offered`);
    assert.equal(resolve(task, defaults).metric, defaults.metric);
  }
});

test('one label per row: every option, the metrics but micro-F1 (its accuracy)', () => {
  const scope = advancedScope(undefined);
  assert.deepEqual(scope, advancedScope('classification'));
  assert.deepEqual(scope, { labelSmoothing: true, classWeights: true, metrics: ['accuracy', 'macro_f1', 'loss'] });
  const defaults = advancedDefaults(MODEL);
  const config = resolve(undefined, { ...defaults, labelSmoothing: 0.1, classWeights: true });
  assert.deepEqual([config.labelSmoothing, config.classWeights], [0.1, true]);
  for (const metric of scope.metrics) assert.equal(resolve(undefined, { ...defaults, metric }).metric, metric);
});

test('label sets: class weights (positive weights) and every metric; no label smoothing, which the trainer refuses', () => {
  const scope = advancedScope('multi-label');
  assert.deepEqual(scope, {
    labelSmoothing: false,
    classWeights: true,
    metrics: ['micro_f1', 'macro_f1', 'accuracy', 'loss'],
  });
  assert.deepEqual([...scope.metrics].sort(), [...SELECTION_METRICS].sort());
  const defaults = advancedDefaults(MODEL, 'multi-label');
  assert.equal(resolve('multi-label', { ...defaults, classWeights: true }).classWeights, true);
  for (const metric of scope.metrics) assert.equal(resolve('multi-label', { ...defaults, metric }).metric, metric);
  assert.throws(() => resolve('multi-label', { ...defaults, labelSmoothing: 0.1 }), {
    code: 'CONFIG_MULTI_LABEL_SMOOTHING',
  });
});

test('numbers: no label smoothing, class weights or metric, all of which the trainer refuses; the MSE picks best/', () => {
  const scope = advancedScope('regression');
  assert.deepEqual(scope, { labelSmoothing: false, classWeights: false, metrics: [] });
  const defaults = advancedDefaults(MODEL, 'regression');
  assert.equal(resolve('regression', defaults).metric, 'loss');
  // What is still offered reaches the run.
  const config = resolve('regression', {
    ...defaults,
    epochs: 7,
    gradientAccumulationSteps: 2,
    earlyStoppingPatience: 2,
  });
  assert.deepEqual([config.epochs, config.gradientAccumulationSteps, config.earlyStoppingPatience], [7, 2, 2]);
  const refused = { code: 'CONFIG_REGRESSION_CLASS_OPTION' };
  assert.throws(() => resolve('regression', { ...defaults, labelSmoothing: 0.1 }), refused);
  assert.throws(() => resolve('regression', { ...defaults, classWeights: true }), refused);
  for (const metric of SELECTION_METRICS.filter((m) => m !== 'loss'))
    assert.throws(() => resolve('regression', { ...defaults, metric }), refused);
});

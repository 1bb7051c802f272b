/** The confirmation step's words for a run's estimate (src/extension/training/estimateText.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { asPlain } from '../../../src/extension/display/text';
import { estimatedRun } from '../../../src/extension/training/estimateText';
import type { EstimateEvent } from '../../../src/core/train/estimate';

const estimate = (config: Record<string, unknown>): EstimateEvent =>
  ({
    steps: 276,
    epochs: 12,
    steps_per_epoch: 23,
    batch_size: 16,
    max_length: 256,
    evaluations: 12,
    dataset: { train_rows: 360, valid_rows: 40, labels: ['ham', 'spam'] },
    config,
  }) as unknown as EstimateEvent;

test("the run an estimate is for, and a seed ensemble's models", () => {
  const one = '276 steps (12 epochs × 23, batch 16, max length 256), 12 evaluations of 40 rows';
  assert.equal(asPlain(estimatedRun(estimate({ model: 'bert-base-uncased' }))), one);
  assert.equal(asPlain(estimatedRun(estimate({ model: 'random:tiny', ensembleSize: 1 }))), one);
  assert.equal(
    asPlain(estimatedRun(estimate({ model: 'random:tiny', ensembleSize: 3 }))),
    `3 seeds' models, each ${one}`,
  );
});

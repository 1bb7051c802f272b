import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPreprocessor, type TrainBatchSettings } from '../../../src/core/infer/preprocess';

const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta'];
// Texts of many different lengths, so that length grouping reorders them.
const TEXTS = Array.from({ length: 70 }, (_, i) =>
  Array.from({ length: 1 + ((i * 7) % 23) }, (_, j) => WORDS[(i + j) % WORDS.length]).join(' '),
);

test('trainBatchIndices lists the rows of every training batch in the order trainBatches collates them', async () => {
  const pre = await loadPreprocessor();
  for (const groupByLength of [true, false]) {
    const settings: TrainBatchSettings = {
      maxLength: 32,
      truncation: 'head',
      batchSize: 8,
      seed: 3,
      groupByLength,
      dynamicPadding: true,
    };
    const rows = pre.encode(
      TEXTS,
      settings,
      Int32Array.from(TEXTS, (_, i) => i % 2),
    );
    for (const epoch of [0, 1]) {
      const indices = pre.trainBatchIndices(rows, settings, epoch);
      const batches = pre.trainBatches(rows, settings, epoch);
      // One row per text with 'head', so a batch's docIndex is its row indices.
      assert.deepEqual(
        batches.map((b) => Array.from(b.docIndex)),
        indices,
      );
      assert.deepEqual(
        indices.flat().sort((a, b) => a - b),
        rows.map((_, i) => i),
      );
    }
    assert.notDeepEqual(pre.trainBatchIndices(rows, settings, 0), pre.trainBatchIndices(rows, settings, 1));
  }
});

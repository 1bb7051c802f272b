import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyEvents, emptyDashboardState } from '../../../src/extension/protocol/dashboardState';
import {
  alignByStep,
  cellShare,
  chartColumns,
  examplesForCell,
  formatConfigValue,
  formatMetric,
} from '../../../src/extension/dashboard/viewModel';
import { LABELS, evaluation, finishedRun } from './sampleRun';

test('alignByStep merges two sorted series with nulls where one has no point', () => {
  const aligned = alignByStep(
    { step: [1, 2, 3, 4], values: [[10, 20, 30, 40]] },
    { step: [2, 4, 5], values: [[0.2, 0.4, 0.5]] },
  );
  assert.deepEqual(aligned, [
    [1, 2, 3, 4, 5],
    [10, 20, 30, 40, null],
    [null, 0.2, null, 0.4, 0.5],
  ]);
});

test('chartColumns gives loss (train + valid), lr and quality columns of equal length', () => {
  const state = emptyDashboardState('r');
  applyEvents(state, finishedRun());
  const { loss, lr, quality } = chartColumns(state);
  assert.equal(loss[0].length, 100);
  assert.equal(loss[2].filter((v) => v !== null).length, 2);
  assert.equal(loss[2][49], 0.5);
  assert.equal(lr[0].length, lr[1].length);
  assert.deepEqual(quality, [
    [50, 100],
    [0.9, 0.8],
    [0.9 - 0.05, 0.8 - 0.05],
  ]);
});

test('a confusion cell lists exactly its misclassified examples', () => {
  const e = evaluation(10, 0.8, true);
  assert.deepEqual(
    examplesForCell(e, 'ham', 'spam').map((m) => m.line),
    [12],
  );
  assert.deepEqual(
    examplesForCell(e, LABELS[2], 'ham').map((m) => m.line),
    [40],
  );
  assert.deepEqual(examplesForCell(e, 'spam', 'ham'), []);
});

test('cell shares are row-normalised and safe on empty rows', () => {
  assert.equal(
    cellShare(
      [
        [3, 1],
        [0, 0],
      ],
      0,
      0,
    ),
    0.75,
  );
  assert.equal(
    cellShare(
      [
        [3, 1],
        [0, 0],
      ],
      1,
      1,
    ),
    0,
  );
});

test('formatting', () => {
  assert.equal(formatMetric(0.91234), '0.912');
  assert.equal(formatMetric(undefined), '–');
  assert.equal(formatMetric(NaN), '–');
  assert.equal(formatConfigValue({ a: 1 }), '{"a":1}');
  assert.equal(formatConfigValue(5e-5), '0.00005');
});

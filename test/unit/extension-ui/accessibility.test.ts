import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyEvents, emptyDashboardState } from '../../../src/extension/protocol/dashboardState';
import { chartColumns } from '../../../src/extension/dashboard/viewModel';
import {
  chartSummary,
  clampCell,
  confusionCellName,
  formatValue,
  latestValues,
  moveInGrid,
  type ChartText,
} from '../../../src/extension/dashboard/accessibility';
import { evaluation, finishedRun, mlmRun, started, step } from './sampleRun';

const LOSS: ChartText = {
  title: 'Loss',
  unit: 'step',
  series: [
    { name: 'train loss', format: 'metric' },
    { name: 'validation loss', format: 'metric' },
  ],
};
const QUALITY: ChartText = {
  title: 'Validation accuracy / macro-F1',
  unit: 'evaluation',
  series: [
    { name: 'accuracy', format: 'metric' },
    { name: 'macro-F1', format: 'metric' },
  ],
};
const LR: ChartText = { title: 'Learning rate', unit: 'step', series: [{ name: 'learning rate', format: 'rate' }] };
const PERPLEXITY: ChartText = {
  title: 'Perplexity (held-out)',
  unit: 'evaluation',
  series: [{ name: 'perplexity', format: 'perplexity' }],
};

function stateOf(events: Parameters<typeof applyEvents>[1]) {
  const state = emptyDashboardState('r');
  applyEvents(state, events);
  return state;
}

test('chart summaries name the point count and each series at its latest step', () => {
  const columns = chartColumns(stateOf(finishedRun()));
  assert.equal(
    chartSummary(LOSS, columns.loss),
    'Loss chart: 100 steps, train loss 0.010 at step 100, validation loss 0.500 at step 100',
  );
  assert.equal(
    chartSummary(QUALITY, columns.quality),
    'Validation accuracy / macro-F1 chart: 2 evaluations, accuracy 0.800 at step 100, macro-F1 0.750 at step 100',
  );
  // The schedule ends at 0; midway the rate needs an exponent to read as more than 0.000.
  assert.equal(chartSummary(LR, columns.lr), 'Learning rate chart: 100 steps, learning rate 0 at step 100');
  const midway = chartColumns(stateOf([started(), step(1), step(2)]));
  assert.equal(chartSummary(LR, midway.lr), 'Learning rate chart: 2 steps, learning rate 4.90e-5 at step 2');
});

test('a validation series that lags the train series reads at its own latest step, or as not there yet', () => {
  const beforeEval = chartColumns(stateOf([started(), step(1)]));
  assert.equal(
    chartSummary(LOSS, beforeEval.loss),
    'Loss chart: 1 step, train loss 1.000 at step 1, no validation loss yet',
  );
  const afterEval = chartColumns(stateOf([started(), step(1), step(2), evaluation(2, 0.5, true), step(3)]));
  assert.deepEqual(latestValues(LOSS, afterEval.loss), [
    { name: 'train loss', value: '0.333', step: '3' },
    { name: 'validation loss', value: '0.500', step: '2' },
  ]);
});

test('an empty chart says so, and its table rows hold dashes', () => {
  const empty = chartColumns(emptyDashboardState('r'));
  assert.equal(chartSummary(QUALITY, empty.quality), 'Validation accuracy / macro-F1 chart: no data yet');
  assert.deepEqual(latestValues(QUALITY, empty.quality), [
    { name: 'accuracy', value: '–', step: '–' },
    { name: 'macro-F1', value: '–', step: '–' },
  ]);
});

test('a pre-training run reads its perplexity as the status bar does', () => {
  const columns = chartColumns(stateOf(mlmRun()));
  assert.equal(
    chartSummary(PERPLEXITY, columns.perplexity),
    `Perplexity (held-out) chart: 2 evaluations, perplexity ${Math.exp(6.5).toFixed(0)} at step 20`,
  );
  assert.equal(formatValue(3.14159, 'perplexity'), '3.14');
  assert.equal(formatValue(Infinity, 'perplexity'), '–');
  assert.equal(formatValue(NaN, 'rate'), '–');
  assert.equal(formatValue(NaN, 'metric'), '–');
});

test('a confusion cell is named by its labels and count', () => {
  assert.equal(confusionCellName('ham', 'spam', 1), 'true ham, predicted spam: 1 example');
  assert.equal(confusionCellName('ham', 'ham', 5), 'true ham, predicted ham: 5 examples');
  assert.equal(confusionCellName('<b>x</b>', 'ham', 0), 'true <b>x</b>, predicted ham: 0 examples');
});

test('arrow keys move one cell and stop at the edges; Home/End go to the row ends, with Ctrl to the corners', () => {
  assert.deepEqual(moveInGrid([1, 1], 'ArrowUp', 3), [0, 1]);
  assert.deepEqual(moveInGrid([1, 1], 'ArrowDown', 3), [2, 1]);
  assert.deepEqual(moveInGrid([1, 1], 'ArrowLeft', 3), [1, 0]);
  assert.deepEqual(moveInGrid([1, 1], 'ArrowRight', 3), [1, 2]);
  assert.deepEqual(moveInGrid([0, 0], 'ArrowUp', 3), [0, 0]);
  assert.deepEqual(moveInGrid([0, 0], 'ArrowLeft', 3), [0, 0]);
  assert.deepEqual(moveInGrid([2, 2], 'ArrowDown', 3), [2, 2]);
  assert.deepEqual(moveInGrid([2, 2], 'ArrowRight', 3), [2, 2]);
  assert.deepEqual(moveInGrid([1, 1], 'Home', 3), [1, 0]);
  assert.deepEqual(moveInGrid([1, 1], 'End', 3), [1, 2]);
  assert.deepEqual(moveInGrid([1, 1], 'Home', 3, true), [0, 0]);
  assert.deepEqual(moveInGrid([1, 1], 'End', 3, true), [2, 2]);
  assert.equal(moveInGrid([1, 1], 'Enter', 3), undefined);
  assert.equal(moveInGrid([1, 1], 'a', 3), undefined);
});

test('a remembered cell outside a smaller matrix is brought back inside it', () => {
  assert.deepEqual(clampCell([4, 1], 3), [2, 1]);
  assert.deepEqual(clampCell([1, 7], 2), [1, 1]);
  assert.deepEqual(clampCell([1, 1], 3), [1, 1]);
});

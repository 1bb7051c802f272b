/**
 * A regression run's predicted-vs-true scatter plot: the points the trainer puts in each eval event
 * (regressionPoints), what the dashboard's reducer makes of them (regressionScatter), the plot's words for a screen
 * reader (scatterSummary), and a real tiny regression run read back from its folder as the dashboard reads it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REGRESSION_POINTS, regressionPoints } from '../../../src/core/finetune/regression';
import { runTrainingSession } from '../../../src/core/finetune/session';
import type { RegressionEvalEvent } from '../../../src/core/run/events';
import {
  applyEvents,
  emptyDashboardState,
  regressionScatter,
  type RegressionScatter,
} from '../../../src/extension/protocol/dashboardState';
import { scatterSummary } from '../../../src/extension/dashboard/accessibility';
import { readRunState } from '../../../src/extension/runs/runStore';
import { TINY_RUN_SETTINGS } from '../../helpers/tiny-run';
import { tempDir } from '../runner/fixtures';
import { evaluation, started } from './sampleRun';

function regressionEval(step: number, points?: RegressionEvalEvent['points']): RegressionEvalEvent {
  return {
    event: 'eval',
    time: '2026-12-06T13:00:00.000Z',
    step,
    epoch: 1,
    loss: 0.25,
    accuracy: NaN,
    labels: [],
    confusion: [],
    per_class: {},
    misclassified: [],
    is_best: true,
    task: 'regression',
    mse: 0.25,
    mae: 0.4,
    pearson: 0.8,
    spearman: 0.75,
    ...(points ? { points } : {}),
  };
}

test('regressionPoints: every document when few; else evenly spaced ones, the same at every evaluation', () => {
  assert.deepEqual(regressionPoints(Float32Array.from([0.125, 2, 3.25]), Float32Array.from([0, 2.5, 3])), {
    target: [0, 2.5, 3],
    predicted: [0.125, 2, 3.25],
  });
  const n = 1001;
  const targets = Float32Array.from({ length: n }, (_, i) => i);
  const predictions = Float32Array.from({ length: n }, (_, i) => i / 3);
  const points = regressionPoints(predictions, targets);
  assert.equal(points.target.length, REGRESSION_POINTS);
  assert.equal(points.target[0], 0);
  assert.ok(
    points.target.every((x, i) => i === 0 || x > points.target[i - 1]),
    'spread, no repeats, in order',
  );
  assert.ok(points.target[REGRESSION_POINTS - 1] >= n - 1 - n / REGRESSION_POINTS, 'reaches the end of the set');
  // Each point keeps its own document's prediction: the float32 value, exactly.
  points.target.forEach((x, i) => assert.equal(Math.fround(points.predicted[i]), Math.fround(x / 3)));
  assert.deepEqual(regressionPoints(predictions, targets), points);
});

test('regressionScatter: the latest eval, sorted by true value, null (NaN) points left out; none for other runs', () => {
  const state = emptyDashboardState('/ws/.bert/runs/reg');
  applyEvents(state, [
    started({ config: { problemType: 'regression' } }),
    regressionEval(10, { target: [1, 0, 2], predicted: [1.5, 0.5, 1] }),
    // JSON turns NaN into null: a diverged prediction arrives so.
    regressionEval(20, { target: [3, 1, 2, 0], predicted: [2.5, null as unknown as number, 2.25, -0.5] }),
  ]);
  const scatter = regressionScatter(state);
  assert.deepEqual(scatter, { step: 20, target: [0, 2, 3], predicted: [-0.5, 2.25, 2.5], pearson: 0.8, mae: 0.4 });
  assert.equal(
    scatterSummary('Predicted vs true value (validation)', scatter),
    'Predicted vs true value (validation) at step 20: 3 validation texts, Pearson 0.800, MAE 0.400, 1 predicted ' +
      'above their true value',
  );

  const old = emptyDashboardState('/ws/.bert/runs/old-reg');
  applyEvents(old, [started({ config: { problemType: 'regression' } }), regressionEval(10)]);
  assert.equal(regressionScatter(old), undefined, 'a run written before eval events carried points');
  const classifier = emptyDashboardState('/ws/.bert/runs/cls');
  applyEvents(classifier, [started(), evaluation(10, 0.9, true)]);
  assert.equal(regressionScatter(classifier), undefined);
});

const pearson = (x: number[], y: number[]): number => {
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const [mx, my] = [mean(x), mean(y)];
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  x.forEach((xi, i) => {
    sxy += (xi - mx) * (y[i] - my);
    sxx += (xi - mx) ** 2;
    syy += (y[i] - my) ** 2;
  });
  return sxy / Math.sqrt(sxx * syy);
};

test('a real regression run: the dashboard read from its folder plots every validation text, paired as scored', async () => {
  const dir = tempDir('reg-scatter');
  try {
    const lines = ['text,label'];
    for (let i = 0; i < 64; i++)
      lines.push(`"${['fine', 'nice', 'great'].slice(0, i % 4).join(' ')} item ${i}",${i % 4}.5`);
    const data = path.join(dir, 'scores.csv');
    fs.writeFileSync(data, lines.join('\n') + '\n');
    const run = path.join(dir, 'run');
    await runTrainingSession(
      { data, out: run, ...TINY_RUN_SETTINGS, problemType: 'regression' },
      { emit: () => {}, shouldStop: () => false },
    );
    const state = readRunState(run, () => false);
    const scatter = regressionScatter(state) as RegressionScatter;
    assert.ok(scatter, 'the run has a scatter plot');
    const latest = state.latestEval as RegressionEvalEvent;
    assert.equal(scatter.step, latest.step);
    assert.equal(scatter.target.length, 16, 'a quarter of 64 rows validate');
    assert.ok(
      scatter.target.every((x) => [0.5, 1.5, 2.5, 3.5].includes(x)),
      'true values are the data targets',
    );
    // The points are the documents the eval scored, each with its own prediction: they give its Pearson and MAE.
    const r = pearson(scatter.target, scatter.predicted);
    assert.ok(Math.abs(r - latest.pearson) < 1e-6, `${r} vs ${latest.pearson}: ${JSON.stringify(scatter)}`);
    const mae = scatter.target.reduce((s, x, i) => s + Math.abs(x - scatter.predicted[i]), 0) / scatter.target.length;
    assert.ok(Math.abs(mae - latest.mae) < 1e-6, `${mae} vs ${latest.mae}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

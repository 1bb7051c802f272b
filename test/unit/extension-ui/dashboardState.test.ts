import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyEvent,
  applyEvents,
  bestEvalRow,
  emptyDashboardState,
  runName,
} from '../../../src/extension/protocol/dashboardState';
import { done, evaluation, failure, finishedRun, started, step } from './sampleRun';

test('a finished run folds into series, eval rows, best eval and done', () => {
  const state = emptyDashboardState('/ws/.bert/runs/run-1');
  applyEvents(state, finishedRun());
  assert.equal(state.phase, 'done');
  assert.equal(state.train.step.length, 100);
  assert.deepEqual(state.train.step.slice(0, 3), [1, 2, 3]);
  assert.equal(state.train.loss[1], 0.5);
  assert.equal(state.evals.length, 2);
  assert.equal(state.bestEval?.step, 50);
  assert.equal(state.latestEval?.step, 100);
  assert.equal(bestEvalRow(state)?.accuracy, 0.9);
  assert.equal(state.step, 100);
  assert.equal(state.device, 'cpu');
  assert.equal(state.etaS, undefined, 'no ETA once finished');
});

test('a stopped run and a failed run get their phases', () => {
  const stopped = emptyDashboardState('r');
  applyEvents(stopped, [started(), step(1), done({ stopped: true, final_step: 1 })]);
  assert.equal(stopped.phase, 'stopped');
  const failed = emptyDashboardState('r');
  applyEvents(failed, [started(), step(1), failure('boom')]);
  assert.equal(failed.phase, 'failed');
  assert.equal(failed.error?.message, 'boom');
});

test('resuming drops the points of steps that are trained again', () => {
  const state = emptyDashboardState('r');
  applyEvents(state, [
    started(),
    step(1),
    step(2),
    evaluation(2, 0.7, true),
    step(3),
    step(4),
    evaluation(4, 0.8, true),
  ]);
  applyEvent(state, started({ resumed_from_step: 2 }));
  assert.deepEqual(state.train.step, [1, 2]);
  assert.deepEqual(
    state.evals.map((e) => e.step),
    [2],
  );
  assert.equal(state.phase, 'training');
  applyEvents(state, [step(3), step(4)]);
  assert.deepEqual(state.train.step, [1, 2, 3, 4]);
});

test('a restart after a failure clears the error', () => {
  const state = emptyDashboardState('r');
  applyEvents(state, [started(), failure(), started({ resumed_from_step: 0 })]);
  assert.equal(state.phase, 'training');
  assert.equal(state.error, undefined);
});

test('the best row falls back to the latest eval when none is marked best', () => {
  const state = emptyDashboardState('r');
  assert.equal(bestEvalRow(state), undefined);
  applyEvents(state, [started(), evaluation(10, 0.6, false)]);
  assert.equal(bestEvalRow(state)?.step, 10);
});

test('log events change nothing', () => {
  const state = emptyDashboardState('r');
  applyEvent(state, { event: 'log', time: 't', level: 'info', message: 'hi' });
  assert.deepEqual(state, emptyDashboardState('r'));
});

test('runName takes the last path segment on either separator', () => {
  assert.equal(runName('/ws/.bert/runs/run-7/'), 'run-7');
  assert.equal(runName('C:\\ws\\runs\\run-8'), 'run-8');
});

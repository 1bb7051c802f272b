import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyEvents, emptyDashboardState } from '../../../src/extension/protocol/dashboardState';
import { formatPercent, formatStatus } from '../../../src/extension/dashboard/statusText';
import { done, evaluation, failure, started, step } from './sampleRun';
import { asLabel, asPlain } from '../../../src/extension/display/text';

function show(state: Parameters<typeof formatStatus>[0]): { kind: string; text: string; tooltip: string } {
  const status = formatStatus(state);
  if (status.kind === 'idle') return { kind: 'idle', text: '', tooltip: '' };
  return { kind: status.kind, text: asLabel(status.text), tooltip: status.tooltip ? asPlain(status.tooltip) : '' };
}

test('while training: percent, loss and ETA', () => {
  const state = emptyDashboardState('/runs/run-1');
  applyEvents(state, [started(), step(37, { loss: 0.4149, eta_s: 720 })]);
  const status = show(state);
  assert.equal(status.kind, 'busy');
  assert.equal(status.text, '37% · loss 0.41 · ETA 12m');
  assert.match(status.tooltip, /Run: run-1\nDevice: cpu\nStep 37 of 100/);
});

test('before the first step it says starting', () => {
  const status = show(emptyDashboardState('/runs/r'));
  assert.deepEqual([status.kind, status.text], ['busy', 'starting…']);
});

test('done shows the best accuracy; stopped says so', () => {
  const state = emptyDashboardState('r');
  applyEvents(state, [
    started(),
    step(50),
    evaluation(50, 0.9412, true),
    step(100),
    evaluation(100, 0.9, false),
    done(),
  ]);
  assert.deepEqual([show(state).kind, show(state).text], ['done', 'acc 0.94']);
  state.phase = 'stopped';
  assert.equal(show(state).text, 'stopped · acc 0.94');
});

test('failure and interruption are error states with the reason in the tooltip', () => {
  const state = emptyDashboardState('r');
  applyEvents(state, [started(), failure('Out of memory.')]);
  const failed = show(state);
  assert.equal(failed.kind, 'error');
  assert.match(failed.tooltip, /Error: Out of memory\./);
  state.phase = 'interrupted';
  assert.equal(show(state).text, 'training interrupted');
});

test('percent is floored and clamped; durations read naturally', () => {
  assert.equal(formatPercent(999, 1000), '99%');
  assert.equal(formatPercent(1200, 1000), '100%');
  assert.equal(formatPercent(5, 0), '0%');
});

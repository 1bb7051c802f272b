/** A run's state as the extension's Runs view and dashboard fold it from its metrics.jsonl events. */
import type { TrainerEvent } from '../../src/core/run/events';
import { applyEvents, emptyDashboardState, type DashboardState } from '../../src/extension/protocol/dashboardState';

export function foldRun(events: readonly TrainerEvent[], runDir = ''): DashboardState {
  const state = emptyDashboardState(runDir);
  applyEvents(state, events);
  return state;
}

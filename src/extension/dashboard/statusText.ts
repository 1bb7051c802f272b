/** What the status bar item says about a run: pure (a type-only import of the item), so it unit-tests without VS Code. */
import { bestEvalRow, runName, type DashboardState } from '../protocol/dashboardState';
import type { StatusBarState } from '../statusBar';

/**
 * The status bar item's state for a run. The item (src/extension/statusBar.ts) adds the icon and "BERT: ", so this
 * reads e.g. `$(sync~spin) BERT: 37% · loss 0.41 · ETA 12m`, then `$(check) BERT: acc 0.94`.
 */
export function formatStatus(state: DashboardState): StatusBarState {
  const tooltip = formatTooltip(state);
  switch (state.phase) {
    case 'waiting':
      return { kind: 'busy', text: 'starting…', tooltip };
    case 'training': {
      const parts = [formatPercent(state.step, state.totalSteps)];
      if (state.loss !== undefined) parts.push(`loss ${state.loss.toFixed(2)}`);
      if (state.etaS !== undefined && Number.isFinite(state.etaS)) parts.push(`ETA ${formatDuration(state.etaS)}`);
      return { kind: 'busy', text: parts.join(' · '), tooltip };
    }
    case 'done':
      return { kind: 'done', text: formatBestMetric(state) ?? 'done', tooltip };
    case 'stopped': {
      const metric = formatBestMetric(state);
      return { kind: 'done', text: metric ? `stopped · ${metric}` : 'stopped', tooltip };
    }
    case 'failed':
      return { kind: 'error', text: 'training failed', tooltip };
    case 'interrupted':
      return { kind: 'error', text: 'training interrupted', tooltip };
  }
}

function formatBestMetric(state: DashboardState): string | undefined {
  const best = bestEvalRow(state);
  return best ? `acc ${best.accuracy.toFixed(2)}` : undefined;
}

function formatTooltip(state: DashboardState): string {
  const lines = [`Run: ${runName(state.runDir)}`];
  if (state.device) lines.push(`Device: ${state.device}`);
  if (state.totalSteps > 0) lines.push(`Step ${state.step} of ${state.totalSteps} (epoch ${state.epoch})`);
  const best = bestEvalRow(state);
  if (best) lines.push(`Best: accuracy ${best.accuracy.toFixed(3)}, macro-F1 ${best.macroF1.toFixed(3)} at step ${best.step}`);
  if (state.phase === 'failed' && state.error) lines.push(`Error: ${state.error.message}`);
  if (state.phase === 'interrupted') lines.push('The training process ended without finishing. Resume it from the Runs view or the dashboard.');
  lines.push('Click to open the training dashboard.');
  return lines.join('\n');
}

/** Whole percent, floored so 100% only shows when the last step is done. */
export function formatPercent(step: number, total: number): string {
  if (total <= 0) return '0%';
  return `${Math.floor((Math.min(step, total) / total) * 100)}%`;
}

/** 45s, 12m, 1h 05m. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const minutes = Math.round(s / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  return `${hours}h ${String(minutes % 60).padStart(2, '0')}m`;
}

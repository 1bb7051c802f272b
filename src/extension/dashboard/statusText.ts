/** What the status bar item says about a run: pure (a type-only import of the item), so it unit-tests without VS Code. */
import { formatDuration } from '../../core/util/duration';
import { join, long, say, type Message } from '../display/text';
import { bestEvalRow, runKind, runName, type DashboardState, type EvalRow } from '../protocol/dashboardState';
import type { ClusterStatus } from '../protocol/cluster';
import type { StatusBarState } from '../statusBar';

/**
 * The status bar item's state for a run. The item (src/extension/statusBar.ts) adds the icon and "BERT: ", so this
 * reads e.g. `$(sync~spin) BERT: 37% · loss 0.41 · ETA 12m`, then `$(check) BERT: acc 0.94`. A run on a cluster says
 * its job's state first: `queued on Slurm (Priority)`, `37% · loss 0.41 · on node1`, `preempted, requeued on Slurm`.
 */
export function formatStatus(state: DashboardState, cluster?: ClusterStatus): StatusBarState {
  const tooltip = formatTooltip(state, cluster);
  if (cluster) {
    const shown = formatClusterStatus(state, cluster, tooltip);
    if (shown) return shown;
  }
  switch (state.phase) {
    case 'waiting':
      return { kind: 'busy', text: say`starting…`, tooltip };
    case 'training':
      return { kind: 'busy', text: say`${trainingProgress(state)}`, tooltip };
    case 'done':
      return { kind: 'done', text: say`${formatBestMetric(state) ?? 'done'}`, tooltip };
    case 'stopped': {
      const metric = formatBestMetric(state);
      return { kind: 'done', text: metric ? say`stopped · ${metric}` : say`stopped`, tooltip };
    }
    case 'failed':
      return { kind: 'error', text: say`training failed`, tooltip };
    case 'interrupted':
      return { kind: 'error', text: say`training interrupted`, tooltip };
  }
}

/** `37% · loss 0.41 · ETA 12m`. */
function trainingProgress(state: DashboardState): string {
  const parts = [formatPercent(state.step, state.totalSteps)];
  if (state.loss !== undefined) parts.push(`loss ${state.loss.toFixed(2)}`);
  if (state.etaS !== undefined && Number.isFinite(state.etaS)) parts.push(`ETA ${formatDuration(state.etaS)}`);
  return parts.join(' · ');
}

/** The item for a cluster job's stage, or undefined where the run's own phase says it (done, unknown). */
function formatClusterStatus(state: DashboardState, c: ClusterStatus, tooltip: Message): StatusBarState | undefined {
  switch (c.stage) {
    case 'queued':
      return {
        kind: 'busy',
        text: c.reason ? say`queued on ${c.scheduler} (${c.reason})` : say`queued on ${c.scheduler}`,
        tooltip,
      };
    case 'requeued':
      return {
        kind: 'busy',
        text: c.reason
          ? say`preempted, requeued on ${c.scheduler} (${c.reason})`
          : say`preempted, requeued on ${c.scheduler}`,
        tooltip,
      };
    case 'preempted':
      return { kind: 'busy', text: say`preempted, writing a checkpoint`, tooltip };
    case 'running': {
      if (state.phase !== 'training')
        return { kind: 'busy', text: c.node ? say`starting on ${c.node}…` : say`starting…`, tooltip };
      const parts: Message[] = [say`${trainingProgress(state)}`];
      if (c.node) parts.push(say`on ${c.node}`);
      if (c.resumedAtStep !== undefined) parts.push(say`resumed at step ${c.resumedAtStep}`);
      return { kind: 'busy', text: join(parts, ' · '), tooltip };
    }
    case 'failed':
      return {
        kind: 'error',
        text: c.exitCode ? say`${c.scheduler} job failed (exit ${c.exitCode})` : say`${c.scheduler} job failed`,
        tooltip,
      };
    case 'cancelled': {
      const metric = formatBestMetric(state);
      return { kind: 'done', text: metric ? say`cancelled · ${metric}` : say`cancelled`, tooltip };
    }
    case 'done':
    case 'unknown':
      return undefined;
  }
}

/** The cluster job in words, for tooltips: `Slurm job 42: running on node1, requeued 1×, resumed at step 12`. */
export function describeCluster(c: ClusterStatus): Message {
  const parts: Message[] = [];
  switch (c.stage) {
    case 'queued':
      parts.push(c.reason ? say`queued (${c.reason})` : say`queued`);
      break;
    case 'running':
      parts.push(c.node ? say`running on ${c.node}` : say`running`);
      break;
    case 'preempted':
      parts.push(say`preempted: the trainer writes a checkpoint, then the job requeues itself`);
      break;
    case 'requeued':
      parts.push(c.reason ? say`preempted, requeued (${c.reason})` : say`preempted, requeued`);
      break;
    case 'done':
      parts.push(say`done`);
      break;
    case 'failed':
      parts.push(c.exitCode ? say`failed (exit ${c.exitCode})` : say`failed`);
      break;
    case 'cancelled':
      parts.push(say`cancelled`);
      break;
    case 'unknown':
      parts.push(say`no longer known to ${c.scheduler}`);
      break;
  }
  if (c.requeues > 0) parts.push(say`requeued ${c.requeues}×`);
  if (c.resumedAtStep !== undefined) parts.push(say`resumed at step ${c.resumedAtStep}`);
  if (c.unreachable) parts.push(say`last seen; ${c.scheduler} not reachable here`);
  return say`${c.scheduler} job ${c.jobId}: ${join(parts, ', ')}`;
}

function formatBestMetric(state: DashboardState): string | undefined {
  const best = bestEvalRow(state);
  if (!best) return undefined;
  if (best.perplexity !== undefined) return `perplexity ${formatPerplexity(best.perplexity)}`;
  // A multi-label run is selected by micro-F1 (its accuracy is the subset accuracy); a regression run has no accuracy.
  const kind = runKind(state);
  if (kind === 'multi-label') return `micro-F1 ${(best.microF1 ?? NaN).toFixed(2)}`;
  if (kind === 'regression') return `MSE ${best.loss.toPrecision(3)}`;
  return `acc ${best.accuracy.toFixed(2)}`;
}

/** Perplexity spans 1 to the vocabulary size: a few significant digits, never exponent notation below a million. */
export function formatPerplexity(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toPrecision(3);
}

/** The best evaluation in words: a classifier's accuracy and macro-F1, a pre-training run's MLM loss and perplexity. */
export function describeBest(best: EvalRow): string {
  return best.perplexity !== undefined
    ? `MLM loss ${best.loss.toFixed(3)}, perplexity ${formatPerplexity(best.perplexity)}, masked-token accuracy ${best.accuracy.toFixed(3)} at step ${best.step}`
    : `accuracy ${best.accuracy.toFixed(3)}, macro-F1 ${(best.macroF1 ?? 0).toFixed(3)} at step ${best.step}`;
}

/** The tooltip: the run's name and error message are data (a folder name, a message quoting the dataset). */
function formatTooltip(state: DashboardState, cluster?: ClusterStatus): Message {
  const lines: Message[] = [say`${state.task === 'mlm' ? 'Pre-training run' : 'Run'}: ${runName(state.runDir)}`];
  if (cluster) lines.push(describeCluster(cluster));
  if (state.device) lines.push(say`Device: ${state.device}`);
  if (state.totalSteps > 0)
    lines.push(
      say`Step ${state.step} of ${state.totalSteps} (epoch ${formatEpoch(state.epoch, state.config?.epochs)})`,
    );
  const best = bestEvalRow(state);
  if (best) lines.push(say`Best: ${describeBest(best)}`);
  if (state.phase === 'failed' && state.error) lines.push(say`Error: ${long(state.error.message)}`);
  if (state.phase === 'interrupted' && !cluster)
    lines.push(say`The training process ended without finishing. Resume it from the Runs view or the dashboard.`);
  lines.push(say`Click to open the training dashboard.`);
  return join(lines, '\n');
}

/** An epoch position as people read it, out of the run's epochs when known: 0.9130434782608695 of 3 → "0.9 / 3". */
export function formatEpoch(epoch: number, epochs?: unknown): string {
  return `${epoch.toFixed(1)}${typeof epochs === 'number' ? ` / ${epochs}` : ''}`;
}

/** Whole percent, floored so 100% only shows when the last step is done. */
export function formatPercent(step: number, total: number): string {
  if (total <= 0) return '0%';
  return `${Math.floor((Math.min(step, total) / total) * 100)}%`;
}

/** 45s, 12m, 1h 05m. */

/**
 * The one message contract between the extension and the dashboard webview.
 * Handshake: the webview posts `ready` once its script runs; the extension answers with a full `snapshot`, then sends
 * `events` deltas (batched, at most a few per second) and `phase` changes. After a reload or re-show the webview posts
 * `ready` again and gets a fresh snapshot, so no delta is ever applied to a state it was not built on.
 */
import type { TrainerEvent } from '../../trainer/protocol';
import type { ClusterStatus } from './cluster';
import type { DashboardState, RunPhase } from './dashboardState';

/** The panel's viewType, used for the serializer that restores dashboards after a window reload. */
export const DASHBOARD_VIEW_TYPE = 'bert.dashboard';

export type ExtensionToWebview =
  | { type: 'snapshot'; state: DashboardState }
  | { type: 'events'; events: TrainerEvent[] }
  /** A phase the events cannot tell: the process died (interrupted) or came back (training after Resume). */
  | { type: 'phase'; phase: RunPhase }
  /** A run submitted to a cluster: its job's state, after each snapshot and whenever it changes. */
  | { type: 'cluster'; cluster: ClusterStatus };

export type WebviewToExtension =
  | { type: 'ready' }
  | { type: 'stop' }
  | { type: 'resume' }
  | { type: 'openModelFolder' }
  | { type: 'classifyWithModel' }
  /** A pre-training run's model as the start of a fine-tuning run. */
  | { type: 'fineTuneFromModel' }
  | { type: 'openExample'; file: string; line: number }
  /** A cluster run: open its job's newest log (slurm-<id>.out). */
  | { type: 'openJobLog' };

/** What the webview keeps with `setState`, so a hidden or reloaded panel can draw at once and find its run again. */
export interface DashboardWebviewState {
  runDir: string;
  state?: DashboardState;
  cluster?: ClusterStatus;
}

/** Messages from a webview are checked, not trusted: the webview renders dataset text. */
export function parseWebviewMessage(value: unknown): WebviewToExtension | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const message = value as Record<string, unknown>;
  switch (message.type) {
    case 'ready':
    case 'stop':
    case 'resume':
    case 'openModelFolder':
    case 'classifyWithModel':
    case 'fineTuneFromModel':
    case 'openJobLog':
      return { type: message.type };
    case 'openExample':
      if (
        typeof message.file === 'string' &&
        message.file.length > 0 &&
        typeof message.line === 'number' &&
        Number.isInteger(message.line) &&
        message.line >= 1
      ) {
        return { type: 'openExample', file: message.file, line: message.line };
      }
      return undefined;
    default:
      return undefined;
  }
}

export function isDashboardWebviewState(value: unknown): value is DashboardWebviewState {
  return typeof value === 'object' && value !== null && typeof (value as { runDir?: unknown }).runDir === 'string';
}

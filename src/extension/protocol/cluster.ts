/**
 * What the dashboard and the status bar show of a run submitted to a cluster: one state derived from the scheduler's
 * word and the job script's own events (src/extension/runs/clusterStatus.ts). Types and pure helpers only: the
 * webview bundle imports it.
 */

/**
 * queued: waiting for its first start. running: on a node. preempted: signalled, writing its checkpoint before it
 * requeues itself. requeued: back in the queue after a preemption or a time limit. done / failed / cancelled: ended.
 * unknown: the scheduler no longer knows the job and its events do not say how it ended.
 */
export type ClusterStage =
  'queued' | 'running' | 'preempted' | 'requeued' | 'done' | 'failed' | 'cancelled' | 'unknown';

export interface ClusterStatus {
  /** The scheduler's name as people write it (Slurm). */
  scheduler: string;
  jobId: string;
  stage: ClusterStage;
  /** The scheduler's own word (PENDING, RUNNING, …), when it was asked. */
  state?: string;
  /** Why it waits (Priority, Resources, BeginTime, JobHeldUser), or why it ended: the scheduler's text (data). */
  reason?: string;
  /** The node it runs or ran on (data). */
  node?: string;
  /** Times it was requeued (preemptions and time limits). */
  requeues: number;
  /** The step the trainer resumed from after its last requeue. */
  resumedAtStep?: number;
  /** The job's exit code as the scheduler reports it (Slurm: `code:signal`). */
  exitCode?: string;
  /** The scheduler could not be asked from this machine: the state is the last one seen, or the events' alone. */
  unreachable?: boolean;
}

/** Whether the job may still change by itself (then it is polled, Stop cancels it and Resume waits). */
export function clusterActive(status: ClusterStatus | undefined): boolean {
  return (
    status !== undefined &&
    (status.stage === 'queued' ||
      status.stage === 'running' ||
      status.stage === 'preempted' ||
      status.stage === 'requeued')
  );
}

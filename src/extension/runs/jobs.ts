/**
 * Cluster jobs in the Runs view: the scheduler state of each run submitted with `bertft submit` (its job.json),
 * asked through core/scheduler's state query when the view refreshes — no more often than every 10 s per job, and
 * again only while the job may still change — and how each state reads. No VS Code here: the scheduler is injected,
 * so the mapping is unit-tested against any state. A machine without the scheduler's tools is said once, in the
 * rows and the log, never as a notification.
 */
import { UserError } from '../../core/errors';
import type { JobPhase, JobState, Scheduler } from '../../core/scheduler/scheduler';
import type { JobRecord } from '../../core/scheduler/scheduler';
import { join, long, say, type Message } from '../display/text';
import { schedulerTitle } from './clusterStatus';
import type { RunInfo, RunJob } from './runStore';

/** What the view asks of a scheduler. */
export type JobQuery = Pick<Scheduler, 'state'>;

/** The poll interval the issue allows at most (the scheduler is shared by everyone on the cluster). */
export const MIN_POLL_MS = 10_000;

/** Whether a job may still change state by itself. */
export function jobActive(phase: JobPhase | undefined): boolean {
  return phase === 'queued' || phase === 'running';
}

interface Known {
  state: JobState;
  checked: number;
}

/** A job to ask about: its run folder and record; `live` when the caller knows it may still change (see pollJob). */
interface Asked {
  dir: string;
  record: JobRecord;
  live?: boolean;
}

export class JobStates {
  private readonly known = new Map<string, Known>();
  private unavailable: string | undefined;
  private polling: Promise<boolean> | undefined;
  private readonly minIntervalMs: number;
  private readonly now: () => number;

  constructor(
    private readonly scheduler: JobQuery,
    options: { minIntervalMs?: number; now?: () => number; onUnavailable?: (reason: string) => void } = {},
  ) {
    this.minIntervalMs = options.minIntervalMs ?? MIN_POLL_MS;
    this.now = options.now ?? Date.now;
    this.onUnavailable = options.onUnavailable ?? (() => undefined);
  }

  private readonly onUnavailable: (reason: string) => void;

  /** The run with the latest state known for its job (the files' phase corrected while the job is live). */
  apply(run: RunInfo): RunInfo {
    if (!run.job?.record) return run;
    const known = this.known.get(run.dir);
    const job: RunJob = {
      ...run.job,
      state: known?.state ?? run.job.state,
      unavailable: this.unavailable,
    };
    return { ...run, job, phase: livePhaseOfJob(run.phase, job) };
  }

  /** Whether any of `runs` has a job the scheduler should be asked about again later. */
  anyActive(runs: readonly RunInfo[]): boolean {
    if (this.unavailable !== undefined) return false;
    return runs.some((r) => r.job?.record && jobActive((this.known.get(r.dir)?.state ?? r.job.state)?.phase));
  }

  /**
   * Asks the scheduler about each run's job that is due: never asked, or live and last asked `minIntervalMs` ago
   * (`force`, the Refresh command: every job, and the scheduler again after it was unavailable). Resolves to whether
   * anything shown changed; never rejects (a failure is shown in the rows).
   */
  poll(runs: readonly RunInfo[], force = false): Promise<boolean> {
    const asked = runs.flatMap((r) => (r.job?.record ? [{ dir: r.dir, record: r.job.record }] : []));
    return this.ask(asked, force);
  }

  /**
   * The same for one run's job (the dashboard and the status bar follow it through the same states, so the view and
   * they never ask twice within `minIntervalMs`). `live`: its script's events say it was preempted and requeues
   * itself, so a state that reads as ended (PREEMPTED) is asked again.
   */
  pollJob(dir: string, record: JobRecord, { force = false, live = false } = {}): Promise<boolean> {
    return this.ask([{ dir, record, live }], force);
  }

  /** The latest state the scheduler gave for the job of the run in `dir`, if it was asked. */
  stateOf(dir: string): JobState | undefined {
    return this.known.get(dir)?.state;
  }

  /** Why the scheduler cannot be asked from this machine, if it cannot. */
  get unavailableReason(): string | undefined {
    return this.unavailable;
  }

  private ask(asked: readonly Asked[], force: boolean): Promise<boolean> {
    if (this.polling) return this.polling.then(() => (force ? this.ask(asked, true) : false));
    this.polling = this.pollNow(asked, force).finally(() => (this.polling = undefined));
    return this.polling;
  }

  private async pollNow(asked: readonly Asked[], force: boolean): Promise<boolean> {
    if (force) this.unavailable = undefined;
    else if (this.unavailable !== undefined) return false;
    let changed = force;
    for (const { dir, record, live } of asked) {
      const known = this.known.get(dir);
      const due =
        force || !known || ((live || jobActive(known.state.phase)) && this.now() - known.checked >= this.minIntervalMs);
      if (!due) continue;
      let state: JobState;
      try {
        state = await this.scheduler.state(record.jobId);
      } catch (error) {
        this.unavailable =
          error instanceof UserError
            ? `${error.message}${error.fix ? ` ${error.fix}` : ''}`
            : error instanceof Error
              ? error.message
              : String(error);
        this.onUnavailable(this.unavailable);
        return true;
      }
      if (!known || JSON.stringify(known.state) !== JSON.stringify(state)) changed = true;
      this.known.set(dir, { state, checked: this.now() });
    }
    return changed;
  }

  /** Forgets runs not in `keep` (deleted folders). */
  prune(keep: ReadonlySet<string>): void {
    for (const dir of this.known.keys()) if (!keep.has(dir)) this.known.delete(dir);
  }
}

/**
 * The phase a submitted run shows: while the scheduler says its job is queued or running, that (the trainer's pid
 * belongs to a cluster node, so the files alone would read "interrupted"); otherwise what its files say.
 */
export function livePhaseOfJob(phase: RunInfo['phase'], job: RunJob): RunInfo['phase'] {
  if (job.unavailable !== undefined || !job.state) return phase;
  if (job.state.phase === 'running' && (phase === 'interrupted' || phase === 'waiting')) return 'training';
  if (job.state.phase === 'queued' && phase === 'interrupted') return 'waiting';
  return phase;
}

/** Whether the run's job is live as far as the scheduler said (then Cancel Job is offered, Resume and Delete not). */
export function jobBusy(job: RunJob | undefined): boolean {
  return job?.record !== undefined && job.unavailable === undefined && jobActive(job.state?.phase);
}

/** The codicon of a job's state, for a run whose job is live or ended by the scheduler's word. */
export function jobIcon(job: RunJob): string | undefined {
  if (job.unavailable !== undefined || !job.state) return undefined;
  const icons: Record<JobPhase, string | undefined> = {
    queued: 'watch',
    running: 'sync~spin',
    done: undefined,
    failed: 'error',
    cancelled: 'circle-slash',
    unknown: undefined,
  };
  return icons[job.state.phase];
}

/**
 * One part of a run's description: `Slurm PENDING (Priority)`, `Slurm RUNNING on node1 · requeued 1×`,
 * `Slurm FAILED (exit 1:0)`, `Slurm job 42 · Slurm not available here`. The state words are the scheduler's own.
 */
export function describeJob(job: RunJob): Message {
  if (!job.record) return say`job.json unreadable`;
  const title = schedulerTitle(job.record.scheduler);
  const state = job.state;
  if (job.unavailable !== undefined) {
    return state
      ? say`${title} ${state.state} (last seen; ${title} not reachable here)`
      : say`${title} job ${job.record.jobId} · ${title} not reachable here`;
  }
  if (!state) return say`${title} job ${job.record.jobId} · asking…`;
  const parts: Message[] = [];
  if (state.phase === 'queued')
    parts.push(state.reason ? say`${title} ${state.state} (${state.reason})` : say`${title} ${state.state}`);
  else if (state.phase === 'running')
    parts.push(state.node ? say`${title} ${state.state} on ${state.node}` : say`${title} ${state.state}`);
  else if (state.phase === 'failed' && state.exitCode)
    parts.push(say`${title} ${state.state} (exit ${state.exitCode})`);
  else parts.push(say`${title} ${state.state}`);
  const restarts = Math.max(job.record.restarts, state.restarts ?? 0);
  if (restarts > 0) parts.push(say`requeued ${restarts}×`);
  return join(parts, ' · ');
}

/** The tooltip lines of a run's job (markdown, one line each). */
export function describeJobTooltip(job: RunJob): Message[] {
  if (!job.record) return [say`Job record unreadable: ${long(job.recordError ?? '')}`];
  const title = schedulerTitle(job.record.scheduler);
  const lines: Message[] = [
    say`${title} job ${job.record.jobId}, submitted ${job.record.submitted.slice(0, 16).replace('T', ' ')}`,
  ];
  const state = job.state;
  if (state) {
    lines.push(say`Scheduler state: ${state.state}${job.unavailable !== undefined ? ' (last seen)' : ''}`);
    if (state.reason) lines.push(say`Reason: ${state.reason}`);
    if (state.node) lines.push(say`Node: ${state.node}`);
    if (state.exitCode) lines.push(say`Exit code: ${state.exitCode}`);
  }
  if (job.unavailable !== undefined)
    lines.push(say`${title} could not be asked from this machine: ${long(job.unavailable)}`);
  return lines;
}

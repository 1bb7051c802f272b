/**
 * One run, followed live: folds `<run>/metrics.jsonl` into a DashboardState and tells listeners about new events and
 * phase changes. The dashboard panel and the status bar share one watcher per run folder (see RunWatchers).
 * A run that says it is training but whose process has died becomes `interrupted`, checked every few seconds.
 * A run submitted to a cluster (its job.json) also has a ClusterStatus: the job script's events, read every few
 * seconds, and the scheduler's state, asked through the one poller the Runs view uses too (./jobs.ts: every 10 s at
 * most, only while the job is queued or running). Its trainer may run on another node, so while the job is live its
 * phase is the scheduler's, not the pid check's.
 */
import * as path from 'node:path';
import type { TrainerEvent } from '../../trainer/protocol';
import { applyEvents, emptyDashboardState, type DashboardState, type RunPhase } from '../protocol/dashboardState';
import { clusterActive, type ClusterStatus } from '../protocol/cluster';
import { runPaths } from '../../core/run/paths';
import { MetricsFollower } from '../../core/run/metrics-log';
import { readJobRecord, type JobRecord } from '../../core/scheduler/scheduler';
import { deriveClusterStatus, readJobEvents } from './clusterStatus';
import type { JobStates } from './jobs';
import { isProcessAlive, livePhase } from './runStore';

export interface RunWatcherListener {
  /** New events, already folded into `watcher.state`. */
  events?: (events: TrainerEvent[]) => void;
  /** The state was rebuilt from scratch (the file was replaced): send a full snapshot. */
  reset?: (state: DashboardState) => void;
  /** A phase change no event carries (the process died). */
  phase?: (phase: RunPhase) => void;
  /** The cluster job's state changed (a run submitted to a cluster only). */
  cluster?: (status: ClusterStatus) => void;
}

export interface RunWatcherOptions {
  pollMs?: number;
  livenessMs?: number;
  isAlive?: (pid: number) => boolean;
  onError?: (error: unknown) => void;
  /** The scheduler's states, shared with the Runs view; without it a cluster run shows its job script's events only. */
  jobs?: JobStates;
  /** A poll of this watcher's brought a new state (the Runs view shows it too). */
  onJobChanged?: () => void;
}

export class RunWatcher {
  state: DashboardState;
  private readonly follower: MetricsFollower;
  private readonly listeners = new Set<RunWatcherListener>();
  private liveness: ReturnType<typeof setInterval> | undefined;
  private readonly isAlive: (pid: number) => boolean;
  /** The run's job.json, when it was submitted to a cluster (read once: a resubmission is a new dashboard's). */
  private readonly jobRecord: JobRecord | undefined;
  private clusterStatus: ClusterStatus | undefined;

  constructor(
    readonly runDir: string,
    private readonly options: RunWatcherOptions = {},
  ) {
    this.isAlive = options.isAlive ?? isProcessAlive;
    this.jobRecord = readRecord(runDir, options.onError);
    this.state = emptyDashboardState(runDir);
    this.follower = new MetricsFollower(
      runPaths(runDir).metrics,
      (events) => this.received(events),
      (events) => this.rebuild(events),
      { pollMs: options.pollMs, onError: options.onError },
    );
    this.rebuild(this.follower.readAll(), false);
    this.clusterStatus = this.deriveCluster();
    if (this.clusterStatus) this.state.phase = this.phaseWithJob(this.state.phase);
  }

  start(): void {
    this.follower.start();
    if (this.liveness === undefined) {
      this.liveness = setInterval(() => {
        this.checkLiveness();
        void this.checkCluster();
      }, this.options.livenessMs ?? 3000);
      this.liveness.unref?.();
    }
    void this.checkCluster();
  }

  /** The cluster job's state, for a run submitted to a cluster. */
  get cluster(): ClusterStatus | undefined {
    return this.clusterStatus;
  }

  /** The job record of a run submitted to a cluster. */
  get job(): JobRecord | undefined {
    return this.jobRecord;
  }

  /**
   * Reads the job script's events and asks the shared poller about the job when it is due (`force`: now, after a
   * Stop); tells listeners when what is shown changed. Resolves when the answer is in.
   */
  async checkCluster(force = false): Promise<void> {
    const record = this.jobRecord;
    if (!record) return;
    this.updateCluster();
    const jobs = this.options.jobs;
    if (!jobs || !(force || clusterActive(this.clusterStatus))) return;
    const live = this.clusterStatus?.stage === 'preempted' || this.clusterStatus?.stage === 'requeued';
    if (await jobs.pollJob(this.runDir, record, { force, live })) this.options.onJobChanged?.();
    this.updateCluster();
  }

  private updateCluster(): void {
    let next: ClusterStatus | undefined;
    try {
      next = this.deriveCluster();
    } catch (error) {
      this.options.onError?.(error);
      return;
    }
    if (next && JSON.stringify(next) !== JSON.stringify(this.clusterStatus)) {
      this.clusterStatus = next;
      for (const l of this.listeners) l.cluster?.(next);
    }
    const phase = this.phaseWithJob(this.state.phase);
    if (phase !== this.state.phase) {
      this.state.phase = phase;
      for (const l of this.listeners) l.phase?.(phase);
    }
  }

  private deriveCluster(): ClusterStatus | undefined {
    const record = this.jobRecord;
    if (!record) return undefined;
    const jobs = this.options.jobs;
    return deriveClusterStatus({
      record,
      state: jobs?.stateOf(this.runDir) ?? record.lastState,
      events: readJobEvents(this.runDir),
      resumedFromStep: this.state.resumedFromStep,
      unreachable: jobs === undefined || jobs.unavailableReason !== undefined,
    });
  }

  /**
   * A cluster run's phase while its job is live: the trainer's pid is a node's, so "interrupted" by the pid check is
   * wrong; a job running is training, a job queued (or requeued) is waiting to (re)start.
   */
  private phaseWithJob(phase: RunPhase): RunPhase {
    const stage = this.clusterStatus?.stage;
    if (phase !== 'interrupted' || !clusterActive(this.clusterStatus)) return phase;
    return stage === 'running' || stage === 'preempted' ? 'training' : 'waiting';
  }

  subscribe(listener: RunWatcherListener): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Reads anything appended right now (tests; and after we know the trainer just wrote). */
  poll(): void {
    this.follower.check();
  }

  /** Marks a training run whose process is gone as interrupted; returns the (possibly new) phase. */
  checkLiveness(): RunPhase {
    const phase = this.phaseWithJob(livePhase(this.state, this.isAlive));
    if (phase !== this.state.phase) {
      // Catch events the dying process wrote last (e.g. its `error`) before deciding it was interrupted.
      this.follower.check();
      const after = this.phaseWithJob(livePhase(this.state, this.isAlive));
      if (after !== this.state.phase) {
        this.state.phase = after;
        for (const l of this.listeners) l.phase?.(after);
      }
    }
    return this.state.phase;
  }

  /**
   * The trainer we started has exited: read its last events; a run it left unfinished is interrupted, and one that
   * never got to `started` failed to start. Returns the final phase.
   */
  processEnded(): RunPhase {
    this.follower.check();
    const phase =
      this.state.phase === 'waiting' ? 'failed' : this.state.phase === 'training' ? 'interrupted' : this.state.phase;
    if (phase !== this.state.phase) {
      this.state.phase = phase;
      for (const l of this.listeners) l.phase?.(phase);
    }
    return phase;
  }

  dispose(): void {
    this.follower.dispose();
    if (this.liveness !== undefined) clearInterval(this.liveness);
    this.liveness = undefined;
    this.listeners.clear();
  }

  private received(events: TrainerEvent[]): void {
    applyEvents(this.state, events);
    for (const l of this.listeners) l.events?.(events);
  }

  private rebuild(events: TrainerEvent[], notify = true): void {
    const state = emptyDashboardState(this.runDir);
    applyEvents(state, events);
    state.phase = livePhase(state, this.isAlive);
    this.state = state;
    if (this.clusterStatus) state.phase = this.phaseWithJob(state.phase);
    if (notify) for (const l of this.listeners) l.reset?.(state);
  }
}

/** job.json of `runDir`, or none; a damaged one is reported and the run followed without its job. */
function readRecord(runDir: string, onError?: (error: unknown) => void): JobRecord | undefined {
  try {
    return readJobRecord(runDir);
  } catch (error) {
    onError?.(error);
    return undefined;
  }
}

/** One shared watcher per run folder, started on first use and disposed when its last user lets go. */
export class RunWatchers {
  private readonly watchers = new Map<string, { watcher: RunWatcher; users: number }>();

  constructor(private readonly options: RunWatcherOptions = {}) {}

  acquire(runDir: string): { watcher: RunWatcher; release(): void } {
    const key = path.resolve(runDir);
    let entry = this.watchers.get(key);
    if (!entry) {
      entry = { watcher: new RunWatcher(key, this.options), users: 0 };
      entry.watcher.start();
      this.watchers.set(key, entry);
    }
    entry.users++;
    const held = entry;
    let released = false;
    return {
      watcher: held.watcher,
      release: () => {
        if (released) return;
        released = true;
        held.users--;
        if (held.users === 0) {
          held.watcher.dispose();
          this.watchers.delete(key);
        }
      },
    };
  }

  /** The watcher of `runDir` if someone holds one (does not create or hold it). */
  find(runDir: string): RunWatcher | undefined {
    return this.watchers.get(path.resolve(runDir))?.watcher;
  }

  get size(): number {
    return this.watchers.size;
  }

  dispose(): void {
    for (const { watcher } of this.watchers.values()) watcher.dispose();
    this.watchers.clear();
  }
}

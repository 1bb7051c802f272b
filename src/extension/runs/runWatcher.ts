/**
 * One run, followed live: folds `<run>/metrics.jsonl` into a DashboardState and tells listeners about new events and
 * phase changes. The dashboard panel and the status bar share one watcher per run folder (see RunWatchers).
 * A run that says it is training but whose process has died becomes `interrupted`, checked every few seconds.
 */
import * as path from 'node:path';
import type { TrainerEvent } from '../../trainer/protocol';
import { applyEvents, emptyDashboardState, type DashboardState, type RunPhase } from '../protocol/dashboardState';
import { runPaths } from '../../core/run/paths';
import { MetricsFollower } from '../../core/run/metrics-log';
import { isProcessAlive, livePhase } from './runStore';

export interface RunWatcherListener {
  /** New events, already folded into `watcher.state`. */
  events?: (events: TrainerEvent[]) => void;
  /** The state was rebuilt from scratch (the file was replaced): send a full snapshot. */
  reset?: (state: DashboardState) => void;
  /** A phase change no event carries (the process died). */
  phase?: (phase: RunPhase) => void;
}

export interface RunWatcherOptions {
  pollMs?: number;
  livenessMs?: number;
  isAlive?: (pid: number) => boolean;
  onError?: (error: unknown) => void;
}

export class RunWatcher {
  state: DashboardState;
  private readonly follower: MetricsFollower;
  private readonly listeners = new Set<RunWatcherListener>();
  private liveness: ReturnType<typeof setInterval> | undefined;
  private readonly isAlive: (pid: number) => boolean;

  constructor(
    readonly runDir: string,
    private readonly options: RunWatcherOptions = {},
  ) {
    this.isAlive = options.isAlive ?? isProcessAlive;
    this.state = emptyDashboardState(runDir);
    this.follower = new MetricsFollower(
      runPaths(runDir).metrics,
      (events) => this.received(events),
      (events) => this.rebuild(events),
      { pollMs: options.pollMs, onError: options.onError },
    );
    this.rebuild(this.follower.readAll(), false);
  }

  start(): void {
    this.follower.start();
    if (this.liveness === undefined) {
      this.liveness = setInterval(() => this.checkLiveness(), this.options.livenessMs ?? 3000);
      this.liveness.unref?.();
    }
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
    const phase = livePhase(this.state, this.isAlive);
    if (phase !== this.state.phase) {
      // Catch events the dying process wrote last (e.g. its `error`) before deciding it was interrupted.
      this.follower.check();
      const after = livePhase(this.state, this.isAlive);
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
    if (notify) for (const l of this.listeners) l.reset?.(state);
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

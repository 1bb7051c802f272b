/**
 * Keeps the one status bar item in step with the run being watched (the one last started, resumed or reattached, or
 * a cluster run opened from the Runs view), its cluster job's state included.
 * Takes the item's `set` function rather than the item, so it is unit-tested without VS Code.
 */
import type { RunWatchers } from '../runs/runWatcher';
import type { StatusBarState } from '../statusBar';
import { Batcher } from './batcher';
import { formatStatus } from './statusText';

export class StatusDriver {
  private held: ReturnType<RunWatchers['acquire']> | undefined;
  private subscription: { dispose(): void } | undefined;
  private readonly batcher: Batcher<true>;

  constructor(
    private readonly watchers: RunWatchers,
    private readonly setStatus: (state: StatusBarState) => void,
    intervalMs = 250,
  ) {
    this.batcher = new Batcher(() => this.refresh(), intervalMs);
  }

  /** The run the status bar shows, if any. */
  get runDir(): string | undefined {
    return this.held?.watcher.runDir;
  }

  follow(runDir: string): void {
    const previous = this.held;
    this.subscription?.dispose();
    this.held = this.watchers.acquire(runDir);
    previous?.release();
    const changed = () => this.batcher.push(true);
    this.subscription = this.held.watcher.subscribe({
      events: changed,
      reset: changed,
      phase: changed,
      cluster: changed,
    });
    this.refresh();
  }

  /** Back to the idle item (e.g. the followed run was deleted). */
  clear(): void {
    this.subscription?.dispose();
    this.subscription = undefined;
    this.held?.release();
    this.held = undefined;
    this.batcher.clear();
    this.setStatus({ kind: 'idle' });
  }

  refresh(): void {
    if (this.held) this.setStatus(formatStatus(this.held.watcher.state, this.held.watcher.cluster));
  }

  dispose(): void {
    this.batcher.dispose();
    this.subscription?.dispose();
    this.held?.release();
    this.held = undefined;
  }
}

/**
 * Collects items and hands them over in batches, at most once per `intervalMs`, so a trainer that reports hundreds of
 * steps a second does not flood the webview. The first item after a quiet period goes out on the next tick.
 */
export class Batcher<T> {
  private pending: T[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastFlush = -Infinity;
  private disposed = false;

  constructor(
    private readonly deliver: (items: T[]) => void,
    private readonly intervalMs = 250,
  ) {}

  push(item: T): void {
    if (this.disposed) return;
    this.pending.push(item);
    if (this.timer !== undefined) return;
    const wait = Math.max(0, this.lastFlush + this.intervalMs - Date.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  /** Delivers what is pending now (e.g. before a snapshot replaces everything). */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const items = this.pending;
    this.pending = [];
    this.lastFlush = Date.now();
    this.deliver(items);
  }

  /** Drops what is pending without delivering it (the receiver is about to get a full snapshot). */
  clear(): void {
    this.pending = [];
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
  }
}

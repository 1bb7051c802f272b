/**
 * Reading `<run>/metrics.jsonl`, the trainer's append-only event log: the whole file once (the snapshot), then only
 * the bytes appended since (following a live run). Works the same for a live run, a finished one and after a reload.
 */
import * as fs from 'node:fs';
import { isTrainerEvent, type TrainerEvent } from '../../trainer/protocol';

export const METRICS_FILE = 'metrics.jsonl';

export interface ParsedLines {
  events: TrainerEvent[];
  /** Lines that were not a JSON trainer event (a torn write, a foreign tool); skipped, counted for the log. */
  badLines: number;
}

/** Parses complete lines. Blank lines are ignored. */
export function parseMetricsLines(text: string): ParsedLines {
  const events: TrainerEvent[] = [];
  let badLines = 0;
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed.length === 0) continue;
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch {
      badLines++;
      continue;
    }
    if (isTrainerEvent(value)) events.push(value);
    else badLines++;
  }
  return { events, badLines };
}

/**
 * Turns appended byte chunks into events. A line is parsed only once its newline has arrived, and bytes are split
 * at newlines before decoding, so a multi-byte character cut between two reads is never garbled.
 */
export class MetricsLineReader {
  private partial: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): ParsedLines {
    const data = this.partial.length > 0 ? Buffer.concat([this.partial, chunk]) : chunk;
    const end = data.lastIndexOf(0x0a);
    if (end < 0) {
      this.partial = data;
      return { events: [], badLines: 0 };
    }
    this.partial = Buffer.from(data.subarray(end + 1));
    return parseMetricsLines(data.subarray(0, end).toString('utf8'));
  }

  reset(): void {
    this.partial = Buffer.alloc(0);
  }
}

export interface MetricsFollowerOptions {
  /** Polling interval; the fallback when fs.watch misses changes (network drives, some containers). */
  pollMs?: number;
  onError?: (error: unknown) => void;
  onBadLines?: (count: number) => void;
}

/**
 * Follows one metrics.jsonl. `readAll()` returns every event so far; after `start()`, `onEvents` receives each batch
 * appended later. If the file is replaced by a shorter one, it starts over and calls `onReset` with all its events.
 */
export class MetricsFollower {
  private offset = 0;
  private readonly reader = new MetricsLineReader();
  private watcher: fs.FSWatcher | undefined;
  private poller: ReturnType<typeof setInterval> | undefined;
  private reading = false;

  constructor(
    readonly file: string,
    private readonly onEvents: (events: TrainerEvent[]) => void,
    private readonly onReset: (events: TrainerEvent[]) => void,
    private readonly options: MetricsFollowerOptions = {},
  ) {}

  /** Reads the file from the start (a missing file is an empty run that has not written yet). */
  readAll(): TrainerEvent[] {
    this.offset = 0;
    this.reader.reset();
    return this.readNew();
  }

  start(): void {
    if (this.poller !== undefined) return;
    this.poller = setInterval(() => this.check(), this.options.pollMs ?? 1000);
    this.poller.unref?.();
    this.watch();
  }

  dispose(): void {
    if (this.poller !== undefined) clearInterval(this.poller);
    this.poller = undefined;
    this.watcher?.close();
    this.watcher = undefined;
  }

  /** Reads what was appended since the last read and delivers it. Safe to call at any time. */
  check(): void {
    if (this.reading) return;
    this.reading = true;
    try {
      const size = fileSize(this.file);
      if (size < this.offset) {
        this.onReset(this.readAll());
        return;
      }
      if (size === this.offset) return;
      const events = this.readNew();
      if (events.length > 0) this.onEvents(events);
      // Only a started follower watches (a file created after start() could not be watched before).
      if (this.poller !== undefined && this.watcher === undefined) this.watch();
    } catch (error) {
      this.options.onError?.(error);
    } finally {
      this.reading = false;
    }
  }

  private watch(): void {
    try {
      this.watcher = fs.watch(this.file, () => this.check());
      this.watcher.on('error', () => {
        // The file was deleted or replaced: drop the watcher; polling carries on and re-watches when it is back.
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      this.watcher = undefined; // not created yet: polling will find it
    }
  }

  private readNew(): TrainerEvent[] {
    let fd: number;
    try {
      fd = fs.openSync(this.file, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size <= this.offset) return [];
      const chunk = Buffer.alloc(size - this.offset);
      let read = 0;
      while (read < chunk.length) {
        const n = fs.readSync(fd, chunk, read, chunk.length - read, this.offset + read);
        if (n === 0) break;
        read += n;
      }
      this.offset += read;
      const parsed = this.reader.push(chunk.subarray(0, read));
      if (parsed.badLines > 0) this.options.onBadLines?.(parsed.badLines);
      return parsed.events;
    } finally {
      fs.closeSync(fd);
    }
  }
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}

/**
 * `<run>/metrics.jsonl`, the run's append-only event log: one TrainerEvent per line (all but `log`), appended by the
 * writer as they happen; read whole (readMetricsLog), or the whole file once and then only the bytes appended since
 * (MetricsFollower, following a live run). Works the same for a live run, a finished one and after a reload.
 */
import * as fs from 'node:fs';
import { namingFile } from '../errors';
import { isTrainerEvent, type TrainerEvent } from './events';
import type { RunPaths } from './paths';

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

/**
 * Append one event per line. Synchronous so that events land in the order they happen even when the process is
 * killed right after; a kill during the write can only tear the last line, which `readMetricsLog` skips.
 */
export function appendMetric(file: string, event: TrainerEvent): void {
  if (event.event === 'log') return;
  try {
    fs.appendFileSync(file, JSON.stringify(event) + '\n');
  } catch (e) {
    // The error event is written on the way out of a failed run (a full disk): not writing it must not hide that error.
    if (event.event === 'error') return;
    throw namingFile(e, file);
  }
}

/** Every complete event in a metrics.jsonl file; a torn or foreign line is skipped. */
export function readMetricsLog(file: string): TrainerEvent[] {
  if (!fs.existsSync(file)) return [];
  return parseMetricsLines(fs.readFileSync(file, 'utf8')).events;
}

/**
 * True when the run once completed a checkpoint (its metrics log records one). Called when no checkpoint can be read:
 * a run killed before its first checkpoint completed loses nothing by resuming from step 0 (the same settings, seed
 * and order reproduce its best/ exactly), but a run whose checkpoints were written and are now gone or damaged would
 * have a later best/ trained over.
 */
export function hadCheckpoint(paths: RunPaths): boolean {
  return readMetricsLog(paths.metrics).some((e) => e.event === 'checkpoint');
}

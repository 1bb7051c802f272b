/**
 * The run directory on disk and the only ways the trainer writes to it. Every file is written to a temporary name
 * and renamed into place, and every directory (a checkpoint, `best/`) is filled under a `.tmp` name and renamed
 * when complete, so a process killed at any moment leaves either the old version or the new one, never half of one.
 *
 *   <run>/run.json          resolved config, seed, data hashes, package version, device
 *   <run>/metrics.jsonl     one TrainerEvent per line (all but `log`), appended as they happen
 *   <run>/checkpoints/step-N/  resumable training state (see checkpoint.ts)
 *   <run>/best/             the best model so far in Hugging Face layout, ready for inference
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic as writeWithHandleAtomic } from '../model/safetensors';
import { isTrainerEvent, type DoneEvent, type EvalEvent, type StartedEvent, type TrainerEvent } from './events';

export interface RunPaths {
  root: string;
  runJson: string;
  metrics: string;
  checkpoints: string;
  best: string;
}

export function runPaths(root: string): RunPaths {
  return {
    root,
    runJson: path.join(root, 'run.json'),
    metrics: path.join(root, 'metrics.jsonl'),
    checkpoints: path.join(root, 'checkpoints'),
    best: path.join(root, 'best'),
  };
}

/** Write text or bytes to `file` through a temporary sibling and a rename. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await writeWithHandleAtomic(file, (fh) => fh.writeFile(data));
}

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

/** A fresh, empty `<final>.tmp` directory to fill before `commitDir`. */
export async function prepareTempDir(finalDir: string): Promise<string> {
  const tmp = `${finalDir}.tmp`;
  await fs.promises.rm(tmp, { recursive: true, force: true });
  await fs.promises.mkdir(tmp, { recursive: true });
  return tmp;
}

/**
 * Replace `finalDir` with the completed `tmpDir`. A directory cannot be renamed over a non-empty one, so the old
 * one moves aside to `<final>.old` first; `recoverRunDir` undoes a crash between the two renames.
 */
export async function commitDir(tmpDir: string, finalDir: string): Promise<void> {
  const old = `${finalDir}.old`;
  await fs.promises.rm(old, { recursive: true, force: true });
  if (fs.existsSync(finalDir)) await fs.promises.rename(finalDir, old);
  await fs.promises.rename(tmpDir, finalDir);
  await fs.promises.rm(old, { recursive: true, force: true });
}

/**
 * Tidy a run directory left by a killed process: put back a `best/` that was moved aside, and delete half-written
 * `.tmp` directories and files. Safe to call on a healthy run.
 */
export async function recoverRunDir(root: string): Promise<void> {
  const p = runPaths(root);
  for (const dir of [root, p.checkpoints]) {
    if (!fs.existsSync(dir)) continue;
    for (const name of await fs.promises.readdir(dir)) {
      const full = path.join(dir, name);
      if (name.endsWith('.old')) {
        const final = full.slice(0, -'.old'.length);
        if (fs.existsSync(final)) await fs.promises.rm(full, { recursive: true, force: true });
        else await fs.promises.rename(full, final);
      } else if (name.endsWith('.tmp')) {
        await fs.promises.rm(full, { recursive: true, force: true });
      }
    }
  }
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Append one event per line. Synchronous so that events land in the order they happen even when the process is
 * killed right after; a kill during the write can only tear the last line, which `readMetricsLog` skips.
 */
export function appendMetric(file: string, event: TrainerEvent): void {
  if (event.event === 'log') return;
  fs.appendFileSync(file, JSON.stringify(event) + '\n');
}

/** Every complete event in a metrics.jsonl file; a torn or foreign line is skipped. */
export function readMetricsLog(file: string): TrainerEvent[] {
  if (!fs.existsSync(file)) return [];
  const events: TrainerEvent[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const value: unknown = JSON.parse(line);
      if (isTrainerEvent(value)) events.push(value);
    } catch {
      // a line torn by a kill mid-write
    }
  }
  return events;
}

/** What a UI needs to redraw a run from its metrics.jsonl alone. */
export interface RunSummary {
  started?: StartedEvent;
  /** Training loss per step, in order (the last value wins when a resumed run repeats steps). */
  losses: { step: number; loss: number; lr: number }[];
  evals: EvalEvent[];
  checkpoints: number[];
  best?: EvalEvent;
  done?: DoneEvent;
  lastStep: number;
  totalSteps: number;
  state: 'running' | 'stopped' | 'finished' | 'failed' | 'empty';
}

export function summarizeRun(events: TrainerEvent[]): RunSummary {
  const summary: RunSummary = { losses: [], evals: [], checkpoints: [], lastStep: 0, totalSteps: 0, state: 'empty' };
  const lossByStep = new Map<number, { step: number; loss: number; lr: number }>();
  const evalByStep = new Map<number, EvalEvent>();
  for (const e of events) {
    switch (e.event) {
      case 'started':
        summary.started = e;
        summary.totalSteps = e.total_steps;
        summary.done = undefined;
        summary.state = 'running';
        break;
      case 'step':
        lossByStep.set(e.step, { step: e.step, loss: e.loss, lr: e.lr });
        summary.lastStep = Math.max(summary.lastStep, e.step);
        break;
      case 'eval':
        evalByStep.set(e.step, e);
        if (e.is_best) summary.best = e;
        break;
      case 'checkpoint':
        if (!summary.checkpoints.includes(e.step)) summary.checkpoints.push(e.step);
        break;
      case 'done':
        summary.done = e;
        summary.state = e.stopped ? 'stopped' : 'finished';
        break;
      case 'error':
        summary.state = 'failed';
        break;
      case 'log':
        break;
    }
  }
  summary.losses = [...lossByStep.values()].sort((a, b) => a.step - b.step);
  summary.evals = [...evalByStep.values()].sort((a, b) => a.step - b.step);
  return summary;
}

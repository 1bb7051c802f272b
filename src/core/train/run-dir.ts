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
import * as os from 'node:os';
import * as path from 'node:path';
import { namingFile, UserError } from '../errors';
import { createFileExclusive, isTempSibling } from '../util/files';
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

/** The names recovery may touch: what commitDir and writeFileAtomic create, and nothing of anyone else's. */
const OUR_TEMPORARIES: Record<'root' | 'checkpoints', (name: string) => boolean> = {
  root: (name) => /^best\.(tmp|old)$/.test(name) || isTempSibling(name),
  checkpoints: (name) => /^step-\d+\.(tmp|old)$/.test(name) || isTempSibling(name),
};

/**
 * Tidy a run directory of ours left by a killed process: put back a `best/` (or checkpoint) that was moved aside, and
 * delete our half-written temporary directories and files. Only names we create are touched, and only in a folder
 * claimRunDir has accepted. Safe to call on a healthy run.
 */
export async function recoverRunDir(root: string): Promise<void> {
  const p = runPaths(root);
  for (const [dir, ours] of [[root, OUR_TEMPORARIES.root], [p.checkpoints, OUR_TEMPORARIES.checkpoints]] as const) {
    if (!fs.existsSync(dir)) continue;
    for (const name of await fs.promises.readdir(dir)) {
      if (!ours(name)) continue;
      const full = path.join(dir, name);
      if (name.endsWith('.old')) {
        const final = full.slice(0, -'.old'.length);
        if (fs.existsSync(final)) await fs.promises.rm(full, { recursive: true, force: true });
        else await fs.promises.rename(full, final);
      } else {
        await fs.promises.rm(full, { recursive: true, force: true });
      }
    }
  }
}

/** Written first into a run folder we create: the folder is ours even before run.json exists. */
export const RUN_MARKER = '.bertft-run';

/**
 * Makes `root` a run folder of ours, or refuses it: it may be absent (created), empty, or a run folder of ours (its
 * run.json or marker). A folder holding anything else is the user's and is not touched.
 */
export function claimRunDir(root: string): void {
  const entries = checkRunDir(root);
  if (entries === undefined) makeFolders(root);
  if (!entries?.includes(RUN_MARKER)) {
    const marker = path.join(root, RUN_MARKER);
    try {
      fs.writeFileSync(marker, `${JSON.stringify({ tool: 'bertft', created: new Date().toISOString() })}\n`);
    } catch (e) {
      throw namingFile(e, marker);
    }
  }
}

/**
 * `mkdir -p` that fails with the real reason: on a read-only file system Node's recursive mkdir says ENOENT, while
 * creating the first missing folder alone says EROFS (or EACCES).
 */
function makeFolders(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    let first = dir;
    while (path.dirname(first) !== first && !fs.existsSync(path.dirname(first))) first = path.dirname(first);
    fs.mkdirSync(first);
    throw e;
  }
}

/**
 * claimRunDir's refusals without writing anything (the run estimate checks --out with it): the folder's entries, or
 * undefined when it does not exist yet. A run folder whose lock a live process holds is refused here too, read-only.
 */
export function checkRunDir(root: string): string[] | undefined {
  let entries: string[];
  try {
    const stat = fs.statSync(root);
    if (!stat.isDirectory()) {
      throw new UserError(`The output path ${root} is a file, not a folder.`, { file: root, code: 'RUN_OUT_NOT_FOLDER',
        fix: 'Choose a folder for --out: a new one (it is created), an empty one, or the folder of an earlier run with --resume.' });
    }
    entries = fs.readdirSync(root);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    return undefined;
  }
  const ours = entries.includes(RUN_MARKER) || entries.includes('run.json');
  if (!ours && entries.length > 0) {
    const shown = entries.slice(0, 5).map((n) => JSON.stringify(n)).join(', ');
    throw new UserError(`${root} already holds files that are not a bertft run (${shown}${entries.length > 5 ? ', …' : ''}).`, {
      file: root, code: 'RUN_OUT_NOT_OURS',
      fix: 'Choose a new --out folder (it is created) or an empty one; nothing in this folder was changed.' });
  }
  if (entries.includes(RUN_LOCK)) refuseLiveLock(root);
  return entries;
}

/** The lock file of a run folder: one writer (a training process) at a time; readers never need it. */
export const RUN_LOCK = '.lock';

export interface RunLock {
  readonly file: string;
  release(): void;
}

interface LockOwner {
  pid: number;
  host: string;
  time: string;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the run folder's lock for this process: a lock file holding its pid and host, created exclusively. A lock
 * whose process is gone (same host; after kill -9, a crash or a reboot) is stale and taken over; one held by a live
 * process, or by another host (which cannot be checked), is refused naming its owner. Released on release() and on
 * process exit.
 */
export function acquireRunLock(root: string, host = os.hostname()): RunLock {
  const file = path.join(root, RUN_LOCK);
  const mine: LockOwner = { pid: process.pid, host, time: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    if (createFileExclusive(file, JSON.stringify(mine))) {
      const release = (): void => {
        process.off('exit', release);
        try {
          const owner = JSON.parse(fs.readFileSync(file, 'utf8')) as LockOwner;
          if (owner.pid === mine.pid && owner.host === mine.host) fs.rmSync(file, { force: true });
        } catch {
          // already gone
        }
      };
      process.on('exit', release);
      return { file, release };
    }
    const { owner, stale } = lockState(file, host);
    if (!stale || owner?.pid === process.pid) throw lockedError(root, file, owner);
    fs.rmSync(file, { force: true });
  }
  throw lockedError(root, file, undefined);
}

/** acquireRunLock's refusal without taking the lock or removing a stale one: for checks that only read the folder. */
function refuseLiveLock(root: string, host = os.hostname()): void {
  const file = path.join(root, RUN_LOCK);
  const { owner, stale } = lockState(file, host);
  if (!stale) throw lockedError(root, file, owner);
}

/** The lock's owner as its file says, and whether the lock is stale: its process gone (same host) or torn by a kill. */
function lockState(file: string, host: string): { owner: LockOwner | undefined; stale: boolean } {
  let owner: LockOwner | undefined;
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<LockOwner> | null;
    if (typeof parsed?.pid === 'number' && typeof parsed.host === 'string') owner = parsed as LockOwner;
  } catch {
    owner = undefined; // only where hard links are unsupported: being written this instant, or torn by a kill
  }
  // An empty lock is another process's first microseconds, unless it is old: then a kill tore it.
  const torn = owner === undefined && Date.now() - (fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0) > 5000;
  const gone = owner !== undefined && owner.host === host && owner.pid !== process.pid && !processAlive(owner.pid);
  return { owner, stale: torn || gone };
}

function lockedError(root: string, file: string, owner: LockOwner | undefined): UserError {
  if (owner === undefined) {
    return new UserError(`${root} is being locked by another process at the same moment.`, { file: root, code: 'RUN_LOCKED', fix: 'Try again.' });
  }
  return new UserError(`${root} is in use by pid ${owner.pid} on ${owner.host} (since ${owner.time}).`, {
    file: root, code: 'RUN_LOCKED',
    fix: `Wait for that run to end or stop it (Stop Training, or Ctrl-C where it runs). If that process no longer exists, delete ${file}.` });
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

/**
 * True when the run once completed a checkpoint (its metrics log records one). Called when no checkpoint can be read:
 * a run killed before its first checkpoint completed loses nothing by resuming from step 0 (the same settings, seed
 * and order reproduce its best/ exactly), but a run whose checkpoints were written and are now gone or damaged would
 * have a later best/ trained over.
 */
export function hadCheckpoint(paths: RunPaths): boolean {
  return readMetricsLog(paths.metrics).some((e) => e.event === 'checkpoint');
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

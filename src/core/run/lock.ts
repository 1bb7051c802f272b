/**
 * The run folder's lock: one writer (a training process) at a time; readers (dashboards, `bertft jobs`) never need
 * it. The lock file holds the writer's pid and host and appears whole (util/files.ts createFileExclusive); a lock
 * whose process is gone is stale and taken over, which works after kill -9 and on every platform.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../errors';
import { createFileExclusive } from '../util/files';
import { RUN_LOCK } from './paths';

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
export function refuseLiveLock(root: string, host = os.hostname()): void {
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
    return new UserError(`${root} is being locked by another process at the same moment.`, {
      file: root,
      code: 'RUN_LOCKED',
      fix: 'Try again.',
    });
  }
  return new UserError(`${root} is in use by pid ${owner.pid} on ${owner.host} (since ${owner.time}).`, {
    file: root,
    code: 'RUN_LOCKED',
    fix: `Wait for that run to end or stop it (Stop Training, or Ctrl-C where it runs). If that process no longer exists, delete ${file}.`,
  });
}

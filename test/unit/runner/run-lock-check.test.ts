/**
 * The run lock seen by code that only reads a run folder (the run estimate, claimRunDir's refusals before anything is
 * written): a live owner's lock is refused as acquireRunLock refuses it, a stale one is let be, and the check never
 * creates, changes or removes the lock file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { acquireRunLock } from '../../../src/core/run/lock';
import { checkRunDir, claimRunDir } from '../../../src/core/run/folder';
import { RUN_LOCK, RUN_MARKER } from '../../../src/core/run/paths';
import { tempDir } from './fixtures';

/** A run folder of ours holding `lock` as its lock file. */
function lockedRun(lock: string): { root: string; file: string } {
  const root = tempDir('lock-check');
  fs.writeFileSync(path.join(root, RUN_MARKER), '{}\n');
  const file = path.join(root, RUN_LOCK);
  fs.writeFileSync(file, lock);
  return { root, file };
}

const owner = (pid: number | undefined, host = os.hostname()) =>
  JSON.stringify({ pid, host, time: '2026-12-06T00:00:00.000Z' });
const isLocked = (pattern: RegExp) => (e: unknown) =>
  (e as { code?: string }).code === 'RUN_LOCKED' && pattern.test((e as Error).message);

test('a lock held by a live process is refused by the read-only check, naming its pid and host; nothing is written', () => {
  const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  try {
    const { root, file } = lockedRun(owner(holder.pid));
    const before = fs.readFileSync(file, 'utf8');
    const mtime = fs.statSync(file).mtimeMs;
    assert.throws(() => checkRunDir(root), isLocked(new RegExp(`in use by pid ${holder.pid} on ${os.hostname()}`)));
    // claimRunDir refuses it the same way before writing (the extension claims the folder before starting a trainer).
    fs.rmSync(path.join(root, RUN_MARKER));
    fs.writeFileSync(path.join(root, 'run.json'), '{}');
    assert.throws(() => claimRunDir(root), isLocked(/in use by pid/));
    assert.deepEqual(fs.readdirSync(root).sort(), [RUN_LOCK, 'run.json']);
    assert.equal(fs.readFileSync(file, 'utf8'), before);
    assert.equal(fs.statSync(file).mtimeMs, mtime);
  } finally {
    holder.kill();
  }
});

test('a lock from another host cannot be checked, so it is refused naming that host', () => {
  const { root } = lockedRun(owner(1, 'elsewhere'));
  assert.throws(() => checkRunDir(root), isLocked(/in use by pid 1 on elsewhere/));
});

test('a stale lock (its process gone) does not stop a reader, and the reader leaves it for the next writer to take over', () => {
  const dead = spawnSync(process.execPath, ['-e', 'process.pid'], { stdio: 'ignore' }).pid;
  const { root, file } = lockedRun(owner(dead));
  assert.deepEqual(checkRunDir(root)?.sort(), [RUN_LOCK, RUN_MARKER].sort());
  assert.equal(fs.readFileSync(file, 'utf8'), owner(dead), 'the reader does not remove it');
  const lock = acquireRunLock(root);
  assert.match(fs.readFileSync(file, 'utf8'), new RegExp(`"pid":${process.pid}`));
  lock.release();
});

test('a lock being written this instant (empty, fresh) is refused; an old empty or malformed one is stale', () => {
  const fresh = lockedRun('');
  assert.throws(() => checkRunDir(fresh.root), isLocked(/being locked by another process/));

  for (const content of ['', 'null', '{}', '[1]']) {
    const old = lockedRun(content);
    const past = new Date(Date.now() - 60_000);
    fs.utimesSync(old.file, past, past);
    assert.doesNotThrow(() => checkRunDir(old.root), JSON.stringify(content));
    assert.equal(fs.readFileSync(old.file, 'utf8'), content);
  }
  // A writer takes an old malformed lock over instead of failing on its content.
  const malformed = lockedRun('null');
  const past = new Date(Date.now() - 60_000);
  fs.utimesSync(malformed.file, past, past);
  acquireRunLock(malformed.root).release();
  assert.equal(fs.existsSync(malformed.file), false);
});

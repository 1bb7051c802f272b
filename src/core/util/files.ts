/**
 * Writing files so that a process killed at any moment leaves either the old version or the new one, never half of
 * one: the content goes to a temporary sibling (a name recovery recognises as ours) and is renamed into place.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { namingFile } from '../errors';

/** `.<name>.<pid>.<8 hex>.tmp` beside `file`: unique per process and call, and recognisable by `isTempSibling`. */
export function tempSibling(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

const TEMP_SIBLING = /^\..+\.\d+\.[0-9a-f]{8}\.tmp$/;

/** Whether a file name is one `tempSibling` makes (so a crashed writer's leftover may be deleted). */
export function isTempSibling(name: string): boolean {
  return TEMP_SIBLING.test(name);
}

/**
 * The errors a rename gives on Windows while another process briefly holds the source or the target open (an
 * antivirus scan, the search indexer, a backup agent): they clear within moments. Elsewhere they are final.
 */
const LOCKED_BY_ANOTHER_PROCESS = new Set(['EPERM', 'EACCES', 'EBUSY']);

/** The waits between rename attempts on Windows, about 1.3 s in all; after the last one the error stands. */
export const RENAME_RETRY_DELAYS_MS: readonly number[] = [10, 20, 40, 80, 160, 320, 640];

export interface RenameOptions {
  /** Default fs.promises.rename. */
  rename?: (from: string, to: string) => Promise<void>;
  /** Default process.platform: only on win32 is a locked source or target retried. */
  platform?: NodeJS.Platform;
  /** Default RENAME_RETRY_DELAYS_MS. */
  delaysMs?: readonly number[];
}

/**
 * Renames `from` to `to`, replacing a file at `to`. On Windows a rename that fails because the file is briefly held
 * open by another process is tried again after each of `delaysMs`.
 */
export async function renameWithRetry(from: string, to: string, options: RenameOptions = {}): Promise<void> {
  const rename = options.rename ?? fs.promises.rename;
  const delays = (options.platform ?? process.platform) === 'win32' ? (options.delaysMs ?? RENAME_RETRY_DELAYS_MS) : [];
  for (let attempt = 0; ; attempt++) {
    try {
      await rename(from, to);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      if (attempt >= delays.length || !LOCKED_BY_ANOTHER_PROCESS.has(code)) throw e;
      await new Promise((resolve) => setTimeout(resolve, delays[attempt]));
    }
  }
}

/** Writes `file` through `write` on a temporary sibling, flushed to disk, then renamed over `file`. */
export async function writeFileAtomicWith(
  file: string,
  write: (fh: fs.promises.FileHandle) => Promise<void>,
): Promise<void> {
  const tmp = tempSibling(file);
  const fh = await fs.promises.open(tmp, 'w');
  try {
    await write(fh);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await fs.promises.rm(tmp, { force: true });
    throw namingFile(e, file);
  }
  await fh.close();
  try {
    await renameWithRetry(tmp, file);
  } catch (e) {
    await fs.promises.rm(tmp, { force: true });
    throw e;
  }
}

/** Writes text or bytes to `file` through a temporary sibling and a rename. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await writeFileAtomicWith(file, (fh) => fh.writeFile(data));
}

/**
 * `to` becomes a second name of the existing file `from`: a hard link (no second copy on disk), or a copy where the
 * file system has no hard links; through a temporary sibling and a rename, so `to` is never half there.
 */
export async function linkOrCopyAtomic(from: string, to: string): Promise<void> {
  const tmp = tempSibling(to);
  try {
    await fs.promises.link(from, tmp);
  } catch {
    await fs.promises.copyFile(from, tmp);
  }
  try {
    await renameWithRetry(tmp, to);
  } catch (e) {
    await fs.promises.rm(tmp, { force: true });
    throw e;
  }
}

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Creates `file` holding `content` only if it does not exist, atomically: other processes see no file or the whole
 * content, never an empty one (a temporary sibling is hard-linked into place, which fails when `file` exists).
 * Returns false when `file` exists. Where hard links are not supported (some network and FAT drives), an exclusive
 * create and write is used instead, which a kill can leave empty.
 */
export function createFileExclusive(file: string, content: string): boolean {
  const tmp = tempSibling(file);
  try {
    fs.writeFileSync(tmp, content);
  } catch (e) {
    // A read-only or full disk is reported for the file the caller asked for, not our temporary sibling.
    if (e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string')
      (e as NodeJS.ErrnoException).path = file;
    throw e;
  }
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // ENOENT: our sibling was tidied away by the process that holds `file`.
    if (code === 'EEXIST' || code === 'ENOENT') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EXDEV') throw e;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  try {
    const fd = fs.openSync(file, 'wx');
    try {
      fs.writeSync(fd, content);
    } finally {
      fs.closeSync(fd);
    }
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

/** The sha256 of a file, read as a stream. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

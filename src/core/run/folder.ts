/**
 * The run folder on disk and the only ways the trainer changes it. Every file is written to a temporary name and
 * renamed into place, and every directory (a checkpoint, `best/`) is filled under a `.tmp` name and renamed when
 * complete, so a process killed at any moment leaves either the old version or the new one, never half of one. A
 * folder is claimed before anything is written to it: new, empty, or a run folder of ours; anything else is refused.
 * The names are in paths.ts, the one-writer lock in lock.ts, the event log in metrics-log.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { namingFile, UserError } from '../errors';
import { isTempSibling, renameWithRetry } from '../util/files';
import { refuseLiveLock } from './lock';
import { BEST_DIR, CHECKPOINT_NAME, RUN_JSON, RUN_LOCK, RUN_MARKER, runPaths } from './paths';

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
  if (fs.existsSync(finalDir)) await renameWithRetry(finalDir, old);
  await renameWithRetry(tmpDir, finalDir);
  await fs.promises.rm(old, { recursive: true, force: true });
}

/** The names recovery may touch: what commitDir and writeFileAtomic create, and nothing of anyone else's. */
const OUR_TEMPORARIES: Record<'root' | 'checkpoints', (name: string) => boolean> = {
  root: (name) => name === `${BEST_DIR}.tmp` || name === `${BEST_DIR}.old` || isTempSibling(name),
  checkpoints: (name) =>
    (CHECKPOINT_NAME.test(name.replace(/\.(tmp|old)$/, '')) && /\.(tmp|old)$/.test(name)) || isTempSibling(name),
};

/**
 * Tidy a run directory of ours left by a killed process: put back a `best/` (or checkpoint) that was moved aside, and
 * delete our half-written temporary directories and files. Only names we create are touched, and only in a folder
 * claimRunDir has accepted. Safe to call on a healthy run.
 */
export async function recoverRunDir(root: string): Promise<void> {
  const p = runPaths(root);
  for (const [dir, ours] of [
    [root, OUR_TEMPORARIES.root],
    [p.checkpoints, OUR_TEMPORARIES.checkpoints],
  ] as const) {
    if (!fs.existsSync(dir)) continue;
    for (const name of await fs.promises.readdir(dir)) {
      if (!ours(name)) continue;
      const full = path.join(dir, name);
      if (name.endsWith('.old')) {
        const final = full.slice(0, -'.old'.length);
        if (fs.existsSync(final)) await fs.promises.rm(full, { recursive: true, force: true });
        else await renameWithRetry(full, final);
      } else {
        await fs.promises.rm(full, { recursive: true, force: true });
      }
    }
  }
}

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
      throw new UserError(`The output path ${root} is a file, not a folder.`, {
        file: root,
        code: 'RUN_OUT_NOT_FOLDER',
        fix: 'Choose a folder for --out: a new one (it is created), an empty one, or the folder of an earlier run with --resume.',
      });
    }
    entries = fs.readdirSync(root);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    return undefined;
  }
  const ours = entries.includes(RUN_MARKER) || entries.includes(RUN_JSON);
  if (!ours && entries.length > 0) {
    const shown = entries
      .slice(0, 5)
      .map((n) => JSON.stringify(n))
      .join(', ');
    throw new UserError(
      `${root} already holds files that are not a bertft run (${shown}${entries.length > 5 ? ', …' : ''}).`,
      {
        file: root,
        code: 'RUN_OUT_NOT_OURS',
        fix: 'Choose a new --out folder (it is created) or an empty one; nothing in this folder was changed.',
      },
    );
  }
  if (entries.includes(RUN_LOCK)) refuseLiveLock(root);
  return entries;
}

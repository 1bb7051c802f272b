/**
 * `<run>/run.json`: the run's resolved settings, seed, data hashes and device, written by the session skeleton
 * (core/train/session.ts) when a run starts and read when it resumes, by the CLI and by the extension. Its fields
 * belong to the task that wrote it (core/finetune/task.ts, core/pretrain/session.ts); here it is only JSON.
 */
import * as fs from 'node:fs';
import { UserError } from '../errors';
import { writeJsonAtomic } from '../util/files';
import { withoutBom } from '../util/text-file';

/** run.json as JSON; a damaged one is the user's to restore, not a bug. */
export function readRunJson(file: string): unknown {
  try {
    return JSON.parse(withoutBom(fs.readFileSync(file, 'utf8'))) as unknown;
  } catch (e) {
    throw new UserError(`${file} cannot be read: ${(e as Error).message}`, {
      file,
      code: 'RUN_JSON_UNREADABLE',
      cause: e,
      fix: 'Restore run.json from a backup, or start a new run in another --out folder.',
    });
  }
}

export async function writeRunJson(file: string, value: Record<string, unknown>): Promise<void> {
  await writeJsonAtomic(file, value);
}

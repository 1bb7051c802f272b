import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  createFileExclusive,
  RENAME_RETRY_DELAYS_MS,
  renameWithRetry,
  writeFileAtomic,
} from '../../../src/core/util/files';
import { tempFolder } from '../../helpers/temp';

test('createFileExclusive: a folder it cannot write to is reported for the file asked for, not its temporary sibling', () => {
  const dir = tempFolder('bertft-files-');
  const file = path.join(dir, 'gone', '.lock');
  let caught: unknown;
  try {
    createFileExclusive(file, 'x');
  } catch (e) {
    caught = e;
  }
  assert.equal((caught as NodeJS.ErrnoException).code, 'ENOENT');
  assert.equal((caught as NodeJS.ErrnoException).path, file);
  assert.deepEqual(fs.readdirSync(dir), []);
});

/** A rename that fails with `code` for its first `failures` calls, then renames for real; it records every call. */
function flakyRename(code: string, failures: number) {
  const calls: string[][] = [];
  const rename = async (from: string, to: string): Promise<void> => {
    calls.push([from, to]);
    if (calls.length <= failures) throw Object.assign(new Error(`${code}: rename '${from}'`), { code });
    await fs.promises.rename(from, to);
  };
  return { rename, calls };
}

function twoFiles(): { from: string; to: string } {
  const dir = tempFolder('bertft-rename-');
  const from = path.join(dir, 'new');
  const to = path.join(dir, 'old');
  fs.writeFileSync(from, 'new');
  fs.writeFileSync(to, 'old');
  return { from, to };
}

for (const code of ['EPERM', 'EACCES', 'EBUSY']) {
  test(`renameWithRetry on win32: a target locked for a moment (${code}) is replaced once the lock clears`, async () => {
    const { from, to } = twoFiles();
    const { rename, calls } = flakyRename(code, 3);
    await renameWithRetry(from, to, { rename, platform: 'win32', delaysMs: [1, 1, 1, 1] });
    assert.equal(calls.length, 4);
    assert.equal(fs.readFileSync(to, 'utf8'), 'new');
    assert.equal(fs.existsSync(from), false);
  });
}

test('renameWithRetry on win32: a lock that outlasts every delay fails with its own error after one try per delay', async () => {
  const { from, to } = twoFiles();
  const { rename, calls } = flakyRename('EPERM', Infinity);
  await assert.rejects(renameWithRetry(from, to, { rename, platform: 'win32', delaysMs: [1, 2, 3] }), {
    code: 'EPERM',
  });
  assert.equal(calls.length, 4);
  assert.equal(fs.readFileSync(to, 'utf8'), 'old');
  // The default waits give an antivirus scan about a second, not a minute.
  const total = RENAME_RETRY_DELAYS_MS.reduce((a, b) => a + b, 0);
  assert.ok(total >= 500 && total <= 2000, String(total));
});

test('renameWithRetry: other errors, and the lock errors on linux and darwin, fail at the first try', async () => {
  for (const [platform, code] of [
    ['win32', 'ENOENT'],
    ['win32', 'EXDEV'],
    ['linux', 'EPERM'],
    ['darwin', 'EACCES'],
    ['linux', 'EBUSY'],
  ] as const) {
    const { from, to } = twoFiles();
    const { rename, calls } = flakyRename(code, 1);
    await assert.rejects(renameWithRetry(from, to, { rename, platform, delaysMs: [1, 1] }), { code });
    assert.equal(calls.length, 1, `${platform} ${code}`);
  }
});

test('renameWithRetry with the real rename replaces an existing file; writeFileAtomic leaves no temporary sibling', async () => {
  const { from, to } = twoFiles();
  await renameWithRetry(from, to);
  assert.equal(fs.readFileSync(to, 'utf8'), 'new');
  await writeFileAtomic(to, 'newer');
  assert.equal(fs.readFileSync(to, 'utf8'), 'newer');
  assert.deepEqual(fs.readdirSync(path.dirname(to)), ['old']);
});

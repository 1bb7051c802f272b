import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createFileExclusive } from '../../../src/core/util/files';

test('createFileExclusive: a folder it cannot write to is reported for the file asked for, not its temporary sibling', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bertft-files-'));
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

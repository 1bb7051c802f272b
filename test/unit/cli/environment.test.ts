/**
 * A bad environment is the user's error, not a bug: the machine's errno errors become UserErrors naming the path and
 * the fix (exit 1), and `bertft train --out` below a file says so instead of "internal error … this is a bug".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { asUserFacing, environmentError, isUserError, namingFile } from '../../../src/core/errors';
import { tempDir, writeSentimentCsv } from '../runner/fixtures';

const ROOT = path.join(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'out', 'src', 'cli.js');

const errno = (code: string, file: string, syscall = 'open') =>
  Object.assign(new Error(`${code}: ${syscall} '${file}'`), { code, path: file, syscall });

test('errno errors of the environment become user errors with the path and a fix; others stay bugs', () => {
  for (const code of [
    'EACCES',
    'EPERM',
    'EROFS',
    'ENOSPC',
    'EDQUOT',
    'ENOTDIR',
    'EISDIR',
    'EEXIST',
    'EMFILE',
    'ENFILE',
  ]) {
    const e = environmentError(errno(code, '/data/run/model.safetensors'));
    assert.ok(e, code);
    assert.equal(e.code, `ENV_${code}`);
    assert.equal(e.file, '/data/run/model.safetensors');
    assert.ok(e.fix && e.fix.length > 10, code);
    assert.match(e.describe(), new RegExp(`${code} in open`));
  }
  assert.match(environmentError(errno('ENOSPC', '/x'))?.fix ?? '', /--resume/, 'a full disk: free space, then resume');
  assert.equal(environmentError(errno('ECONNRESET', '/x')), undefined);
  assert.equal(environmentError(new TypeError('x is undefined')), undefined);
  const bug = new RangeError('bad index');
  assert.equal(asUserFacing(bug), bug);
  assert.ok(isUserError(asUserFacing(errno('EROFS', '/ro'))));
});

test('a failed write to an open file (Node gives no path) is named by the file being written; other errors are left alone', () => {
  const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
  assert.equal(environmentError(full)?.describe().split('\n')[0].includes('/run/x'), false);
  assert.equal(namingFile(full, '/run/x'), full);
  assert.match(environmentError(full)?.message ?? '', /^The disk is full: \/run\/x \(ENOSPC in write\)\.$/);
  const named = errno('EROFS', '/ro/a');
  assert.equal((namingFile(named, '/other') as NodeJS.ErrnoException).path, '/ro/a', 'a path Node gave is kept');
  const bug = new TypeError('x is undefined');
  assert.equal((namingFile(bug, '/run/x') as NodeJS.ErrnoException).path, undefined, 'not an errno error: untouched');
});

test('bertft train --out below a file: exit 1 naming the file and the fix, not an internal error', () => {
  const dir = tempDir('env');
  const data = writeSentimentCsv(dir, 24);
  fs.writeFileSync(path.join(dir, 'afile'), 'not a folder');
  const r = spawnSync(
    process.execPath,
    [CLI, 'train', '--data', data, '--out', path.join(dir, 'afile', 'run'), '--model', 'random:tiny', '--epochs', '1'],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /A file stands where a folder is needed: .*afile/);
  assert.match(r.stderr, /Fix: /);
  assert.doesNotMatch(r.stderr, /internal error|this is a bug/);
  assert.equal(fs.readFileSync(path.join(dir, 'afile'), 'utf8'), 'not a folder', 'the file is untouched');
});

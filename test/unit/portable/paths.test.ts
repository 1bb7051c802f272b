import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { predictDataset } from '../../../src/core/infer/batch-predict';
import { differingOnResume } from '../../../src/core/train/session';
import { ignoresCase, pathKey, samePath } from '../../../src/core/util/same-path';
import { writeFiles } from '../data/helpers';

// Both path flavours on any machine: path.win32 semantics under an injected 'win32', path.posix under the others.

test('samePath: Windows ignores case and accepts / as a separator; macOS ignores case; Linux does neither', () => {
  assert.equal(samePath('C:\\Data\\Train.csv', 'c:/data/TRAIN.CSV', 'win32'), true);
  assert.equal(samePath('C:\\Data\\runs\\a\\..\\b\\', 'c:\\data\\runs\\B', 'win32'), true);
  assert.equal(samePath('C:\\Data\\a.csv', 'D:\\Data\\a.csv', 'win32'), false);
  assert.equal(samePath('\\\\server\\share\\Data.csv', '//SERVER/share/data.csv', 'win32'), true);
  assert.equal(samePath('/Users/ann/Data/train.csv', '/users/ann/data/./Train.csv', 'darwin'), true);
  assert.equal(samePath('/home/ann/Data/train.csv', '/home/ann/data/train.csv', 'linux'), false);
  assert.equal(samePath('/home/ann/data/../data/train.csv', '/home/ann/data/train.csv', 'linux'), true);
  assert.equal(pathKey('C:/Data/Train.csv', 'win32'), 'c:\\data\\train.csv');
  assert.equal(pathKey('/srv/Data/', 'linux'), '/srv/Data');
  assert.deepEqual(
    (['win32', 'darwin', 'linux', 'freebsd'] as const).map((p) => ignoresCase(p)),
    [true, true, false, false],
  );
});

test('--resume with the data file spelt in another case is the same file on Windows and macOS, not on Linux', () => {
  const stored = { data: 'C:\\Users\\Ann\\Data\\train.csv', valid: undefined, lr: 0.001 };
  assert.deepEqual(differingOnResume({ data: 'c:/users/ann/data/TRAIN.csv' }, stored, ['data', 'valid'], 'win32'), []);
  const mac = { data: '/Users/ann/Data/train.csv' };
  assert.deepEqual(differingOnResume({ data: '/users/ann/data/Train.csv' }, mac, ['data'], 'darwin'), []);
  const differ = differingOnResume({ data: '/Users/ann/data/train.csv' }, mac, ['data'], 'linux');
  assert.equal(differ.length, 1);
  assert.match(differ[0], /^data \(run: "\/Users\/ann\/Data\/train\.csv", given: /);
  // Another file, or a setting that is not a path, differs on every platform.
  assert.equal(differingOnResume({ data: 'C:\\other.csv' }, stored, ['data'], 'win32').length, 1);
  assert.equal(differingOnResume({ lr: 0.002 }, stored, ['data'], 'win32').length, 1);
});

test('predictions are never written over their input file (the same file by another spelling included)', async () => {
  const dir = writeFiles({ 'Reviews.csv': 'text,label\ngood,pos\nbad,neg\n' });
  const input = path.join(dir, 'Reviews.csv');
  const model = { labels: ['neg', 'pos'], predict: () => Promise.reject(new Error('not reached')) };
  const before = fs.readFileSync(input, 'utf8');
  const spellings = [input, path.join(dir, '.', 'Reviews.csv'), path.join(dir, 'sub', '..', 'Reviews.csv')];
  for (const out of spellings) {
    await assert.rejects(predictDataset(model, input, { out }), (e: unknown) => {
      const err = e as { code?: string; fix?: string };
      return err.code === 'PREDICT_OUT_IS_INPUT' && /Reviews\.predictions\.csv/.test(err.fix ?? '');
    });
  }
  assert.equal(fs.readFileSync(input, 'utf8'), before);
  assert.deepEqual(fs.readdirSync(dir), ['Reviews.csv']);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { INT8_DIR, writeQuantizedModelDir } from '../../../src/core/infer/quantize';
import { trainedRun } from './fixtures';
import { holdLockInAnotherProcess } from '../../helpers/lock-holder';

test('Make Int8 Model refuses a run that is still training (its lock is live) and writes nothing; once it ends, it works', async () => {
  const { run } = await trainedRun();
  const copy = fs.mkdtempSync(path.join(path.dirname(run), 'locked-'));
  fs.cpSync(run, copy, { recursive: true });
  fs.rmSync(path.join(copy, 'best', INT8_DIR), { recursive: true, force: true });
  // Another live process holds the run's lock, as a training run does.
  const holder = await holdLockInAnotherProcess(copy);
  try {
    const before = fs.readdirSync(path.join(copy, 'best')).sort();
    await assert.rejects(
      writeQuantizedModelDir(copy),
      (e: Error & { code?: string }) => e.code === 'RUN_LOCKED' && /in use by pid \d+/.test(e.message),
    );
    assert.deepEqual(fs.readdirSync(path.join(copy, 'best')).sort(), before, 'nothing written into best/');
  } finally {
    await holder.kill();
  }
  // The lock's process is gone: the lock is stale, and the int8 copy is made.
  const { dir } = await writeQuantizedModelDir(copy);
  assert.ok(fs.existsSync(path.join(dir, 'model.onnx')));
});

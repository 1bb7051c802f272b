import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { INT8_DIR, writeQuantizedModelDir } from '../../../src/core/infer/quantize';
import { RUN_LOCK } from '../../../src/core/run/paths';
import { trainedRun } from './fixtures';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');

test('Make Int8 Model refuses a run that is still training (its lock is live) and writes nothing; once it ends, it works', async () => {
  const { run } = await trainedRun();
  const copy = fs.mkdtempSync(path.join(path.dirname(run), 'locked-'));
  fs.cpSync(run, copy, { recursive: true });
  fs.rmSync(path.join(copy, 'best', INT8_DIR), { recursive: true, force: true });
  // Another live process holds the run's lock, as a training run does.
  const holder = spawn(process.execPath, [
    '-e',
    `require(${JSON.stringify(path.join(ROOT, 'out', 'src', 'core', 'run', 'lock.js'))}).acquireRunLock(${JSON.stringify(copy)}); setInterval(() => {}, 1000);`,
  ]);
  try {
    for (let i = 0; i < 600 && !fs.existsSync(path.join(copy, RUN_LOCK)); i++)
      await new Promise((r) => setTimeout(r, 50));
    const before = fs.readdirSync(path.join(copy, 'best')).sort();
    await assert.rejects(
      writeQuantizedModelDir(copy),
      (e: Error & { code?: string }) => e.code === 'RUN_LOCKED' && /in use by pid \d+/.test(e.message),
    );
    assert.deepEqual(fs.readdirSync(path.join(copy, 'best')).sort(), before, 'nothing written into best/');
  } finally {
    holder.kill('SIGKILL');
    await new Promise((r) => holder.once('exit', r));
  }
  // The lock's process is gone: the lock is stale, and the int8 copy is made.
  const { dir } = await writeQuantizedModelDir(copy);
  assert.ok(fs.existsSync(path.join(dir, 'model.onnx')));
});

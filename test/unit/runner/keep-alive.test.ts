import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readMetricsLog } from '../../../src/core/run/metrics-log';
import { tempDir, writeSentimentCsv } from './fixtures';

const CLIENT = path.join(__dirname, '../../../src/trainer/client.js');

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return check();
}

// What a VS Code window reload does to the extension host: the parent of the trainer exits mid-run.
function startFromShortLivedParent(options: object, keepAlive: boolean, stderrFile: string): number {
  const script = `
    const { startTrainer } = require(${JSON.stringify(CLIENT)});
    const handle = startTrainer({ options: ${JSON.stringify(options)},
      ${keepAlive ? `keepAliveWithoutParent: { stderrFile: ${JSON.stringify(stderrFile)} },` : ''} });
    handle.events.on('event', (e) => { if (e.event === 'step') { console.log(handle.pid); process.exit(0); } });`;
  const parent = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(parent.status, 0, parent.stderr);
  return Number(parent.stdout.trim());
}

test('keepAliveWithoutParent: the trainer finishes the run after its parent exits, stderr goes to the log file', async () => {
  const dir = tempDir('keep-alive');
  const out = path.join(dir, 'run');
  const stderrFile = path.join(dir, 'trainer.log');
  const options = {
    data: writeSentimentCsv(dir),
    out,
    model: 'random:tiny',
    maxSteps: 30,
    batchSize: 4,
    maxLength: 32,
    evalSteps: 15,
    device: 'cpu',
    epochs: 50,
  };
  const pid = startFromShortLivedParent(options, true, stderrFile);
  assert.ok(pid > 0);
  const metrics = path.join(out, 'metrics.jsonl');
  const finished = await waitFor(() => readMetricsLog(metrics).some((e) => e.event === 'done'), 120_000);
  assert.ok(finished, 'the orphaned trainer did not reach done');
  const done = readMetricsLog(metrics).find((e) => e.event === 'done');
  assert.ok(done?.event === 'done' && !done.stopped && done.final_step === 30, JSON.stringify(done));
  assert.ok(fs.existsSync(path.join(out, 'best', 'model.onnx')));
  assert.ok(await waitFor(() => !isAlive(pid), 30_000), 'the trainer did not exit after done');
  assert.ok(fs.existsSync(stderrFile));
});

test('without keepAliveWithoutParent the trainer stops (checkpoint, done stopped:true) when its parent exits', async () => {
  const dir = tempDir('no-keep-alive');
  const out = path.join(dir, 'run');
  const options = {
    data: writeSentimentCsv(dir),
    out,
    model: 'random:tiny',
    maxSteps: 5000,
    batchSize: 4,
    maxLength: 32,
    evalSteps: 1000,
    device: 'cpu',
    epochs: 500,
  };
  const pid = startFromShortLivedParent(options, false, '');
  const metrics = path.join(out, 'metrics.jsonl');
  assert.ok(await waitFor(() => readMetricsLog(metrics).some((e) => e.event === 'done'), 120_000), 'no done event');
  const done = readMetricsLog(metrics).find((e) => e.event === 'done');
  assert.ok(done?.event === 'done' && done.stopped && done.final_step < 5000, JSON.stringify(done));
  assert.ok(await waitFor(() => !isAlive(pid), 30_000));
});

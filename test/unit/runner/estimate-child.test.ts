/**
 * The estimate request of the trainer child protocol (task 'estimate'), with the real child (src/trainer/main.ts):
 * one answer, then the child exits; bad input is an `error` answer; a `stop` ends it at its next warm-up step with
 * nothing left behind. And the parent side (estimateInChild): cancelling rejects at once and ends a child that does
 * not stop. The Fine-tune flow's confirmation text is checked on a real answer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EstimateCancelled } from '../../../src/core/train/estimate';
import { asLabel } from '../../../src/extension/display/text';
import { confirmationText } from '../../../src/extension/training/estimateText';
import { EstimateFailed, estimateInChild, TRAINER_ENTRY } from '../../../src/trainer/client';
import type { EstimateRequest, LogEvent } from '../../../src/trainer/protocol';
import { tempDir, writeSentimentCsv } from './fixtures';

/** A private temp folder for the child: the estimate's scratch checkpoint goes there and must be gone after. */
function privateTmp(dir: string): { tmp: string; env: NodeJS.ProcessEnv } {
  const tmp = path.join(dir, 'tmp');
  fs.mkdirSync(tmp);
  return { tmp, env: { ...process.env, TMPDIR: tmp, TMP: tmp, TEMP: tmp } };
}
const scratchLeft = (tmp: string): string[] => fs.readdirSync(tmp).filter((f) => f.startsWith('bertft-estimate-'));

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('estimateInChild: the real child answers with an estimate of the run, then exits; nothing is written', async () => {
  const dir = tempDir('estimate-child');
  const data = writeSentimentCsv(dir);
  const { tmp, env } = privateTmp(dir);
  const logs: LogEvent[] = [];
  const e = await estimateInChild({
    options: { data, model: 'random:tiny', batchSize: 4, maxLength: 32, epochs: 2, device: 'cpu', seed: 3 },
    env,
    onLog: (event) => logs.push(event),
  });
  assert.equal(e.event, 'estimate');
  assert.equal(e.device, 'cpu');
  assert.equal(e.model, 'random:tiny');
  assert.ok(e.total_seconds > 0 && e.train_seconds > 0, JSON.stringify(e));
  assert.ok(e.peak_rss_bytes > 20e6, `peak ${e.peak_rss_bytes}`);
  assert.equal(e.epochs, 2);
  assert.equal(e.steps, e.total_steps);
  // From scratch the run is a seed ensemble: its other two models are counted as whole runs.
  assert.ok(e.ensemble_seconds !== undefined && e.ensemble_seconds > 0, JSON.stringify(e));
  assert.ok(e.based_on.warmup_steps >= 1);
  assert.ok(logs.length >= 1 && logs.every((l) => l.event === 'log'), "the engine's device lines come as log events");
  assert.deepEqual(fs.readdirSync(dir).sort(), ['reviews.csv', 'tmp'], 'nothing written beside the data');
  assert.deepEqual(scratchLeft(tmp), [], 'the scratch checkpoint is removed');

  // What the Fine-tune flow's last step shows for it.
  const text = confirmationText({ estimate: e });
  assert.match(
    asLabel(text.placeHolder),
    /^About \d+ (s|min) on CPU, peak memory about \d+(\.\d)? (MB|GB) \(measured from \d+ warm-up steps\)$/,
  );
  assert.match(asLabel(text.startDescription!), /^about \d+ (s|min), \d+(\.\d)? (MB|GB) peak$/);
  assert.match(
    asLabel(text.startDetail),
    new RegExp(
      `^3 seeds' models, each ${e.steps} steps \\(2 epochs × ${e.steps_per_epoch}, batch 4, max length 32\\), \\d+ evaluations? of ${e.dataset.valid_rows} rows$`,
    ),
  );
});

test("estimateInChild: bad input is the child's error answer (exit 1), rejected as EstimateFailed naming the file", async () => {
  const dir = tempDir('estimate-child-bad');
  const missing = path.join(dir, 'nope.csv');
  await assert.rejects(estimateInChild({ options: { data: missing, model: 'random:tiny' } }), (error: unknown) => {
    assert.ok(error instanceof EstimateFailed, String(error));
    assert.match(error.message, /nope\.csv/);
    return true;
  });
  const text = confirmationText({ failed: 'D:\\data\\nope.csv was not found [x](command:evil) $(zap)' });
  assert.match(
    asLabel(text.placeHolder),
    /^No estimate: .*nope\.csv was not found \[x\] \(command:evil\) \\\$\(zap\)$/,
    'data stays inert',
  );
});

test('the real child: a stop message ends the estimate (exit 130, no answer) and its scratch folder is removed', async () => {
  const dir = tempDir('estimate-child-stop');
  const data = writeSentimentCsv(dir, 200);
  const { tmp, env } = privateTmp(dir);
  const request: EstimateRequest = {
    task: 'estimate',
    data,
    model: 'random:tiny',
    batchSize: 4,
    maxLength: 32,
    device: 'cpu',
  };
  const child = fork(TRAINER_ENTRY, ['--options', JSON.stringify(request)], {
    env,
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    serialization: 'json',
  });
  const messages: { event?: string }[] = [];
  child.on('message', (m: { event?: string }) => {
    // Asked once its engine is open (its device lines): it stops before its next warm-up step.
    if (messages.length === 0) child.send({ command: 'stop' });
    messages.push(m);
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  assert.equal(code, 130);
  assert.deepEqual(
    messages.filter((m) => m.event === 'estimate' || m.event === 'error'),
    [],
    'no answer',
  );
  assert.deepEqual(scratchLeft(tmp), []);
});

test('estimateInChild: cancelling rejects at once with EstimateCancelled; a child that ignores stop is killed', async () => {
  const dir = tempDir('estimate-child-cancel');
  const pidFile = path.join(dir, 'pid');
  const entry = path.join(dir, 'stubborn.js');
  // Never answers, ignores stop, keeps its IPC channel open.
  fs.writeFileSync(
    entry,
    `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid));
    process.on('message', () => {}); setInterval(() => {}, 1000);`,
  );
  const abort = new AbortController();
  const estimate = estimateInChild({ options: { data: 'd.csv' }, entry, signal: abort.signal, stopTimeoutMs: 300 });
  for (let i = 0; i < 200 && !fs.existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 50));
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  assert.ok(isAlive(pid));
  const t0 = Date.now();
  abort.abort();
  await assert.rejects(estimate, EstimateCancelled);
  assert.ok(Date.now() - t0 < 250, 'rejected before the kill timeout');
  for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(isAlive(pid), false, 'killed after stopTimeoutMs');

  const already = new AbortController();
  already.abort();
  await assert.rejects(
    estimateInChild({ options: { data: 'd.csv' }, entry, signal: already.signal }),
    EstimateCancelled,
  );
});

test('estimateInChild: a child that exits without an answer is a failure with its stderr as detail', async () => {
  const dir = tempDir('estimate-child-crash');
  const entry = path.join(dir, 'crash.js');
  fs.writeFileSync(entry, `process.stderr.write('native library missing\\n'); process.exit(3);`);
  await assert.rejects(estimateInChild({ options: { data: 'd.csv' }, entry }), (error: unknown) => {
    assert.ok(error instanceof EstimateFailed);
    assert.match(error.message, /exited \(code 3, signal null\) without an answer/);
    assert.equal(error.detail, 'native library missing');
    return true;
  });
});

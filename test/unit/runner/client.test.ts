import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startTrainer } from '../../../src/trainer/client';
import type { TrainerEvent } from '../../../src/trainer/protocol';
import { tempFolder } from '../../helpers/temp';

/** A stand-in child speaking the protocol: steps until told to stop; `stubborn` ignores stop requests. */
function fakeEntry(stubborn: boolean): string {
  const file = path.join(tempFolder('bertft-client-'), 'child.js');
  fs.writeFileSync(
    file,
    `
    const opts = JSON.parse(process.argv[process.argv.indexOf('--options') + 1]);
    let stop = false, step = 0;
    process.on('message', (m) => { if (m.command === 'stop' && !${stubborn}) stop = true; });
    process.send({ event: 'started', time: '', run_dir: opts.out, pid: process.pid, config: opts, device: 'cpu', device_notes: [],
      dataset: { train_rows: 1, valid_rows: 1, labels: ['a'], label_counts: {}, files: [] }, total_steps: 1000 });
    const timer = setInterval(() => {
      step++;
      process.send({ event: 'step', time: '', step, total_steps: 1000, epoch: 0, loss: 1 / step, lr: 0, grad_norm: 0, examples_per_s: 1, eta_s: 1 });
      if (stop) { clearInterval(timer); process.send({ event: 'done', time: '', stopped: true, best_step: 0, best_metric: 0, metric_name: 'loss',
        best_dir: '', run_dir: opts.out, final_step: step }, () => { process.exitCode = 130; process.disconnect(); }); }
    }, 5);`,
  );
  return file;
}

test('startTrainer: events arrive in order, stop() ends the child gracefully with done stopped:true', async () => {
  const handle = startTrainer({ options: { data: 'd.csv', out: 'run-x' }, entry: fakeEntry(false) });
  assert.ok(handle.pid > 0);
  const seen: TrainerEvent[] = [];
  for await (const e of handle.events) {
    seen.push(e);
    if (e.event === 'step' && e.step === 3) handle.stop();
  }
  const exit = await handle.exited;
  assert.equal(exit.code, 130);
  assert.equal(seen[0].event, 'started');
  assert.equal((seen[0] as unknown as { config: { out: string } }).config.out, 'run-x');
  const done = seen[seen.length - 1];
  assert.equal(done.event, 'done');
  assert.equal(done.event === 'done' && done.stopped, true);
  const steps = seen.filter((e) => e.event === 'step').map((e) => (e as { step: number }).step);
  assert.deepEqual(
    steps,
    steps.map((_, i) => i + 1),
  );
});

test('startTrainer: a child that ignores stop is killed after the timeout', async () => {
  const handle = startTrainer({ options: { data: 'd.csv', out: 'run-y' }, entry: fakeEntry(true), stopTimeoutMs: 200 });
  await new Promise<void>((resolve) => handle.events.once('event', () => resolve()));
  const t0 = Date.now();
  handle.stop();
  const exit = await handle.exited;
  assert.equal(exit.signal, 'SIGKILL');
  assert.ok(Date.now() - t0 >= 150);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { startTrainer, TRAINER_ENTRY } from '../../../src/trainer/client';
import { readMetricsLog } from '../../../src/core/train/run-dir';
import type { TrainerEvent } from '../../../src/trainer/protocol';
import { tempDir, writeSentimentCsv } from './fixtures';

test('the real trainer child: events over IPC, stop() → checkpoint + done stopped:true + exit 130, metrics.jsonl has every event but log', async () => {
  assert.match(TRAINER_ENTRY, /main\.js$/);
  const dir = tempDir('child');
  const out = path.join(dir, 'run');
  const handle = startTrainer({ options: { data: writeSentimentCsv(dir), out, model: 'random:tiny', maxSteps: 200, batchSize: 4, maxLength: 32,
    evalSteps: 50, device: 'cpu', epochs: 50 } });
  const events: TrainerEvent[] = [];
  for await (const e of handle.events) {
    events.push(e);
    if (e.event === 'step' && e.step === 2) handle.stop();
  }
  const exit = await handle.exited;
  assert.equal(exit.code, 130);
  const done = events[events.length - 1];
  assert.ok(done.event === 'done' && done.stopped && done.final_step >= 2 && done.final_step < 200);
  const checkpoint = events.find((e) => e.event === 'checkpoint');
  assert.ok(checkpoint?.event === 'checkpoint' && done.event === 'done' && checkpoint.step === done.final_step);
  const started = events.find((e) => e.event === 'started');
  assert.ok(started?.event === 'started' && started.pid === handle.pid);
  const stored = readMetricsLog(path.join(out, 'metrics.jsonl'));
  assert.deepEqual(stored, events.filter((e) => e.event !== 'log'));
});

test('the real trainer child reports bad input as an error event and exit code 1', async () => {
  const dir = tempDir('child-bad');
  const handle = startTrainer({ options: { data: path.join(dir, 'nope.csv'), out: path.join(dir, 'run') } });
  const events: TrainerEvent[] = [];
  for await (const e of handle.events) events.push(e);
  assert.equal((await handle.exited).code, 1);
  const last = events[events.length - 1];
  assert.ok(last.event === 'error' && /nope\.csv/.test(last.message), JSON.stringify(last));
});

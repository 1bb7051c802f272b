import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startTrainer, TRAINER_ENTRY } from '../../../src/trainer/client';
import { readMetricsLog } from '../../../src/core/run/metrics-log';
import type { TrainerEvent, TrainerRequest } from '../../../src/trainer/protocol';
import { tempDir, writeSentimentCsv } from './fixtures';

test('the real trainer child: events over IPC, stop() → checkpoint + done stopped:true + exit 130, metrics.jsonl has every event but log', async () => {
  assert.match(TRAINER_ENTRY, /main\.js$/);
  const dir = tempDir('child');
  const out = path.join(dir, 'run');
  const handle = startTrainer({
    options: {
      data: writeSentimentCsv(dir),
      out,
      model: 'random:tiny',
      maxSteps: 200,
      batchSize: 4,
      maxLength: 32,
      evalSteps: 50,
      device: 'cpu',
      epochs: 50,
    },
  });
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
  assert.deepEqual(
    stored,
    events.filter((e) => e.event !== 'log'),
  );
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

test('the real trainer child pre-trains with task "mlm": the same events and run folder; stop, then resume to the end', async () => {
  const dir = tempDir('child-mlm');
  const out = path.join(dir, 'run');
  const text = path.join(dir, 'notes.txt');
  fs.writeFileSync(
    text,
    Array.from(
      { length: 30 },
      (_, i) => `note ${i}: the meeting about the quarterly budget moved to room ${i % 7}`,
    ).join('\n\n'),
  );
  const run = async (request: TrainerRequest, stopAtStep?: number) => {
    const handle = startTrainer({ options: request });
    const events: TrainerEvent[] = [];
    for await (const e of handle.events) {
      events.push(e);
      if (e.event === 'step' && e.step === stopAtStep) handle.stop();
    }
    return { events, exit: await handle.exited };
  };
  const first = await run(
    {
      task: 'mlm',
      data: text,
      out,
      model: 'random:tiny',
      maxSteps: 6,
      batchSize: 2,
      maxLength: 16,
      evalSteps: 3,
      seed: 1,
    },
    2,
  );
  assert.equal(first.exit.code, 130);
  const started = first.events.find((e) => e.event === 'started');
  assert.ok(started?.event === 'started' && started.task === 'mlm' && started.dataset.labels.length === 0);
  const stopped = first.events[first.events.length - 1];
  assert.ok(stopped.event === 'done' && stopped.stopped && stopped.metric_name === 'mlm_loss');
  assert.equal((JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')) as { kind: string }).kind, 'pretrain');

  const rest = await run({ task: 'mlm', data: '', out, resume: true });
  assert.equal(rest.exit.code, 0);
  const done = rest.events[rest.events.length - 1];
  assert.ok(
    done.event === 'done' &&
      !done.stopped &&
      done.final_step === 6 &&
      fs.existsSync(path.join(done.best_dir, 'config.json')),
  );
  const evals = readMetricsLog(path.join(out, 'metrics.jsonl')).filter((e) => e.event === 'eval');
  assert.ok(evals.length >= 2 && evals.every((e) => e.event === 'eval' && e.task === 'mlm' && e.perplexity > 1));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MetricsFollower, MetricsLineReader, parseMetricsLines } from '../../../src/core/run/metrics-log';
import type { TrainerEvent } from '../../../src/trainer/protocol';
import { finishedRun, started, step, toJsonl } from './sampleRun';
import { tempFolder } from '../../helpers/temp';

function tempDir(): string {
  return tempFolder('bert-ui-');
}

test('parseMetricsLines keeps events and counts torn or foreign lines', () => {
  const text = toJsonl([started(), step(1)]) + '{"event":"step","ste\n' + '{"hello":1}\n\n' + toJsonl([step(2)]);
  const parsed = parseMetricsLines(text);
  assert.deepEqual(
    parsed.events.map((e) => e.event),
    ['started', 'step', 'step'],
  );
  assert.equal(parsed.badLines, 2);
});

test('the line reader waits for the newline and never splits a multi-byte character', () => {
  const reader = new MetricsLineReader();
  const line = Buffer.from(JSON.stringify({ event: 'log', time: 't', level: 'info', message: 'héllo 日本' }) + '\n');
  const cut = line.indexOf(Buffer.from('日')) + 1; // inside the 3-byte character
  assert.deepEqual(reader.push(line.subarray(0, cut)).events, []);
  const events = reader.push(line.subarray(cut)).events;
  assert.equal(events.length, 1);
  assert.equal((events[0] as { message: string }).message, 'héllo 日本');
});

test('the follower reads a finished run, then only what is appended', () => {
  const dir = tempDir();
  const file = path.join(dir, 'metrics.jsonl');
  fs.writeFileSync(file, toJsonl([started(), step(1)]));
  const seen: TrainerEvent[][] = [];
  const follower = new MetricsFollower(
    file,
    (events) => seen.push(events),
    () => assert.fail('no reset expected'),
  );
  assert.equal(follower.readAll().length, 2);
  follower.check();
  assert.equal(seen.length, 0, 'nothing new yet');
  fs.appendFileSync(file, toJsonl([step(2)]) + '{"event":"st');
  follower.check();
  assert.deepEqual(
    seen.map((b) => b.map((e) => e.event)),
    [['step']],
  );
  fs.appendFileSync(
    file,
    'ep","time":"t","step":3,"total_steps":100,"epoch":0,"loss":1,"lr":1,"grad_norm":1,"examples_per_s":1,"eta_s":1}\n',
  );
  follower.check();
  assert.equal(seen.length, 2);
  assert.equal((seen[1][0] as { step: number }).step, 3);
  follower.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the follower picks up a file that appears later, and starts over when it shrinks', () => {
  const dir = tempDir();
  const file = path.join(dir, 'metrics.jsonl');
  const seen: TrainerEvent[] = [];
  let resets: TrainerEvent[] | undefined;
  const follower = new MetricsFollower(
    file,
    (events) => seen.push(...events),
    (all) => {
      resets = all;
    },
  );
  assert.deepEqual(follower.readAll(), []);
  fs.writeFileSync(file, toJsonl(finishedRun()));
  follower.check();
  assert.equal(seen.length, finishedRun().length);
  fs.writeFileSync(file, toJsonl([started()]));
  follower.check();
  assert.deepEqual(
    resets?.map((e) => e.event),
    ['started'],
  );
  follower.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('started, the follower delivers appends on its own (watch or poll)', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'metrics.jsonl');
  fs.writeFileSync(file, toJsonl([started()]));
  const follower = new MetricsFollower(
    file,
    (events) => arrived.push(...events),
    () => undefined,
    { pollMs: 50 },
  );
  const arrived: TrainerEvent[] = [];
  follower.readAll();
  follower.start();
  fs.appendFileSync(file, toJsonl([step(1), step(2)]));
  const deadline = Date.now() + 5000;
  while (arrived.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  follower.dispose();
  assert.deepEqual(
    arrived.map((e) => (e as { step: number }).step),
    [1, 2],
  );
  fs.rmSync(dir, { recursive: true, force: true });
});

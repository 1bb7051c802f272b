import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Batcher } from '../../../src/extension/dashboard/batcher';

test('delivers at most once per interval, batching what arrives in between', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 10_000 });
  const batches: number[][] = [];
  const batcher = new Batcher<number>((items) => batches.push(items), 250);
  batcher.push(1);
  t.mock.timers.tick(0);
  assert.deepEqual(batches, [[1]], 'the first item after a quiet period goes out at once');
  for (let i = 2; i <= 100; i++) batcher.push(i);
  t.mock.timers.tick(100);
  assert.equal(batches.length, 1, 'nothing more before the interval has passed');
  t.mock.timers.tick(150);
  assert.equal(batches.length, 2);
  assert.equal(batches[1].length, 99);
  // 1 second of one item every 10 ms: at most 4 deliveries.
  const before = batches.length;
  for (let ms = 0; ms < 1000; ms += 10) {
    batcher.push(ms);
    t.mock.timers.tick(10);
  }
  assert.ok(batches.length - before <= 4, `delivered ${batches.length - before} times in one second`);
  batcher.dispose();
});

test('flush delivers now, clear drops, dispose stops everything', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const batches: string[][] = [];
  const batcher = new Batcher<string>((items) => batches.push(items), 250);
  batcher.push('a');
  batcher.flush();
  assert.deepEqual(batches, [['a']]);
  batcher.push('b');
  batcher.clear();
  t.mock.timers.tick(1000);
  assert.deepEqual(batches, [['a']]);
  batcher.dispose();
  batcher.push('c');
  t.mock.timers.tick(1000);
  assert.deepEqual(batches, [['a']]);
});

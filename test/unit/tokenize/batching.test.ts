import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collate, makeBatches, planBatches } from '../../../src/core/tokenize/batching';
import type { EncodedRow } from '../../../src/core/tokenize/truncation';
import { createRng } from '../../../src/core/util/random';

function rowsOfLengths(lengths: number[]): EncodedRow[] {
  return lengths.map((n, i) => ({
    ids: Int32Array.from({ length: n }, (_, k) => (k === 0 ? 101 : k === n - 1 ? 102 : 1000 + k)),
    docIndex: i,
    label: i % 3,
  }));
}

const rng = createRng(99);
const lengths = Array.from({ length: 1000 }, () => 3 + Math.floor(rng() ** 3 * 500));
const rows = rowsOfLengths(lengths);

test('collate: dynamic padding to the longest row, masks, labels, docIndex, multiple of 8', () => {
  const small = rowsOfLengths([3, 5, 4]);
  const b = collate(small, [0, 1, 2], { padId: 0 });
  assert.deepEqual([b.batchSize, b.seqLen], [3, 5]);
  assert.deepEqual(
    [...b.inputIds],
    [101n, 1001n, 102n, 0n, 0n, 101n, 1001n, 1002n, 1003n, 102n, 101n, 1001n, 1002n, 102n, 0n],
  );
  assert.deepEqual([...b.attentionMask], [1n, 1n, 1n, 0n, 0n, 1n, 1n, 1n, 1n, 1n, 1n, 1n, 1n, 1n, 0n]);
  assert.ok(b.tokenTypeIds.every((x) => x === 0n));
  assert.deepEqual([...(b.labels ?? [])], [0n, 1n, 2n]);
  assert.deepEqual([...b.docIndex], [0, 1, 2]);
  const padded = collate(small, [2, 0], { padId: 7, padToMultipleOf: 8 });
  assert.equal(padded.seqLen, 8);
  assert.equal(padded.inputIds[4], 7n);
  // Rounding up stops at the model's max length (position ids beyond it do not exist), never below the longest row.
  assert.equal(collate(small, [2, 0], { padId: 7, padToMultipleOf: 8, maxPaddedLength: 6 }).seqLen, 6);
  assert.equal(collate(small, [1], { padId: 7, padToMultipleOf: 8, maxPaddedLength: 5 }).seqLen, 5);
  const unlabelled = collate([{ ids: Int32Array.of(101, 102), docIndex: 0, label: -1 }], [0], { padId: 0 });
  assert.equal(unlabelled.labels, undefined);
});

test('eval batches keep row order', () => {
  const plan = planBatches(lengths, { batchSize: 32, mode: 'eval' });
  assert.deepEqual(
    plan.flat(),
    lengths.map((_, i) => i),
  );
  assert.equal(plan.length, Math.ceil(1000 / 32));
});

test('train batches: every row once per epoch, same (seed, epoch) same order, epochs differ', () => {
  const plan = (seed: number, epoch: number) => planBatches(lengths, { batchSize: 16, mode: 'train', seed, epoch });
  const a = plan(1, 0);
  assert.deepEqual(
    [...a.flat()].sort((x, y) => x - y),
    lengths.map((_, i) => i),
  );
  assert.ok(a.every((b) => b.length <= 16));
  assert.deepEqual(plan(1, 0), a);
  assert.notDeepEqual(plan(1, 1), a);
  assert.notDeepEqual(plan(2, 0), a);
});

test('length grouping cuts padding versus a plain shuffle, and puts the longest batch first', () => {
  const padding = (plan: number[][]) =>
    plan.reduce(
      (sum, b) => sum + b.length * Math.max(...b.map((i) => lengths[i])) - b.reduce((s, i) => s + lengths[i], 0),
      0,
    );
  const grouped = planBatches(lengths, { batchSize: 16, mode: 'train', seed: 3 });
  const plain = planBatches(lengths, { batchSize: 16, mode: 'train', seed: 3, lengthGrouped: false });
  assert.ok(padding(grouped) < padding(plain) / 3, `${padding(grouped)} vs ${padding(plain)}`);
  assert.equal(Math.max(...grouped[0].map((i) => lengths[i])), Math.max(...lengths));
  assert.throws(() => planBatches(lengths, { batchSize: 0, mode: 'eval' }), RangeError);
});

test('makeBatches yields collated batches following the plan', () => {
  const options = { batchSize: 64, mode: 'train' as const, seed: 5, epoch: 2, padId: 0, padToMultipleOf: 8 };
  const plan = planBatches(lengths, options);
  const batches = [...makeBatches(rows, options)];
  assert.equal(batches.length, plan.length);
  batches.forEach((b, i) => {
    assert.deepEqual([...b.docIndex], plan[i]);
    assert.equal(b.seqLen % 8, 0);
    assert.ok(b.seqLen - Math.max(...plan[i].map((r) => lengths[r])) < 8);
  });
});

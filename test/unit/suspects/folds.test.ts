import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stratifiedFolds } from '../../../src/core/data/folds';
import { DataError } from '../../../src/core/errors';

const rows = (counts: Record<string, number>) =>
  Object.entries(counts).flatMap(([label, n]) => Array.from({ length: n }, () => ({ label })));

function countsByFold(examples: { label: string }[], fold: Int32Array, k: number): Map<string, number[]> {
  const counts = new Map<string, number[]>();
  examples.forEach((e, i) => {
    const c = counts.get(e.label) ?? new Array<number>(k).fill(0);
    c[fold[i]]++;
    counts.set(e.label, c);
  });
  return counts;
}

test('stratified folds: every class spread evenly (⌊n/k⌋ or ⌈n/k⌉ a fold), folds within one row of each other', () => {
  const examples = rows({ ham: 287, spam: 113, other: 7, rare: 3 });
  for (const k of [2, 3, 5, 10]) {
    const fold = stratifiedFolds(examples, k, 42);
    assert.ok(fold.every((f) => f >= 0 && f < k));
    for (const [label, counts] of countsByFold(examples, fold, k)) {
      const n = counts.reduce((a, b) => a + b, 0);
      assert.ok(
        counts.every((c) => c === Math.floor(n / k) || c === Math.ceil(n / k)),
        `${label} k=${k}: ${counts.join(' ')}`,
      );
    }
    const sizes = new Array<number>(k).fill(0);
    fold.forEach((f) => sizes[f]++);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `k=${k}: ${sizes.join(' ')}`);
  }
});

test('stratified folds are seeded: the same seed gives the same folds, another seed others; file order does not matter', () => {
  const examples = rows({ a: 50, b: 30 });
  assert.deepEqual(stratifiedFolds(examples, 5, 1), stratifiedFolds(examples, 5, 1));
  assert.notDeepEqual(stratifiedFolds(examples, 5, 1), stratifiedFolds(examples, 5, 2));
  // The same rows with the classes in the other order: each row keeps its fold (classes are dealt in label order).
  const reversed = [...examples.slice(50), ...examples.slice(0, 50)];
  const fold = stratifiedFolds(examples, 5, 1);
  const foldReversed = stratifiedFolds(reversed, 5, 1);
  assert.deepEqual([...foldReversed.slice(30), ...foldReversed.slice(0, 30)], [...fold]);
});

test('fewer than two folds, or fewer rows than folds, is a DataError', () => {
  assert.throws(() => stratifiedFolds(rows({ a: 5, b: 5 }), 1, 0), DataError);
  assert.throws(() => stratifiedFolds(rows({ a: 2, b: 1 }), 5, 0), DataError);
});

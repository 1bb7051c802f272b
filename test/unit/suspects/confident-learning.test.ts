import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  confidentJoint,
  findLabelIssues,
  perClassThresholds,
  type ProbabilityTable,
} from '../../../src/core/finetune/confident-learning';

/** Rows of [given, p0, p1, p2] → a table. */
function table(rows: number[][]): ProbabilityTable {
  return {
    given: rows.map((r) => r[0]),
    probabilities: rows.flatMap((r) => r.slice(1)),
    numClasses: rows[0].length - 1,
  };
}

const close = (actual: ArrayLike<number>, expected: number[]) =>
  expected.forEach((e, i) => assert.ok(Math.abs(actual[i] - e) < 1e-9, `[${i}] ${actual[i]} vs ${e}`));

// Worked by hand: t0 = (0.9 + 0.7 + 0.1) / 3, t1 = (0.8 + 0.7 + 0.3) / 3, t2 = (0.8 + 0.8 + 0.4 + 0.01) / 4.
const A = table([
  [0, 0.9, 0.05, 0.05], // 0: confident of 0
  [0, 0.7, 0.2, 0.1], // 0
  [0, 0.1, 0.8, 0.1], // 1 ≠ 0: suspect, self-confidence 0.1, margin −0.7
  [1, 0.1, 0.8, 0.1], // 1
  [1, 0.2, 0.7, 0.1], // 1
  [1, 0.6, 0.3, 0.1], // 0 ≠ 1: suspect, 0.3, −0.3
  [2, 0.1, 0.1, 0.8], // 2
  [2, 0.05, 0.15, 0.8], // 2
  [2, 0.3, 0.3, 0.4], // no class reaches its threshold: not a suspect although unsure
  [2, 0.6, 0.39, 0.01], // 0 ≠ 2: suspect, 0.01, −0.59
]);

test('per-class thresholds are the mean probability of each class over the rows given it', () => {
  close(perClassThresholds(A), [1.7 / 3, 1.8 / 3, 2.01 / 4]);
});

test('the confident joint counts each row under (given, confident class); rows confident of none are left out', () => {
  assert.deepEqual(confidentJoint(A), [
    [2, 1, 0],
    [1, 2, 0],
    [1, 0, 2],
  ]);
});

test('suspects: confident of another class; ranked by self-confidence or by margin', () => {
  const bySelf = findLabelIssues(A);
  assert.deepEqual(
    bySelf.map((i) => [i.row, i.given, i.suggested]),
    [
      [9, 2, 0],
      [2, 0, 1],
      [5, 1, 0],
    ],
  );
  close(
    bySelf.map((i) => i.selfConfidence),
    [0.01, 0.1, 0.3],
  );
  close(
    bySelf.map((i) => i.margin),
    [-0.59, -0.7, -0.3],
  );
  // The margin puts row 2 (0.1 against 0.8) before row 9 (0.01 against 0.6).
  assert.deepEqual(
    findLabelIssues(A, 'margin').map((i) => i.row),
    [2, 9, 5],
  );
});

test('an argmax other than the label is not enough: the other class must reach its threshold', () => {
  // t0 = (0.6 + 0.8 + 0.3) / 3 ≈ 0.567, t1 = (0.5 + 0.8 + 0.9) / 3 ≈ 0.733.
  const B = table([
    [0, 0.6, 0.4],
    [0, 0.8, 0.2],
    [0, 0.3, 0.7], // argmax 1, but 0.7 < t1
    [1, 0.5, 0.5],
    [1, 0.2, 0.8],
    [1, 0.1, 0.9],
  ]);
  assert.deepEqual(findLabelIssues(B), []);
});

test('when several classes pass, the one with the highest probability is the suggestion; the given label can win', () => {
  // t0 = 0.3, t1 = 0.35, t2 = 0.4 (each class's two rows).
  const C = table([
    [0, 0.3, 0.3, 0.4], // all three pass: 2 has the highest p → suspect, suggested 2
    [0, 0.3, 0.35, 0.35], // 0 and 1 pass (2 is below 0.4): 1 is higher → suspect, suggested 1
    [1, 0.3, 0.35, 0.35], // 0 and 1 pass: the given 1 is higher → not a suspect
    [1, 0.2, 0.35, 0.45], // 1 and 2 pass: 2 higher → suspect
    [2, 0.5, 0.1, 0.4], // 0 and 2 pass: 0 higher → suspect
    [2, 0.2, 0.4, 0.4], // 1 and 2 pass and tie: the first, 1, wins (as numpy's argmax) → suspect
  ]);
  close(perClassThresholds(C), [0.3, 0.35, 0.4]);
  assert.deepEqual(
    findLabelIssues(C).map((i) => [i.row, i.suggested]),
    [
      [0, 2],
      [1, 1],
      [3, 2],
      [4, 0],
      [5, 1],
    ],
  );
});

test('a probability at its threshold passes despite float rounding (cleanlab’s 1e-6 tolerance)', () => {
  // t1 = (0.1 + 0.2) / 2 is 0.15000000000000002 in floating point; the 0.15 of row 0 still reaches it.
  const D = table([
    [0, 0.85, 0.15],
    [0, 0.99, 0.01],
    [0, 0.99, 0.01],
    [1, 0.9, 0.1], // 0.9 < t0 ≈ 0.943 and 0.1 < t1: confident of neither
    [1, 0.8, 0.2],
  ]);
  const t = perClassThresholds(D);
  assert.ok(t[1] > 0.15);
  // Row 0: p0 0.85 < t0, p1 0.15 reaches t1 → confident of 1: a suspect.
  assert.deepEqual(
    findLabelIssues(D).map((i) => [i.row, i.suggested]),
    [[0, 1]],
  );
});

test('a table whose sizes disagree, or a given class out of range, is a programming error', () => {
  assert.throws(() => findLabelIssues({ probabilities: [0.5, 0.5, 1], given: [0, 1], numClasses: 2 }), RangeError);
  assert.throws(() => findLabelIssues({ probabilities: [0.5, 0.5], given: [2], numClasses: 2 }), RangeError);
});

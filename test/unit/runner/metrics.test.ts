import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  argmaxRows,
  averageRanks,
  classificationReport,
  meanCrossEntropy,
  pearson,
  regressionReport,
  softmaxRows,
  spearman,
} from '../../../src/core/util/metrics';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} != ${b}`);

test('classificationReport: accuracy, confusion and macro-F1 with a class never predicted (hand-computed)', () => {
  // truth a a b b c c, predicted a b b b a a: class c is never predicted.
  const r = classificationReport([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 0, 0], ['a', 'b', 'c']);
  assert.deepEqual(r.confusion, [
    [1, 1, 0],
    [0, 2, 0],
    [2, 0, 0],
  ]);
  close(r.accuracy, 0.5);
  close(r.per_class.a.precision, 1 / 3);
  close(r.per_class.a.recall, 1 / 2);
  close(r.per_class.a.f1, 0.4);
  close(r.per_class.b.precision, 2 / 3);
  close(r.per_class.b.recall, 1);
  close(r.per_class.b.f1, 0.8);
  assert.deepEqual(r.per_class.c, { precision: 0, recall: 0, f1: 0, support: 2 });
  close(r.macro_f1, (0.4 + 0.8 + 0) / 3);
  assert.equal(r.per_class.a.support, 2);
});

test('classificationReport: a label absent from the truth has support 0 and recall 0', () => {
  const r = classificationReport([0, 0, 0], [0, 1, 0], ['x', 'y']);
  assert.deepEqual(r.confusion, [
    [2, 1],
    [0, 0],
  ]);
  assert.equal(r.per_class.y.support, 0);
  assert.equal(r.per_class.y.precision, 0);
  close(r.per_class.x.f1, (2 * 1 * (2 / 3)) / (1 + 2 / 3));
  close(r.accuracy, 2 / 3);
});

test('classificationReport rejects mismatched lengths and out-of-range ids', () => {
  assert.throws(() => classificationReport([0], [0, 1], ['a', 'b']), /1 true labels but 2 predictions/);
  assert.throws(() => classificationReport([0], [2], ['a', 'b']), /out of range/);
});

test('softmaxRows, argmaxRows and meanCrossEntropy match hand-computed values', () => {
  const logits = [0, Math.log(3), 2, 2];
  const p = softmaxRows(logits, 2);
  close(p[0], 0.25, 1e-6);
  close(p[1], 0.75, 1e-6);
  close(p[2], 0.5, 1e-6);
  assert.deepEqual([...argmaxRows(logits, 2)], [1, 0]);
  // row 0 target 1: -ln 0.75; row 1 target 0: ln 2
  close(meanCrossEntropy(logits, [1, 0], 2), (-Math.log(0.75) + Math.log(2)) / 2, 1e-9);
  // weighted: (1·(-ln .75) + 3·ln 2) / 4 with weights [3, 1]
  close(meanCrossEntropy(logits, [1, 0], 2, [3, 1]), (-Math.log(0.75) + 3 * Math.log(2)) / 4, 1e-9);
});

test('regression report: MSE, MAE, Pearson and Spearman against hand-computed values', () => {
  // diffs 0, -1, 1, -1; Pearson 5.5 / sqrt(5 · 8.75); Spearman 1 - 6·2 / (4·15)
  const r = regressionReport([1, 2, 3, 4], [1, 3, 2, 5]);
  assert.equal(r.mse, 0.75);
  assert.equal(r.mae, 0.75);
  assert.ok(Math.abs(r.pearson - 5.5 / Math.sqrt(43.75)) < 1e-12, String(r.pearson));
  assert.ok(Math.abs(r.spearman - 0.8) < 1e-12, String(r.spearman));
});

test('Spearman with ties uses average ranks (scipy rankdata "average")', () => {
  assert.deepEqual([...averageRanks([3, 1, 3, 3, 2])], [4, 1, 4, 4, 2]);
  // ranks [1, 2.5, 2.5, 4] vs [1, 2, 3, 4]: 4.5 / sqrt(4.5 · 5) = 3 / sqrt(10) (scipy.stats.spearmanr: 0.9486832980505138)
  assert.ok(Math.abs(spearman([1, 2, 2, 3], [1, 2, 3, 4]) - 3 / Math.sqrt(10)) < 1e-12);
  assert.ok(Math.abs(pearson([2, 4, 6], [1, 2, 3]) - 1) < 1e-12);
  assert.ok(Number.isNaN(pearson([1, 1, 1], [1, 2, 3])), 'a constant side has no correlation');
});

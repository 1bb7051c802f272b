import { test } from 'node:test';
import assert from 'node:assert/strict';
import { meanSd, sdRatioInterval } from '../../../bench/stats';
import { createRng } from '../../../src/core/util/random';

/** Standard normal draws (Box–Muller) from a seeded generator. */
function normals(n: number, seed: number): number[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng()));
}

test('the sd ratio of a sample and its half-scaled, shifted copy is 0.5 in every paired resampling', () => {
  const b = normals(10, 1);
  const a = b.map((x) => 0.5 * x + 3);
  const { ratio, low, high } = sdRatioInterval(a, b);
  assert.ok(Math.abs(ratio - 0.5) < 1e-12, String(ratio));
  assert.ok(Math.abs(low - 0.5) < 1e-9 && Math.abs(high - 0.5) < 1e-9, `${low} ${high}`);
});

test('the sd ratio interval brackets the ratio and separates a quarter spread from an equal one', () => {
  const b = normals(30, 2);
  const a = normals(30, 3).map((x) => 0.25 * x);
  const quarter = sdRatioInterval(a, b);
  assert.equal(quarter.ratio, meanSd(a).sd / meanSd(b).sd);
  assert.ok(quarter.low < quarter.ratio && quarter.ratio < quarter.high, JSON.stringify(quarter));
  assert.ok(quarter.low > 0.1 && quarter.high < 0.5, JSON.stringify(quarter));
  const equal = sdRatioInterval(normals(30, 4), b);
  assert.ok(equal.low < 1 && equal.high > 1, JSON.stringify(equal));
});

test('the sd ratio needs two paired samples of at least two', () => {
  assert.throws(() => sdRatioInterval([1, 2, 3], [1, 2]), /paired/);
  assert.throws(() => sdRatioInterval([1], [1]), /paired/);
});

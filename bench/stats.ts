/** The statistics the accuracy benchmarks report: mean ± sd over seeds and paired differences with a 95% interval. */
import { createRng, randomInt } from '../src/core/util/random';

/** Two-sided 95% Student t quantiles by degrees of freedom. */
const T95: Record<number, number> = {
  1: 12.71,
  2: 4.303,
  3: 3.182,
  4: 2.776,
  5: 2.571,
  6: 2.447,
  7: 2.365,
  8: 2.306,
  9: 2.262,
  10: 2.228,
  11: 2.201,
  12: 2.179,
  13: 2.16,
  14: 2.145,
  15: 2.131,
  16: 2.12,
  17: 2.11,
  18: 2.101,
  19: 2.093,
  20: 2.086,
  24: 2.064,
  29: 2.045,
};

/** The quantile for `df` degrees of freedom: the table's entry at or below it (conservative), an approximation from 30. */
function t95(df: number): number {
  const known = Object.keys(T95)
    .map(Number)
    .filter((k) => k <= df);
  return df >= 30 ? 1.96 + 2.4 / df : T95[Math.max(...known)];
}

/** Mean and sample standard deviation (0 for a single value). */
export function meanSd(xs: number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, sd };
}

/** Mean paired difference a − b, its sd and its 95% Student t confidence interval. */
export function pairedInterval(
  a: number[],
  b: number[],
): { mean: number; sd: number; low: number; high: number; halfWidth: number } {
  const { mean, sd } = meanSd(a.map((x, i) => x - b[i]));
  const halfWidth = a.length > 1 ? (t95(a.length - 1) * sd) / Math.sqrt(a.length) : Infinity;
  return { mean, sd, low: mean - halfWidth, high: mean + halfWidth, halfWidth };
}

/**
 * The ratio of two sample standard deviations over paired draws, sd(a) ÷ sd(b), with its 95% percentile bootstrap
 * interval: `draws` resamplings of the pairs (a[i], b[i]) with replacement, from a seeded generator. Pairs stay
 * together, so what a and b share (the seed's draw of batches) is kept in every resampling.
 */
export function sdRatioInterval(a: number[], b: number[], draws = 20000): { ratio: number; low: number; high: number } {
  if (a.length !== b.length || a.length < 2) throw new Error('sdRatioInterval needs two paired samples of 2 or more');
  const rng = createRng(20261208);
  const ratios = new Float64Array(draws);
  const pickA = new Array<number>(a.length);
  const pickB = new Array<number>(a.length);
  for (let d = 0; d < draws; d++) {
    for (let i = 0; i < a.length; i++) {
      const j = randomInt(rng, a.length);
      pickA[i] = a[j];
      pickB[i] = b[j];
    }
    ratios[d] = meanSd(pickA).sd / meanSd(pickB).sd; // Infinity (or NaN when both are 0) sorts as a high ratio.
  }
  const sorted = Array.from(ratios, (r) => (Number.isNaN(r) ? Infinity : r)).sort((x, y) => x - y);
  return {
    ratio: meanSd(a).sd / meanSd(b).sd,
    low: sorted[Math.floor(0.025 * draws)],
    high: sorted[Math.ceil(0.975 * draws) - 1],
  };
}

/** The statistics the accuracy benchmarks report: mean ± sd over seeds and paired differences with a 95% interval. */

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

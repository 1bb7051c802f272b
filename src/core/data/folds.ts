/**
 * k-fold assignment for out-of-fold predictions: stratified by label, seeded, reproducible. Each class's rows are
 * shuffled and dealt round-robin, so every fold holds ⌊n/k⌋ or ⌈n/k⌉ rows of a class of n rows.
 */
import { DataError } from '../errors';
import { createRng, RNG_STREAM, shuffleInPlace } from '../util/random';
import type { Example } from './types';

export const DEFAULT_FOLDS = 5;

/**
 * The fold (0..k-1) of each example, in example order. Where a class is dealt from is rotated by the running total of
 * earlier classes, so that small classes do not all start in fold 0 and the folds' sizes differ by at most one.
 */
export function stratifiedFolds(examples: readonly Pick<Example, 'label'>[], k: number, seed: number): Int32Array {
  if (!Number.isInteger(k) || k < 2) {
    throw new DataError(`The number of folds must be a whole number of at least 2, got ${k}.`, {
      code: 'DATA_BAD_FOLDS',
      fix: 'Use e.g. --folds 5.',
    });
  }
  if (examples.length < k) {
    throw new DataError(`${examples.length} rows cannot be split into ${k} folds.`, {
      code: 'DATA_TOO_FEW_ROWS',
      fix: 'Add rows, or use fewer folds.',
    });
  }
  const byLabel = new Map<string, number[]>();
  examples.forEach((e, i) => {
    const rows = byLabel.get(e.label);
    if (rows) rows.push(i);
    else byLabel.set(e.label, [i]);
  });
  // Labels in sorted order, so that the assignment does not depend on which label happens to come first in the file.
  const labels = [...byLabel.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const rng = createRng(seed, RNG_STREAM.folds);
  const fold = new Int32Array(examples.length);
  let dealt = 0;
  for (const label of labels) {
    const rows = shuffleInPlace(byLabel.get(label) as number[], rng);
    rows.forEach((row, i) => (fold[row] = (dealt + i) % k));
    dealt += rows.length;
  }
  return fold;
}

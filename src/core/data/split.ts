/**
 * Train / validation split: stratified by label, seeded, reproducible — or an explicit validation file whose labels
 * must all occur in training. Both halves keep file order; shuffling for training happens in batching.
 */
import { DataError } from '../errors';
import { buildLabelMap, type LabelMap } from './labels';
import { createRng, RNG_STREAM, shuffleInPlace } from '../util/random';
import type { Example } from './types';

export const DEFAULT_VALIDATION_RATIO = 0.1;
export const DEFAULT_SEED = 42;

export interface SplitOptions {
  /** Share of each class that goes to validation, in (0, 1). Ignored when `validation` is given. */
  validationRatio?: number;
  seed?: number;
  /** Examples of an explicit validation file. */
  validation?: Example[];
}

export interface Split {
  train: Example[];
  validation: Example[];
  /** Built from the training labels, sorted (integers numerically). */
  labelMap: LabelMap;
}

function firstOf(examples: Example[], label: string): Example {
  return examples.find((e) => e.label === label) as Example;
}

function requireTwoClasses(train: Example[], labelMap: LabelMap): void {
  if (labelMap.labels.length < 2) {
    const file = train[0]?.file ?? '';
    throw new DataError(`Only one class was found ("${labelMap.labels[0] ?? ''}"); a classifier needs at least two.`, {
      file,
      code: 'DATA_ONE_CLASS',
      fix: 'Add examples of the other class(es), or check that the right column was used as the label.',
    });
  }
}

export function splitDataset(examples: Example[], options: SplitOptions = {}): Split {
  if (options.validation !== undefined) {
    const labelMap = buildLabelMap(examples.map((e) => e.label));
    requireTwoClasses(examples, labelMap);
    const unseen = [...new Set(options.validation.map((e) => e.label))].filter((l) => !labelMap.label2id.has(l));
    if (unseen.length > 0) {
      const where = firstOf(options.validation, unseen[0]);
      throw new DataError(
        `The validation data has label${unseen.length > 1 ? 's' : ''} ${unseen.map((l) => `"${l}"`).join(', ')} that the training data does not have.`,
        {
          file: where.file,
          line: where.line,
          code: 'DATA_LABEL_ONLY_IN_VALIDATION',
          fix: `Add training examples with ${unseen.length > 1 ? 'these labels' : 'this label'}, or fix the spelling (training labels: ${labelMap.labels.slice(0, 10).join(', ')}${labelMap.labels.length > 10 ? ', …' : ''}).`,
        },
      );
    }
    return { train: examples, validation: options.validation, labelMap };
  }

  const ratio = options.validationRatio ?? DEFAULT_VALIDATION_RATIO;
  if (!(ratio > 0 && ratio < 1)) {
    throw new DataError(`The validation ratio must be between 0 and 1 (exclusive), got ${ratio}.`, {
      code: 'DATA_BAD_RATIO',
      fix: 'Use e.g. 0.1 to keep 10% of each class for validation, or give a validation file.',
    });
  }
  const labelMap = buildLabelMap(examples.map((e) => e.label));
  requireTwoClasses(examples, labelMap);
  const byLabel = new Map<string, number[]>(labelMap.labels.map((l) => [l, []]));
  examples.forEach((e, i) => byLabel.get(e.label)?.push(i));
  const rng = createRng(options.seed ?? DEFAULT_SEED, RNG_STREAM.split);
  const isValidation = new Uint8Array(examples.length);
  for (const [label, indices] of byLabel) {
    if (indices.length < 2) {
      const only = examples[indices[0]];
      throw new DataError(
        `The label "${label}" has a single example, so it cannot be in both training and validation.`,
        {
          file: only.file,
          line: only.line,
          code: 'DATA_SINGLE_EXAMPLE_LABEL',
          fix: 'Add more examples of this label, remove it, or give a separate validation file.',
        },
      );
    }
    const take = Math.min(indices.length - 1, Math.max(1, Math.round(indices.length * ratio)));
    for (const i of shuffleInPlace(indices, rng).slice(0, take)) isValidation[i] = 1;
  }
  return {
    train: examples.filter((_, i) => isValidation[i] === 0),
    validation: examples.filter((_, i) => isValidation[i] === 1),
    labelMap,
  };
}

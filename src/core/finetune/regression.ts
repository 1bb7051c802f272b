/**
 * Regression (`--task regression`): one output per text trained with mean squared error, as HF
 * BertForSequenceClassification with problem_type "regression" and num_labels 1. Here: the numeric targets read from
 * the label column, the seeded random split (a number has no class to stratify by), and the validation scores (MSE,
 * MAE, Pearson, Spearman). The rest of a fine-tuning run (model, tokenizer, loop, best/) is the classifier's.
 */
import { DataError } from '../errors';
import type { Example } from '../data/types';
import type { Batch } from '../tokenize/batch';
import { createRng, RNG_STREAM, shuffleInPlace } from '../util/random';
import { regressionReport, type RegressionReport } from '../util/metrics';
import type { RegressionPoints } from '../run/events';
import { documentLogits, type Evaluation, type PoolLogits } from '../train/trainer';

/** HF's id2label for a one-output head: transformers names it LABEL_0. */
export const REGRESSION_LABELS = ['LABEL_0'];

/** The target of every example, parsed from its label; a value that is not a finite number is the user's to fix. */
export function regressionTargets(examples: readonly Example[]): Float32Array {
  return Float32Array.from(examples, (e) => {
    const value = e.label.trim() === '' ? NaN : Number(e.label);
    if (!Number.isFinite(value)) {
      throw new DataError(`The regression target ${JSON.stringify(e.label.slice(0, 80))} is not a number.`, {
        file: e.file,
        line: e.line,
        code: 'DATA_REGRESSION_NOT_NUMBER',
        fix: 'Give every row a number in the label column (e.g. 3.5, with a dot), or leave out --task regression to train a classifier.',
      });
    }
    return value;
  });
}

/** Train / validation split of regression data: a seeded share of the rows, file order kept in both halves. */
export function splitRegression(
  examples: Example[],
  options: { validationRatio: number; seed: number; validation?: Example[] },
): { train: Example[]; validation: Example[] } {
  if (options.validation !== undefined) return { train: examples, validation: options.validation };
  const take = Math.min(examples.length - 1, Math.max(1, Math.round(examples.length * options.validationRatio)));
  if (examples.length < 2) {
    throw new DataError('Regression needs at least two rows: one to train on and one to validate with.', {
      file: examples[0]?.file ?? '',
      code: 'DATA_TOO_FEW_ROWS',
      fix: 'Add rows, or give a validation file with --valid.',
    });
  }
  const order = shuffleInPlace(
    examples.map((_, i) => i),
    createRng(options.seed, RNG_STREAM.split),
  );
  const isValidation = new Uint8Array(examples.length);
  for (const i of order.slice(0, take)) isValidation[i] = 1;
  return {
    train: examples.filter((_, i) => isValidation[i] === 0),
    validation: examples.filter((_, i) => isValidation[i] === 1),
  };
}

/** At most this many validation documents' values go into each eval event (metrics.jsonl), for the scatter plot. */
export const REGRESSION_POINTS = 400;

/**
 * The true and predicted value of every document when there are at most `max`, else of `max` evenly spaced ones (the
 * same documents at every evaluation, so the plot's points move as the model learns). Nine significant digits give
 * back each float32 value exactly (an untrained model's predictions differ in the sixth), in fewer characters.
 */
export function regressionPoints(
  predictions: ArrayLike<number>,
  targets: ArrayLike<number>,
  max = REGRESSION_POINTS,
): RegressionPoints {
  const n = targets.length;
  const take = Math.min(n, max);
  const round = (x: number): number => Number(x.toPrecision(9));
  const points: RegressionPoints = { target: [], predicted: [] };
  for (let i = 0; i < take; i++) {
    const d = Math.floor((i * n) / take);
    points.target.push(round(targets[d]));
    points.predicted.push(round(predictions[d]));
  }
  return points;
}

/** A regression validation set, tokenized (several rows per document with window truncation). */
export interface RegressionEvalSet {
  batches: Batch[];
  /** The target per document. */
  targets: Float32Array;
}

export interface RegressionResult extends RegressionReport {
  /** Mean squared error, the training loss. */
  loss: number;
  /** The predicted value per document. */
  predictions: Float32Array;
}

export interface RegressionEvaluation extends Evaluation {
  result: RegressionResult;
}

/** Forward every batch, pool rows into documents (window truncation), and score the predicted values. */
export async function evaluateRegression(
  forward: (b: Batch) => Promise<Float32Array>,
  set: RegressionEvalSet,
  poolLogits: PoolLogits,
): Promise<RegressionEvaluation> {
  const predictions = await documentLogits(forward, set.batches, 1, set.targets.length, poolLogits);
  const report = regressionReport(predictions, set.targets);
  const result: RegressionResult = { ...report, loss: report.mse, predictions };
  return {
    result,
    // The selection metric of a regression run is its loss (lower is better), the mean squared error.
    metric: report.mse,
    scores: {
      task: 'regression',
      loss: report.mse,
      mse: report.mse,
      mae: report.mae,
      pearson: report.pearson,
      spearman: report.spearman,
      points: regressionPoints(predictions, set.targets),
      accuracy: NaN,
      labels: [],
      confusion: [],
      per_class: {},
      misclassified: [],
    },
  };
}

/**
 * Multi-label classification (`--task multi-label`, or data whose labels are lists): one sigmoid output per label
 * trained with binary cross-entropy, as HF BertForSequenceClassification with problem_type
 * "multi_label_classification". Here: the label set and each row's 0/1 targets, the seeded random split (a row has
 * no one class to stratify by), the positive weights (--class-weights), and the validation scores with one
 * threshold per label tuned there. The rest of a fine-tuning run (model, tokenizer, loop, best/) is the classifier's.
 */
import { DataError } from '../errors';
import { buildLabelMap } from '../data/labels';
import type { Dataset, Example } from '../data/types';
import type { Batch } from '../tokenize/batch';
import {
  meanBinaryCrossEntropy,
  multiLabelReport,
  sigmoid,
  tuneThresholds,
  type MultiLabelReport,
} from '../util/metrics';
import { recordOf } from '../util/records';
import type { SelectionMetric } from '../train/presets';
import { documentLogits, type Evaluation, type PoolLogits } from '../train/trainer';
import { splitRegression } from './regression';

export interface MultiLabelData {
  train: Example[];
  valid: Example[];
  /** In id order: the --label-columns order, else sorted (integers numerically). */
  labels: string[];
  /** Each row's 0/1 targets, labels.length per row (row-major). */
  targets: { train: Float32Array; valid: Float32Array };
}

/** The 0/1 target rows of `examples` ([rows, labels]); a label the model does not know stops with file and line. */
export function multiLabelTargets(examples: readonly Example[], labels: readonly string[]): Float32Array {
  const ids = new Map(labels.map((l, i) => [l, i]));
  const out = new Float32Array(examples.length * labels.length);
  examples.forEach((e, r) => {
    for (const label of e.labels ?? []) {
      const id = ids.get(label);
      if (id === undefined) {
        throw new DataError(`The label ${JSON.stringify(label)} does not occur in the training data.`, {
          file: e.file,
          line: e.line,
          code: 'DATA_UNKNOWN_LABEL',
          fix: 'Add training rows with this label, or fix its spelling.',
        });
      }
      out[r * labels.length + id] = 1;
    }
  });
  return out;
}

/** The labels, split and targets of multi-label data (a separate validation file, or a seeded share of the rows). */
export function prepareMultiLabelData(
  train: Dataset,
  valid: Dataset | undefined,
  options: { validationRatio: number; seed: number },
): MultiLabelData {
  const labels = train.multiLabel?.labelColumns ?? buildLabelMap(train.examples.flatMap((e) => e.labels ?? [])).labels;
  if (labels.length === 0) {
    throw new DataError('No row of the training data has a label.', {
      file: train.path,
      code: 'DATA_NO_LABELS',
      fix: 'Give rows their labels (a list, a delimited cell, or 1 in a label column).',
    });
  }
  const split = splitRegression(train.examples, { ...options, validation: valid?.examples });
  return {
    train: split.train,
    valid: split.validation,
    labels,
    targets: { train: multiLabelTargets(split.train, labels), valid: multiLabelTargets(split.validation, labels) },
  };
}

/** BCEWithLogitsLoss's pos_weight per label: negatives ÷ positives in the training rows (1 for a label without any). */
export function positiveWeights(targets: Float32Array, numLabels: number): Float32Array {
  const rows = targets.length / numLabels;
  const positives = new Array<number>(numLabels).fill(0);
  for (let i = 0; i < targets.length; i++) positives[i % numLabels] += targets[i];
  return Float32Array.from(positives, (p) => (p === 0 ? 1 : (rows - p) / p));
}

export interface MultiLabelEvalSet {
  batches: Batch[];
  /** The 0/1 targets per document, [documents, labels]. */
  targets: Float32Array;
}

export interface MultiLabelResult extends MultiLabelReport {
  /** Mean binary cross-entropy over every (document, label). */
  loss: number;
  /** The tuned threshold per label, in label order. */
  thresholds: Float32Array;
  /** The sigmoid probabilities per document, [documents, labels]. */
  predictions: Float32Array;
}

export interface MultiLabelEvaluation extends Evaluation {
  result: MultiLabelResult;
}

/** The selection metric's value of a multi-label result (accuracy: subset accuracy). */
function selectionValue(metric: SelectionMetric, r: MultiLabelResult): number {
  if (metric === 'loss') return r.loss;
  if (metric === 'accuracy') return r.subset_accuracy;
  return metric === 'macro_f1' ? r.macro_f1 : r.micro_f1;
}

/**
 * Forward every batch, pool rows into documents (window truncation), tune one threshold per label on these
 * documents, and score them with those thresholds.
 */
export async function evaluateMultiLabel(
  forward: (b: Batch) => Promise<Float32Array>,
  set: MultiLabelEvalSet,
  labels: string[],
  poolLogits: PoolLogits,
  metric: SelectionMetric,
): Promise<MultiLabelEvaluation> {
  const k = labels.length;
  const docLogits = await documentLogits(forward, set.batches, k, set.targets.length / k, poolLogits);
  const predictions = sigmoid(docLogits);
  const thresholds = tuneThresholds(predictions, set.targets, k);
  const report = multiLabelReport(predictions, set.targets, labels, thresholds);
  const result: MultiLabelResult = {
    ...report,
    loss: meanBinaryCrossEntropy(docLogits, set.targets),
    thresholds,
    predictions,
  };
  return {
    result,
    metric: selectionValue(metric, result),
    scores: {
      task: 'multi-label',
      loss: result.loss,
      accuracy: report.subset_accuracy,
      micro_f1: report.micro_f1,
      macro_f1: report.macro_f1,
      subset_accuracy: report.subset_accuracy,
      thresholds: recordOf(labels.map((l, i) => [l, thresholds[i]])),
      labels,
      confusion: [],
      per_class: report.per_label,
      misclassified: [],
    },
  };
}

/**
 * Classification metrics for evaluation: accuracy, macro-F1, confusion matrix and per-class precision/recall/F1,
 * plus the row-wise softmax and cross-entropy the evaluator and the predictor share.
 * Conventions follow scikit-learn with `zero_division=0`: a class never predicted has precision 0, a class absent
 * from the truth has recall 0, and macro-F1 averages over every label of the model (so a class the model never
 * predicts pulls the average down, as it should).
 */
import { recordOf } from './records';

/** One class's scores; the events (core/train/events.ts) carry them per label. */
export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ClassificationReport {
  accuracy: number;
  macro_f1: number;
  labels: string[];
  /** confusion[true][predicted], indexed like `labels`. */
  confusion: number[][];
  /** label → metrics (a JSON record: read it with ownValue, labels are data). */
  per_class: Record<string, ClassMetrics>;
}

/** counts[t][p]: how many items with true class t were predicted as p (`rows` true classes, `cols` predicted). */
export function confusionCounts(
  trueIds: ArrayLike<number>,
  predictedIds: ArrayLike<number>,
  rows: number,
  cols: number,
): number[][] {
  const counts = Array.from({ length: rows }, () => new Array<number>(cols).fill(0));
  for (let i = 0; i < trueIds.length; i++) counts[trueIds[i]][predictedIds[i]]++;
  return counts;
}

export function classificationReport(
  trueIds: ArrayLike<number>,
  predictedIds: ArrayLike<number>,
  labels: string[],
): ClassificationReport {
  if (trueIds.length !== predictedIds.length) {
    throw new Error(`classificationReport: ${trueIds.length} true labels but ${predictedIds.length} predictions`);
  }
  const k = labels.length;
  for (let i = 0; i < trueIds.length; i++) {
    const [t, p] = [trueIds[i], predictedIds[i]];
    if (!(t >= 0 && t < k && p >= 0 && p < k)) throw new Error(`classificationReport: label id out of range at ${i}`);
  }
  const confusion = confusionCounts(trueIds, predictedIds, k, k);
  let correct = 0;
  for (let c = 0; c < k; c++) correct += confusion[c][c];
  const perClass: [string, ClassMetrics][] = [];
  let f1Sum = 0;
  for (let c = 0; c < k; c++) {
    const tp = confusion[c][c];
    const support = confusion[c].reduce((a, b) => a + b, 0);
    let predicted = 0;
    for (let r = 0; r < k; r++) predicted += confusion[r][c];
    const precision = predicted === 0 ? 0 : tp / predicted;
    const recall = support === 0 ? 0 : tp / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    perClass.push([labels[c], { precision, recall, f1, support }]);
    f1Sum += f1;
  }
  return {
    accuracy: trueIds.length === 0 ? 0 : correct / trueIds.length,
    macro_f1: k === 0 ? 0 : f1Sum / k,
    labels: [...labels],
    confusion,
    per_class: recordOf(perClass),
  };
}

/** Row-wise softmax of `[rows, numLabels]` logits (numerically stable). */
export function softmaxRows(logits: ArrayLike<number>, numLabels: number): Float32Array {
  const out = new Float32Array(logits.length);
  for (let r = 0; r * numLabels < logits.length; r++) {
    const o = r * numLabels;
    let max = -Infinity;
    for (let c = 0; c < numLabels; c++) max = Math.max(max, logits[o + c]);
    let sum = 0;
    for (let c = 0; c < numLabels; c++) {
      const e = Math.exp(logits[o + c] - max);
      out[o + c] = e;
      sum += e;
    }
    for (let c = 0; c < numLabels; c++) out[o + c] /= sum;
  }
  return out;
}

export function argmaxRows(values: ArrayLike<number>, numLabels: number): Int32Array {
  const rows = Math.floor(values.length / numLabels);
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < numLabels; c++) if (values[r * numLabels + c] > values[r * numLabels + best]) best = c;
    out[r] = best;
  }
  return out;
}

/**
 * Mean cross-entropy of `[rows, numLabels]` logits against class ids. With class weights it is the weighted mean
 * (sum of w[y]·loss / sum of w[y]), as torch's CrossEntropyLoss(weight=…) computes it.
 */
export function meanCrossEntropy(
  logits: ArrayLike<number>,
  targets: ArrayLike<number>,
  numLabels: number,
  classWeights?: ArrayLike<number>,
): number {
  let total = 0;
  let weightSum = 0;
  for (let r = 0; r < targets.length; r++) {
    const o = r * numLabels;
    let max = -Infinity;
    for (let c = 0; c < numLabels; c++) max = Math.max(max, logits[o + c]);
    let sum = 0;
    for (let c = 0; c < numLabels; c++) sum += Math.exp(logits[o + c] - max);
    const nll = max + Math.log(sum) - logits[o + targets[r]];
    const w = classWeights ? classWeights[targets[r]] : 1;
    total += w * nll;
    weightSum += w;
  }
  return weightSum === 0 ? 0 : total / weightSum;
}

/** How well predicted numbers match true ones (a regression head's validation scores). */
export interface RegressionReport {
  mse: number;
  mae: number;
  /** Pearson's correlation; NaN when either side is constant. */
  pearson: number;
  /** Spearman's rank correlation (ties take their average rank); NaN when either side is constant. */
  spearman: number;
}

export function meanSquaredError(predicted: ArrayLike<number>, actual: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < actual.length; i++) sum += (predicted[i] - actual[i]) ** 2;
  return sum / actual.length;
}

export function meanAbsoluteError(predicted: ArrayLike<number>, actual: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < actual.length; i++) sum += Math.abs(predicted[i] - actual[i]);
  return sum / actual.length;
}

export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i] / n;
    my += y[i] / n;
  }
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxx === 0 || syy === 0 ? NaN : sxy / Math.sqrt(sxx * syy);
}

/** 1-based ranks, tied values sharing the mean of the ranks they span (scipy.stats.rankdata 'average'). */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: values.length }, (_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Float64Array(values.length);
  for (let start = 0; start < order.length;) {
    let end = start + 1;
    while (end < order.length && values[order[end]] === values[order[start]]) end++;
    for (let k = start; k < end; k++) ranks[order[k]] = (start + 1 + end) / 2;
    start = end;
  }
  return ranks;
}

export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  return pearson(averageRanks(x), averageRanks(y));
}

export function regressionReport(predicted: ArrayLike<number>, actual: ArrayLike<number>): RegressionReport {
  return {
    mse: meanSquaredError(predicted, actual),
    mae: meanAbsoluteError(predicted, actual),
    pearson: pearson(predicted, actual),
    spearman: spearman(predicted, actual),
  };
}

/** Logistic sigmoid, elementwise: the probability of each label of a multi-label head. */
export function sigmoid(values: ArrayLike<number>): Float32Array {
  return Float32Array.from(values, (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))));
}

/** Mean binary cross-entropy with logits over every (row, label), as torch BCEWithLogitsLoss (no pos_weight). */
export function meanBinaryCrossEntropy(logits: ArrayLike<number>, targets: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const x = logits[i];
    sum += Math.max(x, 0) - x * targets[i] + Math.log1p(Math.exp(-Math.abs(x)));
  }
  return logits.length === 0 ? NaN : sum / logits.length;
}

export interface MultiLabelReport {
  /** F1 over every (row, label) decision pooled. */
  micro_f1: number;
  /** The mean of the labels' F1 (a label without positives or predictions scores 0, as sklearn's zero_division=0). */
  macro_f1: number;
  /** Share of rows whose predicted label set equals the true one exactly. */
  subset_accuracy: number;
  /** Per label (in label order), with the threshold used. Read with ownValue: labels are data. */
  per_label: Record<string, ClassMetrics & { threshold: number }>;
}

const f1Of = (tp: number, fp: number, fn: number): number => (tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn));

/**
 * Scores of multi-label predictions: `probs` and `targets` are [rows, labels] row-major (targets 0/1); a label is
 * predicted where its probability is at least its threshold.
 */
export function multiLabelReport(
  probs: ArrayLike<number>,
  targets: ArrayLike<number>,
  labels: readonly string[],
  thresholds: ArrayLike<number>,
): MultiLabelReport {
  const C = labels.length;
  const rows = C === 0 ? 0 : probs.length / C;
  const tp = new Array<number>(C).fill(0);
  const fp = new Array<number>(C).fill(0);
  const fn = new Array<number>(C).fill(0);
  let exact = 0;
  for (let r = 0; r < rows; r++) {
    let same = true;
    for (let c = 0; c < C; c++) {
      const predicted = probs[r * C + c] >= thresholds[c];
      const actual = targets[r * C + c] >= 0.5;
      if (predicted && actual) tp[c]++;
      else if (predicted) fp[c]++;
      else if (actual) fn[c]++;
      if (predicted !== actual) same = false;
    }
    if (same) exact++;
  }
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const perLabel = labels.map((label, c) => {
    const scores = {
      precision: tp[c] + fp[c] === 0 ? 0 : tp[c] / (tp[c] + fp[c]),
      recall: tp[c] + fn[c] === 0 ? 0 : tp[c] / (tp[c] + fn[c]),
      f1: f1Of(tp[c], fp[c], fn[c]),
      support: tp[c] + fn[c],
      threshold: thresholds[c],
    };
    return [label, scores] as const;
  });
  return {
    micro_f1: f1Of(sum(tp), sum(fp), sum(fn)),
    macro_f1: C === 0 ? 0 : perLabel.reduce((s, [, m]) => s + m.f1, 0) / C,
    subset_accuracy: rows === 0 ? 0 : exact / rows,
    per_label: recordOf(perLabel),
  };
}

/**
 * One threshold per label that maximises that label's F1 on `probs` / `targets` ([rows, labels], row-major): the
 * rows sorted by probability, every cut tried, the threshold halfway between the last row in and the first row out
 * (ties stay together). A label without positives keeps `fallback` (0.5), where F1 cannot tell thresholds apart.
 */
export function tuneThresholds(
  probs: ArrayLike<number>,
  targets: ArrayLike<number>,
  numLabels: number,
  fallback = 0.5,
): Float32Array {
  const rows = numLabels === 0 ? 0 : probs.length / numLabels;
  const thresholds = new Float32Array(numLabels).fill(fallback);
  for (let c = 0; c < numLabels; c++) {
    const order = Array.from({ length: rows }, (_, r) => r).sort(
      (a, b) => probs[b * numLabels + c] - probs[a * numLabels + c],
    );
    const positives = order.reduce((n, r) => n + (targets[r * numLabels + c] >= 0.5 ? 1 : 0), 0);
    if (positives === 0) continue;
    let best = -1;
    let tp = 0;
    for (let k = 0; k < rows; k++) {
      const p = probs[order[k] * numLabels + c];
      if (targets[order[k] * numLabels + c] >= 0.5) tp++;
      const next = k + 1 < rows ? probs[order[k + 1] * numLabels + c] : -Infinity;
      if (next === p) continue; // a threshold cannot separate equal probabilities
      const f1 = (2 * tp) / (k + 1 + positives);
      if (f1 > best) {
        best = f1;
        thresholds[c] = next === -Infinity ? p : (p + next) / 2;
      }
    }
  }
  return thresholds;
}

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

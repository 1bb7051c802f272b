/**
 * Pure helpers the dashboard webview uses to turn a DashboardState into what it draws (chart columns, confusion cells,
 * numbers). They live here, not in webview/, so they are unit-tested from Node; they import nothing at run time.
 */
import type { EvalEvent, MisclassifiedExample } from '../../trainer/protocol';
import { runKind, type DashboardState } from '../protocol/dashboardState';

/** uPlot's aligned data: one shared x column, then one y column per series, null where a series has no point. */
export type AlignedColumns = [number[], ...(number | null)[][]];

/**
 * Merges two step-indexed series onto one x axis (both inputs sorted by step, as the trainer emits them).
 * The train loss has a point every step and the validation loss one per eval, so one chart shows both.
 */
export function alignByStep(
  a: { step: readonly number[]; values: readonly (readonly number[])[] },
  b: { step: readonly number[]; values: readonly (readonly number[])[] },
): AlignedColumns {
  // Plain indexed loops: this runs on every dashboard refresh, over every step of the run.
  const x: number[] = [];
  const columns: (number | null)[][] = [];
  for (let k = 0; k < a.values.length + b.values.length; k++) columns.push([]);
  const na = a.step.length;
  const nb = b.step.length;
  let i = 0;
  let j = 0;
  while (i < na || j < nb) {
    const sa = i < na ? a.step[i] : Infinity;
    const sb = j < nb ? b.step[j] : Infinity;
    const s = sa < sb ? sa : sb;
    x.push(s);
    for (let k = 0; k < a.values.length; k++) columns[k].push(sa === s ? a.values[k][i] : null);
    for (let k = 0; k < b.values.length; k++) columns[a.values.length + k].push(sb === s ? b.values[k][j] : null);
    if (sa === s) i++;
    if (sb === s) j++;
  }
  return [x, ...columns];
}

export interface ChartColumns {
  loss: AlignedColumns;
  lr: AlignedColumns;
  /**
   * Fine-tuning: accuracy and macro-F1 (multi-label: micro- and macro-F1; regression: Pearson and Spearman).
   * Pre-training: masked-token accuracy.
   */
  quality: AlignedColumns;
  /** Pre-training only (empty when fine-tuning): validation perplexity. */
  perplexity: AlignedColumns;
}

export function chartColumns(state: DashboardState): ChartColumns {
  const evalSteps = state.evals.map((e) => e.step);
  const mlm = state.task === 'mlm';
  const kind = runKind(state);
  return {
    loss: alignByStep(
      { step: state.train.step, values: [state.train.loss] },
      { step: evalSteps, values: [state.evals.map((e) => e.loss)] },
    ),
    lr: [state.train.step.slice(), state.train.lr.slice()],
    quality: mlm
      ? [evalSteps, state.evals.map((e) => e.accuracy)]
      : kind === 'multi-label'
        ? [evalSteps, state.evals.map((e) => e.microF1 ?? null), state.evals.map((e) => e.macroF1 ?? null)]
        : kind === 'regression'
          ? [evalSteps, state.evals.map((e) => e.pearson ?? null), state.evals.map((e) => e.spearman ?? null)]
          : [evalSteps, state.evals.map((e) => e.accuracy), state.evals.map((e) => e.macroF1 ?? null)],
    perplexity: mlm ? [evalSteps, state.evals.map((e) => e.perplexity ?? null)] : [[]],
  };
}

/** The misclassified examples the trainer sampled for one confusion cell (true label → predicted label). */
export function examplesForCell(evaluation: EvalEvent, trueLabel: string, predicted: string): MisclassifiedExample[] {
  return evaluation.misclassified.filter((m) => m.label === trueLabel && m.predicted === predicted);
}

/** Row-normalised share of a confusion cell, 0..1 (for the cell's shading); 0 for an empty row. */
export function cellShare(confusion: readonly (readonly number[])[], row: number, col: number): number {
  const total = confusion[row]?.reduce((s, n) => s + n, 0) ?? 0;
  return total > 0 ? (confusion[row][col] ?? 0) / total : 0;
}

export function formatMetric(value: number | undefined, digits = 3): string {
  return value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

/** Config values as short display strings; nested objects as compact JSON. */
export function formatConfigValue(value: unknown): string {
  if (value === null || value === undefined) return '–';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value) ?? typeof value;
}

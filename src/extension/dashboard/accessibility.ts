/**
 * What the dashboard says to a screen reader, and how its confusion matrix moves under the keyboard: the text
 * alternatives of the canvas charts (a summary for the chart's aria-label, the latest values for its hidden table),
 * the accessible name of a confusion cell, and the arrow-key moves between cells. Pure, so it is tested from Node.
 */
import type { RegressionScatter } from '../protocol/dashboardState';
import { t } from '../protocol/l10n';
import { formatPerplexity } from './statusText';
import { formatMetric, type AlignedColumns } from './viewModel';

/** How a series' values read: metrics with three decimals, learning rates with an exponent (5e-5 is not 0.000). */
export type ValueFormat = 'metric' | 'rate' | 'perplexity';

/** A chart as words: its title, what one point is, and each series after the x column, in column order. */
export interface ChartText {
  title: string;
  /** A point per training step (loss, learning rate) or per evaluation (accuracy, perplexity). */
  unit: 'step' | 'evaluation';
  series: readonly { name: string; format: ValueFormat }[];
}

export interface LatestValue {
  name: string;
  /** Formatted; '–' when the series has no point yet. */
  value: string;
  /** The step of that point; '–' when there is none. */
  step: string;
}

export function formatValue(value: number, format: ValueFormat): string {
  if (format === 'perplexity') return Number.isFinite(value) ? formatPerplexity(value) : '–';
  if (format === 'rate') return value === 0 ? '0' : Number.isFinite(value) ? value.toExponential(2) : '–';
  return formatMetric(value);
}

/** Each series' last point (a validation series has gaps: its last non-null value), in the chart's series order. */
export function latestValues(chart: ChartText, columns: AlignedColumns): LatestValue[] {
  const x = columns[0];
  return chart.series.map((series, k) => {
    const ys = columns[k + 1] ?? [];
    for (let i = Math.min(x.length, ys.length) - 1; i >= 0; i--) {
      const y = ys[i];
      if (y !== null && y !== undefined)
        return { name: series.name, value: formatValue(y, series.format), step: String(x[i]) };
    }
    return { name: series.name, value: '–', step: '–' };
  });
}

/**
 * The scatter plot's aria-label: "Predicted vs true value at step 60: 24 validation texts, Pearson 0.871, MAE 0.312,
 * 15 predicted above their true value".
 */
export function scatterSummary(title: string, scatter: RegressionScatter): string {
  const n = scatter.target.length;
  if (n === 0) return t('{0}: no points', title);
  const above = scatter.predicted.filter((p, i) => p > scatter.target[i]).length;
  return t(
    '{0} at step {1}: {2} validation texts, Pearson {3}, MAE {4}, {5} predicted above their true value',
    title,
    scatter.step,
    n,
    formatMetric(scatter.pearson),
    formatMetric(scatter.mae),
    above,
  );
}

/** The chart's aria-label: "Loss chart: 138 steps, train loss 0.020 at step 138, validation loss 0.121 at step 138". */
export function chartSummary(chart: ChartText, columns: AlignedColumns): string {
  const points = columns[0].length;
  if (points === 0) return t('{0} chart: no data yet', chart.title);
  const parts = [pointCount(points, chart.unit)];
  for (const latest of latestValues(chart, columns))
    parts.push(
      latest.step === '–'
        ? t('no {0} yet', latest.name)
        : t('{0} {1} at step {2}', latest.name, latest.value, latest.step),
    );
  return t('{0} chart: {1}', chart.title, parts.join(', '));
}

function pointCount(points: number, unit: ChartText['unit']): string {
  if (unit === 'step') return points === 1 ? t('{0} step', points) : t('{0} steps', points);
  return points === 1 ? t('{0} evaluation', points) : t('{0} evaluations', points);
}

/** A confusion cell's accessible name, e.g. "true ham, predicted spam: 1 example". Labels arrive already shortened. */
export function confusionCellName(trueLabel: string, predicted: string, count: number): string {
  return count === 1
    ? t('true {0}, predicted {1}: {2} example', trueLabel, predicted, count)
    : t('true {0}, predicted {1}: {2} examples', trueLabel, predicted, count);
}

/** A cell of the n×n matrix as [row, column]. */
export type Cell = readonly [number, number];

/**
 * Where a key moves focus in an n×n grid, as the ARIA grid pattern does: arrows one cell (stopping at the edges),
 * Home/End to the row's ends, Ctrl+Home/End to the first and last cell. Undefined for any other key.
 */
export function moveInGrid([row, col]: Cell, key: string, n: number, ctrl = false): Cell | undefined {
  const last = n - 1;
  const clamp = (v: number) => Math.max(0, Math.min(last, v));
  switch (key) {
    case 'ArrowUp':
      return [clamp(row - 1), col];
    case 'ArrowDown':
      return [clamp(row + 1), col];
    case 'ArrowLeft':
      return [row, clamp(col - 1)];
    case 'ArrowRight':
      return [row, clamp(col + 1)];
    case 'Home':
      return ctrl ? [0, 0] : [row, 0];
    case 'End':
      return ctrl ? [last, last] : [row, last];
    default:
      return undefined;
  }
}

/** A remembered cell that may no longer exist (the labels changed): kept inside the n×n grid. */
export function clampCell([row, col]: Cell, n: number): Cell {
  const clamp = (v: number) => Math.max(0, Math.min(n - 1, v));
  return [clamp(row), clamp(col)];
}

/**
 * A regression run's predicted-vs-true scatter plot (uPlot, theme colours): one point per validation text of the
 * latest evaluation, true value across, predicted value up, and the line where they are equal. It stands where a
 * classifier's confusion matrix would. Like the charts, the canvas is hidden from screen readers and the figure is
 * named by a summary (scatterSummary); a theme change rebuilds the plot (uPlot bakes in colours).
 */
import uPlot from 'uplot';
import type { RegressionScatter } from '../src/extension/protocol/dashboardState';
import { scatterSummary } from '../src/extension/dashboard/accessibility';
import { t } from '../src/extension/protocol/l10n';
import { h } from './dom';

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

/** One range for both axes, a little wider than the data, so that the line of equality is the diagonal. */
function bounds(scatter: RegressionScatter): [number, number] {
  const values = [...scatter.target, ...scatter.predicted];
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (!(hi > lo)) [lo, hi] = [lo - 1, hi + 1];
  const pad = (hi - lo) * 0.05;
  return [lo - pad, hi + pad];
}

export class Scatter {
  private plot: uPlot | undefined;
  private figure: HTMLElement | undefined;
  private last: RegressionScatter | undefined;
  private range: [number, number] = [0, 1];
  private readonly resize = new ResizeObserver(() => this.fit());

  constructor(private readonly container: HTMLElement) {
    this.container.hidden = true;
    this.resize.observe(container);
    new MutationObserver(() => {
      if (this.last) this.build(this.last);
    }).observe(document.body, { attributes: true, attributeFilter: ['class'] });
  }

  /** Draw `scatter`, or nothing (and no space) when the run has none. */
  update(scatter: RegressionScatter | undefined): void {
    if (!scatter) {
      this.last = undefined;
      this.destroy();
      this.container.hidden = true;
      return;
    }
    this.container.hidden = false;
    if (!this.plot || !this.figure) this.build(scatter);
    else this.show(scatter);
  }

  private title(): string {
    return t('Predicted vs true value (validation)');
  }

  private show(scatter: RegressionScatter): void {
    this.last = scatter;
    this.range = bounds(scatter);
    // The third column is the line of equality: y = x at every point's x.
    this.plot?.setData([scatter.target, scatter.predicted, scatter.target]);
    this.figure?.setAttribute('aria-label', scatterSummary(this.title(), scatter));
  }

  private destroy(): void {
    this.plot?.destroy();
    this.plot = undefined;
    this.figure = undefined;
    this.container.replaceChildren();
  }

  private build(scatter: RegressionScatter): void {
    this.destroy();
    const axisColor = cssVar('--vscode-foreground', '#888');
    const gridColor = cssVar('--vscode-editorWidget-border', cssVar('--vscode-panel-border', 'rgba(128,128,128,0.3)'));
    const pointColor = cssVar('--vscode-charts-blue', axisColor);
    const font = `11px ${cssVar('--vscode-font-family', 'sans-serif')}`;
    const axis: uPlot.Axis = {
      stroke: axisColor,
      grid: { stroke: gridColor, width: 1 },
      ticks: { stroke: gridColor, width: 1 },
      font,
      labelFont: font,
    };
    const figure = h('figure', {
      class: 'chart',
      'data-chart': 'scatter',
      'data-focus-key': 'chart-scatter',
      tabindex: 0,
    });
    const drawing = h('div', { 'aria-hidden': 'true' });
    figure.append(h('figcaption', {}, this.title()), drawing);
    this.container.appendChild(figure);
    const range = (): [number, number] => this.range;
    this.plot = new uPlot(
      {
        width: this.width(),
        height: this.width(),
        scales: { x: { time: false, range }, y: { range } },
        axes: [
          { ...axis, label: t('true value') },
          { ...axis, size: 60, label: t('predicted value') },
        ],
        series: [
          { label: t('true value') },
          {
            label: t('validation texts'),
            stroke: pointColor,
            fill: pointColor,
            paths: () => null,
            points: { show: true, size: 5, stroke: pointColor, fill: pointColor },
          },
          {
            label: t('predicted = true'),
            stroke: cssVar('--vscode-descriptionForeground', axisColor),
            width: 1,
            dash: [6, 3],
            points: { show: false },
          },
        ],
        legend: { show: true, live: false },
        cursor: { drag: { x: false, y: false } },
      },
      [[], [], []],
      drawing,
    );
    for (const canvas of drawing.querySelectorAll('canvas')) canvas.setAttribute('aria-hidden', 'true');
    this.figure = figure;
    this.show(scatter);
  }

  /** Square, as wide as one chart: the line of equality at 45°. */
  private width(): number {
    const width = this.container.clientWidth || 600;
    return Math.min(420, width >= 900 ? Math.floor(width / 2) - 16 : width - 8);
  }

  private fit(): void {
    const width = this.width();
    if (this.plot && Math.abs(this.plot.width - width) > 2) this.plot.setSize({ width, height: width });
  }
}

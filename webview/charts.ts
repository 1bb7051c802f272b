/**
 * The live charts against steps, drawn with uPlot in theme colours: loss, accuracy/macro-F1 and learning rate for a
 * fine-tuning run; loss, masked-token accuracy, perplexity and learning rate for a pre-training (MLM) run.
 * Charts are created once and fed new columns; a theme change or another task rebuilds them (uPlot bakes in colours
 * and series).
 * A canvas says nothing to a screen reader, so each chart is a focusable figure named by a summary of its latest
 * values (its aria-label), with a visually hidden table of those values; uPlot's own DOM is hidden from it.
 */
import uPlot from 'uplot';
import type { TrainTask } from '../src/trainer/protocol';
import type { AlignedColumns, ChartColumns } from '../src/extension/dashboard/viewModel';
import { chartSummary, latestValues, type ChartText, type ValueFormat } from '../src/extension/dashboard/accessibility';
import { h, keepingFocus, replaceChildren } from './dom';

interface ChartSpec extends ChartText {
  key: keyof ChartColumns;
  /** label: the legend's short name; name: the series in words (the summary and the hidden table). */
  series: { label: string; name: string; format: ValueFormat; color: string; dash?: number[] }[];
  /** A fixed y range (accuracy and F1 live in 0..1); otherwise uPlot fits the data. */
  range?: [number, number];
  /** Tick labels for the y axis; the learning rate needs exponents (5e-5 would show as 0). */
  tick?: (value: number) => string;
}

const LR: ChartSpec = {
  key: 'lr',
  title: 'Learning rate',
  unit: 'step',
  tick: (v) => (v === 0 ? '0' : v.toExponential(1)),
  series: [{ label: 'lr', name: 'learning rate', format: 'rate', color: '--vscode-charts-yellow' }],
};

const SPECS: Record<TrainTask, ChartSpec[]> = {
  classify: [
    {
      key: 'loss',
      title: 'Loss',
      unit: 'step',
      series: [
        { label: 'train', name: 'train loss', format: 'metric', color: '--vscode-charts-blue' },
        { label: 'validation', name: 'validation loss', format: 'metric', color: '--vscode-charts-orange' },
      ],
    },
    {
      key: 'quality',
      title: 'Validation accuracy / macro-F1',
      unit: 'evaluation',
      range: [0, 1],
      series: [
        { label: 'accuracy', name: 'accuracy', format: 'metric', color: '--vscode-charts-green' },
        { label: 'macro-F1', name: 'macro-F1', format: 'metric', color: '--vscode-charts-purple', dash: [6, 3] },
      ],
    },
    LR,
  ],
  mlm: [
    {
      key: 'loss',
      title: 'MLM loss',
      unit: 'step',
      series: [
        { label: 'train', name: 'train MLM loss', format: 'metric', color: '--vscode-charts-blue' },
        { label: 'held-out', name: 'held-out MLM loss', format: 'metric', color: '--vscode-charts-orange' },
      ],
    },
    {
      key: 'quality',
      title: 'Masked-token accuracy (held-out)',
      unit: 'evaluation',
      range: [0, 1],
      series: [
        { label: 'masked acc.', name: 'masked-token accuracy', format: 'metric', color: '--vscode-charts-green' },
      ],
    },
    {
      key: 'perplexity',
      title: 'Perplexity (held-out)',
      unit: 'evaluation',
      series: [{ label: 'perplexity', name: 'perplexity', format: 'perplexity', color: '--vscode-charts-purple' }],
    },
    LR,
  ],
};

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

/** One chart's parts: the uPlot drawing, and the figure and hidden table that describe it in words. */
interface Chart {
  spec: ChartSpec;
  plot: uPlot;
  figure: HTMLElement;
  values: HTMLElement;
}

export class Charts {
  private charts = new Map<keyof ChartColumns, Chart>();
  private last: ChartColumns | undefined;
  private task: TrainTask = 'classify';
  private readonly resize = new ResizeObserver(() => this.fit());

  constructor(private readonly container: HTMLElement) {
    this.build();
    this.resize.observe(container);
    // VS Code switches the body's theme class (vscode-dark / vscode-light / vscode-high-contrast…) on theme change.
    new MutationObserver(() => this.rebuild()).observe(document.body, { attributes: true, attributeFilter: ['class'] });
  }

  update(columns: ChartColumns, task: TrainTask): void {
    this.last = columns;
    if (task !== this.task) {
      this.task = task;
      this.rebuild();
      return;
    }
    for (const [key, chart] of this.charts) this.show(chart, columns[key]);
  }

  private show(chart: Chart, columns: AlignedColumns): void {
    chart.plot.setData(columns);
    chart.figure.setAttribute('aria-label', chartSummary(chart.spec, columns));
    replaceChildren(
      chart.values,
      h('caption', {}, `${chart.spec.title}: latest values`),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'series'),
          h('th', { scope: 'col' }, 'latest value'),
          h('th', { scope: 'col' }, 'at step'),
        ),
      ),
      h(
        'tbody',
        {},
        ...latestValues(chart.spec, columns).map((v) =>
          h('tr', {}, h('th', { scope: 'row' }, v.name), h('td', {}, v.value), h('td', {}, v.step)),
        ),
      ),
    );
  }

  private rebuild(): void {
    // A focused chart is replaced by its rebuilt self: focus follows it (see keepingFocus).
    keepingFocus(this.container, () => {
      for (const chart of this.charts.values()) chart.plot.destroy();
      this.charts.clear();
      this.container.replaceChildren();
      this.build();
    });
  }

  private build(): void {
    const axisColor = cssVar('--vscode-foreground', '#888');
    const gridColor = cssVar('--vscode-editorWidget-border', cssVar('--vscode-panel-border', 'rgba(128,128,128,0.3)'));
    const font = `11px ${cssVar('--vscode-font-family', 'sans-serif')}`;
    for (const spec of SPECS[this.task]) {
      // The figure is a tab stop so that a keyboard-only screen reader user hears each chart's summary too.
      const figure = h('figure', {
        class: 'chart',
        'data-chart': spec.key,
        'data-focus-key': `chart-${spec.key}`,
        tabindex: 0,
      });
      const drawing = h('div', { 'aria-hidden': 'true' });
      // The class is on a wrapper: a table grows to fit its content whatever width it is given.
      const values = h('table', {});
      figure.append(h('figcaption', {}, spec.title), drawing, h('div', { class: 'visually-hidden' }, values));
      this.container.appendChild(figure);
      const axis: uPlot.Axis = {
        stroke: axisColor,
        grid: { stroke: gridColor, width: 1 },
        ticks: { stroke: gridColor, width: 1 },
        font,
      };
      const plot = new uPlot(
        {
          width: this.chartWidth(),
          height: 180,
          scales: { x: { time: false }, y: spec.range ? { range: spec.range } : {} },
          axes: [
            { ...axis, label: 'step', labelFont: font },
            {
              ...axis,
              size: 60,
              values: spec.tick
                ? (_u: uPlot, splits: number[]) => splits.map((v) => (v == null ? '' : spec.tick!(v)))
                : undefined,
            },
          ],
          series: [
            { label: 'step' },
            ...spec.series.map((s) => ({
              label: s.label,
              stroke: cssVar(s.color, axisColor),
              width: 1.5,
              dash: s.dash,
              spanGaps: true,
              // Per-step series have too many points for markers; evaluations are few and worth marking.
              points: { show: spec.key !== 'lr' && (spec.key !== 'loss' || s.label !== 'train') },
            })),
          ],
          legend: { show: true },
          cursor: { drag: { x: true, y: false } },
        },
        [[], ...spec.series.map(() => [])] as uPlot.AlignedData,
        drawing,
      );
      for (const canvas of drawing.querySelectorAll('canvas')) canvas.setAttribute('aria-hidden', 'true');
      const chart: Chart = { spec, plot, figure, values };
      this.charts.set(spec.key, chart);
      this.show(chart, this.last?.[spec.key] ?? ([[], ...spec.series.map(() => [])] as AlignedColumns));
    }
  }

  private chartWidth(): number {
    const width = this.container.clientWidth || 600;
    // Two charts side by side when there is room, else one per row.
    return width >= 900 ? Math.floor(width / 2) - 16 : width - 8;
  }

  private fit(): void {
    const width = this.chartWidth();
    for (const { plot } of this.charts.values())
      if (Math.abs(plot.width - width) > 2) plot.setSize({ width, height: 180 });
  }
}

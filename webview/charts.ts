/**
 * The live charts against steps, drawn with uPlot in theme colours: loss, accuracy/macro-F1 (multi-label: micro- and
 * macro-F1; regression: Pearson and Spearman) and learning rate for a fine-tuning run; loss, masked-token accuracy,
 * perplexity and learning rate for a pre-training (MLM) run.
 * Charts are created once and fed new columns; a theme change or another kind of run rebuilds them (uPlot bakes in colours
 * and series).
 * A canvas says nothing to a screen reader, so each chart is a focusable figure named by a summary of its latest
 * values (its aria-label), with a visually hidden table of those values; uPlot's own DOM is hidden from it.
 */
import uPlot from 'uplot';
import type { RunKind } from '../src/extension/protocol/dashboardState';
import type { AlignedColumns, ChartColumns } from '../src/extension/dashboard/viewModel';
import { chartSummary, latestValues, type ChartText, type ValueFormat } from '../src/extension/dashboard/accessibility';
import { t } from '../src/extension/protocol/l10n';
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

/** A fine-tuning run's quality chart: the scores its kind is judged by (chartColumns feeds the same two). */
function qualitySpec(kind: Exclude<RunKind, 'mlm'>): ChartSpec {
  const [title, first, second] =
    kind === 'multi-label'
      ? [t('Validation micro-F1 / macro-F1'), t('micro-F1'), t('macro-F1')]
      : kind === 'regression'
        ? [t('Validation Pearson / Spearman'), t('Pearson'), t('Spearman')]
        : [t('Validation accuracy / macro-F1'), t('accuracy'), t('macro-F1')];
  return {
    key: 'quality',
    title,
    unit: 'evaluation',
    range: kind === 'regression' ? [-1, 1] : [0, 1],
    series: [
      { label: first, name: first, format: 'metric', color: '--vscode-charts-green' },
      { label: second, name: second, format: 'metric', color: '--vscode-charts-purple', dash: [6, 3] },
    ],
  };
}

/** The charts of a kind of run; built when drawn, so that their words come from the installed translations. */
function specsOf(kind: RunKind): ChartSpec[] {
  const lr: ChartSpec = {
    key: 'lr',
    title: t('Learning rate'),
    unit: 'step',
    tick: (v) => (v === 0 ? '0' : v.toExponential(1)),
    series: [{ label: t('lr'), name: t('learning rate'), format: 'rate', color: '--vscode-charts-yellow' }],
  };
  if (kind !== 'mlm')
    return [
      {
        key: 'loss',
        title: t('Loss'),
        unit: 'step',
        series: [
          { label: t('train'), name: t('train loss'), format: 'metric', color: '--vscode-charts-blue' },
          { label: t('validation'), name: t('validation loss'), format: 'metric', color: '--vscode-charts-orange' },
        ],
      },
      qualitySpec(kind),
      lr,
    ];
  return [
    {
      key: 'loss',
      title: t('MLM loss'),
      unit: 'step',
      series: [
        { label: t('train'), name: t('train MLM loss'), format: 'metric', color: '--vscode-charts-blue' },
        { label: t('held-out'), name: t('held-out MLM loss'), format: 'metric', color: '--vscode-charts-orange' },
      ],
    },
    {
      key: 'quality',
      title: t('Masked-token accuracy (held-out)'),
      unit: 'evaluation',
      range: [0, 1],
      series: [
        { label: t('masked acc.'), name: t('masked-token accuracy'), format: 'metric', color: '--vscode-charts-green' },
      ],
    },
    {
      key: 'perplexity',
      title: t('Perplexity (held-out)'),
      unit: 'evaluation',
      series: [
        { label: t('perplexity'), name: t('perplexity'), format: 'perplexity', color: '--vscode-charts-purple' },
      ],
    },
    lr,
  ];
}

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
  private kind: RunKind = 'single-label';
  private readonly resize = new ResizeObserver(() => this.fit());

  constructor(private readonly container: HTMLElement) {
    this.build();
    this.resize.observe(container);
    // VS Code switches the body's theme class (vscode-dark / vscode-light / vscode-high-contrast…) on theme change.
    new MutationObserver(() => this.rebuild()).observe(document.body, { attributes: true, attributeFilter: ['class'] });
  }

  update(columns: ChartColumns, kind: RunKind): void {
    this.last = columns;
    if (kind !== this.kind) {
      this.kind = kind;
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
      h('caption', {}, t('{0}: latest values', chart.spec.title)),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, t('series')),
          h('th', { scope: 'col' }, t('latest value')),
          h('th', { scope: 'col' }, t('at step')),
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
    for (const spec of specsOf(this.kind)) {
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
            { ...axis, label: t('step'), labelFont: font },
            {
              ...axis,
              size: 60,
              values: spec.tick
                ? (_u: uPlot, splits: number[]) => splits.map((v) => (v == null ? '' : spec.tick!(v)))
                : undefined,
            },
          ],
          series: [
            { label: t('step') },
            ...spec.series.map((s) => ({
              label: s.label,
              stroke: cssVar(s.color, axisColor),
              width: 1.5,
              dash: s.dash,
              spanGaps: true,
              // Per-step series (the learning rate; train loss, the loss chart's first) have too many points for markers;
              // evaluations are few and worth marking.
              points: { show: spec.key !== 'lr' && (spec.key !== 'loss' || s !== spec.series[0]) },
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

/**
 * The live charts against steps, drawn with uPlot in theme colours: loss, accuracy/macro-F1 and learning rate for a
 * fine-tuning run; loss, masked-token accuracy, perplexity and learning rate for a pre-training (MLM) run.
 * Charts are created once and fed new columns; a theme change or another task rebuilds them (uPlot bakes in colours
 * and series).
 */
import uPlot from 'uplot';
import type { TrainTask } from '../src/trainer/protocol';
import type { ChartColumns } from '../src/extension/dashboard/viewModel';

interface ChartSpec {
  key: keyof ChartColumns;
  title: string;
  series: { label: string; color: string; dash?: number[] }[];
  /** A fixed y range (accuracy and F1 live in 0..1); otherwise uPlot fits the data. */
  range?: [number, number];
  /** Tick labels for the y axis; the learning rate needs exponents (5e-5 would show as 0). */
  tick?: (value: number) => string;
}

const LR: ChartSpec = {
  key: 'lr',
  title: 'Learning rate',
  tick: (v) => (v === 0 ? '0' : v.toExponential(1)),
  series: [{ label: 'lr', color: '--vscode-charts-yellow' }],
};

const SPECS: Record<TrainTask, ChartSpec[]> = {
  classify: [
    {
      key: 'loss',
      title: 'Loss',
      series: [
        { label: 'train', color: '--vscode-charts-blue' },
        { label: 'validation', color: '--vscode-charts-orange' },
      ],
    },
    {
      key: 'quality',
      title: 'Validation accuracy / macro-F1',
      range: [0, 1],
      series: [
        { label: 'accuracy', color: '--vscode-charts-green' },
        { label: 'macro-F1', color: '--vscode-charts-purple', dash: [6, 3] },
      ],
    },
    LR,
  ],
  mlm: [
    {
      key: 'loss',
      title: 'MLM loss',
      series: [
        { label: 'train', color: '--vscode-charts-blue' },
        { label: 'held-out', color: '--vscode-charts-orange' },
      ],
    },
    {
      key: 'quality',
      title: 'Masked-token accuracy (held-out)',
      range: [0, 1],
      series: [{ label: 'masked acc.', color: '--vscode-charts-green' }],
    },
    {
      key: 'perplexity',
      title: 'Perplexity (held-out)',
      series: [{ label: 'perplexity', color: '--vscode-charts-purple' }],
    },
    LR,
  ],
};

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

export class Charts {
  private plots = new Map<keyof ChartColumns, uPlot>();
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
    for (const [key, plot] of this.plots) plot.setData(columns[key]);
  }

  private rebuild(): void {
    for (const plot of this.plots.values()) plot.destroy();
    this.plots.clear();
    this.container.replaceChildren();
    this.build();
    if (this.last) for (const [key, plot] of this.plots) plot.setData(this.last[key]);
  }

  private build(): void {
    const axisColor = cssVar('--vscode-foreground', '#888');
    const gridColor = cssVar('--vscode-editorWidget-border', cssVar('--vscode-panel-border', 'rgba(128,128,128,0.3)'));
    const font = `11px ${cssVar('--vscode-font-family', 'sans-serif')}`;
    for (const spec of SPECS[this.task]) {
      const box = document.createElement('div');
      box.className = 'chart';
      box.dataset.chart = spec.key;
      this.container.appendChild(box);
      const axis: uPlot.Axis = {
        stroke: axisColor,
        grid: { stroke: gridColor, width: 1 },
        ticks: { stroke: gridColor, width: 1 },
        font,
      };
      const plot = new uPlot(
        {
          title: spec.title,
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
        box,
      );
      this.plots.set(spec.key, plot);
    }
  }

  private chartWidth(): number {
    const width = this.container.clientWidth || 600;
    // Two charts side by side when there is room, else one per row.
    return width >= 900 ? Math.floor(width / 2) - 16 : width - 8;
  }

  private fit(): void {
    const width = this.chartWidth();
    for (const plot of this.plots.values()) if (Math.abs(plot.width - width) > 2) plot.setSize({ width, height: 180 });
  }
}

/**
 * Draws every part of the dashboard except the charts from a DashboardState. Called at most a few times a second;
 * it rebuilds the sections from scratch, which is simpler than diffing and cheap at this size.
 */
import { bestEvalRow, runKind, runName, type DashboardState } from '../src/extension/protocol/dashboardState';
import type { WebviewToExtension } from '../src/extension/protocol/messages';
import { clusterActive, type ClusterStatus } from '../src/extension/protocol/cluster';
import { cellShare, examplesForCell, formatConfigValue, formatMetric } from '../src/extension/dashboard/viewModel';
import { ensembleSizeOf, fromScratchSpreadNote, isFromScratch } from '../src/core/train/presets';
import { formatDuration } from '../src/core/util/duration';
import { formatEpoch, formatPercent, formatPerplexity } from '../src/extension/dashboard/statusText';
import { ownValue } from '../src/core/util/records';
import { cut } from '../src/extension/display/text';
import { clampCell, confusionCellName, moveInGrid, type Cell } from '../src/extension/dashboard/accessibility';
import { t, tParts } from '../src/extension/protocol/l10n';
import { h, replaceChildren } from './dom';

export interface UiState {
  /** The selected confusion-matrix cell: [true label index, predicted label index]. */
  cell?: [number, number];
  /** The confusion matrix's one tab stop (roving tabindex): the cell that last had focus. */
  focusCell?: [number, number];
}

export interface Sections {
  header: HTMLElement;
  actions: HTMLElement;
  problem: HTMLElement;
  evals: HTMLElement;
  confusion: HTMLElement;
  perClass: HTMLElement;
  config: HTMLElement;
}

export interface RenderContext {
  post: (message: WebviewToExtension) => void;
  ui: UiState;
  /** A run submitted to a cluster: its job's state. */
  cluster?: ClusterStatus;
  /** Re-render after a UI-only change (a cell was selected). */
  rerender: () => void;
}

/** A function, not a table: the translations are installed after this module loads. */
function phaseText(phase: DashboardState['phase']): string {
  switch (phase) {
    case 'waiting':
      return t('starting');
    case 'training':
      return t('training');
    case 'done':
      return t('finished');
    case 'stopped':
      return t('stopped');
    case 'failed':
      return t('failed');
    case 'interrupted':
      return t('interrupted');
  }
}

export function renderAll(sections: Sections, state: DashboardState, ctx: RenderContext): void {
  renderHeader(sections.header, state, ctx.cluster);
  renderActions(sections.actions, state, ctx);
  renderProblem(sections.problem, state);
  renderEvals(sections.evals, state);
  renderConfusion(sections.confusion, state, ctx);
  renderPerClass(sections.perClass, state);
  renderConfig(sections.config, state);
}

function renderHeader(root: HTMLElement, state: DashboardState, cluster: ClusterStatus | undefined): void {
  const facts: string[] = [];
  if (state.totalSteps > 0)
    facts.push(
      t('step {0} / {1}', state.step, state.totalSteps),
      t('epoch {0}', formatEpoch(state.epoch, state.config?.epochs)),
    );
  // A seed ensemble trains its models one after another, each over an equal share of the steps.
  const models = ensembleSizeOf(state.config);
  if (models > 1 && state.totalSteps > 0) {
    const current = Math.min(models, Math.max(1, Math.ceil((state.step * models) / state.totalSteps)));
    facts.push(t('seed ensemble: model {0} of {1}', current, models));
  }
  if (state.device) facts.push(t('device {0}', state.device));
  if (state.phase === 'training' && state.examplesPerS !== undefined)
    facts.push(t('{0} examples/s', state.examplesPerS.toFixed(1)));
  if (state.phase === 'training' && state.etaS !== undefined) facts.push(t('ETA {0}', formatDuration(state.etaS)));
  const best = bestEvalRow(state);
  const kind = runKind(state);
  if (best) {
    facts.push(
      best.perplexity !== undefined
        ? t(
            'best perplexity {0} (MLM loss {1}) at step {2}',
            formatPerplexity(best.perplexity),
            formatMetric(best.loss),
            best.step,
          )
        : kind === 'regression'
          ? t('best MSE {0} at step {1}', formatMetric(best.loss), best.step)
          : kind === 'multi-label'
            ? t('best micro-F1 {0} at step {1}', formatMetric(best.microF1), best.step)
            : t('best accuracy {0} at step {1}', formatMetric(best.accuracy), best.step),
    );
  }
  const pairs = typeof state.config?.textPairColumn === 'string';
  const percent = formatPercent(state.step, state.totalSteps);
  replaceChildren(
    root,
    h(
      'h1',
      {},
      runName(state.runDir),
      ' ',
      kind === 'single-label' && !pairs ? null : h('span', { class: 'task', id: 'task' }, taskText(kind, pairs)),
      ' ',
      clusterSays(cluster, state)
        ? h('span', { class: `phase phase-${cluster.stage}`, id: 'phase' }, clusterStageText(cluster.stage))
        : h('span', { class: `phase phase-${state.phase}`, id: 'phase' }, phaseText(state.phase)),
    ),
    cluster ? clusterLine(cluster) : null,
    h(
      'div',
      {
        class: 'progress',
        role: 'progressbar',
        'aria-valuemin': 0,
        'aria-valuemax': state.totalSteps,
        'aria-valuenow': state.step,
        'aria-label': t('Training progress'),
        title: percent,
      },
      bar(percent),
    ),
    h('p', { class: 'facts', id: 'facts' }, facts.join(' · ')),
    // A finished from-scratch run says how much of its result is the seed's doing.
    state.phase === 'done' &&
      state.task !== 'mlm' &&
      isFromScratch(typeof state.config?.model === 'string' ? state.config.model : undefined)
      ? h('p', { class: 'muted', id: 'seed-note' }, fromScratchSpreadNote(ensembleSizeOf(state.config)))
      : null,
  );
}

/**
 * Whether the phase badge says the cluster job's stage rather than the trainer's phase: between runs of its trainer
 * (queued, preempted, requeued: the trainer's last word is "stopped"), and for a job that ended before its trainer
 * started (cancelled or failed in the queue: the trainer's phase is still "starting").
 */
function clusterSays(cluster: ClusterStatus | undefined, state: DashboardState): cluster is ClusterStatus {
  if (!cluster) return false;
  if (cluster.stage === 'queued' || cluster.stage === 'requeued' || cluster.stage === 'preempted') return true;
  return state.phase === 'waiting' && !clusterActive(cluster);
}

function clusterStageText(stage: ClusterStatus['stage']): string {
  switch (stage) {
    case 'queued':
      return t('queued');
    case 'running':
      return t('running');
    case 'preempted':
      return t('preempted');
    case 'requeued':
      return t('requeued');
    case 'done':
      return t('finished');
    case 'failed':
      return t('failed');
    case 'cancelled':
      return t('cancelled');
    case 'unknown':
      return t('unknown');
  }
}

/** Scheduler text (a reason, a node name) is data: cut to this length, and shown through h() like every string. */
const CLUSTER_TEXT_CHARS = 60;

/**
 * The cluster job's line under the title: `Slurm job 42 · running on node1 · requeued 1× · resumed at step 12`,
 * `Slurm job 42 · preempted → requeued (BeginTime)`, `Slurm job 42 · queued (Priority)`.
 */
function clusterLine(c: ClusterStatus): HTMLElement {
  const data = (value: string) => cut(value, CLUSTER_TEXT_CHARS);
  const parts: string[] = [];
  switch (c.stage) {
    case 'queued':
      parts.push(c.reason ? t('queued ({0})', data(c.reason)) : t('queued'));
      break;
    case 'running':
      parts.push(c.node ? t('running on {0}', data(c.node)) : t('running'));
      break;
    case 'preempted':
      parts.push(t('preempted: writing a checkpoint, then requeued'));
      break;
    case 'requeued':
      parts.push(c.reason ? t('preempted → requeued ({0})', data(c.reason)) : t('preempted → requeued'));
      break;
    case 'done':
      parts.push(c.node ? t('done on {0}', data(c.node)) : t('done'));
      break;
    case 'failed':
      parts.push(c.exitCode ? t('failed (exit {0})', data(c.exitCode)) : t('failed'));
      break;
    case 'cancelled':
      parts.push(t('cancelled'));
      break;
    case 'unknown':
      parts.push(t('no longer known to {0}', c.scheduler));
      break;
  }
  if (c.requeues > 0) parts.push(t('requeued {0}×', c.requeues));
  if (c.resumedAtStep !== undefined) parts.push(t('resumed at step {0}', c.resumedAtStep));
  if (c.unreachable) parts.push(t('last seen; {0} not reachable here', c.scheduler));
  return h(
    'p',
    { class: `cluster cluster-${c.stage}`, id: 'cluster', role: 'status' },
    h('span', { class: 'cluster-job' }, t('{0} job {1}', c.scheduler, data(c.jobId))),
    ' ',
    h('span', { class: 'cluster-state', id: 'cluster-state' }, parts.join(' · ')),
  );
}

/** The header's name of what a run trains (a plain single-label classifier has none). */
function taskText(kind: ReturnType<typeof runKind>, pairs: boolean): string {
  if (kind === 'mlm') return t('masked-LM pre-training');
  if (kind === 'multi-label')
    return pairs ? t('multi-label classification of text pairs') : t('multi-label classification');
  if (kind === 'regression') return pairs ? t('regression on text pairs') : t('regression');
  return t('text-pair classification');
}

/** The progress bar's fill, sized by a class-free width set through CSSOM (allowed by the CSP, unlike style="…"). */
function bar(percent: string): HTMLElement {
  const fill = h('div', { class: 'progress-fill' });
  fill.style.width = percent;
  return fill;
}

function renderActions(root: HTMLElement, state: DashboardState, ctx: RenderContext): void {
  // A cluster run can be stopped (scancel) while its job is queued or running, whatever its trainer last wrote, and
  // is not resumed here while the cluster may run it.
  const onCluster = clusterActive(ctx.cluster);
  const running = ctx.cluster ? onCluster : state.phase === 'training' || state.phase === 'waiting';
  const canResume =
    !onCluster && (state.phase === 'interrupted' || state.phase === 'stopped' || state.phase === 'failed');
  const hasModel = state.bestEval !== undefined || state.done !== undefined;
  // The primary button is what the run's state calls for: Stop while it trains, Resume when it can go on, else the model.
  const primary = running ? 'stop' : canResume ? 'resume' : hasModel ? 'use-model' : '';
  const button = (id: string, role: string, label: string, enabled: boolean, message: WebviewToExtension) =>
    h(
      'vscode-button',
      {
        id,
        'data-focus-key': id,
        secondary: role !== primary,
        disabled: !enabled,
        onclick: () => {
          if (enabled) ctx.post(message);
        },
      },
      label,
    );
  replaceChildren(
    root,
    button('stop', 'stop', t('Stop'), running, { type: 'stop' }),
    button('resume', 'resume', t('Resume'), canResume, { type: 'resume' }),
    // A pre-trained model has no classes to predict: it is the start of a fine-tuning run.
    state.task === 'mlm'
      ? button('fine-tune', 'use-model', t('Fine-tune from this model'), hasModel, { type: 'fineTuneFromModel' })
      : button('classify', 'use-model', t('Classify with this model'), hasModel, { type: 'classifyWithModel' }),
    button('open-model', 'open-model', t('Open model folder'), hasModel, { type: 'openModelFolder' }),
    ctx.cluster ? button('job-log', 'job-log', t('Open job log'), true, { type: 'openJobLog' }) : null,
  );
}

function renderProblem(root: HTMLElement, state: DashboardState): void {
  if (state.phase === 'failed' && state.error) {
    const where = state.error.file ? `${state.error.file}${state.error.line ? `:${state.error.line}` : ''}: ` : '';
    replaceChildren(
      root,
      h('div', { class: 'banner error', role: 'alert' }, t('Training failed. {0}', `${where}${state.error.message}`)),
    );
  } else if (state.phase === 'interrupted') {
    replaceChildren(
      root,
      h(
        'div',
        { class: 'banner warning', role: 'status' },
        t(
          'The training process ended without finishing (closed window, crash or kill). Resume continues from the last checkpoint.',
        ),
      ),
    );
  } else {
    replaceChildren(root);
  }
}

/** Labels are data of any length: at most LABEL_CHARS shown, the whole label in the tooltip. */
const LABEL_CHARS = 40;

function labelText(label: string): HTMLElement {
  return h('span', { class: 'label', title: label }, cut(label, LABEL_CHARS));
}

function table(headers: string[], rows: (string | number | Node)[][], caption?: string, className = ''): HTMLElement {
  return h(
    'table',
    { class: className },
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, ...headers.map((header) => h('th', { scope: 'col' }, header)))),
    h('tbody', {}, ...rows.map((row) => h('tr', {}, ...row.map((cell) => h('td', {}, cell))))),
  );
}

function renderEvals(root: HTMLElement, state: DashboardState): void {
  if (state.evals.length === 0) {
    replaceChildren(root, h('h2', {}, t('Evaluations')), h('p', { class: 'muted' }, t('No evaluation yet.')));
    return;
  }
  const kind = runKind(state);
  // One marker: the evaluation whose model was kept (each improvement was "best" only until the next one).
  const best = bestEvalRow(state);
  // Each kind's own scores: the masked LM's perplexity, a multi-label head's F1s, a regression head's errors.
  const scores = (e: (typeof state.evals)[number]): (string | number)[] =>
    kind === 'mlm'
      ? [formatPerplexity(e.perplexity ?? NaN), formatMetric(e.accuracy)]
      : kind === 'multi-label'
        ? [formatMetric(e.microF1), formatMetric(e.macroF1), formatMetric(e.accuracy)]
        : kind === 'regression'
          ? [formatMetric(e.mae), formatMetric(e.pearson), formatMetric(e.spearman)]
          : [formatMetric(e.accuracy), formatMetric(e.macroF1)];
  const rows = state.evals
    .slice()
    .reverse()
    .map((e) => [
      e.step,
      formatEpoch(e.epoch, state.config?.epochs),
      formatMetric(e.loss),
      ...scores(e),
      e === best ? t('★ best') : '',
    ]);
  const headers =
    kind === 'mlm'
      ? [t('step'), t('epoch'), t('MLM loss'), t('perplexity'), t('masked acc.'), '']
      : kind === 'multi-label'
        ? [t('step'), t('epoch'), t('val loss (BCE)'), t('micro-F1'), t('macro-F1'), t('subset acc.'), '']
        : kind === 'regression'
          ? [t('step'), t('epoch'), t('val MSE'), t('MAE'), t('Pearson'), t('Spearman'), '']
          : [t('step'), t('epoch'), t('val loss'), t('accuracy'), t('macro-F1'), ''];
  replaceChildren(root, h('h2', {}, t('Evaluations')), table(headers, rows, undefined, 'numeric'));
}

function renderConfusion(root: HTMLElement, state: DashboardState, ctx: RenderContext): void {
  // Masked-LM pre-training has no classes: no confusion matrix (nor per-class table). A multi-label or regression
  // evaluation has no confusion matrix either (a multi-label run's per-label table stands in for it).
  if (state.task === 'mlm' || (state.latestEval !== undefined && state.latestEval.confusion.length === 0)) {
    replaceChildren(root);
    return;
  }
  const evaluation = state.latestEval;
  if (!evaluation) {
    replaceChildren(
      root,
      h('h2', {}, t('Confusion matrix')),
      h('p', { class: 'muted' }, t('Shown after the first evaluation.')),
    );
    return;
  }
  const labels = evaluation.labels;
  const selected = ctx.ui.cell;
  // One cell is in the tab order; the arrow keys move between cells (the ARIA grid pattern).
  const tabStop = clampCell(ctx.ui.focusCell ?? selected ?? [0, 0], labels.length);
  const header = h(
    'tr',
    {},
    h(
      'th',
      { class: 'corner', scope: 'col', 'aria-label': t('true label by predicted label') },
      t('true ↓ / predicted →'),
    ),
    ...labels.map((label) => h('th', { scope: 'col' }, labelText(label))),
  );
  const rows = labels.map((trueLabel, r) =>
    h(
      'tr',
      {},
      h('th', { scope: 'row' }, labelText(trueLabel)),
      ...labels.map((predicted, c) => {
        const count = evaluation.confusion[r]?.[c] ?? 0;
        const isSelected = selected?.[0] === r && selected[1] === c;
        const cell = h(
          'button',
          {
            class: `cell ${r === c ? 'diagonal' : 'off'}${isSelected ? ' selected' : ''}`,
            title: t('{0} with true label “{1}” predicted as “{2}”', count, trueLabel, predicted),
            'aria-label': confusionCellName(cut(trueLabel, LABEL_CHARS), cut(predicted, LABEL_CHARS), count),
            'aria-pressed': isSelected ? 'true' : 'false',
            tabindex: r === tabStop[0] && c === tabStop[1] ? 0 : -1,
            'data-row': r,
            'data-col': c,
            'data-focus-key': cellKey([r, c]),
            onclick: () => {
              ctx.ui.cell = isSelected ? undefined : [r, c];
              ctx.rerender();
            },
          },
          count,
        );
        // Shade by the row share so large and small classes read alike; opacity is set through CSSOM.
        cell.style.setProperty('--share', cellShare(evaluation.confusion, r, c).toFixed(3));
        return h('td', {}, cell);
      }),
    ),
  );
  const matrix = h(
    'table',
    {
      class: 'confusion',
      id: 'confusion',
      role: 'grid',
      'aria-labelledby': 'confusion-heading',
      onfocusin: (event: Event) => {
        const at = cellOf(event.target);
        if (at) moveTabStop(matrix, at, ctx.ui);
      },
      onkeydown: (event: Event) => {
        const key = event as KeyboardEvent;
        const from = cellOf(key.target);
        const to = from && moveInGrid(from, key.key, labels.length, key.ctrlKey || key.metaKey);
        if (!to) return;
        key.preventDefault(); // the arrows would scroll the page
        matrix.querySelector<HTMLElement>(`[data-focus-key="${cellKey(to)}"]`)?.focus();
      },
    },
    h('thead', {}, header),
    h('tbody', {}, ...rows),
  );
  replaceChildren(
    root,
    h('h2', { id: 'confusion-heading' }, t('Confusion matrix (step {0})', evaluation.step)),
    h('div', { class: 'scroll' }, matrix),
    selected
      ? renderExamples(state, selected, ctx)
      : h(
          'p',
          { class: 'muted' },
          t('Select a cell (or arrow keys, Enter) to list its misclassified validation examples.'),
        ),
  );
}

function cellKey([r, c]: Cell): string {
  return `cell-${r}-${c}`;
}

function cellOf(target: EventTarget | null): [number, number] | undefined {
  if (!(target instanceof HTMLElement) || !target.classList.contains('cell')) return undefined;
  return [Number(target.dataset.row), Number(target.dataset.col)];
}

/** The focused cell becomes the matrix's one tab stop, remembered across the re-renders that rebuild the matrix. */
function moveTabStop(matrix: HTMLElement, at: [number, number], ui: UiState): void {
  ui.focusCell = at;
  for (const cell of matrix.querySelectorAll<HTMLElement>('.cell[tabindex="0"]')) cell.tabIndex = -1;
  const cell = matrix.querySelector<HTMLElement>(`[data-focus-key="${cellKey(at)}"]`);
  if (cell) cell.tabIndex = 0;
}

function renderExamples(state: DashboardState, [r, c]: [number, number], ctx: RenderContext): HTMLElement {
  const evaluation = state.latestEval!;
  const trueLabel = evaluation.labels[r];
  const predicted = evaluation.labels[c];
  if (trueLabel === undefined || predicted === undefined) return h('p', {});
  const heading = h('h3', {}, ...tParts('True “{0}”, predicted “{1}”', labelText(trueLabel), labelText(predicted)));
  if (r === c)
    return h(
      'div',
      { id: 'examples' },
      heading,
      h('p', { class: 'muted' }, t('Correct predictions: no examples are kept for these.')),
    );
  const examples = examplesForCell(evaluation, trueLabel, predicted);
  if (examples.length === 0)
    return h(
      'div',
      { id: 'examples' },
      heading,
      h('p', { class: 'muted' }, t('No examples were sampled for this cell.')),
    );
  return h(
    'div',
    { id: 'examples' },
    heading,
    h(
      'ul',
      { class: 'examples' },
      ...examples.map((m, i) =>
        h(
          'li',
          {},
          h(
            'a',
            {
              href: '#',
              class: 'location',
              'data-focus-key': `example-${i}`,
              title: t('Open {0} at line {1}', m.file, m.line),
              onclick: (event: Event) => {
                event.preventDefault();
                ctx.post({ type: 'openExample', file: m.file, line: m.line });
              },
            },
            `${baseName(m.file)}:${m.line}`,
          ),
          ' ',
          h('span', { class: 'example-text' }, m.text),
        ),
      ),
    ),
  );
}

function baseName(file: string): string {
  return file.split(/[\\/]/).pop() ?? file;
}

function renderPerClass(root: HTMLElement, state: DashboardState): void {
  const evaluation = state.latestEval;
  if (!evaluation || state.task === 'mlm') {
    replaceChildren(root);
    return;
  }
  // A multi-label head predicts each label at or above its own threshold: shown beside the label's scores.
  const thresholds = evaluation.task === 'multi-label' ? evaluation.thresholds : undefined;
  const rows = evaluation.labels.map((label) => {
    const m = ownValue(evaluation.per_class, label);
    return [
      labelText(label),
      formatMetric(m?.precision),
      formatMetric(m?.recall),
      formatMetric(m?.f1),
      m?.support ?? '–',
      ...(thresholds ? [formatMetric(ownValue(thresholds, label))] : []),
    ];
  });
  const headers = [t('label'), t('precision'), t('recall'), t('F1'), t('support')];
  replaceChildren(
    root,
    h('h2', {}, thresholds ? t('Per label') : t('Per class')),
    table(thresholds ? [...headers, t('threshold')] : headers, rows, undefined, 'numeric'),
  );
}

function renderConfig(root: HTMLElement, state: DashboardState): void {
  const rows: (string | number)[][] = [];
  if (state.dataset && state.task === 'mlm') {
    rows.push([t('text'), state.dataset.files.join(', ')]);
    rows.push([t('train / held-out windows'), `${state.dataset.train_rows} / ${state.dataset.valid_rows}`]);
  } else if (state.dataset) {
    rows.push([t('dataset'), state.dataset.files.join(', ')]);
    rows.push([t('train / validation rows'), `${state.dataset.train_rows} / ${state.dataset.valid_rows}`]);
    rows.push([t('labels'), state.dataset.labels.map((l) => cut(l, LABEL_CHARS)).join(', ')]);
  }
  if (state.startedAt) rows.push([t('started'), state.startedAt.replace('T', ' ').slice(0, 19)]);
  if (state.resumedFromStep !== undefined) rows.push([t('resumed from step'), state.resumedFromStep]);
  for (const [key, value] of Object.entries(state.config ?? {})) rows.push([key, formatConfigValue(value)]);
  rows.push([t('run folder'), state.runDir]);
  replaceChildren(
    root,
    h('h2', {}, t('Run configuration')),
    table([t('setting'), t('value')], rows, undefined, 'config'),
  );
}

/**
 * The dashboard's view of one run, built by folding trainer events (see src/trainer/protocol.ts) in order.
 * Both sides of the webview contract use this reducer: the extension folds metrics.jsonl into a snapshot, and the
 * webview folds the deltas that follow, so the two can never disagree about what an event means.
 * Imports types only, so the webview bundle carries no Node code.
 */
import type {
  DatasetSummary,
  DoneEvent,
  ErrorEvent,
  EvalEvent,
  StartedEvent,
  StepEvent,
  TrainerEvent,
  TrainTask,
} from '../../trainer/protocol';

/**
 * waiting: no `started` event yet. training: started, not finished (or its process is alive).
 * interrupted: not finished, but its process is gone (set by the extension, never by an event).
 */
export type RunPhase = 'waiting' | 'training' | 'done' | 'stopped' | 'failed' | 'interrupted';

/** One row of the eval table (the heavy parts of an eval event live only in `latestEval`). */
export interface EvalRow {
  step: number;
  epoch: number;
  loss: number;
  /** Classification accuracy, or the masked-token accuracy of a pre-training run. */
  accuracy: number;
  /** Fine-tuning only. */
  macroF1?: number;
  /** Multi-label only (accuracy is then the subset accuracy). */
  microF1?: number;
  /** Regression only (loss is then the mean squared error). */
  mae?: number;
  pearson?: number;
  spearman?: number;
  /** Pre-training only. */
  perplexity?: number;
  isBest: boolean;
}

export interface DashboardState {
  runDir: string;
  phase: RunPhase;
  /** From the `started` event: 'mlm' for a pre-training run (no classes: no confusion matrix, perplexity instead). */
  task: TrainTask;
  startedAt?: string;
  pid?: number;
  device?: string;
  config?: Record<string, unknown>;
  dataset?: DatasetSummary;
  totalSteps: number;
  step: number;
  epoch: number;
  /** From the latest step event. */
  loss?: number;
  etaS?: number;
  examplesPerS?: number;
  resumedFromStep?: number;
  /** Column arrays, ready for uPlot, one entry per step event. */
  train: { step: number[]; loss: number[]; lr: number[] };
  evals: EvalRow[];
  /** The latest eval in full: confusion matrix, per-class metrics, misclassified examples. */
  latestEval?: EvalEvent;
  /** The eval the trainer marked best (kept in full so the dashboard can show the model that was saved). */
  bestEval?: EvalEvent;
  lastCheckpoint?: { step: number; path: string };
  done?: DoneEvent;
  error?: ErrorEvent;
}

export function emptyDashboardState(runDir: string): DashboardState {
  return {
    runDir,
    phase: 'waiting',
    task: 'classify',
    totalSteps: 0,
    step: 0,
    epoch: 0,
    train: { step: [], loss: [], lr: [] },
    evals: [],
  };
}

/** Folds one event into `state`, in place (a run can have tens of thousands of steps; copying each time is waste). */
export function applyEvent(state: DashboardState, event: TrainerEvent): void {
  switch (event.event) {
    case 'started':
      return applyStarted(state, event);
    case 'step':
      return applyStep(state, event);
    case 'eval':
      return applyEval(state, event);
    case 'checkpoint':
      state.lastCheckpoint = { step: event.step, path: event.path };
      return;
    case 'done':
      state.done = event;
      state.phase = event.stopped ? 'stopped' : 'done';
      state.step = Math.max(state.step, event.final_step);
      state.etaS = undefined;
      return;
    case 'error':
      state.error = event;
      state.phase = 'failed';
      state.etaS = undefined;
      return;
    case 'log':
      return;
  }
}

export function applyEvents(state: DashboardState, events: readonly TrainerEvent[]): void {
  for (const event of events) applyEvent(state, event);
}

function applyStarted(state: DashboardState, event: StartedEvent): void {
  state.phase = 'training';
  state.task = event.task ?? 'classify';
  state.startedAt = event.time;
  state.pid = event.pid;
  state.device = event.device;
  state.config = event.config;
  state.dataset = event.dataset;
  state.totalSteps = event.total_steps;
  state.done = undefined;
  state.error = undefined;
  state.resumedFromStep = event.resumed_from_step;
  if (event.resumed_from_step !== undefined) {
    // Steps after the checkpoint we resume from are trained again; drop the first attempt's points.
    const keep = event.resumed_from_step;
    const cut = state.train.step.findIndex((s) => s > keep);
    if (cut >= 0) {
      state.train.step.length = cut;
      state.train.loss.length = cut;
      state.train.lr.length = cut;
    }
    state.evals = state.evals.filter((row) => row.step <= keep);
    state.step = Math.min(state.step, keep);
  }
}

function applyStep(state: DashboardState, event: StepEvent): void {
  state.train.step.push(event.step);
  state.train.loss.push(event.loss);
  state.train.lr.push(event.lr);
  state.step = event.step;
  state.epoch = event.epoch;
  state.totalSteps = event.total_steps;
  state.loss = event.loss;
  state.etaS = event.eta_s;
  state.examplesPerS = event.examples_per_s;
}

function applyEval(state: DashboardState, event: EvalEvent): void {
  state.evals.push({
    step: event.step,
    epoch: event.epoch,
    loss: event.loss,
    accuracy: event.accuracy,
    isBest: event.is_best,
    ...(event.task === 'mlm'
      ? { perplexity: event.perplexity }
      : event.task === 'regression'
        ? { mae: event.mae, pearson: event.pearson, spearman: event.spearman }
        : event.task === 'multi-label'
          ? { macroF1: event.macro_f1, microF1: event.micro_f1 }
          : { macroF1: event.macro_f1 }),
  });
  state.latestEval = event;
  if (event.is_best) state.bestEval = event;
}

/** What a run trains: a classifier of one label, of label sets, a regression head, or a masked LM (pre-training). */
export type RunKind = 'single-label' | 'multi-label' | 'regression' | 'mlm';

/** The run's kind, from its settings (run.json's problemType, in the `started` event) or else its evaluations. */
export function runKind(state: DashboardState): RunKind {
  if (state.task === 'mlm') return 'mlm';
  const problem = state.config?.problemType ?? state.latestEval?.task;
  return problem === 'multi-label' || problem === 'regression' ? problem : 'single-label';
}

/** A regression run's validation documents as the scatter plot draws them: true value (x) against predicted (y). */
export interface RegressionScatter {
  /** The evaluation they come from (the latest). */
  step: number;
  /** True values, ascending (uPlot wants its x column sorted). */
  target: number[];
  /** The predicted value of each, in the same order. */
  predicted: number[];
  pearson: number;
  mae: number;
}

/**
 * The latest evaluation's predicted-vs-true points of a regression run, sorted by true value; points that are not
 * finite numbers (a diverged model's NaN is null in JSON) are left out. Undefined for another kind of run, or a
 * regression run written before its eval events carried points.
 */
export function regressionScatter(state: DashboardState): RegressionScatter | undefined {
  const e = state.latestEval;
  if (e?.task !== 'regression' || !e.points) return undefined;
  const { target, predicted } = e.points;
  if (!Array.isArray(target) || !Array.isArray(predicted)) return undefined;
  const points: [number, number][] = [];
  for (let i = 0; i < Math.min(target.length, predicted.length); i++)
    if (Number.isFinite(target[i]) && Number.isFinite(predicted[i])) points.push([target[i], predicted[i]]);
  points.sort((a, b) => a[0] - b[0]);
  return {
    step: e.step,
    target: points.map((p) => p[0]),
    predicted: points.map((p) => p[1]),
    pearson: e.pearson,
    mae: e.mae,
  };
}

/** The best eval row so far (the one the trainer saved), or the latest when none was marked best. */
export function bestEvalRow(state: DashboardState): EvalRow | undefined {
  for (let i = state.evals.length - 1; i >= 0; i--) if (state.evals[i].isBest) return state.evals[i];
  return state.evals[state.evals.length - 1];
}

/** The run's folder name, which is what users call a run. Works for / and \ separators. */
export function runName(runDir: string): string {
  const parts = runDir.split(/[\\/]/).filter((p) => p.length > 0);
  return parts[parts.length - 1] ?? runDir;
}

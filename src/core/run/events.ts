/**
 * The training events: what a training run (the trainer child process or the CLI) reports while it trains.
 * They live in core because the training loop emits them; src/trainer/protocol.ts is the child-process contract
 * built on them.
 * Every event is one JSON object `{ "event": "<name>", ... }`. The child process sends each event to its parent with
 * `process.send` and appends it, as one line, to `<run>/metrics.jsonl`, so a UI can reattach to a running or finished
 * run from the file alone. `bertft train --json` prints the same objects, one per line. Field names are snake_case
 * because they are a file and CLI contract other tools rely on.
 */
import { asUserFacing, isUserError } from '../errors';
import type { ClassMetrics } from '../util/metrics';

export type { ClassMetrics } from '../util/metrics';

/** What a run trains: a text classifier (fine-tuning) or the masked-LM head (pre-training). */
export type TrainTask = 'classify' | 'mlm';

/** Rows are labelled examples when fine-tuning; when pre-training they are token windows (and `labels` is empty). */
export interface DatasetSummary {
  train_rows: number;
  valid_rows: number;
  /** Pre-training: the windows of ≤ max_length tokens trained on and held out (the same counts as the rows). */
  train_windows?: number;
  valid_windows?: number;
  labels: string[];
  /** label → count in the training split */
  label_counts: Record<string, number>;
  files: string[];
}

export interface StartedEvent {
  event: 'started';
  time: string;
  run_dir: string;
  pid: number;
  /** The full resolved training configuration (also in run.json). */
  config: Record<string, unknown>;
  /** Absent in runs written before pre-training used this contract: 'classify'. */
  task?: TrainTask;
  device: string;
  /** Why other devices were refused, for the log. */
  device_notes: string[];
  dataset: DatasetSummary;
  total_steps: number;
  resumed_from_step?: number;
}

export interface StepEvent {
  event: 'step';
  time: string;
  step: number;
  total_steps: number;
  epoch: number;
  loss: number;
  lr: number;
  grad_norm: number;
  examples_per_s: number;
  eta_s: number;
}

export interface MisclassifiedExample {
  text: string;
  label: string;
  predicted: string;
  file: string;
  line: number;
}

interface EvalEventBase {
  event: 'eval';
  time: string;
  step: number;
  epoch: number;
  loss: number;
  accuracy: number;
  labels: string[];
  /** confusion[true][predicted], indexed like `labels` */
  confusion: number[][];
  per_class: Record<string, ClassMetrics>;
  /** A bounded sample of misclassified validation examples (for the confusion-matrix cells). */
  misclassified: MisclassifiedExample[];
  is_best: boolean;
}

/** A classifier's evaluation on the validation split. */
export interface ClassifyEvalEvent extends EvalEventBase {
  task?: 'classify';
  macro_f1: number;
}

/**
 * A masked-LM evaluation on the held-out windows with fixed masks: `loss` is the MLM loss and `accuracy` the share of
 * masked tokens predicted right; there are no classes, so labels, confusion, per_class and misclassified are empty.
 */
export interface MlmEvalEvent extends EvalEventBase {
  task: 'mlm';
  /** exp(loss). */
  perplexity: number;
  /** How many tokens the loss and accuracy count. */
  masked_tokens: number;
}

/**
 * A regression head's evaluation (`loss` is the mean squared error): there are no classes, so accuracy is NaN (null in
 * JSON) and labels, confusion, per_class and misclassified are empty. Pearson and Spearman are NaN when either side is
 * constant.
 */
export interface RegressionEvalEvent extends EvalEventBase {
  task: 'regression';
  mse: number;
  mae: number;
  pearson: number;
  spearman: number;
  /**
   * The validation documents' true and predicted values, in the same order (every document, or an evenly spaced
   * sample of them): the dashboard's predicted-vs-true scatter plot. Absent from runs written before it was added.
   */
  points?: RegressionPoints;
}

export interface RegressionPoints {
  target: number[];
  predicted: number[];
}

/**
 * A multi-label head's evaluation (`loss` is the mean binary cross-entropy; `accuracy` the subset accuracy: rows whose
 * whole predicted set is right). Each label is predicted above its own threshold, tuned on this validation data to
 * maximise that label's F1 (so these scores are optimistic; best/thresholds.json keeps the best model's). `per_class`
 * holds each label's precision, recall, F1 and support (positives); confusion and misclassified are empty.
 */
export interface MultiLabelEvalEvent extends EvalEventBase {
  task: 'multi-label';
  micro_f1: number;
  macro_f1: number;
  subset_accuracy: number;
  /** label → its threshold on the sigmoid probability (a record: read it with ownValue, labels are data). */
  thresholds: Record<string, number>;
}

export type EvalEvent = ClassifyEvalEvent | MlmEvalEvent | RegressionEvalEvent | MultiLabelEvalEvent;

/** An eval event without the parts the loop fills in (time, step, epoch, is_best): what an evaluation produces. */
export type EvalScores = DistributiveOmit<EvalEvent, 'event' | 'time' | 'step' | 'epoch' | 'is_best'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface CheckpointEvent {
  event: 'checkpoint';
  time: string;
  step: number;
  path: string;
}

export interface DoneEvent {
  event: 'done';
  time: string;
  stopped: boolean;
  best_step: number;
  best_metric: number;
  /** 'loss' | 'accuracy' | 'macro_f1' when fine-tuning; 'mlm_loss' when pre-training. */
  metric_name: string;
  best_dir: string;
  run_dir: string;
  final_step: number;
  /** True when early stopping ended the run (patience evaluations without improvement). */
  early_stopped?: boolean;
}

export interface ErrorEvent {
  event: 'error';
  time: string;
  /** What the user should read: what went wrong and what to do. */
  message: string;
  /** Technical detail (stack, native message) for the log. */
  detail?: string;
  file?: string;
  line?: number;
}

/** A free-form line for the log (device selection, warnings). Not appended to metrics.jsonl. */
export interface LogEvent {
  event: 'log';
  time: string;
  level: 'info' | 'warn';
  message: string;
  /** Progress the user waits on before the run's steps (seed screening): the CLI prints it as well. */
  notice?: boolean;
}

export type TrainerEvent = StartedEvent | StepEvent | EvalEvent | CheckpointEvent | DoneEvent | ErrorEvent | LogEvent;

/** The device notes that say why a device was not used: refused before, or failed at session creation. */
export function deviceRefusals(notes: readonly string[]): string[] {
  return notes.filter((n) => /not using|falling back|fell back/i.test(n));
}

/**
 * A device asked for by name (not 'auto', which takes the first that works) that the run does not run on, with why
 * (its refusal notes without the log's "engine: " prefix): the fallback the user is told of.
 */
export function deviceFallback(started: StartedEvent): { asked: string; reasons: string[] } | undefined {
  const asked = started.config.device;
  if (typeof asked !== 'string' || asked === 'auto' || asked === started.device) return undefined;
  return { asked, reasons: deviceRefusals(started.device_notes).map((n) => n.replace(/^engine: /, '')) };
}

/**
 * What of a log line the user sees beside the log (the CLI's lines, the editor's start-up notification): warnings and
 * notices; the rest (the engine's device and memory choices) is for the log file and the output channel only.
 */
export function logLineForUser(event: LogEvent): string | undefined {
  if (event.level === 'warn') return `warning: ${event.message}`;
  return event.notice ? event.message : undefined;
}

export function isTrainerEvent(value: unknown): value is TrainerEvent {
  if (typeof value !== 'object' || value === null) return false;
  const name = (value as { event?: unknown }).event;
  return (
    name === 'started' ||
    name === 'step' ||
    name === 'eval' ||
    name === 'checkpoint' ||
    name === 'done' ||
    name === 'error' ||
    name === 'log'
  );
}

/** The `error` event and exit code for a failure: 1 for bad input the user can fix, 2 for a bug. */
export function sessionErrorEvent(error: unknown): { event: ErrorEvent; exitCode: number } {
  const time = new Date().toISOString();
  const e = asUserFacing(error);
  if (isUserError(e)) {
    return {
      event: { event: 'error', time, message: e.describe(), detail: e.stack, file: e.file, line: e.line },
      exitCode: 1,
    };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return { event: { event: 'error', time, message: `Internal error: ${err.message}`, detail: err.stack }, exitCode: 2 };
}

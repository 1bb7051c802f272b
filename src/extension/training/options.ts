/**
 * From the Fine-tune and Pre-train flows' answers to the trainer's request, and the run folder's name. Pure (no VS
 * Code), so the mapping is unit-tested; the flows only ask questions.
 */
import * as path from 'node:path';
import type { DeviceChoice } from '../../core/runtime/devices';
import { presetConfig } from '../../core/model/config';
import {
  isFromScratch,
  resolveTrainConfig,
  type FineTuneTask,
  type PresetName,
  type SelectionMetric,
  type TrainOverrides,
  type Truncation,
} from '../../core/train/presets';
import type { LrSchedule } from '../../core/train/schedule';
import type { TrainerRequest } from '../../trainer/protocol';
import type { EstimateOptions, SessionOptions } from '../../core/finetune/session';
import type { CheckReport } from '../../core/data/check';
import { mapOfRecord } from '../../core/util/records';
import { say, type Message } from '../display/text';
import type { ClusterChoice } from './cluster';

export interface FineTuneChoices {
  /** Absolute dataset file or folder. */
  data: string;
  textColumn?: string;
  labelColumn?: string;
  /** Hub id, local folder or random:SIZE. */
  model: string;
  preset: PresetName;
  device: DeviceChoice;
  /** Custom preset values and settings; undefined = the preset's. */
  epochs?: number;
  batchSize?: number;
  lr?: number;
  maxLength?: number;
  truncation?: Truncation;
  /** The Advanced step's choices that differ from the preset's (changedSettings). */
  advanced?: Partial<TrainOverrides>;
  /** The task the dataset check detected (taskOptions): what `--task` and the label / pair flags would say. */
  task?: TaskOptions;
  /** Submit the run to the cluster (the last step's "Slurm cluster") instead of training it on this machine. */
  cluster?: ClusterChoice;
}

/** The trainer's options for the task the dataset check detected. */
export type TaskOptions = Pick<TrainOverrides, 'problemType' | 'labelSeparator' | 'labelColumns' | 'textPairColumn'>;

/**
 * The trainer's options for what the dataset check detected (core/data/detect-task.ts): `multi-label` with how its
 * label sets are written (label lists need nothing more), `regression`, and the second text's column of a pair
 * (given explicitly: the flow also names the text column, which turns the trainer's own pair detection off).
 */
export function taskOptions(report: CheckReport): TaskOptions {
  const options: TaskOptions = {};
  if (report.task === 'regression') options.problemType = 'regression';
  const format = report.multiLabel?.format;
  if (report.task === 'multi-label' && format) {
    options.problemType = 'multi-label';
    if (format.source === 'separator' && format.separator !== undefined) options.labelSeparator = format.separator;
    if (format.source === 'columns' && format.labelColumns) options.labelColumns = format.labelColumns;
  }
  if (report.textPairColumn !== undefined) options.textPairColumn = report.textPairColumn;
  return options;
}

/**
 * What the flow says it detected: `several labels per row (separated by "|"), 24 labels`, `a number per row
 * (regression)`, `one label per row, 2 classes`, and a text pair's second column. Labels and columns are data.
 */
export function describeTask(report: CheckReport): Message {
  const count = mapOfRecord(report.labels).size;
  const format = report.multiLabel?.format;
  const how =
    format?.source === 'columns'
      ? say` (one 0/1 column per label)`
      : format?.source === 'separator' && format.separator !== undefined
        ? say` (separated by "${format.separator}")`
        : format?.source === 'list'
          ? say` (label lists)`
          : say``;
  const task =
    report.task === 'regression'
      ? say`a number per row (regression)`
      : report.task === 'multi-label'
        ? say`several labels per row${how}, ${count} labels`
        : say`one label per row, ${count} classes`;
  return report.textPairColumn === undefined
    ? say`Detected: ${task}`
    : say`Detected: ${task}; text pairs with "${report.textPairColumn}"`;
}

/** `20261125-081502-reviews`: sortable by time, recognisable by dataset. */
export function runFolderName(date: Date, data: string): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp = `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}-${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
  const base = path
    .basename(data, path.extname(data))
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return base ? `${stamp}-${base}` : stamp;
}

export function sessionOptions(choices: FineTuneChoices, out: string): SessionOptions {
  return { ...estimateOptions(choices), out };
}

/** The same run's estimate (`bertft train --estimate`): no run folder yet. */
export function estimateOptions(choices: FineTuneChoices): EstimateOptions {
  const options: EstimateOptions = {
    data: choices.data,
    model: choices.model,
    preset: choices.preset,
    device: choices.device,
  };
  if (choices.textColumn !== undefined) options.textColumn = choices.textColumn;
  if (choices.labelColumn !== undefined) options.labelColumn = choices.labelColumn;
  if (choices.epochs !== undefined) options.epochs = choices.epochs;
  if (choices.batchSize !== undefined) options.batchSize = choices.batchSize;
  if (choices.lr !== undefined) options.lr = choices.lr;
  if (choices.maxLength !== undefined) options.maxLength = choices.maxLength;
  if (choices.truncation !== undefined) options.truncation = choices.truncation;
  return { ...options, ...choices.task, ...choices.advanced };
}

/** A pre-training request from the flow's answers and the settings that apply to it (empty settings: the defaults). */
export function pretrainRequest(
  choices: { data: string; model: string },
  out: string,
  settings: { device: DeviceChoice; maxLength?: number; batchSize?: number },
): TrainerRequest {
  const request: TrainerRequest = {
    task: 'mlm',
    data: choices.data,
    model: choices.model,
    out,
    device: settings.device,
  };
  if (settings.maxLength !== undefined) request.maxLength = settings.maxLength;
  if (settings.batchSize !== undefined) request.batchSize = settings.batchSize;
  return request;
}

/**
 * The request that continues an existing run: a fine-tuning run's run.json config, or a pre-training run's (kind
 * 'pretrain') stored options, with `resume`. Returns undefined when run.json is missing the fields a resume needs.
 */
export function resumeOptions(runJson: unknown, runDir: string): TrainerRequest | undefined {
  const run = runJson as
    { kind?: unknown; config?: Record<string, unknown>; options?: Record<string, unknown> } | undefined;
  if (run?.kind === 'pretrain') {
    // The pre-training session reads every setting from run.json itself.
    return run.options && typeof run.options.data === 'string'
      ? { task: 'mlm', data: run.options.data, out: runDir, resume: true }
      : undefined;
  }
  const config = run?.config;
  if (!config || typeof config.data !== 'string') return undefined;
  return { ...(config as unknown as SessionOptions), out: runDir, resume: true };
}

/** A positive number typed by the user, or an explanation why not (for showInputBox's validateInput). */
export function validatePositive(text: string, integer: boolean): string | undefined {
  const value = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) return 'Enter a number greater than 0.';
  if (integer && !Number.isInteger(value)) return 'Enter a whole number.';
  return undefined;
}

/**
 * What the Fine-tune flow's Advanced step edits: the training options of `bertft train` a guided run wants. Early
 * stopping's patience 0 means off.
 */
export interface AdvancedSettings {
  epochs: number;
  lr: number;
  batchSize: number;
  gradientAccumulationSteps: number;
  lrSchedule: LrSchedule;
  warmupRatio: number;
  labelSmoothing: number;
  classWeights: boolean;
  earlyStoppingPatience: number;
  metric: SelectionMetric;
}

/**
 * The values a Fast run of `model` would use (from-scratch values for random:SIZE) for `task` (the detected one; a
 * multi-label run keeps its best model by micro-F1, a regression run by its loss), as `bertft train` resolves them.
 */
export function advancedDefaults(model: string, task?: FineTuneTask): AdvancedSettings {
  const c = fastConfig(model, task);
  return {
    epochs: c.epochs,
    lr: c.lr,
    batchSize: c.batchSize,
    gradientAccumulationSteps: c.gradientAccumulationSteps ?? 1,
    lrSchedule: c.lrSchedule ?? 'linear',
    warmupRatio: c.warmupRatio,
    labelSmoothing: c.labelSmoothing ?? 0,
    classWeights: c.classWeights,
    earlyStoppingPatience: c.earlyStoppingPatience ?? 0,
    metric: c.metric,
  };
}

/** The whole configuration a Fast run of `model` would resolve to, as `bertft train` resolves it. */
function fastConfig(model: string, task: FineTuneTask | undefined): ReturnType<typeof resolveTrainConfig> {
  const hiddenSize = isFromScratch(model) ? presetConfig(model.slice('random:'.length)).hiddenSize : undefined;
  const problemType = task === undefined ? {} : { problemType: task };
  return resolveTrainConfig({ data: '', out: '', model, preset: 'fast', ...problemType }, [], 512, { hiddenSize });
}

/**
 * What the Fast item says beyond the Advanced defaults: whether a Fast run of `model` groups its batches by length (a
 * from-scratch one draws them at random), and how many seeds' models it averages (three from scratch).
 */
export function fastShape(model: string, task?: FineTuneTask): { groupByLength: boolean; ensembleSize: number } {
  const c = fastConfig(model, task);
  return { groupByLength: c.groupByLength, ensembleSize: c.ensembleSize ?? 1 };
}

/** Which of the Advanced step's options a task has: the trainer refuses the others (core/train/presets.ts). */
export interface AdvancedScope {
  /** Cross-entropy's label smoothing: one label per row only. */
  labelSmoothing: boolean;
  /** Class weights (multi-label: each label's positive weight); a regression run has no classes. */
  classWeights: boolean;
  /** The best-model metrics offered; none when fixed (a regression run keeps its lowest validation MSE). */
  metrics: readonly SelectionMetric[];
}

/**
 * The Advanced step's options for `task` (undefined: one label per row). One label per row is not offered micro-F1,
 * which equals its accuracy there.
 */
export function advancedScope(task: FineTuneTask | undefined): AdvancedScope {
  if (task === 'regression') return { labelSmoothing: false, classWeights: false, metrics: [] };
  if (task === 'multi-label')
    return { labelSmoothing: false, classWeights: true, metrics: ['micro_f1', 'macro_f1', 'accuracy', 'loss'] };
  return { labelSmoothing: true, classWeights: true, metrics: ['accuracy', 'macro_f1', 'loss'] };
}

/** Only what the user changed goes into the request; the rest stays the preset's, resolved by the trainer. */
export function changedSettings(defaults: AdvancedSettings, chosen: AdvancedSettings): Partial<TrainOverrides> {
  const changed: Partial<TrainOverrides> = {};
  for (const key of Object.keys(defaults) as (keyof AdvancedSettings)[]) {
    if (chosen[key] === defaults[key]) continue;
    if (key === 'earlyStoppingPatience') changed.earlyStoppingPatience = chosen[key] > 0 ? chosen[key] : undefined;
    else Object.assign(changed, { [key]: chosen[key] });
  }
  return changed;
}

/** A number typed by the user in [min, max) (an integer when asked), or an explanation why not. */
export function validateNumber(
  text: string,
  range: { min: number; max?: number; integer?: boolean; minIncluded?: boolean },
): string | undefined {
  const value = Number(text.trim());
  const aboveMin = range.minIncluded ? value >= range.min : value > range.min;
  if (text.trim() === '' || !Number.isFinite(value) || !aboveMin || (range.max !== undefined && value >= range.max)) {
    const low = range.minIncluded ? `at least ${range.min}` : `greater than ${range.min}`;
    return range.max === undefined ? `Enter a number ${low}.` : `Enter a number ${low} and below ${range.max}.`;
  }
  if (range.integer && !Number.isInteger(value)) return 'Enter a whole number.';
  return undefined;
}

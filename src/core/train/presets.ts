/**
 * The resolved training configuration and the presets it starts from. `tutorial` repeats the Hugging Face course
 * recipe; `fast` (the default) sizes the run to the data: max length from the token-length histogram (p95 rounded
 * up to a multiple of 8, capped at 512), dynamic padding, length-grouped batches and a warmup ratio instead of a
 * fixed warmup. Anything the user sets explicitly wins over the preset.
 */
import { UserError } from '../errors';
import type { DeviceChoice } from '../runtime/devices';
import type { LrSchedule } from './schedule';

export type PresetName = 'fast' | 'tutorial';
export type Truncation = 'head' | 'head+tail' | 'window';
/** micro_f1: a multi-label run's default; for one label per row it equals accuracy. */
export const SELECTION_METRICS = ['loss', 'accuracy', 'macro_f1', 'micro_f1'] as const;
export type SelectionMetric = (typeof SELECTION_METRICS)[number];

export interface TrainConfig {
  preset: PresetName;
  data: string;
  valid?: string;
  textColumn?: string;
  labelColumn?: string;
  /** The second text's column of a text-pair task (given, or detected from common names); unset for single texts. */
  textPairColumn?: string;
  /** Hub id, model directory, run directory, or random:SIZE. */
  model: string;
  out: string;
  epochs: number;
  batchSize: number;
  lr: number;
  maxLength: number;
  truncation: Truncation;
  warmupSteps?: number;
  warmupRatio: number;
  weightDecay: number;
  /** Evaluate every N optimizer steps (and always at each epoch end); undefined = only at epoch ends. */
  evalSteps?: number;
  metric: SelectionMetric;
  /** Stop after this many evaluations without improvement; undefined = no early stopping. */
  earlyStoppingPatience?: number;
  /** The least change of the metric that counts as an improvement. */
  earlyStoppingThreshold: number;
  classWeights: boolean;
  maxSteps?: number;
  /** The seed of the validation split and, unless `trainSeed` is set, of everything else. */
  seed: number;
  /**
   * The seed of the initial weights, the batch order and dropout, when it differs from `seed`: seed screening keeps
   * the split of `seed` and tries several of these. Unset = `seed`.
   */
  trainSeed?: number;
  /**
   * Seed screening: train this many train seeds (the run's seed and others, core/finetune/screening.ts) for
   * `screenEpochs` epochs each, keep the one with the best selection metric, and train it from the start to the end
   * (its first epochs repeat exactly).
   * Unset or 1 = one seed.
   */
  seedCandidates?: number;
  /** Epochs each seed candidate trains before the best is kept. */
  screenEpochs?: number;
  /** What screening measured: each candidate's train seed and its selection metric after `screenEpochs` epochs. */
  seedScreening?: SeedScreening;
  /**
   * A seed ensemble: this many models trained one after another with different train seeds (the run's own, then
   * those of core/finetune/ensemble.ts `memberSeed`), each to its own best evaluation; best/ predicts with the mean
   * of their probabilities. Unset (older runs) or 1 = one model.
   */
  ensembleSize?: number;
  device: DeviceChoice;
  dynamicPadding: boolean;
  groupByLength: boolean;
  /** Fraction of the data held out for validation when no --valid file is given. */
  validRatio: number;
  /** Checkpoints kept besides the best one. */
  saveTotalLimit: number;
  /** Dropout during training (the model config's rates). */
  dropout: boolean;
  evalBatchSize: number;
  /**
   * Optimizer steps per engine call: K > 1 runs K steps inside one ONNX Loop (fewer session calls and host/device
   * copies, which pays on a GPU); the numbers equal K single steps. Unset (older runs) = 1.
   */
  stepsPerRun?: number;
  /**
   * Batches per optimizer step (HF gradient_accumulation_steps): the step takes the mean gradient of this many
   * batches, so the effective batch is batchSize × this; steps, warmup, the schedule and evalSteps count optimizer
   * steps. Unset (older runs) = 1.
   */
  gradientAccumulationSteps?: number;
  /** The learning rate after warmup (HF get_*_schedule_with_warmup). Unset (older runs) = linear. */
  lrSchedule?: LrSchedule;
  /** torch CrossEntropyLoss's label_smoothing ε. Unset (older runs) = 0. */
  labelSmoothing?: number;
  /**
   * `--task`: what the label column holds: classes (classification, the default; unset in older runs) or a number per text
   * (regression: one output, mean squared error, selected by validation loss).
   */
  problemType?: FineTuneTask;
  /** multi-label: the separator of a delimited label cell (`--label-separator`; detected when unset). */
  labelSeparator?: string;
  /** multi-label: one 0/1 column per label (`--label-columns`), the labels in this order. */
  labelColumns?: string[];
}

export interface SeedScreening {
  metric: SelectionMetric;
  epochs: number;
  /** Candidates the plan asked for (fewer were measured when the run was stopped during screening). */
  planned: number;
  /** Each candidate's selection metric and validation loss after `epochs` epochs. */
  candidates: { trainSeed: number; value: number; loss: number }[];
  /** The kept candidate's train seed. */
  kept: number;
}

export const FINE_TUNE_TASKS = ['classification', 'regression', 'multi-label'] as const;
export type FineTuneTask = (typeof FINE_TUNE_TASKS)[number];

/** What the user chose explicitly (CLI flags, extension settings); every field optional but data/out/model. */
export type TrainOverrides = Partial<TrainConfig> & Pick<TrainConfig, 'data' | 'out'>;

const COMMON = {
  model: 'random:tiny',
  truncation: 'head' as Truncation,
  metric: 'loss' as SelectionMetric,
  earlyStoppingThreshold: 0,
  classWeights: false,
  seed: 42,
  device: 'auto' as DeviceChoice,
  validRatio: 0.1,
  saveTotalLimit: 2,
  dropout: true,
  evalBatchSize: 32,
  gradientAccumulationSteps: 1,
  lrSchedule: 'linear' as LrSchedule,
  labelSmoothing: 0,
};

export const PRESETS: Record<
  PresetName,
  Omit<TrainConfig, 'data' | 'out' | 'preset' | 'maxLength'> & { maxLength?: number }
> = {
  tutorial: {
    ...COMMON,
    maxLength: 512,
    epochs: 3,
    batchSize: 8,
    lr: 5e-5,
    warmupSteps: 500,
    warmupRatio: 0,
    weightDecay: 0.01,
    evalSteps: 400,
    dynamicPadding: false,
    groupByLength: false,
  },
  fast: {
    ...COMMON,
    epochs: 3,
    batchSize: 16,
    lr: 5e-5,
    warmupRatio: 0.1,
    weightDecay: 0.01,
    dynamicPadding: true,
    groupByLength: true,
  },
};

/**
 * A model trained from random initialisation (`random:SIZE`) barely moves at a pre-trained model's learning rate
 * (5e-5): with the fast preset's values random:tiny predicted the majority class on the bundled example (0.725, the
 * majority rate 0.72). These values replace the preset's wherever the user set none; bench:quality (BENCHMARKS.md,
 * "Training quality") measured them over 10 paired seeds.
 */
export const FROM_SCRATCH = {
  /**
   * The preset's three epochs at 5e-5 learn nothing from scratch. At the high rate, 12 epochs against 6 (10 paired
   * seeds, BENCHMARKS.md "Training quality"): sotu +7.2 points [+0.5, +14.0] (6 left it 2.8 below the tuned flags,
   * 12 puts it 4.4 above), names +1.4 [−0.4, +3.3], spam −0.2 [−1.1, +0.7]; twice the training time.
   */
  epochs: 12,
  /** Dropout slows a model that starts from nothing more than it regularises it at these data sizes. */
  dropout: false,
  /** Validation loss keeps falling while a from-scratch model still predicts one class: select by macro-F1. */
  metric: 'macro_f1' as SelectionMetric,
  warmupRatio: 0.1,
  /**
   * Batches drawn at random, not grouped by length: on these small datasets grouping sorts the whole epoch by length,
   * and where length goes with the label every batch leans to one class. Ungrouped against grouped (10 paired seeds,
   * BENCHMARKS.md "Length grouping"): names +1.8 points [+0.1, +3.4], spam +1.4 [−0.4, +3.1], sotu −0.1 [−3.1, +3.0],
   * with a smaller spread on spam (1.9 → 1.1) and sotu (4.1 → 2.8); at up to twice the run time (more padding).
   */
  groupByLength: false,
  /** Longer texts cost time a small model does not repay: the p95 length, capped here. */
  maxLengthCap: 256,
  /**
   * Seed screening (seedCandidates, screenEpochs; core/finetune/screening.ts) is offered, not yet the default:
   * keeping the best of 3 seeds after epoch 1 gained +2.1 points [−1.0, +5.3] on sotu and +1.5 [+0.5, +2.4] on names
   * over 10 paired groups, for 1.17× the training, and nothing on spam (BENCHMARKS.md, "Seed screening").
   */
  seedCandidates: 1,
  screenEpochs: 1,
  /**
   * Three models from three seeds, their probabilities averaged (ensembleSize; core/finetune/ensemble.ts). On 2,000
   * held-out rows per corpus, single runs of these defaults spread by 1.8 (names), 1.2 (spam) and 6.7 points (sotu;
   * two runs in twenty failed) against the tuned flags' 4.9, 1.8 and 7.0: half or less only on names (BENCHMARKS.md,
   * "On 2,000 held-out rows"). The product's three-model runs, paired by seed with single runs of the tuned flags
   * (BENCHMARKS.md, "Seed ensembles, the default"): 71.3 ± 0.7 against 66.8 ± 4.9 (names, 30 seeds), 93.6 ± 1.0
   * against 91.0 ± 1.8 (spam, 30) and 61.4 ± 1.8 against 56.4 ± 7.0 (sotu, 20), that is 0.15, 0.57 and 0.25 of their
   * spread, none failed, and means 4.5, 2.6 and 5.0 points higher, at three times the training. Five models moved
   * spam's spread by a tenth of a point (seeds 1–10): not worth 5/3 of the training.
   */
  ensembleSize: 3,
} as const;

/**
 * Whether a run screens seeds, and how: from the user's choices alone (no data needed), so that the screening can run
 * before the run itself. Off when the user pinned a train seed, limited the steps, or left no epoch after screening
 * (an explicit --seed-candidates is refused then instead).
 */
export function screeningPlan(overrides: Partial<TrainConfig>): { candidates: number; epochs: number } | undefined {
  const preset = overrides.preset ?? 'fast';
  const scratch = preset === 'fast' && isFromScratch(overrides.model);
  const candidates = overrides.seedCandidates ?? (scratch ? FROM_SCRATCH.seedCandidates : 1);
  const epochs = overrides.screenEpochs ?? FROM_SCRATCH.screenEpochs;
  const runEpochs = overrides.epochs ?? (scratch ? FROM_SCRATCH.epochs : PRESETS[preset].epochs);
  if (candidates <= 1 || overrides.trainSeed !== undefined) return undefined;
  const conflict =
    overrides.maxSteps !== undefined
      ? '--max-steps'
      : epochs >= runEpochs
        ? `--epochs ${runEpochs} (screening takes ${epochs})`
        : undefined;
  if (conflict === undefined) return { candidates, epochs };
  if (overrides.seedCandidates === undefined) return undefined;
  throw new UserError(`Seed screening cannot be combined with ${conflict}.`, {
    code: 'CONFIG_SEED_SCREENING',
    fix: 'Leave out --seed-candidates, or give more epochs than --screen-epochs and no --max-steps.',
  });
}

/**
 * The train seed of a run's seed candidate or ensemble member `i` (core/finetune/screening.ts, ensemble.ts): the run's
 * own seed first, then seeds far from it, so that runs with nearby seeds (42, 43, …: how people compare settings) do
 * not share candidates or members.
 */
export function candidateSeed(seed: number, i: number): number {
  return (seed + i * 1_000_003) % 2 ** 31;
}

/** Learning rate from scratch by model width: 2e-3 measured for random:tiny (hidden 64), ∝ 1/√hidden beyond it. */
export function fromScratchLr(hiddenSize: number): number {
  return Number((2e-3 * Math.sqrt(64 / Math.max(64, hiddenSize))).toPrecision(2));
}

/** Whether a model spec starts from random weights. */
export function isFromScratch(model: string | undefined): boolean {
  return (model ?? PRESETS.fast.model).startsWith('random:');
}

/**
 * How far a from-scratch model's result moves with the seed alone: the standard deviation of its best/ model's
 * accuracy on 2,000 held-out rows, over seeds of the defaults with one model (--ensemble 1), in points, on
 * bench:quality's corpora (BENCHMARKS.md, "On 2,000 held-out rows", 2026-12-07): spam 1.2 and names 1.8 (30 seeds),
 * sotu 6.7 (seeds 1–20, two of which failed: 38.5 and 41.2 against 56–64 for the rest). On the 200 validation rows
 * the spread reads 1.3, 2.5 and 7.9.
 */
export const FROM_SCRATCH_SEED_SD_POINTS = { low: 1.2, high: 6.7 } as const;

/**
 * The same for the defaults' seed ensemble of three models, the product's runs (BENCHMARKS.md, "Seed ensembles, the
 * default", 2026-12-08): names 0.7 (seeds 1–30), spam 1.0 (1–30), sotu 1.8 (1–20).
 */
export const FROM_SCRATCH_ENSEMBLE_SD_POINTS = { low: 0.7, high: 1.8 } as const;

/** How many seeds' models a run's resolved config (as events carry it) averages: 1 for runs from before ensembles. */
export function ensembleSizeOf(config: Record<string, unknown> | undefined): number {
  return typeof config?.ensembleSize === 'number' ? config.ensembleSize : 1;
}

/** What a finished from-scratch run tells its user about luck (the CLI's summary, the dashboard). */
export function fromScratchSpreadNote(ensembleSize = 1): string {
  const one = FROM_SCRATCH_SEED_SD_POINTS;
  const compare = 'Compare settings over several seeds (--seed), not one run.';
  if (ensembleSize <= 1) {
    return (
      `Trained from scratch, a model depends on its seed: the same run's accuracy varied by ${one.low}–${one.high} ` +
      'points (one standard deviation) from seed to seed on held-out rows of our benchmark corpora, and 2 runs in 20 ' +
      `failed on one of them. ${compare}`
    );
  }
  const three = FROM_SCRATCH_ENSEMBLE_SD_POINTS;
  // One decimal each, so that 1.0 reads as a measurement, not as "1".
  const points = (r: { low: number; high: number }): string => `${r.low.toFixed(1)}–${r.high.toFixed(1)}`;
  return (
    `Trained from scratch, a model depends on its seed; this run averaged ${ensembleSize} seeds' models, which narrows ` +
    `that. On held-out rows of our benchmark corpora, runs of ${FROM_SCRATCH.ensembleSize} models varied by ` +
    `${points(three)} points (one standard deviation) from seed to seed, single models by ${points(one)} ` +
    `(and 2 in 20 of those failed on one corpus). ${compare}`
  );
}

/** p95 of the token lengths rounded up to a multiple of 8, at least 16, at most `cap`. */
export function maxLengthFromLengths(tokenLengths: readonly number[], cap = 512): number {
  if (tokenLengths.length === 0) return Math.min(128, cap);
  const sorted = [...tokenLengths].sort((a, b) => a - b);
  const p95 = sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)];
  return Math.min(cap, Math.max(16, Math.ceil(p95 / 8) * 8));
}

/**
 * Merge the preset with the user's choices. `tokenLengths` (untruncated token counts of the training texts) sets
 * the fast preset's max length when the user gave none; `modelMaxLength` caps it (position embeddings).
 */
export function resolveTrainConfig(
  overrides: TrainOverrides,
  tokenLengths: readonly number[] = [],
  modelMaxLength = 512,
  model: { hiddenSize?: number } = {},
): TrainConfig {
  const preset = overrides.preset ?? 'fast';
  const scratch = preset === 'fast' && isFromScratch(overrides.model);
  const base = scratch
    ? {
        ...PRESETS.fast,
        epochs: FROM_SCRATCH.epochs,
        dropout: FROM_SCRATCH.dropout,
        metric: FROM_SCRATCH.metric,
        warmupRatio: FROM_SCRATCH.warmupRatio,
        groupByLength: FROM_SCRATCH.groupByLength,
        lr: fromScratchLr(model.hiddenSize ?? 64),
      }
    : PRESETS[preset];
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as TrainOverrides;
  const lengthCap = scratch ? Math.min(modelMaxLength, FROM_SCRATCH.maxLengthCap) : modelMaxLength;
  const maxLength = defined.maxLength ?? base.maxLength ?? maxLengthFromLengths(tokenLengths, lengthCap);
  const config: TrainConfig = { ...base, ...defined, preset, maxLength };
  // An explicit warmup in steps replaces the preset's ratio, and an explicit ratio replaces the preset's steps.
  if (defined.warmupSteps !== undefined && defined.warmupRatio === undefined) config.warmupRatio = 0;
  if (defined.warmupRatio !== undefined && defined.warmupSteps === undefined) config.warmupSteps = undefined;
  if ((config.gradientAccumulationSteps ?? 1) > 1 && (config.stepsPerRun ?? 1) > 1) {
    throw new UserError('Gradient accumulation and several steps per engine call cannot be combined.', {
      code: 'CONFIG_ACCUMULATION_STEPS_PER_RUN',
      fix: 'Leave out --steps-per-run (or --gradient-accumulation-steps).',
    });
  }
  // The run that follows a screening records it; otherwise the plan (which a pinned train seed turns off).
  const screening = config.seedScreening
    ? { candidates: config.seedScreening.planned, epochs: config.seedScreening.epochs }
    : screeningPlan({ ...defined, preset });
  config.seedCandidates = screening?.candidates ?? 1;
  config.screenEpochs = screening?.epochs;
  config.ensembleSize = ensembleSizeFor(config, defined.ensembleSize, scratch);
  if (config.problemType === 'regression') refuseForRegression(config, defined);
  if (config.problemType === 'multi-label') {
    if ((config.labelSmoothing ?? 0) > 0) {
      throw new UserError('--label-smoothing applies to one label per row, not to multi-label training.', {
        code: 'CONFIG_MULTI_LABEL_SMOOTHING',
        fix: 'Leave out --label-smoothing (multi-label training uses binary cross-entropy per label).',
      });
    }
    // Multi-label runs keep the model with the best micro-F1 unless told otherwise (accuracy: subset accuracy).
    config.metric = defined.metric ?? 'micro_f1';
  }
  if (config.maxLength > modelMaxLength) {
    throw new UserError(`max length ${config.maxLength} is more than the model's ${modelMaxLength} positions.`, {
      code: 'CONFIG_MAX_LENGTH',
      fix: `Use --max-length ${modelMaxLength} or less.`,
    });
  }
  return config;
}

/**
 * How many seeds' models a run averages: as asked, or by default the from-scratch preset's three for one label per
 * row, unless the run limits its steps (--max-steps: a quick run) or screens seeds. An ensemble of a regression or
 * multi-label run, or with seed screening, is refused: neither is built.
 */
function ensembleSizeFor(config: TrainConfig, asked: number | undefined, scratch: boolean): number {
  const otherTask = config.problemType === 'regression' || config.problemType === 'multi-label';
  const screening = (config.seedCandidates ?? 1) > 1;
  if (asked === undefined) {
    return scratch && !otherTask && !screening && config.maxSteps === undefined ? FROM_SCRATCH.ensembleSize : 1;
  }
  if (asked > 1 && otherTask) {
    throw new UserError(`--ensemble averages the classes of one label per row, not a ${config.problemType} run.`, {
      code: 'CONFIG_ENSEMBLE_TASK',
      fix: 'Leave out --ensemble (or give --ensemble 1).',
    });
  }
  if (asked > 1 && screening) {
    throw new UserError('A seed ensemble cannot be combined with seed screening.', {
      code: 'CONFIG_ENSEMBLE_SCREENING',
      fix: 'Leave out --seed-candidates or --ensemble: an ensemble already trains several seeds and keeps them all.',
    });
  }
  return asked;
}

/** A regression run selects by its loss (MSE) and has no classes to weight or smooth. */
function refuseForRegression(config: TrainConfig, defined: TrainOverrides): void {
  const classOnly = [
    defined.metric !== undefined && defined.metric !== 'loss' ? `--metric ${defined.metric}` : '',
    config.classWeights ? '--class-weights' : '',
    (config.labelSmoothing ?? 0) > 0 ? '--label-smoothing' : '',
  ].filter((f) => f !== '');
  if (classOnly.length > 0) {
    throw new UserError(`${classOnly.join(', ')} applies to classes, which a regression run does not have.`, {
      code: 'CONFIG_REGRESSION_CLASS_OPTION',
      fix: 'Leave it out: a regression run keeps the model with the lowest validation loss (mean squared error).',
    });
  }
  config.metric = 'loss';
}

/**
 * Optimizer steps of the whole run: epochs × optimizer steps per epoch (batches ÷ gradient accumulation, the last
 * step of an epoch taking the batches left over), capped by max steps.
 */
export function totalSteps(
  config: Pick<TrainConfig, 'epochs' | 'maxSteps' | 'gradientAccumulationSteps'>,
  batchesPerEpoch: number,
): number {
  const full = config.epochs * Math.ceil(batchesPerEpoch / (config.gradientAccumulationSteps ?? 1));
  return config.maxSteps !== undefined ? Math.min(full, config.maxSteps) : full;
}

export function warmupStepsFor(config: Pick<TrainConfig, 'warmupSteps' | 'warmupRatio'>, total: number): number {
  return config.warmupSteps ?? Math.ceil(config.warmupRatio * total);
}

/**
 * The training loop, read top to bottom: for each epoch, the batches in that epoch's seeded order; one AdamW step
 * per batch; evaluation every `evalSteps` steps and at each epoch end; the best model (by the selection metric)
 * exported on improvement; a checkpoint at each evaluation and when asked to stop; early stopping.
 * Everything it needs arrives through LoopContext, so the same loop runs fine-tuning and masked-LM pre-training, in
 * the CLI, the extension's child process and tests: the task decides only how a batch is prepared for its step
 * (`prepareBatch`: MLM masks) and how the weights are scored (`evaluate`: a classification report or MLM loss). Resume = start from a checkpoint's TrainerState: the loop skips the batches of the current
 * epoch already consumed, so the data order (a function of seed and epoch) is replayed exactly.
 */
import { UserError } from '../errors';
import type { Batch } from '../tokenize/batch';
import type { TrainEngine } from './engine';
import type { EvalEvent, EvalScores, MisclassifiedExample, TrainerEvent } from '../run/events';
import { argmaxRows, classificationReport, meanCrossEntropy, type ClassificationReport } from '../util/metrics';
import { pruneCheckpoints, saveCheckpoint, type TrainerState } from './checkpoint';
import type { RunPaths } from '../run/paths';
import type { SelectionMetric, TrainConfig } from './presets';

export type PoolLogits = (
  logits: Float32Array,
  docIndex: Int32Array,
  numDocs: number,
  numLabels: number,
) => Float32Array;

/**
 * The model's outputs per document: `width` values for each row of every batch (forwarded in order), pooled over the
 * rows of each document (several with window truncation) by `poolLogits`.
 */
export async function documentLogits(
  forward: (b: Batch) => Promise<Float32Array>,
  batches: readonly Batch[],
  width: number,
  numDocs: number,
  poolLogits: PoolLogits,
): Promise<Float32Array> {
  const rows = batches.reduce((n, b) => n + b.batchSize, 0);
  const logits = new Float32Array(rows * width);
  const docIndex = new Int32Array(rows);
  let offset = 0;
  for (const b of batches) {
    logits.set(await forward(b), offset * width);
    docIndex.set(b.docIndex, offset);
    offset += b.batchSize;
  }
  return poolLogits(logits, docIndex, numDocs, width);
}

/** A labelled evaluation set, already tokenized (several rows per document with window truncation). */
export interface EvalSet {
  batches: Batch[];
  /** Class id per document. */
  targets: Int32Array;
  /** Per document, for the misclassified sample. */
  examples: { text: string; file: string; line: number }[];
}

export interface EvalResult extends ClassificationReport {
  loss: number;
  misclassified: MisclassifiedExample[];
  /** Class id predicted per document. */
  predictions: Int32Array;
}

const MISCLASSIFIED_SAMPLE = 50;

/** Forward every batch, pool rows into documents, and score the documents. */
export async function evaluateSet(
  forward: (b: Batch) => Promise<Float32Array>,
  set: EvalSet,
  labels: string[],
  poolLogits: PoolLogits,
): Promise<EvalResult> {
  const k = labels.length;
  const numDocs = set.targets.length;
  const docLogits = await documentLogits(forward, set.batches, k, numDocs, poolLogits);
  const predictions = argmaxRows(docLogits, k);
  const report = classificationReport(set.targets, predictions, labels);
  const misclassified: MisclassifiedExample[] = [];
  for (let d = 0; d < numDocs && misclassified.length < MISCLASSIFIED_SAMPLE; d++) {
    if (predictions[d] === set.targets[d]) continue;
    const ex = set.examples[d];
    misclassified.push({
      text: ex.text.slice(0, 500),
      label: labels[set.targets[d]],
      predicted: labels[predictions[d]],
      file: ex.file,
      line: ex.line,
    });
  }
  return { ...report, loss: meanCrossEntropy(docLogits, set.targets, k), misclassified, predictions };
}

/** The settings the loop reads (a fine-tuning TrainConfig has them all; pre-training fills them in itself). */
export type LoopSettings = Pick<
  TrainConfig,
  | 'evalSteps'
  | 'metric'
  | 'earlyStoppingPatience'
  | 'earlyStoppingThreshold'
  | 'saveTotalLimit'
  | 'lr'
  | 'stepsPerRun'
  | 'gradientAccumulationSteps'
>;

/** What an evaluation hands the loop: the selection metric's value and the scores for the `eval` event. */
export interface Evaluation {
  /** The value of `settings.metric` (lower is better for 'loss'). */
  metric: number;
  scores: EvalScores;
}

export interface ClassifyEvaluation extends Evaluation {
  result: EvalResult;
}

/** A classifier's evaluation for the loop: the metric chosen in the config, and the full report as the event. */
export function classifyEvaluation(metric: SelectionMetric, result: EvalResult): ClassifyEvaluation {
  return {
    result,
    metric: metricValue(metric, result),
    scores: {
      loss: result.loss,
      accuracy: result.accuracy,
      macro_f1: result.macro_f1,
      labels: result.labels,
      confusion: result.confusion,
      per_class: result.per_class,
      misclassified: result.misclassified,
    },
  };
}

export interface LoopContext<E extends Evaluation = Evaluation> {
  engine: TrainEngine;
  config: LoopSettings;
  paths: RunPaths;
  totalSteps: number;
  /**
   * The run's steps as its step events count them, when work after the loop adds its own (a seed ensemble's other
   * members): the events' total_steps and ETA read this. Default: totalSteps.
   */
  reportedTotalSteps?: number;
  /** Where to start: a fresh state, or the one from a checkpoint (engine already holds its weights and moments). */
  state: TrainerState;
  /** Training batches of an epoch, in that epoch's order (deterministic for (seed, epoch)). */
  batchesForEpoch(epoch: number): Batch[];
  /**
   * The batch as the step at `step` (steps taken before it) trains on it, e.g. with that step's MLM masks. With
   * gradient accumulation `step` numbers micro-batches: step * gradientAccumulationSteps + the micro-batch's index.
   */
  prepareBatch?(batch: Batch, step: number): Batch;
  /** Score the current weights on the held-out data. */
  evaluate(): Promise<E>;
  /** Write the best model (called on every improvement). */
  saveBest(evaluation: E, step: number): Promise<void>;
  emit(event: TrainerEvent): void;
  /** Polled after every step; when true the loop checkpoints and returns stopped. */
  shouldStop(): boolean;
  now?: () => number;
}

export interface LoopResult {
  stopped: boolean;
  state: TrainerState;
  earlyStopped: boolean;
}

export function isImprovement(metric: SelectionMetric, value: number, best: number | null, threshold: number): boolean {
  if (best === null) return true;
  return metric === 'loss' ? value < best - threshold : value > best + threshold;
}

export function metricValue(metric: SelectionMetric, r: { loss: number; accuracy: number; macro_f1: number }): number {
  // With one label per row, micro-F1 equals accuracy.
  return metric === 'loss' ? r.loss : metric === 'macro_f1' ? r.macro_f1 : r.accuracy;
}

export async function trainLoop<E extends Evaluation>(ctx: LoopContext<E>): Promise<LoopResult> {
  const { engine, config, totalSteps } = ctx;
  const now = ctx.now ?? Date.now;
  const state: TrainerState = { ...ctx.state };
  const startTime = now();
  const startStep = state.step;
  let examplesSeen = 0;
  let lastCheckpointStep = -1;

  const checkpoint = async (): Promise<void> => {
    if (lastCheckpointStep === state.step) return;
    const dir = await saveCheckpoint(ctx.paths.checkpoints, {
      weights: engine.getWeights(),
      optimizer: engine.getOptimizerState(),
      state: { ...state },
    });
    lastCheckpointStep = state.step;
    ctx.emit({ event: 'checkpoint', time: new Date().toISOString(), step: state.step, path: dir });
    await pruneCheckpoints(
      ctx.paths.checkpoints,
      config.saveTotalLimit,
      state.bestStep > 0 ? state.bestStep : undefined,
    );
  };

  const prepare = (b: Batch, index: number): Batch => (ctx.prepareBatch ? ctx.prepareBatch(b, index) : b);
  const perStep = config.gradientAccumulationSteps ?? 1;
  const reportedTotal = ctx.reportedTotalSteps ?? totalSteps;
  while (state.step < totalSteps) {
    const batches = ctx.batchesForEpoch(state.epoch);
    if (batches.length === 0) throw new Error('trainLoop: an epoch without batches');
    for (let i = state.batchInEpoch; i < batches.length && state.step < totalSteps;) {
      // The batches of each optimizer step this engine call takes: one step on the next gradientAccumulationSteps
      // batches (fewer at the epoch's end), or up to stepsPerRun steps of one batch each, never past an evaluation,
      // the epoch's end or the run's end: a call ends wherever the loop evaluates, checkpoints or may stop, so the
      // state it saves matches the engine's.
      let groups: Batch[][];
      let results: Awaited<ReturnType<TrainEngine['trainStep']>>[];
      if (perStep > 1) {
        const group = batches.slice(i, i + perStep).map((b, j) => prepare(b, state.step * perStep + j));
        groups = [group];
        results = [await engine.trainStepAccumulated(group)];
      } else {
        const count = Math.min(
          config.stepsPerRun ?? 1,
          batches.length - i,
          totalSteps - state.step,
          config.evalSteps !== undefined ? config.evalSteps - (state.step % config.evalSteps) : Infinity,
        );
        const chunk = batches.slice(i, i + count).map((b, k) => prepare(b, state.step + k));
        groups = chunk.map((b) => [b]);
        results = count === 1 ? [await engine.trainStep(chunk[0])] : await engine.trainSteps(chunk);
      }
      let consumed = 0;
      for (const [k, r] of results.entries()) {
        if (!Number.isFinite(r.loss)) {
          throw new UserError(`Training diverged: the loss became ${r.loss} at step ${state.step + 1}.`, {
            code: 'TRAIN_DIVERGED',
            file: ctx.paths.root,
            fix: `Start a new run with a lower learning rate (e.g. --lr ${(config.lr / 4).toPrecision(2)}) or more warmup.`,
          });
        }
        state.step++;
        consumed += groups[k].length;
        state.batchInEpoch = i + consumed;
        examplesSeen += groups[k].reduce((n, b) => n + b.batchSize, 0);
        const epochFloat = state.epoch + state.batchInEpoch / batches.length;
        const elapsed = Math.max(1e-3, (now() - startTime) / 1000);
        const stepsPerS = (state.step - startStep) / elapsed;
        ctx.emit({
          event: 'step',
          time: new Date().toISOString(),
          step: state.step,
          total_steps: reportedTotal,
          epoch: epochFloat,
          loss: r.loss,
          lr: r.lr,
          grad_norm: r.gradNorm,
          examples_per_s: examplesSeen / elapsed,
          eta_s: (reportedTotal - state.step) / Math.max(stepsPerS, 1e-9),
        });
      }
      i += consumed;
      const epochFloat = state.epoch + state.batchInEpoch / batches.length;
      const epochEnd = i === batches.length;
      if (epochEnd) {
        state.epoch++;
        state.batchInEpoch = 0;
      }
      const last = state.step >= totalSteps;
      const due = epochEnd || last || (config.evalSteps !== undefined && state.step % config.evalSteps === 0);
      if (due) {
        const evaluation = await ctx.evaluate();
        const improved = isImprovement(
          config.metric,
          evaluation.metric,
          state.bestMetric,
          config.earlyStoppingThreshold,
        );
        if (improved) {
          state.bestMetric = evaluation.metric;
          state.bestStep = state.step;
          state.evalsWithoutImprovement = 0;
          await ctx.saveBest(evaluation, state.step);
        } else {
          state.evalsWithoutImprovement++;
        }
        const evalEvent = {
          event: 'eval',
          time: new Date().toISOString(),
          step: state.step,
          epoch: epochFloat,
          ...evaluation.scores,
          is_best: improved,
        } as EvalEvent;
        ctx.emit(evalEvent);
        await checkpoint();
        if (
          config.earlyStoppingPatience !== undefined &&
          state.evalsWithoutImprovement >= config.earlyStoppingPatience
        ) {
          return { stopped: false, state, earlyStopped: true };
        }
      }
      if (ctx.shouldStop()) {
        await checkpoint();
        return { stopped: true, state, earlyStopped: false };
      }
    }
  }
  await checkpoint();
  return { stopped: false, state, earlyStopped: false };
}

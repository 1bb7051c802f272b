/**
 * One masked-LM pre-training run ("Don't Stop Pretraining": continued MLM on domain text): read unlabelled text,
 * resolve the model (hub id, folder, random:SIZE), cut the text into full-length windows, train the family's
 * <Family>ForMaskedLM (BERT, DistilBERT, RoBERTa / XLM-R, ELECTRA's generator head) with the train-step compiler,
 * evaluate MLM loss / perplexity / masked-token accuracy on held-out windows with fixed masks, and keep the best model
 * as an HF folder in `<out>/best/` (so `train --model <out>` fine-tunes from it).
 * It is the fine-tuning run machinery with another task: the same loop (core/train/trainer.ts, with MLM masks as the
 * batch preparation and MLM scores as the evaluation), the same TrainerEvents (`task: 'mlm'`) in `<out>/metrics.jsonl`
 * and to the caller's sink, the same run folder (run.json, checkpoints/, best/). A checkpoint (weights, AdamW moments,
 * loop position) is written at every evaluation and on stop; `resume` continues from it with the same data order
 * and masks.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataError, UserError } from '../errors';
import { resolveModel, type HubProgress } from '../model/hub';
import { maxSequenceLength, presetConfig, type BertConfig } from '../model/config';
import { initWeights, type Weights } from '../model/params';
import { modelDirOf } from '../infer/predictor';
import { loadTokenizer, saveTokenizer, type TextTokenizer } from '../tokenize/tokenizer';
import { encodeDocuments, type EncodedRow } from '../tokenize/truncation';
import { collate, planBatches } from '../tokenize/batching';
import type { Batch } from '../tokenize/batch';
import { describeAllocator } from '../train/allocator';
import { createTrainEngine, type DeviceChoice, type TrainEngine } from '../train/engine';
import { resolveWarmupSteps } from '../train/schedule';
import { acquireRunLock, appendMetric, claimRunDir, commitDir, prepareTempDir, recoverRunDir, runPaths, writeJsonAtomic } from '../train/run-dir';
import { loadLatestCheckpoint, type TrainerState } from '../train/checkpoint';
import { sessionErrorEvent, type DoneEvent, type TrainerEvent } from '../train/events';
import { trainLoop, type Evaluation, type LoopSettings } from '../train/trainer';
import { maskBatch, maskSeed, maskTokenId, specialTokenIds, wordContinuationIds, type MaskingOptions } from './masking';
import { IGNORE_LABEL, mlmParamSpecs } from './mlm-model';
import { loadMlmModelDir, saveMlmModel } from './model-io';
import { readUnlabelledTexts } from './texts';

export interface PretrainOptions {
  data: string;
  out: string;
  /** Hub id, model folder, or random:tiny|mini|small|base (default random:tiny). */
  model?: string;
  textColumn?: string;
  maxLength?: number;
  batchSize?: number;
  lr?: number;
  epochs?: number;
  maxSteps?: number;
  warmupRatio?: number;
  weightDecay?: number;
  maskProbability?: number;
  wholeWordMasking?: boolean;
  evalSteps?: number;
  seed?: number;
  device?: DeviceChoice;
  dropout?: boolean;
  /** Continue the run in `out` from its last checkpoint, with the settings stored in its run.json. */
  resume?: boolean;
}

export interface PretrainSink {
  /** Every event of the run, the same TrainerEvents fine-tuning emits (all but `log` also go to metrics.jsonl). */
  emit(event: TrainerEvent): void;
  /** Polled after every step; when true the run checkpoints and ends with `done` (stopped). */
  shouldStop?(): boolean;
  onDownload?(progress: HubProgress): void;
}

/** The `done` event, plus the best MLM loss under the name bench/pretrain-benefit.ts reads. */
export type PretrainDone = DoneEvent & { best_mlm_loss: number };

const RANDOM_SIZES = ['tiny', 'mini', 'small', 'base'] as const;
const EVAL_BATCH = 4;
/** Seeds of the fixed evaluation masks live apart from the training steps'. */
const EVAL_SEED_OFFSET = 0x5eed;

async function prepare(spec: string, seed: number, sink: PretrainSink): Promise<{ config: BertConfig; weights: Weights; tokenizer: TextTokenizer; random: boolean }> {
  const resolved = await resolveModel(spec, { onProgress: sink.onDownload });
  if (resolved.kind === 'random') {
    const size = resolved.size as (typeof RANDOM_SIZES)[number];
    if (!RANDOM_SIZES.includes(size)) {
      throw new UserError(`Unknown random model size "${resolved.size}".`, { code: 'MODEL_RANDOM_SIZE', fix: `Use random:${RANDOM_SIZES.join(', random:')}.` });
    }
    const config = presetConfig(size);
    return { config, weights: initWeights(mlmParamSpecs(config), seed, config.initializerRange), tokenizer: await loadTokenizer(), random: true };
  }
  const dir = modelDirOf(resolved.dir);
  const { config, weights } = await loadMlmModelDir(dir, seed);
  return { config, weights, tokenizer: await loadTokenizer(dir), random: false };
}

/**
 * Masking settings from the tokenizer: its mask token ([MASK] or <mask>), the ids never chosen (its special tokens and
 * the ones it adds around a text), and for whole-word masking which tokens continue a word (WordPiece "##"; byte-level
 * BPE: no leading "Ġ"; SentencePiece: no leading "▁").
 */
export function maskingFor(tokenizer: TextTokenizer, vocabSize: number, options: { probability?: number; wholeWord?: boolean }): MaskingOptions {
  const maskId = maskTokenId(tokenizer.tokenizerJson);
  if (maskId === undefined) {
    throw new UserError(`The tokenizer (${tokenizer.source}) has no [MASK] or <mask> token, so it cannot be used for masked-LM pre-training.`, {
      code: 'MLM_NO_MASK_TOKEN', fix: 'Use a model whose tokenizer has a mask token (BERT, DistilBERT, RoBERTa / XLM-R and ELECTRA tokenizers do).' });
  }
  const continuation = options.wholeWord ? wordContinuationIds(tokenizer.tokenizerJson) : undefined;
  if (options.wholeWord && !continuation) {
    throw new UserError(`Whole-word masking cannot tell where words start in this tokenizer's vocabulary (${tokenizer.source}).`, {
      code: 'MLM_WHOLE_WORD', fix: 'Leave out --whole-word, or use a WordPiece ("##"), byte-level BPE ("Ġ") or SentencePiece ("▁") tokenizer.' });
  }
  return {
    maskTokenId: maskId,
    vocabSize,
    specialIds: new Set([...specialTokenIds(tokenizer.tokenizerJson), ...tokenizer.prefixIds, ...tokenizer.suffixIds, tokenizer.padId]),
    probability: options.probability,
    isContinuation: continuation ? (id) => continuation.has(id) : undefined,
  };
}

/**
 * MLM loss, perplexity and accuracy over the chosen tokens of (already masked) batches. The engine scores those
 * positions only: row r of forward() is the r-th labelled position.
 */
export async function evaluateMlm(engine: TrainEngine, batches: Batch[], vocabSize: number): Promise<{ loss: number; perplexity: number; accuracy: number; tokens: number }> {
  let nll = 0;
  let correct = 0;
  let tokens = 0;
  for (const b of batches) {
    const scores = await engine.forward(b);
    const labels = (b.labels as BigInt64Array).filter((y) => y !== BigInt(IGNORE_LABEL));
    if (scores.length !== labels.length * vocabSize) {
      throw new Error(`evaluateMlm: ${scores.length / vocabSize} score rows for ${labels.length} masked tokens.`);
    }
    for (let i = 0; i < labels.length; i++) {
      const row = scores.subarray(i * vocabSize, (i + 1) * vocabSize);
      let max = -Infinity;
      let argmax = 0;
      for (let k = 0; k < vocabSize; k++) if (row[k] > max) [max, argmax] = [row[k], k];
      let sum = 0;
      for (let k = 0; k < vocabSize; k++) sum += Math.exp(row[k] - max);
      const y = Number(labels[i]);
      nll += max + Math.log(sum) - row[y];
      correct += argmax === y ? 1 : 0;
      tokens++;
    }
  }
  const loss = nll / Math.max(1, tokens);
  return { loss, perplexity: Math.exp(loss), accuracy: correct / Math.max(1, tokens), tokens };
}

/** What an earlier run's run.json says (its settings and data); refuses a missing or damaged one. */
function readStoredRun(out: string): { kind?: string; options?: PretrainOptions; data?: { file: string; texts_sha256?: string }[] } {
  const file = path.join(out, 'run.json');
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as ReturnType<typeof readStoredRun>;
  } catch (e) {
    throw new UserError(`Cannot resume: ${file} is missing or unreadable.`, { file, code: 'RUN_NOT_RESUMABLE', cause: e, fix: 'Give the --out folder of an earlier `bertft pretrain` run, or start a new run without --resume.' });
  }
}

/** The settings of the run in `out` (its run.json), for --resume. */
function storedOptions(out: string): PretrainOptions {
  const file = path.join(out, 'run.json');
  const run = readStoredRun(out);
  if (run.kind !== 'pretrain' || !run.options) {
    throw new UserError(`Cannot resume: ${out} is not a pre-training run.`, { file, code: 'RUN_NOT_RESUMABLE', fix: 'Resume fine-tuning runs with `bertft train --resume`.' });
  }
  return { ...run.options, out };
}

/** The options of a fresh run with absolute paths (run.json is read from any working directory on --resume). */
function freshOptions(requested: PretrainOptions, out: string): PretrainOptions {
  if (fs.existsSync(path.join(out, 'run.json'))) {
    throw new UserError(`${out} already holds a run.`, { file: out, code: 'RUN_EXISTS', fix: 'Add --resume to continue it, or choose another --out folder.' });
  }
  const { resume: _, ...options } = requested;
  return { ...options, data: path.resolve(options.data), out };
}

const MLM_SCORES_EMPTY = { labels: [], confusion: [], per_class: {}, misclassified: [] };

export async function runPretrainSession(requested: PretrainOptions, sink: PretrainSink): Promise<PretrainDone> {
  const paths = runPaths(path.resolve(requested.out));
  const options = requested.resume ? storedOptions(paths.root) : freshOptions(requested, paths.root);
  // --out must be new, empty or a run of ours, and one process writes to it at a time.
  claimRunDir(paths.root);
  const lock = acquireRunLock(paths.root);
  const emit = (event: TrainerEvent): void => {
    appendMetric(paths.metrics, event);
    sink.emit(event);
  };
  let engine: TrainEngine | undefined;
  try {
    fs.mkdirSync(paths.root, { recursive: true });
    await recoverRunDir(paths.root);
    // A metrics.jsonl without run.json only records a start that failed: begin a clean log.
    if (!requested.resume) fs.rmSync(paths.metrics, { force: true });
    const seed = options.seed ?? 42;
    const maxLength = options.maxLength ?? 128;
    const batchSize = options.batchSize ?? 16;
    const spec = options.model ?? 'random:tiny';
    const texts = await readUnlabelledTexts(options.data, { textColumn: options.textColumn });
    // The text is hashed as read: a resumed run must see the same text to continue the same data order and masks.
    const textsSha256 = createHash('sha256').update(texts.join('\u0000')).digest('hex');
    const storedSha256 = requested.resume ? (readStoredRun(paths.root).data?.[0]?.texts_sha256) : undefined;
    if (storedSha256 !== undefined && storedSha256 !== textsSha256) {
      throw new UserError(`The text in ${options.data} changed since the run started, so it cannot be resumed exactly.`, {
        file: options.data, code: 'RUN_DATA_CHANGED', fix: 'Restore the original text, or start a new run in another --out folder.' });
    }
    const model = await prepare(spec, seed, sink);
    const { config, tokenizer } = model;
    const longest = maxSequenceLength(config);
    if (maxLength > longest) {
      throw new UserError(`--max-length ${maxLength} is longer than the model's ${longest} usable positions.`, {
        code: 'MLM_MAX_LENGTH', fix: `Use --max-length ${longest} or less.` });
    }
    // Full windows over every document (no overlap), so all the text is used.
    const rows: EncodedRow[] = encodeDocuments(tokenizer, texts, { maxLength, strategy: 'window', stride: 0 });
    if (rows.length < 2) {
      throw new DataError(`The text makes ${rows.length} window of up to ${maxLength} tokens; pre-training needs at least 2 (one is held out to measure progress).`, {
        file: options.data, code: 'DATA_TOO_LITTLE_TEXT', fix: 'Add more text, or lower --max-length.' });
    }
    const evalRows = rows.filter((_, i) => i % 20 === 19 || (rows.length < 20 && i === rows.length - 1)).slice(0, 64);
    const evalSet = new Set(evalRows);
    const trainRows = rows.filter((r) => !evalSet.has(r));
    const stepsPerEpoch = Math.ceil(trainRows.length / batchSize);
    const totalSteps = options.maxSteps ?? Math.max(1, Math.round(stepsPerEpoch * (options.epochs ?? 1)));
    const lr = options.lr ?? (model.random ? 5e-4 : 5e-5);
    const masking = maskingFor(tokenizer, config.vocabSize, { probability: options.maskProbability, wholeWord: options.wholeWordMasking });
    const settings: LoopSettings = {
      lr, evalSteps: options.evalSteps ?? Math.max(1, Math.ceil(totalSteps / 10)), metric: 'loss', earlyStoppingThreshold: 0,
      earlyStoppingPatience: undefined, saveTotalLimit: 1,
    };

    const checkpoint = requested.resume ? await loadLatestCheckpoint(paths.checkpoints) : undefined;
    // Killed before its first checkpoint, a run resumes from step 0 (same settings, seed, order and masks); but a run
    // with a best/ and no readable checkpoint is not silently trained over.
    if (requested.resume && !checkpoint && fs.existsSync(paths.best)) {
      throw new UserError(`Cannot resume: ${paths.root} has a best/ model but no readable checkpoint.`, { file: paths.checkpoints, code: 'RUN_NO_CHECKPOINT',
        fix: 'Keep its best/ as it is, and start a new run in another --out folder to train again.' });
    }
    const engineLog: string[] = [];
    engine = await createTrainEngine({
      config, numLabels: 0, task: 'mlm', weights: checkpoint?.weights ?? model.weights, device: options.device ?? 'cpu', dropout: options.dropout ?? true, seed,
      hyper: { lr, weightDecay: options.weightDecay ?? 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, maxGradNorm: 1,
        warmupSteps: resolveWarmupSteps({ warmupRatio: options.warmupRatio ?? 0.06 }, totalSteps), totalSteps },
      log: (line: string) => {
        engineLog.push(line);
        sink.emit({ event: 'log', time: new Date().toISOString(), level: 'info', message: line });
      },
    });
    if (checkpoint) engine.setOptimizerState(checkpoint.optimizer);
    // The engine trains its own copies: empty ours so that their memory (a whole model, or model + moments) is freed.
    for (const tensors of [model.weights, checkpoint?.weights, checkpoint?.optimizer.m, checkpoint?.optimizer.v]) tensors?.clear();
    const liveEngine = engine;
    // What the engine said while choosing its device goes into run.json and `started` (it logs more later).
    const deviceNotes = [...engineLog, describeAllocator()];
    const resolved = { model: spec, maxLength, batchSize, lr, totalSteps, evalSteps: settings.evalSteps, maskProbability: masking.probability ?? 0.15,
      wholeWordMasking: options.wholeWordMasking ?? false, seed, device: options.device ?? 'cpu' };
    if (!checkpoint) {
      const { resume: _, ...stored } = options;
      await writeJsonAtomic(paths.runJson, {
        format: 1, kind: 'pretrain', created: new Date().toISOString(), seed, options: stored, resolved,
        data: [{ file: path.resolve(options.data), texts_sha256: textsSha256 }], model: { spec, model_config: config.raw }, device: engine.device, device_notes: deviceNotes,
      });
    }
    emit({
      event: 'started', time: new Date().toISOString(), run_dir: paths.root, pid: process.pid, config: resolved, task: 'mlm', device: engine.device,
      device_notes: deviceNotes, total_steps: totalSteps, resumed_from_step: checkpoint?.state.step,
      dataset: { train_rows: trainRows.length, valid_rows: evalRows.length, train_windows: trainRows.length, valid_windows: evalRows.length,
        labels: [], label_counts: {}, files: [path.resolve(options.data)] },
    });

    const evalBatches = planBatches(evalRows.map((r) => r.ids.length), { batchSize: EVAL_BATCH, mode: 'eval' })
      .map((idx, i) => maskBatch(collate(evalRows, idx, { padId: tokenizer.padId }), masking, maskSeed(seed + EVAL_SEED_OFFSET, i)));
    const evaluate = async (): Promise<Evaluation> => {
      const r = await evaluateMlm(liveEngine, evalBatches, config.vocabSize);
      return { metric: r.loss, scores: { task: 'mlm', loss: r.loss, accuracy: r.accuracy, perplexity: r.perplexity, masked_tokens: r.tokens, ...MLM_SCORES_EMPTY } };
    };
    const saveBest = async (): Promise<void> => {
      const tmp = await prepareTempDir(paths.best);
      await saveMlmModel(tmp, config, liveEngine.getWeights());
      await saveTokenizer(tokenizer, tmp);
      await commitDir(tmp, paths.best);
    };
    const state: TrainerState = checkpoint?.state ?? {
      step: 0, epoch: 0, batchInEpoch: 0, totalSteps, seed, metricName: 'mlm_loss', bestMetric: null, bestStep: 0, evalsWithoutImprovement: 0,
    };
    // The order of an epoch is a function of (seed, epoch) and the masks of (seed, step): a resumed run replays both.
    const result = await trainLoop({
      engine, config: settings, paths, totalSteps, state, emit, saveBest, evaluate,
      batchesForEpoch: (epoch) => planBatches(trainRows.map((r) => r.ids.length), { batchSize, mode: 'train', seed, epoch })
        .map((idx) => collate(trainRows, idx, { padId: tokenizer.padId })),
      prepareBatch: (batch, step) => maskBatch(batch, masking, maskSeed(seed, step)),
      shouldStop: () => sink.shouldStop?.() ?? false,
    });
    const done: DoneEvent = {
      event: 'done', time: new Date().toISOString(), stopped: result.stopped, best_step: result.state.bestStep,
      best_metric: result.state.bestMetric ?? NaN, metric_name: 'mlm_loss', best_dir: paths.best, run_dir: paths.root, final_step: result.state.step,
    };
    emit(done);
    return { ...done, best_mlm_loss: done.best_metric };
  } catch (e) {
    if (fs.existsSync(paths.root)) appendMetric(paths.metrics, sessionErrorEvent(e).event);
    throw e;
  } finally {
    await engine?.dispose();
    lock.release();
  }
}

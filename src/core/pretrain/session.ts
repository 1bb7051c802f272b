/**
 * One masked-LM pre-training run ("Don't Stop Pretraining": continued MLM on domain text): read unlabelled text,
 * resolve the model (hub id, folder, random:SIZE), cut the text into full-length windows, train BertForMaskedLM with
 * the train-step compiler, evaluate MLM loss / perplexity / masked-token accuracy on held-out windows with fixed
 * masks, and keep the best model as an HF folder in `<out>/best/` (so `train --model <out>` fine-tunes from it).
 * Events go to `<out>/metrics.jsonl` and to the caller's sink. A checkpoint (weights, AdamW moments, loop position)
 * is written at every evaluation and on stop; `resume` continues from it with the same data order and masks.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';
import { resolveModel, type HubProgress } from '../model/hub';
import { presetConfig, type BertConfig } from '../model/config';
import { initWeights, type Weights } from '../model/params';
import { modelDirOf } from '../infer/predictor';
import { loadTokenizer, saveTokenizer, type TextTokenizer } from '../tokenize/tokenizer';
import { encodeDocuments, type EncodedRow } from '../tokenize/truncation';
import { collate, planBatches } from '../tokenize/batching';
import type { Batch } from '../tokenize/batch';
import { createTrainEngine, type DeviceChoice, type TrainEngine } from '../train/engine';
import { resolveWarmupSteps } from '../train/schedule';
import { commitDir, prepareTempDir, writeJsonAtomic } from '../train/run-dir';
import { listCheckpoints, loadLatestCheckpoint, saveCheckpoint, type TrainerState } from '../train/checkpoint';
import { maskBatch, maskSeed, type MaskingOptions } from './masking';
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

export type PretrainEvent =
  | { event: 'started'; kind: 'pretrain'; model: string; device: string; train_windows: number; eval_windows: number; total_steps: number; max_length: number }
  | { event: 'step'; step: number; loss: number; lr: number }
  | { event: 'eval'; step: number; mlm_loss: number; perplexity: number; masked_accuracy: number; masked_tokens: number; is_best: boolean }
  | { event: 'done'; step: number; best_step: number; best_mlm_loss: number; model_dir: string; stopped: boolean };

export interface PretrainSink {
  emit(event: PretrainEvent): void;
  shouldStop?(): boolean;
  onDownload?(progress: HubProgress): void;
}

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

/** Masking settings from the tokenizer: its [MASK] id, special ids, and "##" continuations for whole-word masking. */
export function maskingFor(tokenizer: TextTokenizer, vocabSize: number, options: { probability?: number; wholeWord?: boolean }): MaskingOptions {
  const vocab = (tokenizer.tokenizerJson.model as { vocab?: Record<string, number> } | undefined)?.vocab ?? {};
  const maskTokenId = vocab['[MASK]'] ?? vocab['<mask>'];
  if (maskTokenId === undefined) {
    throw new UserError(`The tokenizer (${tokenizer.source}) has no [MASK] token, so it cannot be used for masked-LM pre-training.`, {
      code: 'MLM_NO_MASK_TOKEN', fix: 'Use a BERT model whose tokenizer has [MASK].' });
  }
  const continuation = new Set(Object.entries(vocab).filter(([t]) => t.startsWith('##')).map(([, id]) => id));
  return {
    maskTokenId,
    vocabSize,
    specialIds: new Set([...tokenizer.prefixIds, ...tokenizer.suffixIds, tokenizer.padId]),
    probability: options.probability,
    isContinuation: options.wholeWord ? (id) => continuation.has(id) : undefined,
  };
}

/** MLM loss, perplexity and accuracy over the chosen tokens of (already masked) batches. */
export async function evaluateMlm(engine: TrainEngine, batches: Batch[], vocabSize: number): Promise<{ loss: number; perplexity: number; accuracy: number; tokens: number }> {
  let nll = 0;
  let correct = 0;
  let tokens = 0;
  for (const b of batches) {
    const scores = await engine.forward(b);
    const labels = b.labels as BigInt64Array;
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] === BigInt(IGNORE_LABEL)) continue;
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

/** The settings of the run in `out` (its run.json), for --resume. */
function storedOptions(out: string): PretrainOptions {
  const file = path.join(out, 'run.json');
  let run: { kind?: string; options?: PretrainOptions };
  try {
    run = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof run;
  } catch (e) {
    throw new UserError(`Cannot resume: ${file} is missing or unreadable.`, { file, code: 'RUN_NOT_RESUMABLE', cause: e, fix: 'Give the --out folder of an earlier `bertft pretrain` run, or start a new run without --resume.' });
  }
  if (run.kind !== 'pretrain' || !run.options) {
    throw new UserError(`Cannot resume: ${out} is not a pre-training run.`, { file, code: 'RUN_NOT_RESUMABLE', fix: 'Resume fine-tuning runs with `bertft train --resume`.' });
  }
  return { ...run.options, out };
}

export async function runPretrainSession(requested: PretrainOptions, sink: PretrainSink): Promise<Extract<PretrainEvent, { event: 'done' }>> {
  const options = requested.resume ? storedOptions(requested.out) : requested;
  const seed = options.seed ?? 42;
  const maxLength = options.maxLength ?? 128;
  const batchSize = options.batchSize ?? 16;
  const spec = options.model ?? 'random:tiny';
  const texts = await readUnlabelledTexts(options.data, { textColumn: options.textColumn });
  const model = await prepare(spec, seed, sink);
  const { config, tokenizer } = model;
  if (maxLength > config.maxPositionEmbeddings) {
    throw new UserError(`--max-length ${maxLength} is longer than the model's ${config.maxPositionEmbeddings} positions.`, {
      code: 'MLM_MAX_LENGTH', fix: `Use --max-length ${config.maxPositionEmbeddings} or less.` });
  }
  // Full windows over every document (no overlap), so all the text is used.
  const rows: EncodedRow[] = encodeDocuments(tokenizer, texts, { maxLength, strategy: 'window', stride: 0 });
  const evalRows = rows.length >= 2 ? rows.filter((_, i) => i % 20 === 19 || (rows.length < 20 && i === rows.length - 1)).slice(0, 64) : [];
  const evalSet = new Set(evalRows);
  const trainRows = rows.filter((r) => !evalSet.has(r));
  const stepsPerEpoch = Math.ceil(trainRows.length / batchSize);
  const totalSteps = options.maxSteps ?? Math.max(1, Math.round(stepsPerEpoch * (options.epochs ?? 1)));
  const lr = options.lr ?? (model.random ? 5e-4 : 5e-5);
  const masking = maskingFor(tokenizer, config.vocabSize, { probability: options.maskProbability, wholeWord: options.wholeWordMasking });

  const checkpoints = path.join(options.out, 'checkpoints');
  const resumed = requested.resume ? await loadLatestCheckpoint(checkpoints) : undefined;
  if (requested.resume && !resumed) {
    throw new UserError(`Cannot resume: ${options.out} has no complete checkpoint.`, { file: checkpoints, code: 'RUN_NOT_RESUMABLE', fix: 'Start the run again without --resume.' });
  }
  fs.mkdirSync(options.out, { recursive: true });
  const metricsFile = path.join(options.out, 'metrics.jsonl');
  if (!resumed) fs.writeFileSync(metricsFile, '');
  const emit = (e: PretrainEvent): void => {
    fs.appendFileSync(metricsFile, `${JSON.stringify(e)}\n`);
    sink.emit(e);
  };
  if (!resumed) {
    const { resume: _, ...stored } = options;
    await writeJsonAtomic(path.join(options.out, 'run.json'), {
      format: 1, kind: 'pretrain', created: new Date().toISOString(), seed, options: stored,
      resolved: { model: spec, maxLength, batchSize, lr, totalSteps, maskProbability: masking.probability ?? 0.15 },
      data: [{ file: path.resolve(options.data) }], model: { spec, model_config: config.raw },
    });
  }

  const engine = await createTrainEngine({
    config, numLabels: 0, task: 'mlm', weights: resumed?.weights ?? model.weights, device: options.device ?? 'cpu', dropout: options.dropout ?? true, seed,
    hyper: { lr, weightDecay: options.weightDecay ?? 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, maxGradNorm: 1,
      warmupSteps: resolveWarmupSteps({ warmupRatio: options.warmupRatio ?? 0.06 }, totalSteps), totalSteps },
  });
  if (resumed) engine.setOptimizerState(resumed.optimizer);
  const evalBatches = planBatches(evalRows.map((r) => r.ids.length), { batchSize: EVAL_BATCH, mode: 'eval' })
    .map((idx, i) => maskBatch(collate(evalRows, idx, { padId: tokenizer.padId }), masking, maskSeed(seed + EVAL_SEED_OFFSET, i)));
  const evalSteps = options.evalSteps ?? Math.max(1, Math.ceil(totalSteps / 10));
  const bestDir = path.join(options.out, 'best');
  let best = { step: resumed?.state.bestStep ?? 0, loss: resumed?.state.bestMetric ?? Infinity };
  let step = resumed?.state.step ?? 0;
  let position = { epoch: resumed?.state.epoch ?? 0, batchInEpoch: resumed?.state.batchInEpoch ?? 0 };
  let stopped = false;
  const checkpoint = async (): Promise<void> => {
    const state: TrainerState = { step, ...position, totalSteps, seed, metricName: 'mlm_loss', bestMetric: Number.isFinite(best.loss) ? best.loss : null,
      bestStep: best.step, evalsWithoutImprovement: 0 };
    const { m, v } = engine.getOptimizerState();
    await saveCheckpoint(checkpoints, { weights: engine.getWeights(), optimizer: { step, m, v }, state });
    for (const old of listCheckpoints(checkpoints)) if (old < step) fs.rmSync(path.join(checkpoints, `step-${old}`), { recursive: true, force: true });
  };
  const saveBest = async (): Promise<void> => {
    const tmp = await prepareTempDir(bestDir);
    await saveMlmModel(tmp, config, engine.getWeights());
    await saveTokenizer(tokenizer, tmp);
    await commitDir(tmp, bestDir);
  };
  try {
    emit({ event: 'started', kind: 'pretrain', model: spec, device: engine.device, train_windows: trainRows.length, eval_windows: evalRows.length, total_steps: totalSteps, max_length: maxLength });
    const evaluate = async (): Promise<void> => {
      if (evalBatches.length > 0) {
        const r = await evaluateMlm(engine, evalBatches, config.vocabSize);
        const isBest = r.loss < best.loss;
        if (isBest) {
          best = { step, loss: r.loss };
          await saveBest();
        }
        emit({ event: 'eval', step, mlm_loss: r.loss, perplexity: r.perplexity, masked_accuracy: r.accuracy, masked_tokens: r.tokens, is_best: isBest });
      }
      await checkpoint();
    };
    // The order of an epoch is a function of (seed, epoch) and the masks of (seed, step): a resumed run replays both.
    while (step < totalSteps && !stopped) {
      const plan = planBatches(trainRows.map((r) => r.ids.length), { batchSize, mode: 'train', seed, epoch: position.epoch });
      for (const idx of plan.slice(position.batchInEpoch)) {
        if (step >= totalSteps || (stopped = sink.shouldStop?.() ?? false)) break;
        const batch = maskBatch(collate(trainRows, idx, { padId: tokenizer.padId }), masking, maskSeed(seed, step));
        const r = await engine.trainStep(batch);
        step = r.step;
        position = { epoch: position.epoch, batchInEpoch: position.batchInEpoch + 1 };
        emit({ event: 'step', step, loss: r.loss, lr: r.lr });
        if (step % evalSteps === 0 || step === totalSteps) await evaluate();
      }
      if (position.batchInEpoch >= plan.length) position = { epoch: position.epoch + 1, batchInEpoch: 0 };
    }
    if (stopped && step % evalSteps !== 0) await checkpoint();
    if (evalBatches.length === 0) {
      await saveBest();
      best = { step, loss: NaN };
    }
  } finally {
    await engine.dispose();
  }
  const done = { event: 'done' as const, step, best_step: best.step, best_mlm_loss: best.loss, model_dir: bestDir, stopped };
  emit(done);
  return done;
}

/**
 * One masked-LM pre-training run ("Don't Stop Pretraining": continued MLM on domain text): read unlabelled text,
 * resolve the model (hub id, folder, random:SIZE), cut the text into full-length windows, train the family's
 * <Family>ForMaskedLM (BERT, DistilBERT, RoBERTa / XLM-R, ELECTRA's generator head) with the train-step compiler,
 * evaluate MLM loss / perplexity / masked-token accuracy on held-out windows with fixed masks, and keep the best model
 * as an HF folder in `<out>/best/` (so `train --model <out>` fine-tunes from it).
 * It is a task of the session skeleton (core/train/session.ts), as fine-tuning is: the same loop (with MLM masks as
 * the batch preparation and MLM scores as the evaluation), the same TrainerEvents (`task: 'mlm'`) in
 * `<out>/metrics.jsonl` and to the caller's sink, the same run folder (run.json, checkpoints/, best/), resume and
 * restart. Its run.json stores the options given (`kind: 'pretrain'`) and the hash of the text.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { DataError, UserError } from '../errors';
import { resolveModel } from '../model/hub';
import {
  cardArchitecture,
  cardBaseModel,
  licenseOfModelDir,
  MODEL_CARD_FILE,
  renderModelCard,
  type CardBaseModel,
} from '../model/model-card';
import { writeFileAtomic } from '../util/files';
import { packageVersion } from '../util/package-version';
import { maxSequenceLength, presetConfig, type BertConfig } from '../model/config';
import { initWeights, type Weights } from '../model/params';
import { modelDirOf } from '../run/paths';
import { loadTokenizer, saveTokenizer, type TextTokenizer } from '../tokenize/tokenizer';
import { encodeDocuments, type EncodedRow } from '../tokenize/truncation';
import { collate, planBatches } from '../tokenize/batching';
import type { Batch } from '../tokenize/batch';
import type { DeviceChoice } from '../runtime/devices';
import type { TrainEngine } from '../train/engine';
import { resolveWarmupSteps } from '../train/schedule';
import { commitDir, prepareTempDir } from '../run/folder';
import type { DoneEvent } from '../run/events';
import {
  differingOnResume,
  refuseDiffering,
  runSession,
  type PreparedTask,
  type SessionSink,
  type TrainingTask,
} from '../train/session';
import type { Evaluation, LoopSettings } from '../train/trainer';
import { maskBatch, maskSeed, maskTokenId, specialTokenIds, wordContinuationIds, type MaskingOptions } from './masking';
import { IGNORE_LABEL, mlmParamSpecs } from '../model/mlm-head';
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
  /** Train the run in `out` again from step 0 with its settings (when its checkpoints are gone). */
  restart?: boolean;
}

/** Every event of the run, the same TrainerEvents fine-tuning emits (all but `log` also go to metrics.jsonl). */
export type PretrainSink = SessionSink;

/** The `done` event, plus the best MLM loss under the name bench/pretrain-benefit.ts reads. */
export type PretrainDone = DoneEvent & { best_mlm_loss: number };

const EVAL_BATCH = 4;
/** Seeds of the fixed evaluation masks live apart from the training steps'. */
const EVAL_SEED_OFFSET = 0x5eed;

async function prepare(
  spec: string,
  seed: number,
  sink: Pick<PretrainSink, 'onDownload'>,
): Promise<{
  config: BertConfig;
  weights: Weights;
  tokenizer: TextTokenizer;
  random: boolean;
  base: CardBaseModel;
  baseLicense?: string;
}> {
  const resolved = await resolveModel(spec, { onProgress: sink.onDownload });
  if (resolved.kind === 'random') {
    const config = presetConfig(resolved.size);
    return {
      config,
      weights: initWeights(mlmParamSpecs(config), seed, config.initializerRange),
      tokenizer: await loadTokenizer(),
      random: true,
      base: { kind: 'random', size: resolved.size },
    };
  }
  const dir = modelDirOf(resolved.dir);
  const { config, weights } = await loadMlmModelDir(dir, seed);
  const base = cardBaseModel(resolved, dir);
  return {
    config,
    weights,
    tokenizer: await loadTokenizer(dir),
    random: false,
    base,
    baseLicense: licenseOfModelDir(dir),
  };
}

/**
 * Masking settings from the tokenizer: its mask token ([MASK] or <mask>), the ids never chosen (its special tokens and
 * the ones it adds around a text), and for whole-word masking which tokens continue a word (WordPiece "##"; byte-level
 * BPE: no leading "Ġ"; SentencePiece: no leading "▁").
 */
export function maskingFor(
  tokenizer: TextTokenizer,
  vocabSize: number,
  options: { probability?: number; wholeWord?: boolean },
): MaskingOptions {
  const maskId = maskTokenId(tokenizer.tokenizerJson);
  if (maskId === undefined) {
    throw new UserError(
      `The tokenizer (${tokenizer.source}) has no [MASK] or <mask> token, so it cannot be used for masked-LM pre-training.`,
      {
        code: 'MLM_NO_MASK_TOKEN',
        fix: 'Use a model whose tokenizer has a mask token (BERT, DistilBERT, RoBERTa / XLM-R and ELECTRA tokenizers do).',
      },
    );
  }
  const continuation = options.wholeWord ? wordContinuationIds(tokenizer.tokenizerJson) : undefined;
  if (options.wholeWord && !continuation) {
    throw new UserError(
      `Whole-word masking cannot tell where words start in this tokenizer's vocabulary (${tokenizer.source}).`,
      {
        code: 'MLM_WHOLE_WORD',
        fix: 'Leave out --whole-word, or use a WordPiece ("##"), byte-level BPE ("Ġ") or SentencePiece ("▁") tokenizer.',
      },
    );
  }
  return {
    maskTokenId: maskId,
    vocabSize,
    specialIds: new Set([
      ...specialTokenIds(tokenizer.tokenizerJson),
      ...tokenizer.prefixIds,
      ...tokenizer.suffixIds,
      tokenizer.padId,
    ]),
    probability: options.probability,
    isContinuation: continuation ? (id) => continuation.has(id) : undefined,
  };
}

/**
 * MLM loss, perplexity and accuracy over the chosen tokens of (already masked) batches. The engine scores those
 * positions only: row r of forward() is the r-th labelled position.
 */
export async function evaluateMlm(
  engine: TrainEngine,
  batches: Batch[],
  vocabSize: number,
): Promise<{ loss: number; perplexity: number; accuracy: number; tokens: number }> {
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

/** What a pre-training run's run.json holds. */
interface PretrainRunJson {
  kind: 'pretrain';
  options: PretrainOptions;
  data: { file: string; texts_sha256?: string }[];
}

/** The options of a fresh run with absolute paths (run.json is read from any working directory on --resume). */
function freshOptions(requested: PretrainOptions, out: string): PretrainOptions {
  const { resume: _resume, restart: _restart, ...options } = requested;
  return { ...options, data: path.resolve(options.data), out };
}

const MLM_SCORES_EMPTY = { labels: [], confusion: [], per_class: {}, misclassified: [] };

/**
 * Everything a pre-training run needs before its engine: the text (unchanged since `previous` started), the model and
 * tokenizer, full-length windows (1 in 20 held out, with fixed masks), the settings, and the MLM evaluation.
 */
async function preparePretrain(
  options: PretrainOptions,
  previous: PretrainRunJson | undefined,
  sink: Pick<PretrainSink, 'onDownload'>,
): Promise<PreparedTask<Evaluation>> {
  const startedAt = Date.now();
  const seed = options.seed ?? 42;
  const maxLength = options.maxLength ?? 128;
  const batchSize = options.batchSize ?? 16;
  const spec = options.model ?? 'random:tiny';
  const texts = await readUnlabelledTexts(options.data, { textColumn: options.textColumn });
  // The text is hashed as read: a resumed run must see the same text to continue the same data order and masks.
  const textsSha256 = createHash('sha256').update(texts.join('\u0000')).digest('hex');
  const storedSha256 = previous?.data?.[0]?.texts_sha256;
  if (storedSha256 !== undefined && storedSha256 !== textsSha256) {
    throw new UserError(`The text in ${options.data} changed since the run started, so it cannot be resumed exactly.`, {
      file: options.data,
      code: 'RUN_DATA_CHANGED',
      fix: 'Restore the original text, or start a new run in another --out folder.',
    });
  }
  const model = await prepare(spec, seed, sink);
  const { config, tokenizer } = model;
  const longest = maxSequenceLength(config);
  if (maxLength > longest) {
    throw new UserError(`--max-length ${maxLength} is longer than the model's ${longest} usable positions.`, {
      code: 'MLM_MAX_LENGTH',
      fix: `Use --max-length ${longest} or less.`,
    });
  }
  // Full windows over every document (no overlap), so all the text is used.
  const rows: EncodedRow[] = encodeDocuments(tokenizer, texts, { maxLength, strategy: 'window', stride: 0 });
  if (rows.length < 2) {
    throw new DataError(
      `The text makes ${rows.length} window of up to ${maxLength} tokens; pre-training needs at least 2 (one is held out to measure progress).`,
      {
        file: options.data,
        code: 'DATA_TOO_LITTLE_TEXT',
        fix: 'Add more text, or lower --max-length.',
      },
    );
  }
  const evalRows = rows.filter((_, i) => i % 20 === 19 || (rows.length < 20 && i === rows.length - 1)).slice(0, 64);
  const evalSet = new Set(evalRows);
  const trainRows = rows.filter((r) => !evalSet.has(r));
  const stepsPerEpoch = Math.ceil(trainRows.length / batchSize);
  const totalSteps = options.maxSteps ?? Math.max(1, Math.round(stepsPerEpoch * (options.epochs ?? 1)));
  const lr = options.lr ?? (model.random ? 5e-4 : 5e-5);
  const masking = maskingFor(tokenizer, config.vocabSize, {
    probability: options.maskProbability,
    wholeWord: options.wholeWordMasking,
  });
  const loop: LoopSettings = {
    lr,
    evalSteps: options.evalSteps ?? Math.max(1, Math.ceil(totalSteps / 10)),
    metric: 'loss',
    earlyStoppingThreshold: 0,
    earlyStoppingPatience: undefined,
    saveTotalLimit: 1,
  };
  const device = options.device ?? 'cpu';
  const resolved = {
    model: spec,
    maxLength,
    batchSize,
    lr,
    totalSteps,
    evalSteps: loop.evalSteps,
    maskProbability: masking.probability ?? 0.15,
    wholeWordMasking: options.wholeWordMasking ?? false,
    seed,
    device,
  };
  const evalBatches = planBatches(
    evalRows.map((r) => r.ids.length),
    { batchSize: EVAL_BATCH, mode: 'eval' },
  ).map((idx, i) =>
    maskBatch(collate(evalRows, idx, { padId: tokenizer.padId }), masking, maskSeed(seed + EVAL_SEED_OFFSET, i)),
  );
  return {
    seed,
    totalSteps,
    loop,
    metricName: 'mlm_loss',
    weights: model.weights,
    engine: {
      config,
      numLabels: 0,
      task: 'mlm',
      device,
      dropout: options.dropout ?? true,
      seed,
      hyper: {
        lr,
        weightDecay: options.weightDecay ?? 0.01,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        maxGradNorm: 1,
        warmupSteps: resolveWarmupSteps({ warmupRatio: options.warmupRatio ?? 0.06 }, totalSteps),
        totalSteps,
      },
    },
    started: {
      config: resolved,
      dataset: {
        train_rows: trainRows.length,
        valid_rows: evalRows.length,
        train_windows: trainRows.length,
        valid_windows: evalRows.length,
        labels: [],
        label_counts: {},
        files: [path.resolve(options.data)],
      },
    },
    runJson: (engineDevice, deviceNotes) => {
      const { resume: _resume, restart: _restart, ...stored } = options;
      return {
        format: 1,
        kind: 'pretrain',
        created: new Date().toISOString(),
        seed,
        options: stored,
        resolved,
        data: [{ file: path.resolve(options.data), texts_sha256: textsSha256 }],
        model: { spec, model_config: config.raw },
        device: engineDevice,
        device_notes: deviceNotes,
      };
    },
    // The order of an epoch is a function of (seed, epoch) and the masks of (seed, step): a resumed run replays both.
    batchesForEpoch: (epoch) =>
      planBatches(
        trainRows.map((r) => r.ids.length),
        { batchSize, mode: 'train', seed, epoch },
      ).map((idx) => collate(trainRows, idx, { padId: tokenizer.padId })),
    prepareBatch: (batch, step) => maskBatch(batch, masking, maskSeed(seed, step)),
    evaluate: async (engine) => {
      const r = await evaluateMlm(engine, evalBatches, config.vocabSize);
      return {
        metric: r.loss,
        scores: {
          task: 'mlm',
          loss: r.loss,
          accuracy: r.accuracy,
          perplexity: r.perplexity,
          masked_tokens: r.tokens,
          ...MLM_SCORES_EMPTY,
        },
      };
    },
    saveBest: async (engine, evaluation, step, dir) => {
      const tmp = await prepareTempDir(dir);
      const weights = engine.getWeights();
      await saveMlmModel(tmp, config, weights);
      await saveTokenizer(tokenizer, tmp);
      let parameters = 0;
      for (const t of weights.values()) parameters += t.data.length;
      const scores = evaluation.scores as { loss: number; accuracy: number; perplexity?: number };
      const card = renderModelCard({
        name: path.basename(path.dirname(path.resolve(dir))),
        task: 'fill-mask',
        base: model.base,
        baseLicense: model.baseLicense,
        architecture: cardArchitecture(config, parameters),
        labels: [],
        hyperparameters: [
          ['learning rate', lr],
          ['steps', totalSteps],
          ['batch size', batchSize],
          ['max length (tokens)', maxLength],
          ['warmup ratio', options.warmupRatio ?? 0.06],
          ['weight decay', options.weightDecay ?? 0.01],
          ['mask probability', resolved.maskProbability],
          ['whole-word masking', resolved.wholeWordMasking],
          ['dropout', options.dropout ?? true],
          ['evaluation every (steps)', loop.evalSteps],
          ['seed', seed],
          ['device asked', device],
        ],
        data: [{ file: options.data, sha256: textsSha256, what: 'of the texts as read, joined by NUL' }],
        training: {
          device: engine.device,
          seconds: (Date.now() - startedAt) / 1000,
          resumed: previous !== undefined,
          step,
          totalSteps,
        },
        evaluation: {
          dataset: options.data,
          count: evalRows.length,
          unit: `windows of up to ${maxLength} tokens`,
          heldOut: 'every 20th window, 64 at most, with fixed masks',
          metrics: [
            { type: 'perplexity', name: 'Perplexity', value: scores.perplexity ?? NaN },
            { type: 'accuracy', name: 'Masked-token accuracy', value: scores.accuracy },
            { type: 'loss', name: 'MLM loss', value: scores.loss, bodyOnly: true },
          ],
          perClass: [],
        },
        hasOnnxFolder: false,
        generator: `bertft ${packageVersion()}`,
      });
      await writeFileAtomic(path.join(tmp, MODEL_CARD_FILE), card);
      await commitDir(tmp, dir);
    },
  };
}

/** Masked-LM pre-training with `requested` (the flags given): a new run's settings, or a resumed run's own. */
export function pretrainTask(requested: PretrainOptions): TrainingTask<PretrainOptions, Evaluation> {
  return {
    kind: 'mlm',
    command: 'bertft pretrain',
    fresh: (out) => freshOptions(requested, out),
    resumed: (stored, file) => {
      const run = stored as Partial<PretrainRunJson> | null;
      if (typeof run !== 'object' || run === null || run.kind !== 'pretrain' || typeof run.options?.data !== 'string') {
        throw new UserError(`Cannot resume: ${path.dirname(file)} is not a pre-training run.`, {
          file,
          code: 'RUN_NOT_RESUMABLE',
          fix: 'Resume fine-tuning runs with `bertft train --resume`.',
        });
      }
      refuseDiffering(differingOnResume(requested, run.options, ['data']), file, 'bertft pretrain');
      // The run continues exactly as configured; only where it runs may change.
      return { ...run.options, out: path.dirname(file), device: requested.device ?? run.options.device };
    },
    prepare: (options, previous, sink) => preparePretrain(options, previous as PretrainRunJson | undefined, sink),
  };
}

/** Pre-trains into the run folder `requested.out` (a new run, --resume or --restart). */
export async function runPretrainSession(requested: PretrainOptions, sink: PretrainSink): Promise<PretrainDone> {
  const done = await runSession(pretrainTask(requested), requested, sink);
  return { ...done, best_mlm_loss: done.best_metric };
}

/**
 * Inference with a trained model folder: one onnxruntime session on its model.onnx (created once, reused), the
 * same tokenizer, truncation and chunk pooling as training (see preprocess.ts), softmax over the pooled logits.
 * A Hugging Face folder without model.onnx (e.g. downloaded from the Hub) gets one built from its safetensors.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ModelError, type DataError } from '../errors';
import { labelsFromId2Label } from '../data/labels';
import { recordOf } from '../util/records';
import { maxSequenceLength, parseBertConfig, type BertConfig } from '../model/config';
import { loadMemberWeights, loadModelDir } from '../model/load';
import { buildEnsembleInferenceModel, buildInferenceModel } from '../model/export-onnx';
import type { Batch } from '../tokenize/batch';
import { sigmoid, softmaxRows } from '../util/metrics';
import { modelDirOf } from '../run/paths';
import type { DeviceChoice } from '../runtime/devices';
import { providerOptions } from '../runtime/providers';
import { loadPreprocessor, type Preprocessor, type PreprocessSettings } from './preprocess';
import { multiLabelThresholdsOf } from './thresholds';
import { documentLogits } from '../train/trainer';

export interface Prediction {
  label: string;
  /** Probability of `label`. */
  score: number;
  /** Probability of every label, in the model's label order (a JSON record: read it with ownValue). */
  scores: Record<string, number>;
  /** A regression model's predicted number (then label is that number written out, score the number, scores {}). */
  value?: number;
  /**
   * A multi-label model's labels at or above their thresholds, most probable first, each with its sigmoid probability
   * (then scores holds every label's probability, label these names joined by ", " ("" for none), score the highest).
   */
  predicted?: { label: string; score: number; threshold: number }[];
}

export interface Predictor {
  readonly labels: string[];
  /** config.json's problem_type "regression": one output, a number per text instead of a class. */
  readonly regression: boolean;
  /** A multi-label model's threshold per label (config.json problem_type "multi_label_classification"). */
  readonly thresholds?: Float32Array;
  /** A text-pair model's second-text column (bertft.json text_pair_column): it classifies two texts together. */
  readonly textPairColumn?: string;
  readonly settings: PreprocessSettings;
  /** With `pairs`, text i is classified together with pairs[i] (a text-pair model: NLI, paraphrase, QA). */
  predict(texts: string[], pairs?: string[]): Promise<Prediction[]>;
  /** Raw pooled logits per text (or pair), [texts, labels] row-major (for evaluation). */
  logits(texts: string[], pairs?: string[]): Promise<Float32Array>;
  dispose(): Promise<void>;
}

export interface PredictorOptions {
  device?: DeviceChoice;
  /** Rows per forward pass (default 32). */
  batchSize?: number;
  threads?: number;
}

/** Inference settings written next to the model by the trainer. */
export const INFERENCE_SETTINGS_FILE = 'bertft.json';

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new ModelError(`Cannot read ${path.basename(file)}: ${(e as Error).message}`, {
      file,
      code: 'MODEL_BAD_JSON',
      cause: e,
      fix: 'Point --model at a folder written by `bertft train` (or its run folder).',
    });
  }
}

function labelsFromConfig(config: Record<string, unknown>, file: string): string[] {
  const id2label = config.id2label;
  if (!id2label || typeof id2label !== 'object' || Object.keys(id2label).length === 0) {
    throw new ModelError('config.json has no id2label, so the labels of this classifier are unknown.', {
      file,
      code: 'MODEL_NO_LABELS',
      fix: 'Use a model fine-tuned for classification (e.g. the best/ folder of a bertft run).',
    });
  }
  try {
    return labelsFromId2Label(id2label, file);
  } catch (e) {
    throw new ModelError((e as Error).message, { file, code: 'MODEL_BAD_LABELS', cause: e, fix: (e as DataError).fix });
  }
}

/** A GPU device asked for by name, with the CPU for what it cannot run; 'auto' and 'cpu' classify on the CPU. */
function deviceOptions(device: PredictorOptions['device']): ort.InferenceSession.SessionOptions {
  if (device === undefined || device === 'auto' || device === 'cpu') return { executionProviders: ['cpu'] };
  const gpu = providerOptions(device);
  return { ...gpu, executionProviders: [...(gpu.executionProviders ?? []), 'cpu'] };
}

/** What prediction and explanation read from a model folder before building a session. */
export interface ModelFolder {
  dir: string;
  labels: string[];
  regression: boolean;
  bertConfig: BertConfig;
  settings: PreprocessSettings;
  /** A text-pair model's second-text column, from bertft.json. */
  textPairColumn?: string;
  pre: Preprocessor;
}

/** A trained model folder (or a run folder: its best/) with its labels, config, inference settings and tokenizer. */
export async function openModelFolder(modelDir: string): Promise<ModelFolder> {
  const dir = modelDirOf(modelDir);
  const configFile = path.join(dir, 'config.json');
  if (!fs.existsSync(configFile)) {
    throw new ModelError(`${dir} is not a model folder (no config.json).`, {
      file: dir,
      code: 'MODEL_NOT_FOUND',
      fix: 'Give the --out folder of a bertft run, its best/ folder, or a Hugging Face model folder.',
    });
  }
  const configJson = readJson(configFile);
  const labels = labelsFromConfig(configJson, configFile);
  const regression = configJson.problem_type === 'regression' && labels.length === 1;
  const bertConfig = parseBertConfig(configJson, configFile);
  const settingsFile = path.join(dir, INFERENCE_SETTINGS_FILE);
  const saved = fs.existsSync(settingsFile) ? readJson(settingsFile) : {};
  const settings: PreprocessSettings = {
    maxLength: typeof saved.max_length === 'number' ? saved.max_length : Math.min(512, maxSequenceLength(bertConfig)),
    truncation: (saved.truncation as PreprocessSettings['truncation'] | undefined) ?? 'head',
  };
  const textPairColumn = typeof saved.text_pair_column === 'string' ? saved.text_pair_column : undefined;
  const pre = await loadPreprocessor(dir, { typeVocabSize: bertConfig.typeVocabSize });
  return {
    dir,
    labels,
    regression,
    bertConfig,
    settings,
    ...(textPairColumn !== undefined ? { textPairColumn } : {}),
    pre,
  };
}

export async function loadPredictor(modelDir: string, options: PredictorOptions = {}): Promise<Predictor> {
  const { dir, labels, regression, settings, textPairColumn, pre } = await openModelFolder(modelDir);
  const onnxFile = path.join(dir, 'model.onnx');
  let model: string | Uint8Array = onnxFile;
  if (!fs.existsSync(onnxFile)) {
    const { config, weights } = await loadModelDir(dir, labels.length, 0);
    // A seed ensemble's other members (best/members/N/) are averaged in, as its model.onnx would.
    const others = await loadMemberWeights(dir, labels.length);
    model =
      others.length === 0
        ? buildInferenceModel(config, labels.length, weights)
        : buildEnsembleInferenceModel(config, labels.length, [weights, ...others]);
  }
  const session = await ort.InferenceSession.create(model as Uint8Array, {
    ...deviceOptions(options.device),
    graphOptimizationLevel: 'all',
    ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
  });
  const k = labels.length;
  const batchSize = options.batchSize ?? 32;
  const thresholds = multiLabelThresholdsOf(dir, labels);

  const forward = sessionForward(session);

  const logits = async (texts: string[], pairs?: string[]): Promise<Float32Array> => {
    if (texts.length === 0) return new Float32Array(0);
    // A pair has one row, cut longest_first; the saved strategy is for single texts.
    const encoded = pairs
      ? pre.encode(texts, { ...settings, truncation: 'head' }, undefined, pairs)
      : pre.encode(texts, settings);
    const batches = pre.evalBatches(encoded, { ...settings, evalBatchSize: batchSize });
    return documentLogits(forward, batches, k, texts.length, pre.poolLogits);
  };

  return {
    labels,
    regression,
    ...(thresholds ? { thresholds } : {}),
    ...(textPairColumn !== undefined ? { textPairColumn } : {}),
    settings,
    logits,
    async predict(texts: string[], pairs?: string[]): Promise<Prediction[]> {
      if (regression) {
        const values = await logits(texts, pairs);
        return texts.map((_, d) => ({ label: String(values[d]), score: values[d], scores: {}, value: values[d] }));
      }
      if (thresholds) return multiLabelPredictions(await logits(texts, pairs), labels, thresholds);
      const probs = softmaxRows(await logits(texts, pairs), k);
      return texts.map((_, d) => {
        let best = 0;
        for (let c = 1; c < k; c++) if (probs[d * k + c] > probs[d * k + best]) best = c;
        const scores = recordOf(labels.map((label, c) => [label, probs[d * k + c]]));
        return { label: labels[best], score: probs[d * k + best], scores };
      });
    },
    async dispose(): Promise<void> {
      await session.release();
    },
  };
}

/** The logits an inference model's session gives for one batch (the export's inputs and output, export-onnx.ts). */
export function sessionForward(session: ort.InferenceSession): (b: Batch) => Promise<Float32Array> {
  return async (b) => {
    const shape = [b.batchSize, b.seqLen];
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', b.inputIds, shape),
      attention_mask: new ort.Tensor('int64', b.attentionMask, shape),
      token_type_ids: new ort.Tensor('int64', b.tokenTypeIds, shape),
    };
    const out = await session.run(feeds);
    return out.logits.data as Float32Array;
  };
}

/** Every label at or above its threshold, with its sigmoid probability, per text ([texts, labels] logits). */
export function multiLabelPredictions(
  logits: Float32Array,
  labels: string[],
  thresholds: ArrayLike<number>,
): Prediction[] {
  const k = labels.length;
  const probs = sigmoid(logits);
  return Array.from({ length: k === 0 ? 0 : probs.length / k }, (_, d) => {
    const row = probs.subarray(d * k, (d + 1) * k);
    const predicted = labels
      .map((label, c) => ({ label, score: row[c], threshold: thresholds[c] }))
      .filter((p) => p.score >= p.threshold)
      .sort((a, b) => b.score - a.score);
    return {
      label: predicted.map((p) => p.label).join(', '),
      score: Math.max(...row),
      scores: recordOf(labels.map((label, c) => [label, row[c]])),
      predicted,
    };
  });
}

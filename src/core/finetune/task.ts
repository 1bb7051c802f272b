/**
 * Fine-tuning a classifier, as a task of the session skeleton (core/train/session.ts): read and split the data,
 * resolve the model (hub id, folder, run folder, random:SIZE), tokenize, resolve the preset from the data's token
 * lengths, and score and export the classifier. The skeleton does the rest (run folder, lock, checkpoints, the loop).
 * Its run.json stores the resolved TrainConfig, the seed, the data files' hashes and the labels.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';
import { ownValue, recordOf } from '../util/records';
import { writeFileAtomic, writeJsonAtomic } from '../util/files';
import { packageVersion } from '../util/package-version';
import type { Example } from '../data/types';
import { checkPaddingMatchesModel, maxSequenceLength, presetConfig, type BertConfig } from '../model/config';
import { bertClassifierParamSpecs, initWeights, type Weights } from '../model/params';
import { loadModelDir, saveHfModel } from '../model/load';
import { resolveModel } from '../model/hub';
import {
  cardArchitecture,
  cardBaseModel,
  licenseOfModelDir,
  MODEL_CARD_FILE,
  renderModelCard,
  classifierScores,
  type CardProblemType,
  type CardBaseModel,
  type ModelCard,
} from '../model/model-card';
import { buildInferenceModel } from '../model/export-onnx';
import { TRANSFORMERS_JS_FP32, writeTransformersJsFiles } from '../model/transformers-js';
import {
  resolveTrainConfig,
  totalSteps as countSteps,
  warmupStepsFor,
  type TrainConfig,
  type TrainOverrides,
} from '../train/presets';
import { commitDir, prepareTempDir } from '../run/folder';
import { sha256File } from '../util/files';
import {
  differingOnResume,
  refuseDiffering,
  runSession,
  type PreparedTask,
  type SessionRequest,
  type SessionSink,
  type TrainingTask,
} from '../train/session';
import { classifyEvaluation, evaluateSet, type ClassifyEvaluation, type EvalSet } from '../train/trainer';
import { INFERENCE_SETTINGS_FILE } from '../infer/predictor';
import { MEMBERS_DIR, modelDirOf } from '../run/paths';
import { loadPreprocessor, type Preprocessor } from '../infer/preprocess';
import { evaluateRegression, type RegressionEvaluation } from './regression';
import { evaluateMultiLabel, positiveWeights, type MultiLabelEvaluation } from './multi-label';
import { trainMembers, type EnsembleModel } from './ensemble';
import { asRunJson, prepareData, type PreparedData, type RunJson } from './run-data';
import { writeThresholds } from '../infer/thresholds';

/** `bertft train`'s options: the run's settings, where it goes, and how it starts. */
export interface SessionOptions extends TrainOverrides, Omit<SessionRequest, 'out'> {}

const now = () => new Date().toISOString();

interface PreparedModel {
  config: BertConfig;
  weights: Weights;
  /** Folder with the tokenizer files, or undefined for the bundled bert-base-uncased tokenizer. */
  dir?: string;
  /** Where the weights came from, and the licence its folder's card declares, for the model card. */
  base: CardBaseModel;
  baseLicense?: string;
}

async function prepareModel(
  spec: string,
  numLabels: number,
  seed: number,
  sink: Pick<SessionSink, 'onDownload'>,
): Promise<PreparedModel> {
  const resolved = await resolveModel(spec, { onProgress: sink.onDownload });
  if (resolved.kind === 'random') {
    const config = presetConfig(resolved.size);
    const weights = initWeights(bertClassifierParamSpecs(config, numLabels), seed, config.initializerRange);
    return { config, weights, base: { kind: 'random', size: resolved.size } };
  }
  const dir = modelDirOf(resolved.dir);
  const { config, weights } = await loadModelDir(dir, numLabels, seed);
  const base = cardBaseModel(resolved, dir);
  return { config, weights, dir, base, baseLicense: licenseOfModelDir(dir) };
}

async function hashInputs(files: string[]): Promise<{ file: string; sha256: string }[]> {
  const out: { file: string; sha256: string }[] = [];
  for (const file of files) {
    const stat = fs.statSync(file);
    out.push({ file: path.resolve(file), sha256: stat.isDirectory() ? 'folder' : await sha256File(file) });
  }
  return out;
}

const LENGTH_SAMPLE = 5000;

/** At most `n` items, evenly spread over `items` (deterministic). */
export function spreadSample<T>(items: T[], n: number): T[] {
  if (items.length <= n) return items;
  return Array.from({ length: n }, (_, i) => items[Math.floor((i * items.length) / n)]);
}

/** sklearn's "balanced" weights: n / (k · count(c)). */
export function balancedClassWeights(labelIds: ArrayLike<number>, numLabels: number): Float32Array {
  const counts = new Array<number>(numLabels).fill(0);
  for (let i = 0; i < labelIds.length; i++) counts[labelIds[i]]++;
  return Float32Array.from(counts, (c) => (c === 0 ? 0 : labelIds.length / (numLabels * c)));
}

/** Rows per label (multi-label: rows that have it, in `labels` order). */
function labelCounts(examples: Example[], labels: string[]): Record<string, number> {
  const counts = new Map<string, number>();
  if (examples.some((e) => e.labels !== undefined)) for (const l of labels) counts.set(l, 0);
  for (const e of examples) {
    for (const l of e.labels ?? [e.label]) counts.set(l, (counts.get(l) ?? 0) + 1);
  }
  return recordOf(counts);
}

/** Settings given with --resume that differ from the run's own (see differingOnResume); data files compare resolved. */
export function ignoredOnResume(
  options: Omit<SessionOptions, 'out'> & { out?: string },
  previous: TrainConfig,
): string[] {
  return differingOnResume(options, previous, ['data', 'valid']);
}

/** A new run's settings; paths are stored absolute so that --resume works from any working directory. */
export function freshOverrides(options: Omit<SessionOptions, 'out'>, out: string): TrainOverrides {
  const { resume: _resume, restart: _restart, ...fresh } = options;
  return {
    ...fresh,
    data: path.resolve(options.data),
    valid: options.valid === undefined ? undefined : path.resolve(options.valid),
    out,
  };
}

/** Everything a fine-tuning run needs before its engine, with what the estimate measures besides. */
export interface PreparedClassify extends PreparedTask<
  ClassifyEvaluation | RegressionEvaluation | MultiLabelEvaluation
> {
  data: PreparedData;
  numLabels: number;
  model: PreparedModel;
  tokenizer: Preprocessor;
  config: TrainConfig;
  evalSet: EvalSet;
  /** The padded shape of each of batchesForEpoch(epoch), without building the batches. */
  shapesForEpoch: (epoch: number) => { batchSize: number; seqLen: number }[];
  parameters: number;
  /** Seconds spent downloading the model (not part of a later run's start-up). */
  downloadSeconds: number;
  /** What the model card says besides the settings: the data's hashes, when this session began, whether it resumed. */
  cardFacts: { dataHashes: { file: string; sha256: string }[]; startedAt: number; resumed: boolean };
}

/**
 * Read and split the data (unchanged since `previous` started), resolve the model, tokenize and resolve the config
 * (resolveTrainConfig, from the data's token lengths). Writes nothing: the run and its estimate both start here, so
 * that the estimate measures the same work and memory.
 */
export async function prepareClassify(
  overrides: TrainOverrides,
  previous: RunJson | undefined,
  sink: Pick<SessionSink, 'onDownload'>,
): Promise<PreparedClassify> {
  const startedAt = Date.now();
  const seed = overrides.seed ?? 42;
  // The split follows `seed`; the initial weights, batch order and dropout follow the train seed (seed screening).
  const trainSeed = overrides.trainSeed ?? seed;
  const data = await prepareData(overrides.problemType, {
    ...overrides,
    validRatio: overrides.validRatio ?? 0.1,
    seed,
  });
  const dataHashes = await hashInputs(data.files);
  if (previous) {
    const changed = dataHashes.find((h, i) => previous.data[i]?.sha256 !== h.sha256);
    if (changed) {
      throw new UserError(`${changed.file} changed since the run started, so the run cannot be resumed exactly.`, {
        file: changed.file,
        code: 'RUN_DATA_CHANGED',
        fix: 'Restore the original file, or start a new run with another --out.',
      });
    }
  }
  const regression = data.targets !== undefined;
  const numLabels = data.labels.length;
  let downloaded = false;
  const modelStart = performance.now();
  const model = await prepareModel(overrides.model ?? 'random:tiny', numLabels, trainSeed, {
    onDownload: (p) => {
      downloaded = true;
      sink.onDownload?.(p);
    },
  });
  const downloadSeconds = downloaded ? (performance.now() - modelStart) / 1000 : 0;
  const tokenizer = await loadPreprocessor(model.dir, { typeVocabSize: model.config.typeVocabSize });
  if (model.dir !== undefined)
    checkPaddingMatchesModel(model.config, tokenizer.tokenizer.padId, path.join(model.dir, 'config.json'));
  const pairsOf = pairTexts(data.textPairColumn, overrides.truncation);
  // RoBERTa-style position ids start after the padding index, so fewer tokens fit than the position table has.
  const positions = maxSequenceLength(model.config);
  // Only the fast preset without --max-length needs the length distribution; a spread sample estimates its p95.
  const needLengths = overrides.maxLength === undefined && (overrides.preset ?? 'fast') === 'fast';
  const lengths = needLengths
    ? (() => {
        const sample = spreadSample(data.train, LENGTH_SAMPLE);
        return tokenizer.tokenLengths(
          sample.map((e) => e.text),
          positions,
          pairsOf(sample),
        );
      })()
    : [];
  // A detected pair column is recorded, so that --resume and the model card name it.
  const withPair = {
    ...overrides,
    ...(data.textPairColumn === undefined ? {} : { textPairColumn: data.textPairColumn }),
    // Multi-label data found without --task is recorded as such, for --resume and the model card.
    ...(data.multiLabelTargets ? { problemType: 'multi-label' as const } : {}),
  };
  const config = resolveTrainConfig(withPair, lengths, positions, { hiddenSize: model.config.hiddenSize });
  const label2id = new Map(data.labels.map((l, i) => [l, i]));
  // Regression batches carry each row's index; the engine looks its target up (EngineOptions.regressionTargets).
  // Multi-label batches too (EngineOptions.multiLabelTargets).
  const byRow = regression || data.multiLabelTargets !== undefined;
  const idsOf = (rows: Example[]) => Int32Array.from(rows, (e, i) => (byRow ? i : (label2id.get(e.label) as number)));
  const trainIds = idsOf(data.train);
  const validIds = idsOf(data.valid);
  const encodedTrain = tokenizer.encode(
    data.train.map((e) => e.text),
    config,
    trainIds,
    pairsOf(data.train),
  );
  const evalSet: EvalSet = {
    batches: tokenizer.evalBatches(
      tokenizer.encode(
        data.valid.map((e) => e.text),
        config,
        validIds,
        pairsOf(data.valid),
      ),
      config,
    ),
    targets: validIds,
    examples: data.valid,
  };
  const total = countSteps(config, tokenizer.trainBatchShapes(encodedTrain, { ...config, seed: trainSeed }, 0).length);
  // The engine trains only the embedding rows of these tokens: every epoch's batches are these rows, padded.
  const embeddingTokens = new Set<number>([tokenizer.tokenizer.padId]);
  for (const row of encodedTrain) for (const id of row.ids) embeddingTokens.add(id);
  for (const batch of evalSet.batches) for (const id of batch.inputIds) embeddingTokens.add(Number(id));
  let parameters = 0;
  for (const t of model.weights.values()) parameters += t.data.length;
  const prepared: PreparedClassify = {
    data,
    numLabels,
    model,
    tokenizer,
    config,
    evalSet,
    parameters,
    downloadSeconds,
    cardFacts: { dataHashes, startedAt, resumed: previous !== undefined },
    seed: trainSeed,
    totalSteps: total,
    loop: config,
    metricName: config.metric,
    weights: model.weights,
    engine: {
      config: model.config,
      numLabels,
      ...(data.targets ? { task: 'regression' as const, regressionTargets: data.targets.train } : {}),
      ...(data.multiLabelTargets
        ? { task: 'multi-label' as const, multiLabelTargets: data.multiLabelTargets.train }
        : {}),
      device: config.device,
      dropout: config.dropout,
      seed: trainSeed,
      stepsPerRun: config.stepsPerRun,
      gradientAccumulationSteps: config.gradientAccumulationSteps,
      labelSmoothing: config.labelSmoothing,
      embeddingTokens,
      hyper: {
        lr: config.lr,
        weightDecay: config.weightDecay,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        maxGradNorm: 1,
        warmupSteps: warmupStepsFor(config, total),
        totalSteps: total,
        schedule: config.lrSchedule,
      },
      // Multi-label: BCE's positive weights (negatives ÷ positives per label).
      classWeights: !config.classWeights
        ? undefined
        : data.multiLabelTargets
          ? positiveWeights(data.multiLabelTargets.train, numLabels)
          : balancedClassWeights(trainIds, numLabels),
    },
    started: {
      config: { ...config },
      dataset: {
        train_rows: data.train.length,
        valid_rows: data.valid.length,
        labels: data.labels,
        label_counts: regression ? {} : labelCounts(data.train, data.labels),
        files: data.files,
      },
    },
    runJson: (device, deviceNotes): RunJson & Record<string, unknown> => ({
      format: 1,
      created: now(),
      package_version: packageVersion(),
      config,
      seed,
      data: dataHashes,
      labels: data.labels,
      model: { spec: config.model, dir: model.dir, model_config: { ...model.config.raw } },
      device,
      device_notes: deviceNotes,
      node: process.version,
    }),
    batchesForEpoch: (epoch) => tokenizer.trainBatches(encodedTrain, { ...config, seed: trainSeed }, epoch),
    shapesForEpoch: (epoch) => tokenizer.trainBatchShapes(encodedTrain, { ...config, seed: trainSeed }, epoch),
    evaluate: async (engine) =>
      data.multiLabelTargets
        ? evaluateMultiLabel(
            (b) => engine.forward(b),
            { batches: evalSet.batches, targets: data.multiLabelTargets.valid },
            data.labels,
            tokenizer.poolLogits,
            config.metric,
          )
        : data.targets
          ? evaluateRegression(
              (b) => engine.forward(b),
              { batches: evalSet.batches, targets: data.targets.valid },
              tokenizer.poolLogits,
            )
          : classifyEvaluation(
              config.metric,
              await evaluateSet((b) => engine.forward(b), evalSet, data.labels, tokenizer.poolLogits),
            ),
    afterLoop:
      (config.ensembleSize ?? 1) > 1
        ? {
            steps: ((config.ensembleSize ?? 1) - 1) * total,
            run: (context) =>
              trainMembers(
                prepared,
                context,
                ({ out, resume, ...settings }, memberSink) =>
                  runSession(classifyTask(settings), { out, resume }, memberSink),
                (first, ensemble, evaluation, step) =>
                  writeBestModel(
                    context.paths.best,
                    prepared,
                    first,
                    { step, metric: config.metric, ...bestReport(evaluation.result) },
                    context.device,
                    ensemble,
                  ),
              ),
          }
        : undefined,
    saveBest: async (engine, { result }, step, dir) => {
      await writeBestModel(
        dir,
        prepared,
        engine.getWeights(),
        { step, metric: config.metric, ...bestReport(result) },
        engine.device,
      );
    },
  };
  return prepared;
}

/**
 * eval.json's scores of an evaluation: without its per-row predictions and misclassified rows; a multi-label model's
 * thresholds go to thresholds.json (eval.json keeps them as a record by label).
 */
function bestReport(result: object): Record<string, unknown> {
  const { predictions: _p, thresholds: _t, misclassified: _m, ...report } = result as Record<string, unknown>;
  return report;
}

/**
 * The second texts of examples when the data is a text-pair task (else undefined). Pairs are cut longest_first,
 * so another truncation strategy is refused.
 */
function pairTexts(
  textPairColumn: string | undefined,
  truncation: TrainConfig['truncation'] | undefined,
): (examples: Example[]) => string[] | undefined {
  if (textPairColumn === undefined) return () => undefined;
  if (truncation !== undefined && truncation !== 'head') {
    throw new UserError(
      `Text pairs are truncated longest_first (as Hugging Face does), not with --truncation ${truncation}.`,
      {
        code: 'CONFIG_PAIR_TRUNCATION',
        fix: 'Leave out --truncation: the longer of the two texts loses tokens first.',
      },
    );
  }
  return (examples) => examples.map((e) => e.textPair ?? '');
}

type BestModelRun = Pick<
  PreparedClassify,
  'model' | 'numLabels' | 'tokenizer' | 'config' | 'data' | 'parameters' | 'totalSteps' | 'cardFacts'
>;

/** The card's name for what the run's head predicts, as config.json's problem_type says it. */
function cardProblemType(data: PreparedData): CardProblemType {
  if (data.targets) return 'regression';
  return data.multiLabelTargets ? 'multi_label_classification' : 'single_label_classification';
}

/** The model card of a best/ folder: the run's settings, data and labels, and `evalJson`'s scores. */
export function classifierCard(
  run: BestModelRun,
  evalJson: Record<string, unknown>,
  device: string,
  name: string,
  hasOnnxFolder: boolean,
): ModelCard {
  const { config, data, model } = run;
  const count = (rows: Example[], label: string) =>
    rows.reduce((n, e) => n + ((e.labels ? e.labels.includes(label) : e.label === label) ? 1 : 0), 0);
  const problemType = cardProblemType(data);
  const scores = classifierScores(problemType, evalJson, data.labels);
  const step = typeof evalJson.step === 'number' ? evalJson.step : 0;
  return {
    name,
    task: 'text-classification',
    problemType,
    base: model.base,
    baseLicense: model.baseLicense,
    architecture: cardArchitecture(model.config, run.parameters),
    labels:
      problemType === 'regression'
        ? []
        : data.labels.map((l) => ({ name: l, train: count(data.train, l), valid: count(data.valid, l) })),
    hyperparameters: [
      ['preset', config.preset],
      ['learning rate', config.lr],
      ['epochs', config.epochs],
      ['max steps', config.maxSteps],
      ['batch size', config.batchSize],
      ['gradient accumulation steps', config.gradientAccumulationSteps],
      ['max length (tokens)', config.maxLength],
      ['truncation', config.truncation],
      ['warmup steps', warmupStepsFor(config, run.totalSteps)],
      ['learning-rate schedule', config.lrSchedule],
      ['label smoothing', config.labelSmoothing],
      ['weight decay', config.weightDecay],
      ['dropout', config.dropout],
      ['class weights', config.classWeights],
      ['selection metric', config.metric],
      ['evaluation every (steps)', config.evalSteps],
      ['early stopping patience', config.earlyStoppingPatience],
      ['validation share', config.valid === undefined ? config.validRatio : undefined],
      ['seed', config.seed],
      ['train seed (weights, order, dropout)', config.trainSeed],
      ['seed screening', screeningSummary(config.seedScreening)],
      ['seed ensemble (models averaged)', ensembleSummary(evalJson.ensemble)],
      ['device asked', config.device],
    ],
    data: run.cardFacts.dataHashes,
    training: {
      device,
      seconds: (Date.now() - run.cardFacts.startedAt) / 1000,
      resumed: run.cardFacts.resumed,
      step,
      totalSteps: run.totalSteps,
    },
    evaluation: scores
      ? {
          dataset: config.valid ?? config.data,
          count: data.valid.length,
          unit: 'rows',
          heldOut:
            config.valid !== undefined
              ? undefined
              : problemType === 'single_label_classification'
                ? `a stratified share of ${config.validRatio}`
                : `a seeded random share of ${config.validRatio}`,
          ...scores,
        }
      : undefined,
    inference: { maxLength: config.maxLength, truncation: config.truncation },
    hasOnnxFolder,
    generator: `bertft ${packageVersion()}`,
  };
}

/**
 * Write the best model into `dir` (through `<dir>.tmp` and a rename): HF layout, model.onnx (also as onnx/model.onnx
 * for transformers.js), tokenizer, inference settings, eval.json, and last the model card (README.md), which
 * describes what the folder holds.
 */
export async function writeBestModel(
  dir: string,
  run: BestModelRun,
  weights: Weights,
  evalJson: Record<string, unknown>,
  device: string,
  ensemble?: EnsembleModel,
): Promise<void> {
  const tmp = await prepareTempDir(dir);
  for (const [i, members] of (ensemble?.members ?? []).entries()) {
    await saveHfModel(path.join(tmp, MEMBERS_DIR, String(i + 2)), {
      config: run.model.config,
      weights: members,
      id2label: run.data.labels,
    });
  }
  await saveHfModel(tmp, {
    config: run.model.config,
    weights,
    id2label: run.data.labels,
    problemType: run.data.targets
      ? 'regression'
      : run.data.multiLabelTargets
        ? 'multi_label_classification'
        : undefined,
  });
  if (run.data.multiLabelTargets) {
    // The tuned thresholds, from the scores of the evaluation that made this model the best.
    const perLabel = evalJson.per_label as Record<string, { threshold?: number }> | undefined;
    await writeThresholds(
      tmp,
      run.data.labels,
      run.data.labels.map((l) => ownValue(perLabel, l)?.threshold ?? 0.5),
    );
  }
  const onnxFile = path.join(tmp, 'model.onnx');
  await writeFileAtomic(onnxFile, ensemble?.onnx ?? buildInferenceModel(run.model.config, run.numLabels, weights));
  await run.tokenizer.save(tmp);
  await writeTransformersJsFiles(tmp, run.tokenizer.tokenizer, onnxFile, TRANSFORMERS_JS_FP32);
  await writeJsonAtomic(path.join(tmp, INFERENCE_SETTINGS_FILE), {
    max_length: run.config.maxLength,
    truncation: run.config.truncation,
    // A pair model classifies two texts: the editor asks for both, and names the second by its column.
    ...(run.config.textPairColumn !== undefined ? { text_pair_column: run.config.textPairColumn } : {}),
  });
  const scores = ensemble ? { ...evalJson, ensemble: { train_seeds: ensemble.trainSeeds } } : evalJson;
  await writeJsonAtomic(path.join(tmp, 'eval.json'), scores);
  const hasOnnxFolder = fs.existsSync(path.join(tmp, 'onnx', 'model.onnx'));
  const name = path.basename(path.dirname(path.resolve(dir)));
  const card = classifierCard(run, scores, device, name, hasOnnxFolder);
  await writeFileAtomic(path.join(tmp, MODEL_CARD_FILE), renderModelCard(card));
  await commitDir(tmp, dir);
}

/** One line for the model card: a seed ensemble's models (eval.json's `ensemble`), and where each one is. */
function ensembleSummary(ensemble: unknown): string | undefined {
  const seeds = (ensemble as { train_seeds?: unknown } | undefined)?.train_seeds;
  if (!Array.isArray(seeds)) return undefined;
  return (
    `${seeds.length} (train seeds ${seeds.join(', ')}): model.onnx averages their probabilities; ` +
    'model.safetensors is the first, members/N/ the others'
  );
}

/** One line for the model card: which train seed was kept, out of which candidates, by what. */
function screeningSummary(screening: TrainConfig['seedScreening']): string | undefined {
  if (!screening) return undefined;
  const tried = screening.candidates.map((c) => `${c.trainSeed}: ${c.value.toFixed(4)}`).join(', ');
  return `kept ${screening.kept} of ${screening.candidates.length} by ${screening.metric} after ${screening.epochs} epoch(s) (${tried})`;
}

/** Fine-tuning with `options` (the flags given): a new run's settings, or a resumed run's own, checked against them. */
export function classifyTask(
  options: Omit<SessionOptions, 'out'>,
): TrainingTask<TrainOverrides, ClassifyEvaluation | RegressionEvaluation | MultiLabelEvaluation> {
  return {
    kind: 'classify',
    command: 'bertft train',
    fresh: (out) => freshOverrides(options, out),
    resumed: (stored, file) => {
      const previous = asRunJson(stored, file);
      refuseDiffering(ignoredOnResume(options, previous.config), file, 'bertft train');
      // The run continues exactly as configured; only where it runs may change. Runs from before seed ensembles
      // trained one model.
      return {
        ...previous.config,
        ensembleSize: previous.config.ensembleSize ?? 1,
        device: options.device ?? previous.config.device,
      };
    },
    prepare: (overrides, previous, sink) =>
      prepareClassify(overrides, previous === undefined ? undefined : (previous as RunJson), sink),
  };
}

/**
 * One training run, from flags to a finished run directory: read and split the data, resolve the model (hub id,
 * folder, run folder, random:SIZE), tokenize, resolve the preset, create the engine, then hand over to the loop in
 * core/train/trainer.ts. Used in-process by `bertft train` and inside the extension's trainer child (main.ts).
 * Every event goes to metrics.jsonl (except `log`) and then to the caller's sink.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../core/errors';
import { recordOf } from '../core/util/records';
import { readDataset } from '../core/data/read';
import { splitDataset } from '../core/data/split';
import type { Example } from '../core/data/types';
import { maxSequenceLength, presetConfig, type BertConfig } from '../core/model/config';
import { bertClassifierParamSpecs, initWeights, type Weights } from '../core/model/params';
import { loadModelDir, saveHfModel } from '../core/model/load';
import { resolveModel, type HubProgress } from '../core/model/hub';
import { buildInferenceModel } from '../core/model/export-onnx';
import { describeAllocator } from '../core/train/allocator';
import { createTrainEngine, type TrainEngine } from '../core/train/engine';
import { loadLatestCheckpoint, saveCheckpoint, type Checkpoint, type TrainerState } from '../core/train/checkpoint';
import { buildEstimateEvent, estimateTime, measureWarmup, peakRssBytes, planRun, shapeOf, type EstimateEvent } from '../core/train/estimate';
import type { Batch } from '../core/tokenize/batch';
import { resolveTrainConfig, totalSteps as countSteps, warmupStepsFor, type TrainConfig, type TrainOverrides } from '../core/train/presets';
import { acquireRunLock, appendMetric, checkRunDir, claimRunDir, commitDir, prepareTempDir, recoverRunDir, runPaths, sha256File, writeFileAtomic, writeJsonAtomic, type RunPaths } from '../core/train/run-dir';
import { classifyEvaluation, evaluateSet, trainLoop, type ClassifyEvaluation, type EvalSet } from '../core/train/trainer';
import { sessionErrorEvent, type DoneEvent, type LogEvent, type TrainerEvent } from './protocol';
import { INFERENCE_SETTINGS_FILE, modelDirOf } from '../core/infer/predictor';
import { loadPreprocessor, type Preprocessor } from '../core/infer/preprocess';

export interface SessionOptions extends TrainOverrides {
  /** Continue the run in `out` from its last complete checkpoint (every setting comes from its run.json). */
  resume?: boolean;
  /**
   * Train the run in `out` again from step 0 with its own settings (when its checkpoints are gone); its best/ stays
   * until the new run's first evaluation replaces it.
   */
  restart?: boolean;
}

export interface SessionSink {
  emit(event: TrainerEvent): void;
  /** Polled after every step. */
  shouldStop(): boolean;
  onDownload?(progress: HubProgress): void;
}

export interface RunJson {
  format: 1;
  created: string;
  package_version: string;
  config: TrainConfig;
  seed: number;
  data: { file: string; sha256: string }[];
  labels: string[];
  model: { spec: string; dir?: string; model_config: Record<string, unknown> };
  device: string;
  device_notes: string[];
  node: string;
}

const now = () => new Date().toISOString();

/** Our package.json is above this file: out/src/trainer/ when compiled, dist/ when bundled. */
function packageVersion(): string {
  for (let dir = __dirname; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'bert-finetune' && pkg.version) return pkg.version;
    } catch {
      // no (readable) package.json here; look further up
    }
  }
  return 'unknown';
}

interface PreparedModel {
  config: BertConfig;
  weights: Weights;
  /** Folder with the tokenizer files, or undefined for the bundled bert-base-uncased tokenizer. */
  dir?: string;
}

const RANDOM_SIZES = ['tiny', 'mini', 'small', 'base'] as const;

async function prepareModel(spec: string, numLabels: number, seed: number, sink: Pick<SessionSink, 'onDownload'>): Promise<PreparedModel> {
  const resolved = await resolveModel(spec, { onProgress: sink.onDownload });
  if (resolved.kind === 'random') {
    const size = resolved.size as (typeof RANDOM_SIZES)[number];
    if (!RANDOM_SIZES.includes(size)) {
      throw new UserError(`Unknown random model size "${resolved.size}".`, { code: 'MODEL_RANDOM_SIZE', fix: `Use random:${RANDOM_SIZES.join(', random:')}.` });
    }
    const config = presetConfig(size);
    return { config, weights: initWeights(bertClassifierParamSpecs(config, numLabels), seed, config.initializerRange) };
  }
  const dir = modelDirOf(resolved.dir);
  const { config, weights } = await loadModelDir(dir, numLabels, seed);
  return { config, weights, dir };
}

interface PreparedData {
  train: Example[];
  valid: Example[];
  labels: string[];
  files: string[];
}

async function prepareData(config: Pick<TrainConfig, 'data' | 'valid' | 'textColumn' | 'labelColumn' | 'validRatio' | 'seed'>): Promise<PreparedData> {
  const columns = { textColumn: config.textColumn, labelColumn: config.labelColumn };
  const train = await readDataset(config.data, columns);
  const valid = config.valid !== undefined ? await readDataset(config.valid, columns) : undefined;
  const split = splitDataset(train.examples, { validationRatio: config.validRatio, seed: config.seed, validation: valid?.examples });
  const files = [config.data, ...(config.valid !== undefined ? [config.valid] : [])];
  return { train: split.train, valid: split.validation, labels: split.labelMap.labels, files };
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

function labelCounts(examples: Example[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const e of examples) counts.set(e.label, (counts.get(e.label) ?? 0) + 1);
  return recordOf(counts);
}

/**
 * Settings given with --resume that differ from the run's own, as `name (run: X, given: Y)`. A resumed run continues
 * exactly as it began, so these are refused rather than ignored; only the device may change. Paths compare resolved.
 */
export function ignoredOnResume(options: SessionOptions, previous: TrainConfig): string[] {
  const differ: string[] = [];
  const run = previous as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(options)) {
    if (['out', 'resume', 'restart', 'device'].includes(key) || value === undefined || value === '') continue;
    const given = key === 'data' || key === 'valid' ? path.resolve(String(value)) : value;
    if (JSON.stringify(given) !== JSON.stringify(run[key])) differ.push(`${key} (run: ${JSON.stringify(run[key])}, given: ${JSON.stringify(given)})`);
  }
  return differ;
}

/** run.json of an existing run, checked enough to resume from; a damaged one is the user's to restore, not a bug. */
function readRunJson(file: string): RunJson {
  let value: Partial<RunJson>;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<RunJson>;
  } catch (e) {
    throw new UserError(`${file} cannot be read: ${(e as Error).message}`, { file, code: 'RUN_JSON_UNREADABLE', cause: e,
      fix: 'Restore run.json from a backup, or start a new run in another --out folder.' });
  }
  if (typeof value !== 'object' || value === null || typeof value.config?.data !== 'string' || !Array.isArray(value.data)) {
    throw new UserError(`${file} is not the run.json of a bertft training run (it has no training configuration).`, { file, code: 'RUN_JSON_UNREADABLE',
      fix: 'Restore run.json from a backup, or start a new run in another --out folder.' });
  }
  return value as RunJson;
}

/**
 * What a run in `paths` starts from: the settings of the run to resume, or the new run's (paths made absolute).
 * Read-only: refuses an existing run without --resume and --resume without a run, and writes nothing (the estimate
 * checks the same).
 */
function runStart(options: SessionOptions, paths: RunPaths): { overrides: TrainOverrides; previous?: RunJson } {
  const hasRun = fs.existsSync(paths.runJson);
  if (options.resume || options.restart) {
    if (!hasRun) {
      throw new UserError(`There is no run to ${options.restart ? 'restart' : 'resume'} in ${paths.root}.`, { file: paths.root, code: 'RUN_NOT_FOUND',
        fix: 'Give the --out folder of an earlier run, or start a new run without --resume.' });
    }
    const previous = readRunJson(paths.runJson);
    const differ = ignoredOnResume(options, previous.config);
    if (differ.length > 0) {
      throw new UserError(`A resumed run continues with its own settings, and these differ: ${differ.join('; ')}.`, {
        file: paths.runJson, code: 'RUN_RESUME_DIFFERS',
        fix: `Leave them out (\`bertft train --resume --out ${paths.root}\` reads every setting from run.json), or start a new run in another --out folder.` });
    }
    // The run continues exactly as configured; only where it runs may change.
    return { overrides: { ...previous.config, device: options.device ?? previous.config.device }, previous };
  }
  if (hasRun) {
    throw new UserError(`${paths.root} already holds a training run.`, { file: paths.root, code: 'RUN_EXISTS',
      fix: 'Add --resume to continue it, or choose another --out folder.' });
  }
  return { overrides: freshOverrides(options, paths.root) };
}

/** A new run's settings; paths are stored absolute so that --resume works from any working directory. */
function freshOverrides(options: Omit<SessionOptions, 'out'>, out: string): TrainOverrides {
  const { resume: _resume, restart: _restart, ...fresh } = options;
  return { ...fresh, data: path.resolve(options.data), valid: options.valid === undefined ? undefined : path.resolve(options.valid), out };
}

/** Everything a run needs before its first step: data, model, tokenized batches, the resolved config and the engine. */
interface PreparedRun {
  data: PreparedData;
  dataHashes: { file: string; sha256: string }[];
  numLabels: number;
  model: PreparedModel;
  tokenizer: Preprocessor;
  config: TrainConfig;
  seed: number;
  evalSet: EvalSet;
  batchesForEpoch(epoch: number): Batch[];
  /** The padded shape of each of batchesForEpoch(epoch), without building the batches. */
  shapesForEpoch(epoch: number): { batchSize: number; seqLen: number }[];
  total: number;
  checkpoint?: Checkpoint;
  engine: TrainEngine;
  /** What the engine said while choosing its device. */
  engineLog: string[];
  parameters: number;
  /** Seconds spent downloading the model (not part of a later run's start-up). */
  downloadSeconds: number;
}

/**
 * Read and split the data, resolve the model, tokenize, resolve the config (resolveTrainConfig, from the data's token
 * lengths) and create the engine (with the checkpoint's state when resuming). Writes nothing: the run and its estimate
 * both start here, so that the estimate measures the same work and memory.
 */
async function prepareRun(overrides: TrainOverrides, previous: RunJson | undefined, checkpointsDir: string | undefined,
  sink: Pick<SessionSink, 'emit' | 'onDownload'>): Promise<PreparedRun> {
  const seed = overrides.seed ?? 42;
  const data = await prepareData({ ...overrides, validRatio: overrides.validRatio ?? 0.1, seed });
  const dataHashes = await hashInputs(data.files);
  if (previous) {
    const changed = dataHashes.find((h, i) => previous.data[i]?.sha256 !== h.sha256);
    if (changed) {
      throw new UserError(`${changed.file} changed since the run started, so the run cannot be resumed exactly.`, {
        file: changed.file, code: 'RUN_DATA_CHANGED', fix: 'Restore the original file, or start a new run with another --out.' });
    }
  }
  const numLabels = data.labels.length;
  let downloaded = false;
  const modelStart = performance.now();
  const model = await prepareModel(overrides.model ?? 'random:tiny', numLabels, seed, {
    onDownload: (p) => {
      downloaded = true;
      sink.onDownload?.(p);
    },
  });
  const downloadSeconds = downloaded ? (performance.now() - modelStart) / 1000 : 0;
  const tokenizer = await loadPreprocessor(model.dir);
  // RoBERTa-style position ids start after the padding index, so fewer tokens fit than the position table has.
  const positions = maxSequenceLength(model.config);
  // Only the fast preset without --max-length needs the length distribution; a spread sample estimates its p95.
  const needLengths = overrides.maxLength === undefined && (overrides.preset ?? 'fast') === 'fast';
  const lengths = needLengths ? tokenizer.tokenLengths(spreadSample(data.train.map((e) => e.text), LENGTH_SAMPLE), positions) : [];
  const config = resolveTrainConfig(overrides, lengths, positions, { hiddenSize: model.config.hiddenSize });
  const label2id = new Map(data.labels.map((l, i) => [l, i]));
  const trainIds = Int32Array.from(data.train, (e) => label2id.get(e.label) as number);
  const validIds = Int32Array.from(data.valid, (e) => label2id.get(e.label) as number);
  const encodedTrain = tokenizer.encode(data.train.map((e) => e.text), config, trainIds);
  const evalSet: EvalSet = {
    batches: tokenizer.evalBatches(tokenizer.encode(data.valid.map((e) => e.text), config, validIds), config),
    targets: validIds,
    examples: data.valid,
  };
  const batchesForEpoch = (epoch: number) => tokenizer.trainBatches(encodedTrain, { ...config, seed }, epoch);
  const shapesForEpoch = (epoch: number) => tokenizer.trainBatchShapes(encodedTrain, { ...config, seed }, epoch);
  const total = countSteps(config, shapesForEpoch(0).length);

  const checkpoint = previous && checkpointsDir ? await loadLatestCheckpoint(checkpointsDir) : undefined;
  const engineLog: string[] = [];
  const weights = checkpoint?.weights ?? model.weights;
  let parameters = 0;
  for (const t of weights.values()) parameters += t.data.length;
  const engine = await createTrainEngine({
    config: model.config, numLabels, weights, device: config.device, dropout: config.dropout, seed,
    hyper: { lr: config.lr, weightDecay: config.weightDecay, beta1: 0.9, beta2: 0.999, eps: 1e-8, maxGradNorm: 1,
      warmupSteps: warmupStepsFor(config, total), totalSteps: total },
    classWeights: config.classWeights ? balancedClassWeights(trainIds, numLabels) : undefined,
    log: (line: string) => {
      engineLog.push(line);
      sink.emit({ event: 'log', time: now(), level: 'info', message: line });
    },
  });
  try {
    if (checkpoint) engine.setOptimizerState(checkpoint.optimizer);
  } catch (e) {
    await engine.dispose();
    throw e;
  }
  // The engine trains its own copies: empty ours so that their memory (a whole model, or model + moments) is freed.
  for (const tensors of [model.weights, checkpoint?.weights, checkpoint?.optimizer.m, checkpoint?.optimizer.v]) tensors?.clear();
  return {
    data, dataHashes, numLabels, model, tokenizer, config, seed, evalSet, batchesForEpoch, shapesForEpoch, total, checkpoint, engine, engineLog,
    parameters, downloadSeconds,
  };
}

/** Write the best model into `dir` (through `<dir>.tmp` and a rename): HF layout, model.onnx, tokenizer, inference settings, eval.json. */
async function writeBestModel(dir: string, run: Pick<PreparedRun, 'model' | 'numLabels' | 'tokenizer' | 'config' | 'data'>, weights: Weights,
  evalJson: Record<string, unknown>): Promise<void> {
  const tmp = await prepareTempDir(dir);
  await saveHfModel(tmp, { config: run.model.config, weights, id2label: run.data.labels });
  await writeFileAtomic(path.join(tmp, 'model.onnx'), buildInferenceModel(run.model.config, run.numLabels, weights));
  await run.tokenizer.save(tmp);
  await writeJsonAtomic(path.join(tmp, INFERENCE_SETTINGS_FILE), { max_length: run.config.maxLength, truncation: run.config.truncation });
  await writeJsonAtomic(path.join(tmp, 'eval.json'), evalJson);
  await commitDir(tmp, dir);
}

export async function runTrainingSession(options: SessionOptions, sink: SessionSink): Promise<DoneEvent> {
  const paths = runPaths(path.resolve(options.out));
  const { overrides, previous } = runStart(options, paths);
  // --out must be new, empty or a run of ours: a folder of the user's is refused before anything is written to it.
  claimRunDir(paths.root);
  const lock = acquireRunLock(paths.root);
  // Without run.json, a metrics.jsonl only records a start that failed (e.g. bad data): begin a clean log.
  if (!previous) fs.rmSync(paths.metrics, { force: true });
  const emit = (event: TrainerEvent): void => {
    appendMetric(paths.metrics, event);
    sink.emit(event);
  };
  let engine: TrainEngine | undefined;
  try {
    await recoverRunDir(paths.root);
    const run = await prepareRun(overrides, previous, options.restart ? undefined : paths.checkpoints, sink);
    const { data, dataHashes, model, tokenizer, config, seed, evalSet, batchesForEpoch, total, checkpoint, engineLog } = run;
    engine = run.engine;
    const liveEngine = engine;
    if (previous && !checkpoint && !options.restart && (fs.existsSync(paths.best) || fs.existsSync(paths.checkpoints))) {
      // Starting over would overwrite best/: only on request.
      throw new UserError(`${paths.root} has no readable checkpoint to resume from.`, { file: paths.checkpoints, code: 'RUN_NO_CHECKPOINT',
        fix: `Add --restart to train this run again from step 0 with its settings (its best/ stays until the new run's first evaluation replaces it), or start a new run in another --out folder.` });
    }
    // What the engine said while choosing its device (refused providers, fallbacks) goes into run.json and `started`,
    // with the malloc settings of this process, which change the step time severalfold (core/train/allocator.ts).
    const deviceNotes = [...engineLog, describeAllocator()];

    const state: TrainerState = checkpoint?.state ?? {
      step: 0, epoch: 0, batchInEpoch: 0, totalSteps: total, seed, metricName: config.metric, bestMetric: null, bestStep: 0,
      evalsWithoutImprovement: 0,
    };
    const runJson: RunJson = previous ?? {
      format: 1, created: now(), package_version: packageVersion(), config, seed, data: dataHashes, labels: data.labels,
      model: { spec: config.model, dir: model.dir, model_config: { ...model.config.raw } }, device: engine.device, device_notes: deviceNotes,
      node: process.version,
    };
    await writeJsonAtomic(paths.runJson, { ...runJson, device: engine.device, device_notes: deviceNotes });
    emit({
      event: 'started', time: now(), run_dir: paths.root, pid: process.pid, config: { ...config }, task: 'classify', device: engine.device,
      device_notes: deviceNotes, total_steps: total, resumed_from_step: checkpoint ? checkpoint.state.step : options.restart ? 0 : undefined,
      dataset: { train_rows: data.train.length, valid_rows: data.valid.length, labels: data.labels, label_counts: labelCounts(data.train), files: data.files },
    });

    const saveBest = async ({ result }: ClassifyEvaluation, step: number): Promise<void> => {
      const { predictions: _p, misclassified: _m, ...report } = result;
      await writeBestModel(paths.best, run, liveEngine.getWeights(), { step, metric: config.metric, ...report });
    };

    const result = await trainLoop({
      engine, config, paths, totalSteps: total, state, batchesForEpoch,
      evaluate: async () => classifyEvaluation(config.metric, await evaluateSet((b) => liveEngine.forward(b), evalSet, data.labels, tokenizer.poolLogits)),
      saveBest, emit, shouldStop: sink.shouldStop,
    });
    const done: DoneEvent = {
      event: 'done', time: now(), stopped: result.stopped, best_step: result.state.bestStep, best_metric: result.state.bestMetric ?? NaN,
      metric_name: config.metric, best_dir: paths.best, run_dir: paths.root, final_step: result.state.step,
      ...(result.earlyStopped ? { early_stopped: true } : {}),
    };
    emit(done);
    return done;
  } catch (e) {
    if (fs.existsSync(paths.root)) appendMetric(paths.metrics, sessionErrorEvent(e).event);
    throw e;
  } finally {
    await engine?.dispose();
    lock.release();
  }
}

export interface EstimateOptions extends Omit<SessionOptions, 'out'> {
  /** The run folder the run would use: checked (an existing run, --resume) but never written. Optional. */
  out?: string;
}

export interface EstimateSink {
  /** The engine's device choice and warnings. */
  log?(event: LogEvent): void;
  /** Polled between warm-up steps; true cancels the estimate (EstimateCancelled). */
  shouldStop?(): boolean;
  onDownload?(progress: HubProgress): void;
  /** When the command started, in ms since the epoch (the CLI: its process start); default: when the estimate was called. */
  startedAt?: number;
}

/**
 * `bertft train --estimate`: everything a run does before its first step (the same code: prepareRun), then a few
 * warm-up steps and evaluation passes on the chosen device, one checkpoint and one best-model write into a temporary
 * folder that is deleted, and the arithmetic of core/train/estimate.ts. Nothing is written to `out` (or anywhere else
 * that stays); the warm-up steps change only the engine's in-memory copy of the weights, which is then thrown away.
 */
export async function estimateTrainingSession(options: EstimateOptions, sink: EstimateSink = {}): Promise<EstimateEvent> {
  const startedAt = sink.startedAt ?? Date.now();
  const paths = options.out !== undefined ? runPaths(path.resolve(options.out)) : undefined;
  if (!paths && (options.resume || options.restart)) {
    throw new UserError(`--${options.restart ? 'restart' : 'resume'} needs the --out folder of the run.`, { code: 'RUN_NOT_FOUND', fix: 'Add --out <run folder>.' });
  }
  // The refusals of runTrainingSession, read-only: an existing run without --resume, a folder that is not a run.
  const { overrides, previous } = paths ? runStart({ ...options, out: paths.root }, paths) : { overrides: freshOverrides(options, ''), previous: undefined };
  if (paths) checkRunDir(paths.root);
  let engine: TrainEngine | undefined;
  let scratch: string | undefined;
  try {
    const run = await prepareRun(overrides, previous, paths && !options.restart ? paths.checkpoints : undefined,
      { emit: (e) => { if (e.event === 'log') sink.log?.(e); }, onDownload: sink.onDownload });
    engine = run.engine;
    const liveEngine = engine;
    if (paths && previous && !run.checkpoint && !options.restart && (fs.existsSync(paths.best) || fs.existsSync(paths.checkpoints))) {
      throw new UserError(`${paths.root} has no readable checkpoint to resume from.`, { file: paths.checkpoints, code: 'RUN_NO_CHECKPOINT',
        fix: 'Add --restart to estimate training this run again from step 0 with its settings, or estimate a new run in another --out folder.' });
    }
    // As the run's `started` event and run.json have them (the warm-up's own lines come later).
    const deviceNotes = [...run.engineLog, describeAllocator()];
    const startupSeconds = Math.max(0, (Date.now() - startedAt) / 1000 - run.downloadSeconds);
    const { config, seed, total } = run;
    const state: TrainerState = run.checkpoint?.state ?? {
      step: 0, epoch: 0, batchInEpoch: 0, totalSteps: total, seed, metricName: config.metric, bestMetric: null, bestStep: 0, evalsWithoutImprovement: 0,
    };
    const plan = planRun({ totalSteps: total, evalSteps: config.evalSteps, start: state, shapesForEpoch: run.shapesForEpoch });
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'bertft-estimate-'));
    const scratchDir = scratch;
    // The batches the run would take first, in its order (its first is the epoch's longest when length-grouped).
    const trainBatches = run.batchesForEpoch(state.epoch).slice(state.batchInEpoch);
    const measurements = await measureWarmup(liveEngine, {
      trainBatches: plan.steps > 0 ? trainBatches : [],
      evalBatches: run.evalSet.batches,
      runShapes: plan.shapeCounts,
      evaluations: plan.evaluations,
      writeCheckpoint: async () => {
        await saveCheckpoint(path.join(scratchDir, 'checkpoints'), { weights: liveEngine.getWeights(), optimizer: liveEngine.getOptimizerState(), state });
      },
      writeBest: () => writeBestModel(path.join(scratchDir, 'best'), run, liveEngine.getWeights(), { step: 0, metric: config.metric, estimate: true }),
      shouldStop: sink.shouldStop,
    });
    const peak = peakRssBytes();
    const device = liveEngine.device;
    const released = performance.now();
    engine = undefined;
    await liveEngine.dispose();
    const teardownSeconds = (performance.now() - released) / 1000;
    const time = estimateTime({ plan, evalShapes: run.evalSet.batches.map(shapeOf), measurements, startupSeconds, teardownSeconds });
    return buildEstimateEvent({
      plan, time, measurements, peakRssBytes: peak, parameters: run.parameters, device, deviceNotes, allocator: describeAllocator(),
      config: { ...config }, dataset: { train_rows: run.data.train.length, valid_rows: run.data.valid.length, labels: run.data.labels },
      resumedFromStep: run.checkpoint ? state.step : options.restart ? 0 : undefined,
      estimateSeconds: (Date.now() - startedAt) / 1000,
    });
  } finally {
    await engine?.dispose();
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** Moved beside the events; kept here for the callers that import it with the session. */
export { sessionErrorEvent } from '../core/train/events';

/**
 * The training engine: compiles the train-step graph for a model config, runs it with onnxruntime-node, and keeps
 * the state (parameters, AdamW moments) in JS Float32Arrays between runs. A separate forward-only session serves
 * evaluation and prediction; a gradients-only session serves parity tests.
 */
import * as ort from 'onnxruntime-node';
import { DataError, ModelError, UserError } from '../errors';
import { attentionBlockOf } from '../graph/ops/attention';
import { dropoutKeyData } from '../graph/ops/dropout';
import { BertConfig, maxSequenceLength } from '../model/config';
import { encoderFamily } from '../model/families';
import type { EncoderFamily } from '../model/bert';
import { IGNORE_LABEL, labelledPositions, mlmFamily } from '../model/mlm-head';
import {
  ParamSpec,
  Weights,
  checkWeightsMatch,
  numel,
  wordEmbeddingPaddingIdx,
  wordEmbeddingsName,
} from '../model/params';
import { Batch } from '../tokenize/batch';
import { AdamWConstants, adamwStepScalars } from './optimizer';
import type { Device, DeviceChoice } from '../runtime/devices';
import type { LogEvent } from '../run/events';
import { createSession, defaultThreads } from '../runtime/providers';
import { scheduleLr, type LrSchedule } from './schedule';
import { collectGarbage } from './collect-garbage';
import { EmbeddingRows } from './embedding-rows';
import { STEP_IO, StepGraphOptions, buildStepGraph } from './step-graph';

export interface Hyper {
  lr: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  maxGradNorm: number;
  /** Linear warmup over warmupSteps, then `schedule` (default linear decay to 0 at totalSteps; see schedule.ts). */
  warmupSteps: number;
  totalSteps: number;
  schedule?: LrSchedule;
}

export interface EngineOptions {
  config: BertConfig;
  /** Classifier labels; ignored for the mlm task. */
  numLabels: number;
  /**
   * classify (default): the family's *ForSequenceClassification, labels [batch]. mlm: the family's *ForMaskedLM; batch
   * labels are per token ([batch*seq], IGNORE_LABEL where not predicted); the head scores only the labelled positions,
   * and forward() gives their scores, [labelled positions, vocab] in position order (every position's, [batch*seq,
   * vocab], for a batch without labels). regression: one output (numLabels 1) trained with mean squared error; a batch's
   * labels are row indices into `regressionTargets`, whose values the step takes as its float targets. multi-label:
   * numLabels sigmoid outputs trained with binary cross-entropy; a batch's labels are row indices into
   * `multiLabelTargets`; `classWeights` are the positive weights (BCEWithLogitsLoss pos_weight), default 1.
   */
  task?: 'classify' | 'mlm' | 'regression' | 'multi-label';
  /** regression: the target value of each training example, indexed by the batch labels. */
  regressionTargets?: Float32Array;
  /** multi-label: each training example's 0/1 targets, numLabels per example (row-major), indexed by the batch labels. */
  multiLabelTargets?: Float32Array;
  /** mlm: 'every' trains with the head on every position (StepGraphOptions.mlmScoring), for comparisons only. */
  mlmScoring?: 'masked' | 'every';
  weights: Weights;
  hyper: Hyper;
  device: DeviceChoice;
  dropout: boolean;
  seed: number;
  classWeights?: Float32Array;
  /** K optimizer steps per session run (ONNX Loop), default 1. */
  stepsPerRun?: number;
  /**
   * Micro-batches per optimizer step in trainStepAccumulated (default 1); its dropout keys are numbered
   * step * gradientAccumulationSteps + micro-batch.
   */
  gradientAccumulationSteps?: number;
  /** torch CrossEntropyLoss's label_smoothing for the classifier's loss (default 0). */
  labelSmoothing?: number;
  /**
   * Not mlm: every token id the batches can hold (the run's training and evaluation data). The engine then trains only
   * those rows of the word-embedding table and decays the others, with the same result (train/embedding-rows.ts);
   * a batch holding another id is refused. Absent: the whole table.
   */
  embeddingTokens?: Iterable<number>;
  threads?: number;
  /**
   * Queries per block of the memory-efficient attention of the families that have it (ModernBERT; graph/ops/attention.ts),
   * default ATTENTION_BLOCK; null: plain attention, for comparisons.
   */
  attentionBlock?: number | null;
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * CPU train steps write the new state into the engine's own state arrays (default true). false: fresh arrays every
   * step, as on GPUs; the same numbers at the cost of one more copy of the state, for comparisons and debugging.
   */
  inPlaceUpdates?: boolean;
  /** ORT profiling: each session writes its per-node timings to `<profilePrefix>_<date>.json` when disposed. */
  profilePrefix?: string;
  log?: EngineLog;
}

/** The engine's lines for the log; 'warn' for what the user must see (a GPU that fell back to the CPU mid-run). */
export type EngineLog = (line: string, level?: LogEvent['level']) => void;

export interface StepResult {
  loss: number;
  gradNorm: number;
  lr: number;
  step: number;
}

export interface TrainEngine {
  /** What it actually got. */
  readonly device: Device;
  /** Optimizer steps taken. */
  readonly step: number;
  /** One AdamW step (labels required). */
  trainStep(batch: Batch): Promise<StepResult>;
  /** K steps per run() when stepsPerRun = K and the K batches share batch size and seqLen (mlm: and masked count), else one by one. */
  trainSteps(batches: Batch[]): Promise<StepResult[]>;
  /**
   * One AdamW step on the mean gradient of `microBatches` (gradient accumulation, HF Trainer semantics): each
   * micro-batch's loss is scaled by 1 / microBatches.length before its backward pass, the summed gradient is clipped
   * and applied once; the loss reported is the mean of the micro-batch losses.
   */
  trainStepAccumulated(microBatches: Batch[]): Promise<StepResult>;
  /** Logits [batchSize, numLabels] (mlm: see EngineOptions.task), no dropout, forward-only session. */
  forward(batch: Batch): Promise<Float32Array>;
  /** No dropout; for parity tests. */
  lossAndGradients(batch: Batch): Promise<{ loss: number; grads: Weights }>;
  /** A copy of the current parameters (the engine's own arrays are updated in place by later steps). */
  getWeights(): Weights;
  /** A copy of the AdamW state. */
  getOptimizerState(): { step: number; m: Weights; v: Weights };
  setOptimizerState(s: { step: number; m: Weights; v: Weights }): void;
  dispose(): Promise<void>;
}

type Level = NonNullable<EngineOptions['graphOptimizationLevel']>;
/** Below this much state a step's output copies are small, and a full collection per step would cost more than it saves. */
const COLLECT_GARBAGE_ABOVE_BYTES = 64 * 1024 * 1024;
type Feeds = Record<string, ort.Tensor>;
type Fetches = Record<string, ort.Tensor | null>;
type SessionKind = 'train' | 'loop' | 'forward' | 'grads' | 'accumulate' | 'apply';

function checkHyper(h: Hyper): void {
  const bad = (key: string, why: string): never => {
    throw new UserError(
      `Training setting ${key} = ${String((h as unknown as Record<string, unknown>)[key])} is invalid: ${why}.`,
      {
        fix: `Change ${key}.`,
        code: 'ENGINE_BAD_HYPER',
      },
    );
  };
  if (!(h.lr > 0 && Number.isFinite(h.lr))) bad('lr', 'it must be a positive number');
  if (!(h.weightDecay >= 0)) bad('weightDecay', 'it must be >= 0');
  if (!(h.beta1 >= 0 && h.beta1 < 1)) bad('beta1', 'it must be in [0, 1)');
  if (!(h.beta2 >= 0 && h.beta2 < 1)) bad('beta2', 'it must be in [0, 1)');
  if (!(h.eps > 0)) bad('eps', 'it must be > 0');
  if (!(h.totalSteps >= 1)) bad('totalSteps', 'it must be at least 1');
  if (!(h.warmupSteps >= 0)) bad('warmupSteps', 'it must be >= 0');
}

class OrtTrainEngine implements TrainEngine {
  device: Device;
  step = 0;
  private params: Float32Array[];
  private m: Float32Array[];
  private v: Float32Array[];
  private readonly sessions = new Map<SessionKind, ort.InferenceSession>();
  private readonly dropoutSites = new Map<SessionKind, number>();
  private readonly classWeights: Float32Array;
  private readonly threads: number;
  private readonly level: Level;
  private readonly log: EngineLog;
  private readonly adam: AdamWConstants;
  /** Sessions that have completed a run: a later failure there is a real error, not a GPU that cannot run it. */
  private readonly proven = new Set<SessionKind>();
  private loggedInPlace = false;
  /** Parameters and both moments, in bytes. */
  private readonly stateBytes: number;
  /** The parameters as the model has them (this.specs: as the graphs have them, the word embeddings cut to embeddingRows). */
  private readonly modelSpecs: ParamSpec[];
  /** With EngineOptions.embeddingTokens: the reachable rows of the word-embedding table, and its index in the specs. */
  private readonly embeddingRows?: { rows: EmbeddingRows; index: number };

  /** The options without the initial weights, which must not stay reachable once training has replaced them. */
  private readonly opts: Omit<EngineOptions, 'weights'>;

  private readonly specs: ParamSpec[];

  constructor(options: EngineOptions, modelSpecs: ParamSpec[], device: Device) {
    const { weights, embeddingTokens, ...opts } = options;
    this.opts = opts;
    this.device = device;
    this.modelSpecs = modelSpecs;
    // The state arrays are the engine's own (copies in, copies out), so that CPU steps can update them in place.
    this.params = checkWeightsMatch(modelSpecs, weights, 'model weights').map((a) => a.slice());
    if (embeddingTokens !== undefined && opts.task !== 'mlm') {
      const name = wordEmbeddingsName(opts.config);
      const index = modelSpecs.findIndex((s) => s.name === name);
      const rows = new EmbeddingRows(modelSpecs[index], this.params[index], embeddingTokens, opts.config.padTokenId);
      this.embeddingRows = { rows, index };
      this.params[index] = rows.gather(this.params[index]);
    }
    this.specs = modelSpecs.map((s, i) => (i === this.embeddingRows?.index ? this.embeddingRows.rows.compactSpec : s));
    const specs = this.specs;
    this.m = specs.map((s) => new Float32Array(numel(s.shape)));
    this.v = specs.map((s) => new Float32Array(numel(s.shape)));
    this.classWeights = opts.classWeights ?? new Float32Array(hasClassWeights(opts.task) ? opts.numLabels : 0).fill(1);
    this.threads = opts.threads ?? defaultThreads();
    this.level = opts.graphOptimizationLevel ?? 'all';
    this.log = opts.log ?? (() => undefined);
    if (this.embeddingRows) {
      const { rows, index } = this.embeddingRows;
      this.log(
        `engine: training the ${rows.rows.length} of ${modelSpecs[index].shape[0]} word-embedding rows whose tokens the data holds`,
      );
    }
    this.adam = { beta1: opts.hyper.beta1, beta2: opts.hyper.beta2, eps: opts.hyper.eps };
    this.stateBytes = 3 * 4 * specs.reduce((n, s) => n + numel(s.shape), 0);
  }

  /** Whether AdamW changes the embedding rows no batch reaches: only by weight decay (embedding-rows.ts). */
  private decaysUnreached(): boolean {
    const rows = this.embeddingRows?.rows;
    return !!rows && rows.spec.decay && this.opts.hyper.weightDecay > 0 && rows.unreachedRows > 0;
  }

  graphOptions(kind: SessionKind): StepGraphOptions {
    return {
      family: familyFor(this.opts),
      numLabels: this.opts.numLabels,
      task: this.opts.task,
      mlmScoring: this.opts.mlmScoring,
      mode: kind === 'loop' ? 'train' : kind,
      dropout: this.opts.dropout && (kind === 'train' || kind === 'loop' || kind === 'accumulate'),
      stepsPerRun: kind === 'loop' ? this.opts.stepsPerRun : 1,
      adam: this.adam,
      maxGradNorm: this.opts.hyper.maxGradNorm,
      labelSmoothing: this.opts.labelSmoothing,
      embeddingRows: this.embeddingRows && {
        param: this.embeddingRows.rows.spec.name,
        rows: this.embeddingRows.rows.rows.length,
        paddingIdx: this.embeddingRows.rows.rowOfToken(wordEmbeddingPaddingIdx(this.opts.config) ?? -1),
        unreached: this.decaysUnreached() ? this.embeddingRows.rows.unreachedRows : 0,
      },
    };
  }

  /** Build and open the session of one kind on the engine's device (CPU if that fails). */
  async open(kind: SessionKind, choice: DeviceChoice = this.device): Promise<void> {
    const built = buildStepGraph(this.graphOptions(kind));
    const { session, device } = await createSession(built.bytes, choice, {
      threads: this.threads,
      level: this.level,
      log: this.log,
      profilePrefix: this.opts.profilePrefix,
    });
    if (device !== this.device && this.sessions.size > 0) {
      await session.release();
      await this.fallBackToCpu(`${this.device} could not open the ${kind} session`);
      return this.open(kind);
    }
    this.device = device;
    this.sessions.set(kind, session);
    this.dropoutSites.set(kind, built.dropoutSites);
  }

  private async fallBackToCpu(reason: string): Promise<void> {
    this.log(`engine: ${reason}; falling back to cpu`, 'warn');
    const kinds = [...this.sessions.keys()];
    for (const s of this.sessions.values()) await s.release();
    this.sessions.clear();
    this.device = 'cpu';
    for (const k of kinds) await this.open(k, 'cpu');
  }

  private async session(kind: SessionKind): Promise<ort.InferenceSession> {
    if (!this.sessions.has(kind)) await this.open(kind);
    return this.sessions.get(kind)!;
  }

  /** Run a session; a GPU that fails on its first run is replaced by CPU, with the reason logged. */
  private async run(
    kind: SessionKind,
    feeds: Feeds,
    fetches?: Fetches,
  ): Promise<ort.InferenceSession.OnnxValueMapType> {
    const session = await this.session(kind);
    try {
      const out = fetches ? await session.run(feeds, fetches) : await session.run(feeds);
      this.proven.add(kind);
      return out;
    } catch (e) {
      if (this.device === 'cpu' || this.proven.has(kind)) throw e;
      await this.fallBackToCpu(
        `${this.device} failed on its first run (${String(e instanceof Error ? e.message : e).split('\n')[0]})`,
      );
      return this.run(kind, feeds);
    }
  }

  /**
   * Fetches that make ORT write the new state into the input state's own arrays (pre-allocated outputs), so a step
   * holds one copy of the state instead of old state + ORT's outputs. Safe because every write of new.x comes after
   * the last read of x: each update depends on the clipping factor, which depends on every gradient, so the whole
   * forward and backward pass runs before any update, and each update reads only its own x, m, v and gradient
   * (checked for the built graph by checkInPlaceOutputs in step-graph.ts). Only the one-step graph on CPU: the
   * K-step Loop graph and GPU runs are not verified, so they get fresh outputs. A run that fails may leave the state
   * half updated; training then stops with the error and resumes from its last checkpoint.
   */
  private inPlaceFetches(feeds: Feeds, kind: 'train' | 'loop' | 'apply'): Fetches | undefined {
    if (this.device !== 'cpu' || kind === 'loop' || this.opts.inPlaceUpdates === false) return undefined;
    if (!this.loggedInPlace) this.log('engine: updating the parameters and AdamW moments in place');
    this.loggedInPlace = true;
    // The apply graph (gradient accumulation) has no loss: its micro-batches reported theirs.
    const fetches: Fetches =
      kind === 'apply' ? { [STEP_IO.gradNorm]: null } : { [STEP_IO.loss]: null, [STEP_IO.gradNorm]: null };
    for (const s of this.specs) {
      fetches[STEP_IO.newParam(s.name)] = feeds[s.name];
      fetches[STEP_IO.newM(s.name)] = feeds[STEP_IO.m(s.name)];
      fetches[STEP_IO.newV(s.name)] = feeds[STEP_IO.v(s.name)];
    }
    if (feeds[STEP_IO.unreached]) fetches[STEP_IO.newUnreached] = feeds[STEP_IO.unreached];
    return fetches;
  }

  private checkBatch(b: Batch, needLabels: boolean): void {
    const cfg = this.opts.config;
    const n = b.batchSize * b.seqLen;
    if (b.inputIds.length !== n || b.attentionMask.length !== n || b.tokenTypeIds.length !== n) {
      throw new DataError(`A batch of ${b.batchSize}x${b.seqLen} has tensors of the wrong length.`, {
        code: 'ENGINE_BAD_BATCH',
      });
    }
    const positions = maxSequenceLength(cfg);
    if (b.seqLen > positions) {
      throw new DataError(`Sequences of ${b.seqLen} tokens are longer than the model's ${positions} positions.`, {
        fix: `Set the maximum sequence length to at most ${positions}.`,
        code: 'ENGINE_SEQ_TOO_LONG',
      });
    }
    for (let i = 0; i < n; i++) {
      const id = b.inputIds[i];
      if (id < 0n || id >= BigInt(cfg.vocabSize)) {
        throw new DataError(`Token id ${id} is outside the model's vocabulary of ${cfg.vocabSize}.`, {
          fix: "Use the tokenizer that belongs to the model (the tokenizer's vocabulary is larger than the model's).",
          code: 'ENGINE_BAD_TOKEN',
        });
      }
      const tt = b.tokenTypeIds[i];
      if (tt < 0n || tt >= BigInt(cfg.typeVocabSize)) {
        throw new DataError(`Token type id ${tt} is outside the model's ${cfg.typeVocabSize} token types.`, {
          code: 'ENGINE_BAD_TOKEN',
        });
      }
    }
    if (!needLabels) return;
    if (this.opts.task === 'mlm') {
      if (!b.labels || b.labels.length !== n)
        throw new DataError('A masked-LM batch needs one label per token.', { code: 'ENGINE_NO_LABELS' });
      for (const y of b.labels) {
        if (y !== BigInt(IGNORE_LABEL) && (y < 0n || y >= BigInt(cfg.vocabSize))) {
          throw new DataError(`Masked-LM label ${y} is outside the vocabulary.`, { code: 'ENGINE_BAD_LABEL' });
        }
      }
      return;
    }
    if (!b.labels || b.labels.length !== b.batchSize) {
      throw new DataError('A training batch has no labels (or the wrong number of them).', {
        code: 'ENGINE_NO_LABELS',
      });
    }
    const rows = this.opts.task === 'regression' || this.opts.task === 'multi-label';
    const ids =
      this.opts.task === 'regression'
        ? (this.opts.regressionTargets?.length ?? 0)
        : this.opts.task === 'multi-label'
          ? (this.opts.multiLabelTargets?.length ?? 0) / this.opts.numLabels
          : this.opts.numLabels;
    for (const y of b.labels) {
      if (y < 0n || y >= BigInt(ids)) {
        if (rows) {
          throw new DataError(`Training row ${y} has no target (there are ${ids}).`, { code: 'ENGINE_BAD_LABEL' });
        }
        throw new DataError(`Label id ${y} is outside 0..${this.opts.numLabels - 1}.`, { code: 'ENGINE_BAD_LABEL' });
      }
    }
  }

  private batchFeeds(batches: Batch[], stacked: boolean, withLabels: boolean): Feeds {
    const { batchSize: B, seqLen: S } = batches[0];
    const lead = stacked ? [batches.length] : [];
    const cat = (pick: (b: Batch) => BigInt64Array): BigInt64Array => {
      if (batches.length === 1) return pick(batches[0]);
      const out = new BigInt64Array(batches.length * pick(batches[0]).length);
      batches.forEach((b, k) => out.set(pick(b), k * pick(b).length));
      return out;
    };
    const feeds: Feeds = {
      [STEP_IO.inputIds]: new ort.Tensor(
        'int64',
        cat((b) => b.inputIds),
        [...lead, B, S],
      ),
      [STEP_IO.attentionMask]: new ort.Tensor(
        'int64',
        cat((b) => b.attentionMask),
        [...lead, B, S],
      ),
      [STEP_IO.tokenTypeIds]: new ort.Tensor(
        'int64',
        cat((b) => b.tokenTypeIds),
        [...lead, B, S],
      ),
    };
    if (this.embeddingRows) {
      feeds[STEP_IO.embeddingRows] = new ort.Tensor(
        'int64',
        this.embeddingRows.rows.lookup(feeds[STEP_IO.inputIds].data as BigInt64Array),
        [...lead, B, S],
      );
    }
    if (this.opts.task === 'mlm' && (!withLabels || this.opts.mlmScoring !== 'every')) {
      // The rows the head scores: the labelled positions (K stacked batches have equally many), else every position.
      const positions = batches.map((b) =>
        b.labels ? labelledPositions(b.labels) : BigInt64Array.from({ length: B * S }, (_, i) => BigInt(i)),
      );
      const all = new BigInt64Array(positions.length * positions[0].length);
      positions.forEach((p, k) => all.set(p, k * p.length));
      feeds[STEP_IO.maskedPositions] = new ort.Tensor('int64', all, [...lead, positions[0].length]);
    }
    if (withLabels && this.opts.task === 'mlm') {
      feeds[STEP_IO.labels] = new ort.Tensor(
        'int64',
        cat((b) => b.labels!),
        [...lead, B, S],
      );
    } else if (withLabels && this.opts.task === 'regression') {
      const targets = this.opts.regressionTargets!;
      feeds[STEP_IO.labels] = new ort.Tensor(
        'float32',
        Float32Array.from(
          cat((b) => b.labels!),
          (row) => targets[Number(row)],
        ),
        [...lead, B],
      );
    } else if (withLabels && this.opts.task === 'multi-label') {
      const C = this.opts.numLabels;
      const targets = this.opts.multiLabelTargets!;
      const rowIds = cat((b) => b.labels!);
      const multiHot = new Float32Array(rowIds.length * C);
      rowIds.forEach((row, i) => multiHot.set(targets.subarray(Number(row) * C, (Number(row) + 1) * C), i * C));
      feeds[STEP_IO.labels] = new ort.Tensor('float32', multiHot, [...lead, B, C]);
      feeds[STEP_IO.classWeights] = new ort.Tensor('float32', this.classWeights, [C]);
    } else if (withLabels) {
      feeds[STEP_IO.labels] = new ort.Tensor(
        'int64',
        cat((b) => b.labels!),
        [...lead, B],
      );
      feeds[STEP_IO.classWeights] = new ort.Tensor('float32', this.classWeights, [this.opts.numLabels]);
    }
    return feeds;
  }

  /** The parameters; withMoments (the graphs that update them): also the AdamW moments and the unreached rows. */
  private paramFeeds(feeds: Feeds, withMoments: boolean): void {
    this.specs.forEach((s, i) => {
      feeds[s.name] = new ort.Tensor('float32', this.params[i], s.shape);
      if (withMoments) {
        feeds[STEP_IO.m(s.name)] = new ort.Tensor('float32', this.m[i], s.shape);
        feeds[STEP_IO.v(s.name)] = new ort.Tensor('float32', this.v[i], s.shape);
      }
    });
    const rows = this.embeddingRows?.rows;
    if (withMoments && rows && this.decaysUnreached()) {
      feeds[STEP_IO.unreached] = new ort.Tensor('float32', rows.unreached, [rows.unreachedRows, rows.hidden]);
    }
  }

  /** After a run that gave fresh outputs: they are the new state. */
  private takeState(out: ort.InferenceSession.OnnxValueMapType): void {
    this.params = this.specs.map((s) => out[STEP_IO.newParam(s.name)].data as Float32Array);
    this.m = this.specs.map((s) => out[STEP_IO.newM(s.name)].data as Float32Array);
    this.v = this.specs.map((s) => out[STEP_IO.newV(s.name)].data as Float32Array);
    const rows = this.embeddingRows?.rows;
    if (rows && this.decaysUnreached()) rows.unreached = out[STEP_IO.newUnreached].data as Float32Array;
  }

  /** Scalars and dropout keys for the steps this.step .. this.step + count - 1. */
  private stepFeeds(feeds: Feeds, count: number, kind: 'train' | 'loop' | 'apply'): number[] {
    const h = this.opts.hyper;
    const lrs: number[] = [];
    const stepSize = new Float32Array(count);
    const sqrtBc2 = new Float32Array(count);
    const decay = new Float32Array(count);
    for (let k = 0; k < count; k++) {
      const lr = scheduleLr(h.schedule ?? 'linear', this.step + k, h.lr, h.warmupSteps, h.totalSteps);
      const s = adamwStepScalars(this.step + k + 1, lr, h.weightDecay, this.adam);
      lrs.push(lr);
      stepSize[k] = s.stepSize;
      sqrtBc2[k] = s.sqrtBc2;
      decay[k] = s.decayFactor;
    }
    const shape = kind === 'loop' ? [count] : [];
    feeds[STEP_IO.stepSize] = new ort.Tensor('float32', stepSize, shape);
    feeds[STEP_IO.sqrtBc2] = new ort.Tensor('float32', sqrtBc2, shape);
    feeds[STEP_IO.decayFactor] = new ort.Tensor('float32', decay, shape);
    if (this.opts.dropout && kind !== 'apply') {
      const sites = this.dropoutSites.get(kind) ?? 0;
      const per = dropoutKeyData(this.opts.seed, 0, sites).length;
      const keys = new BigInt64Array(count * per);
      for (let k = 0; k < count; k++) keys.set(dropoutKeyData(this.opts.seed, this.step + k, sites), k * per);
      feeds[STEP_IO.dropoutKeys] = new ort.Tensor('int64', keys, kind === 'loop' ? [count, per] : [per]);
    }
    return lrs;
  }

  private async runSteps(batches: Batch[], kind: 'train' | 'loop'): Promise<StepResult[]> {
    batches.forEach((b) => this.checkBatch(b, true));
    await this.session(kind);
    // The previous run's output copies are garbage by now; free them before this run needs the memory.
    if (this.stateBytes >= COLLECT_GARBAGE_ABOVE_BYTES) collectGarbage();
    const feeds = this.batchFeeds(batches, kind === 'loop', true);
    this.paramFeeds(feeds, true);
    const lrs = this.stepFeeds(feeds, batches.length, kind);
    const fetches = this.inPlaceFetches(feeds, kind);
    const out = await this.run(kind, feeds, fetches);
    if (!fetches) this.takeState(out);
    const losses = out[STEP_IO.loss].data as Float32Array;
    const norms = out[STEP_IO.gradNorm].data as Float32Array;
    return lrs.map((lr, k) => ({ loss: losses[k], gradNorm: norms[k], lr, step: ++this.step }));
  }

  async trainStep(batch: Batch): Promise<StepResult> {
    return (await this.runSteps([batch], 'train'))[0];
  }

  async trainSteps(batches: Batch[]): Promise<StepResult[]> {
    const K = this.opts.stepsPerRun ?? 1;
    const results: StepResult[] = [];
    let i = 0;
    while (i < batches.length) {
      const chunk = batches.slice(i, i + K);
      const stackable =
        K > 1 &&
        chunk.length === K &&
        chunk.every(
          (b) =>
            b.batchSize === chunk[0].batchSize &&
            b.seqLen === chunk[0].seqLen &&
            this.maskedCount(b) === this.maskedCount(chunk[0]),
        );
      if (stackable) {
        results.push(...(await this.runSteps(chunk, 'loop')));
        i += K;
      } else {
        results.push(await this.trainStep(batches[i]));
        i += 1;
      }
    }
    return results;
  }

  async trainStepAccumulated(microBatches: Batch[]): Promise<StepResult> {
    if (microBatches.length === 0) throw new Error('trainStepAccumulated: no micro-batches');
    microBatches.forEach((b) => this.checkBatch(b, true));
    await this.session('accumulate');
    if (this.stateBytes >= COLLECT_GARBAGE_ABOVE_BYTES) collectGarbage();
    const perStep = this.opts.gradientAccumulationSteps ?? microBatches.length;
    const lossScale = new ort.Tensor('float32', Float32Array.of(1 / microBatches.length), []);
    let acc: Float32Array[] = this.specs.map((s) => new Float32Array(numel(s.shape)));
    let lossSum = 0;
    for (const [j, batch] of microBatches.entries()) {
      const feeds = this.batchFeeds([batch], false, true);
      this.paramFeeds(feeds, false);
      this.specs.forEach((s, i) => (feeds[STEP_IO.acc(s.name)] = new ort.Tensor('float32', acc[i], s.shape)));
      feeds[STEP_IO.lossScale] = lossScale;
      if (this.opts.dropout) {
        const keys = dropoutKeyData(this.opts.seed, this.step * perStep + j, this.dropoutSites.get('accumulate') ?? 0);
        feeds[STEP_IO.dropoutKeys] = new ort.Tensor('int64', keys, [keys.length]);
      }
      const out = await this.run('accumulate', feeds);
      acc = this.specs.map((s) => out[STEP_IO.newAcc(s.name)].data as Float32Array);
      lossSum += (out[STEP_IO.loss].data as Float32Array)[0];
    }
    const feeds: Feeds = {};
    this.paramFeeds(feeds, true);
    this.specs.forEach((s, i) => (feeds[STEP_IO.grad(s.name)] = new ort.Tensor('float32', acc[i], s.shape)));
    const [lr] = this.stepFeeds(feeds, 1, 'apply');
    const fetches = this.inPlaceFetches(feeds, 'apply');
    const out = await this.run('apply', feeds, fetches);
    if (!fetches) this.takeState(out);
    const gradNorm = (out[STEP_IO.gradNorm].data as Float32Array)[0];
    return { loss: lossSum / microBatches.length, gradNorm, lr, step: ++this.step };
  }

  /** mlm: how many positions the head scores in a batch (stacked batches need as many); 0 for classification. */
  private maskedCount(b: Batch): number {
    return this.opts.task === 'mlm' && b.labels ? labelledPositions(b.labels).length : 0;
  }

  async forward(batch: Batch): Promise<Float32Array> {
    this.checkBatch(batch, false);
    if (this.opts.task === 'mlm' && batch.labels && batch.labels.length !== batch.batchSize * batch.seqLen) {
      throw new DataError('A masked-LM batch needs one label per token.', { code: 'ENGINE_NO_LABELS' });
    }
    const feeds = this.batchFeeds([batch], false, false);
    this.paramFeeds(feeds, false);
    return (await this.run('forward', feeds))[STEP_IO.logits].data as Float32Array;
  }

  async lossAndGradients(batch: Batch): Promise<{ loss: number; grads: Weights }> {
    this.checkBatch(batch, true);
    const feeds = this.batchFeeds([batch], false, true);
    this.paramFeeds(feeds, false);
    const out = await this.run('grads', feeds);
    const grads = this.wholeTensors(
      this.specs.map((s) => out[STEP_IO.grad(s.name)].data as Float32Array),
      (rows, cut) => rows.scatter(cut),
    );
    return { loss: (out[STEP_IO.loss].data as Float32Array)[0], grads };
  }

  /** Copies of `arrays` as the model's tensors; `whole` makes the model's word-embedding table from the cut one. */
  private wholeTensors(
    arrays: Float32Array[],
    whole: (rows: EmbeddingRows, cut: Float32Array) => Float32Array = (rows, cut) => rows.scatter(cut),
  ): Weights {
    return new Map(
      this.modelSpecs.map((s, i) => [
        s.name,
        {
          shape: [...s.shape],
          data: i === this.embeddingRows?.index ? whole(this.embeddingRows.rows, arrays[i]) : arrays[i].slice(),
        },
      ]),
    );
  }

  getWeights(): Weights {
    return this.wholeTensors(this.params, (rows, cut) => rows.wholeTable(cut));
  }

  getOptimizerState(): { step: number; m: Weights; v: Weights } {
    // The unreachable rows' moments are zero (embedding-rows.ts).
    return { step: this.step, m: this.wholeTensors(this.m), v: this.wholeTensors(this.v) };
  }

  setOptimizerState(s: { step: number; m: Weights; v: Weights }): void {
    if (!(Number.isInteger(s.step) && s.step >= 0)) {
      throw new ModelError(`Optimizer state has an invalid step count ${s.step}.`, {
        fix: 'Resume from an intact checkpoint.',
      });
    }
    const m: Float32Array[] = checkWeightsMatch(this.modelSpecs, s.m, 'optimizer state (first moments)').map((a) =>
      a.slice(),
    );
    const v: Float32Array[] = checkWeightsMatch(this.modelSpecs, s.v, 'optimizer state (second moments)').map((a) =>
      a.slice(),
    );
    if (this.embeddingRows) {
      const { rows, index } = this.embeddingRows;
      if (!rows.zeroOutside(m[index]) || !rows.zeroOutside(v[index])) {
        throw new ModelError(
          'The checkpoint trained word embeddings of tokens that this run’s data does not hold, so its data changed.',
          {
            fix: 'Restart the run (--restart), or resume it with the data it was started with.',
            code: 'ENGINE_BAD_STATE',
          },
        );
      }
      m[index] = rows.gather(m[index]);
      v[index] = rows.gather(v[index]);
    }
    this.m = m;
    this.v = v;
    this.step = s.step;
  }

  async dispose(): Promise<void> {
    if (this.opts.profilePrefix) for (const s of this.sessions.values()) s.endProfiling();
    for (const s of this.sessions.values()) await s.release();
    this.sessions.clear();
  }
}

/** Tasks whose step graph takes class_weights (cross-entropy's class weights, BCE's positive weights). */
const hasClassWeights = (task: EngineOptions['task']): boolean =>
  (task ?? 'classify') === 'classify' || task === 'multi-label';

function familyFor(opts: Pick<EngineOptions, 'task' | 'config' | 'attentionBlock'>): EncoderFamily {
  if (opts.task === 'mlm') return mlmFamily(opts.config);
  return encoderFamily(opts.config, { attentionBlock: attentionBlockOf(opts.attentionBlock) });
}

export async function createTrainEngine(opts: EngineOptions): Promise<TrainEngine> {
  if (opts.task === 'regression' && (opts.numLabels !== 1 || !opts.regressionTargets || opts.classWeights)) {
    throw new UserError('A regression head has one output, its targets and no class weights.', {
      fix: 'Give numLabels 1 and regressionTargets, without classWeights.',
      code: 'ENGINE_BAD_LABELS',
    });
  }
  if (
    opts.task === 'multi-label' &&
    !(opts.numLabels >= 1 && opts.multiLabelTargets && opts.multiLabelTargets.length % opts.numLabels === 0)
  ) {
    throw new UserError('A multi-label head needs at least one label and numLabels targets per training row.', {
      fix: 'Give multiLabelTargets with numLabels 0/1 values per row.',
      code: 'ENGINE_BAD_LABELS',
    });
  }
  if ((opts.task ?? 'classify') === 'classify' && !(Number.isInteger(opts.numLabels) && opts.numLabels >= 2)) {
    throw new UserError(`A classifier needs at least 2 labels; got ${opts.numLabels}.`, {
      fix: 'Check the label column of the dataset.',
      code: 'ENGINE_BAD_LABELS',
    });
  }
  if (opts.classWeights && opts.classWeights.length !== opts.numLabels) {
    throw new UserError(`There are ${opts.classWeights.length} class weights for ${opts.numLabels} labels.`, {
      fix: 'Give one weight per label.',
      code: 'ENGINE_BAD_HYPER',
    });
  }
  if (opts.stepsPerRun !== undefined && !(Number.isInteger(opts.stepsPerRun) && opts.stepsPerRun >= 1)) {
    throw new UserError(`stepsPerRun must be a positive integer; got ${opts.stepsPerRun}.`, {
      fix: 'Set stepsPerRun to 1 or more.',
      code: 'ENGINE_BAD_HYPER',
    });
  }
  const accumulation = opts.gradientAccumulationSteps ?? 1;
  if (!(Number.isInteger(accumulation) && accumulation >= 1)) {
    throw new UserError(`gradientAccumulationSteps must be a positive integer; got ${accumulation}.`, {
      fix: 'Set gradientAccumulationSteps to 1 or more.',
      code: 'ENGINE_BAD_HYPER',
    });
  }
  const smoothing = opts.labelSmoothing ?? 0;
  if (!(smoothing >= 0 && smoothing <= 1)) {
    throw new UserError(`labelSmoothing must be between 0 and 1; got ${smoothing}.`, {
      fix: 'Set labelSmoothing to a value in [0, 1] (0.1 is usual).',
      code: 'ENGINE_BAD_HYPER',
    });
  }
  checkHyper(opts.hyper);
  const specs = familyFor(opts).paramSpecs(opts.numLabels);
  const engine = new OrtTrainEngine(opts, specs, 'cpu');
  // The first session decides the device; an accumulating run never uses the one-step train graph.
  await engine.open(accumulation > 1 ? 'accumulate' : 'train', opts.device);
  if ((opts.stepsPerRun ?? 1) > 1 && accumulation === 1) await engine.open('loop');
  return engine;
}

/**
 * The estimate before a run (`bertft train --estimate`): how long the run will take and how much memory it will need,
 * from the run's own data and a few warm-up steps on the chosen device, before anything is trained or written.
 *
 * Time. A step's time depends on the shape of its batch, and batches are length-grouped and dynamically padded, so
 * the shapes vary through an epoch. The warm-up times real batches of the run, the largest, the smallest and shapes in
 * between (each at least once, more while a time budget lasts), and fits a step-time model of the padded shape:
 *   seconds(B, S) = base + perToken·B·S + perTokenSq·B·S²
 * (optimizer update and fixed costs; the dense layers; attention), with non-negative coefficients. The run's time is
 * that model summed over the shape of every step the loop will take (planRun mirrors trainLoop: epochs, max steps,
 * evaluations at every epoch end, every evalSteps steps and at the last step, a checkpoint after each), the same for
 * one evaluation pass (forward-only, fitted on timed evaluation batches) times the evaluations, one timed checkpoint
 * and best-model write per evaluation, and the one-off costs: start-up up to the first step (process start, reading
 * and tokenizing the data, building the graph and sessions, measured as they happen), the first step's and the first
 * evaluation's extra time (session warm-up) and releasing the engine.
 *
 * Memory. The warm-up runs in the process that will train in the same way (`bertft train --estimate` restarts itself
 * with the training malloc settings, allocator.ts), with the same data, batches and engine: its peak resident set
 * after the largest batch's step, a forward pass of the largest evaluation batch and a checkpoint and best-model write
 * (the moments when the state is held twice: onnxruntime-node's output copies, the checkpoint's copies) is the run's.
 *
 * What it cannot know: early stopping (the estimate is for the whole run), and which evaluations improve (it assumes
 * every one writes best/, an upper bound); other work on the machine changes step times as it comes and goes.
 */
import * as os from 'node:os';
import type { Batch } from '../tokenize/batch';

/** The padded shape of a batch. */
export interface BatchShape {
  batchSize: number;
  seqLen: number;
}

export const shapeOf = (b: BatchShape): BatchShape => ({ batchSize: b.batchSize, seqLen: b.seqLen });
const shapeKey = (s: BatchShape): string => `${s.batchSize}x${s.seqLen}`;

/** Where the loop starts: a fresh run at 0, a resumed one at its checkpoint's position. */
export interface LoopPosition {
  step: number;
  epoch: number;
  batchInEpoch: number;
}

export interface RunPlanInput {
  totalSteps: number;
  /** Evaluate every N steps (besides each epoch end and the last step). */
  evalSteps?: number;
  start?: LoopPosition;
  /** Batches per optimizer step (default 1); the last step of an epoch takes the batches left over. */
  gradientAccumulationSteps?: number;
  /** The padded shape of every batch of an epoch, in the loop's order. */
  shapesForEpoch(epoch: number): readonly BatchShape[];
}

export interface RunPlan {
  totalSteps: number;
  stepsPerEpoch: number;
  /** Steps this run takes (fewer than totalSteps when resuming). */
  steps: number;
  /** Epochs the run covers, fractional when max steps ends one early (from the start position). */
  epochs: number;
  evaluations: number;
  checkpoints: number;
  /** How many batches (one per step without gradient accumulation) have each padded shape. */
  shapeCounts: { shape: BatchShape; count: number }[];
}

/** The steps, evaluations and checkpoints of a run, in trainLoop's order (without early stopping). */
export function planRun(input: RunPlanInput): RunPlan {
  const start = input.start ?? { step: 0, epoch: 0, batchInEpoch: 0 };
  let { step, epoch } = start;
  let from = start.batchInEpoch;
  const counts = new Map<string, { shape: BatchShape; count: number }>();
  let evaluations = 0;
  let stepsPerEpoch = Math.ceil(input.shapesForEpoch(epoch).length / (input.gradientAccumulationSteps ?? 1));
  let epochs = 0;
  while (step < input.totalSteps) {
    const shapes = input.shapesForEpoch(epoch);
    if (shapes.length === 0) throw new Error('planRun: an epoch without batches');
    const perStep = input.gradientAccumulationSteps ?? 1;
    stepsPerEpoch = Math.ceil(shapes.length / perStep);
    let i = from;
    for (; i < shapes.length && step < input.totalSteps; i++) {
      const key = shapeKey(shapes[i]);
      const entry = counts.get(key) ?? { shape: shapeOf(shapes[i]), count: 0 };
      entry.count++;
      counts.set(key, entry);
      const epochEnd = i + 1 === shapes.length;
      if (!epochEnd && (i + 1 - from) % perStep !== 0) continue;
      step++;
      if (epochEnd || step >= input.totalSteps || (input.evalSteps !== undefined && step % input.evalSteps === 0))
        evaluations++;
    }
    epochs += (i - from) / shapes.length;
    from = 0;
    epoch++;
  }
  const steps = Math.max(0, input.totalSteps - start.step);
  // Every evaluation is followed by a checkpoint; the last step is always evaluated, and a run with nothing left to do
  // still writes its final checkpoint.
  return {
    totalSteps: input.totalSteps,
    stepsPerEpoch,
    steps,
    epochs,
    evaluations,
    checkpoints: Math.max(1, evaluations),
    shapeCounts: [...counts.values()].sort((a, b) => cost(a.shape) - cost(b.shape)),
  };
}

/** A timed batch: a train step or an evaluation forward pass. */
export interface Timing extends BatchShape {
  seconds: number;
}

/** seconds(B, S) = base + perToken·B·S + perTokenSq·B·S². */
export interface CostModel {
  base: number;
  perToken: number;
  perTokenSq: number;
}

const features = (s: BatchShape): number[] => [1, s.batchSize * s.seqLen, s.batchSize * s.seqLen * s.seqLen];
/** Orders shapes by their work (tokens, then attention). */
const cost = (s: BatchShape): number => s.batchSize * s.seqLen * (1 + s.seqLen / 1024);

export function predictSeconds(model: CostModel, shape: BatchShape): number {
  const [one, tokens, tokensSq] = features(shape);
  return model.base * one + model.perToken * tokens + model.perTokenSq * tokensSq;
}

/** Solve the small symmetric system a·x = b (Gaussian elimination); undefined when singular. */
function solve(a: number[][], b: number[]): number[] | undefined {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[pivot][c])) pivot = r;
    if (Math.abs(m[pivot][c]) < 1e-12) return undefined;
    [m[c], m[pivot]] = [m[pivot], m[c]];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r][c] / m[c][c];
      for (let k = c; k <= n; k++) m[r][k] -= f * m[c][k];
    }
  }
  return m.map((row, i) => row[n] / row[i]);
}

/** Candidate term sets, simplest first; a later one must fit clearly better to be chosen. */
const TERM_SETS: number[][] = [[1], [0, 1], [1, 2], [0, 1, 2], [0], [2], [0, 2]];

/**
 * Least-squares fit of the cost model to timings (the median of each shape's repeats, each shape weighing the same),
 * with non-negative coefficients: the best of the term subsets whose fit has no negative coefficient. A fit needs as
 * many distinct shapes as terms; with a single shape the time is proportional to the tokens.
 */
export function fitCostModel(timings: readonly Timing[]): CostModel {
  if (timings.length === 0) return { base: 0, perToken: 0, perTokenSq: 0 };
  const byShape = new Map<string, { shape: BatchShape; seconds: number[] }>();
  for (const t of timings) {
    const entry = byShape.get(shapeKey(t)) ?? { shape: shapeOf(t), seconds: [] };
    entry.seconds.push(t.seconds);
    byShape.set(shapeKey(t), entry);
  }
  const points = [...byShape.values()].map((e) => ({ x: features(e.shape), y: median(e.seconds) }));
  // Columns scaled to [0, 1] so that the normal equations stay well conditioned.
  const scale = [0, 1, 2].map((j) => Math.max(...points.map((p) => p.x[j])) || 1);
  const meanY = points.reduce((s, p) => s + p.y, 0) / points.length;
  let best: { coef: number[]; sse: number } | undefined;
  for (const terms of TERM_SETS) {
    if (terms.length > points.length) continue;
    const a = terms.map((j) =>
      terms.map((k) => points.reduce((s, p) => s + (p.x[j] / scale[j]) * (p.x[k] / scale[k]), 0)),
    );
    const b = terms.map((j) => points.reduce((s, p) => s + (p.x[j] / scale[j]) * p.y, 0));
    const x = solve(a, b);
    if (!x || x.some((v) => v < 0 || !Number.isFinite(v))) continue;
    const coef = [0, 0, 0];
    terms.forEach((j, i) => {
      coef[j] = x[i] / scale[j];
    });
    const sse = points.reduce((s, p) => s + (p.y - (coef[0] * p.x[0] + coef[1] * p.x[1] + coef[2] * p.x[2])) ** 2, 0);
    // An extra term has to earn its place: at least 10% less squared error (relative to the spread of the times).
    if (!best || sse < best.sse - 0.1 * Math.max(best.sse, 1e-6 * meanY * meanY)) best = { coef, sse };
  }
  const [base, perToken, perTokenSq] = best?.coef ?? [meanY, 0, 0];
  return { base, perToken, perTokenSq };
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Up to `max` of the distinct shapes, spread over their range by work: the largest, the smallest, then the ones
 * between (in the order they are worth timing: the middle first).
 */
export function pickShapes(shapes: readonly BatchShape[], max: number): BatchShape[] {
  const distinct = [...new Map(shapes.map((s) => [shapeKey(s), shapeOf(s)])).values()].sort(
    (a, b) => cost(a) - cost(b),
  );
  const n = Math.min(max, distinct.length);
  const picked: number[] = [];
  const add = (index: number): void => {
    if (picked.length < n && !picked.includes(index)) picked.push(index);
  };
  add(distinct.length - 1);
  add(0);
  // Quantiles 1/2, then 1/4 and 3/4, then 1/8 ... until n are picked (every index is reached once 2^k ≥ 2·length).
  for (let denominator = 2; picked.length < n && denominator <= 4 * distinct.length; denominator *= 2) {
    for (let k = 1; k < denominator; k += 2) add(Math.round((k / denominator) * (distinct.length - 1)));
  }
  return picked.map((i) => distinct[i]);
}

/** What the warm-up runs: the training engine, or a stand-in in tests. */
export interface WarmupTarget {
  trainStep(batch: Batch): Promise<unknown>;
  forward(batch: Batch): Promise<unknown>;
}

export interface WarmupOptions {
  /** The run's batches from its first step on (the first is timed as the first step, with its one-off costs). */
  trainBatches: readonly Batch[];
  /** One evaluation pass's batches. */
  evalBatches: readonly Batch[];
  /** Write a checkpoint / the best model somewhere that is thrown away (timed once each). */
  writeCheckpoint(): Promise<void>;
  writeBest(): Promise<void>;
  /**
   * Seconds of train steps to time beyond the first three shapes: `budgetShare` (default 5%) of the training time
   * that the steps timed so far predict for `runShapes`, at least `budgetSeconds` (default 3) and at most
   * `maxBudgetSeconds` (default 20); evaluation passes get a third of that. More samples for longer runs even out
   * the moment-to-moment noise of a busy machine.
   */
  budgetSeconds?: number;
  maxBudgetSeconds?: number;
  budgetShare?: number;
  /** The run's steps by shape (plan.shapeCounts) and its evaluations, for sizing the budget. */
  runShapes?: readonly { shape: BatchShape; count: number }[];
  evaluations?: number;
  /** Distinct shapes timed at most (default 6), train and evaluation each. */
  maxShapes?: number;
  /** Train steps (and evaluation batches) timed at most (default 40). */
  maxSteps?: number;
  /**
   * Untimed steps after the first, for up to this many seconds (default 2) and at most BURN_IN_MAX_STEPS steps,
   * ending after a step of BURN_IN_LONG_STEP seconds or more. A process's first few seconds of short steps run slower
   * than the rest of the run (random:tiny on the bundled example: 21–45% over the run's mean step when timed from the
   * first step on, 1–10% after a 2 s burn-in, BENCHMARKS.md "Run estimate vs the real run"); a long step is not
   * slowed measurably.
   */
  burnInSeconds?: number;
  /** Polled between steps; true ends the warm-up with EstimateCancelled. */
  shouldStop?: () => boolean;
  /** Seconds (default: performance.now() / 1000). */
  clock?: () => number;
}

export interface WarmupMeasurements {
  firstStep?: Timing;
  /** Untimed steps between the first step and the timed ones. */
  burnInSteps?: number;
  steps: Timing[];
  firstForward?: Timing;
  forwards: Timing[];
  checkpointSeconds: number;
  bestSeconds: number;
  /** How long the warm-up took. */
  seconds: number;
}

export class EstimateCancelled extends Error {
  constructor() {
    super('The estimate was cancelled.');
    this.name = 'EstimateCancelled';
  }
}

/** A step at least this long is not slowed by a fresh process: the burn-in ends after it. */
const BURN_IN_LONG_STEP = 0.25;
/** The burn-in's most steps, however short. */
const BURN_IN_MAX_STEPS = 20;
/** A write quicker than this is timed twice and the second kept: the first carries one-off costs the run pays once. */
const REPEAT_WRITE_UNDER = 1;

/** Representative batches of the chosen shapes (the first batch of each shape). */
function representatives(batches: readonly Batch[], shapes: readonly BatchShape[]): Batch[] {
  return shapes.map((s) => batches.find((b) => b.batchSize === s.batchSize && b.seqLen === s.seqLen)!);
}

/**
 * Time the first step, take a short burn-in of untimed steps (WarmupOptions.burnInSeconds), then time one step of
 * each chosen shape (largest, smallest, between), then more rounds while the budget lasts (see
 * WarmupOptions.budgetSeconds); the same for evaluation forward passes; then one checkpoint and one best-model write,
 * each twice when quick. Optional shapes beyond the first three are skipped once the budget is spent (large models).
 */
export async function measureWarmup(target: WarmupTarget, options: WarmupOptions): Promise<WarmupMeasurements> {
  const clock = options.clock ?? (() => performance.now() / 1000);
  const least = options.budgetSeconds ?? 3;
  const most = Math.max(least, options.maxBudgetSeconds ?? 20);
  const share = options.budgetShare ?? 0.05;
  const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));
  const predicted = (timings: Timing[], shapes: readonly { shape: BatchShape; count: number }[]): number => {
    const model = fitCostModel(timings);
    return shapes.reduce((sum, c) => sum + c.count * predictSeconds(model, c.shape), 0);
  };
  const trainBudget = (timings: Timing[]): number =>
    clamp(share * predicted(timings, options.runShapes ?? []), least, most);
  const evalShapes = options.evalBatches.map((b) => ({ shape: shapeOf(b), count: options.evaluations ?? 1 }));
  const evalBudget = (timings: Timing[]): number => clamp(share * predicted(timings, evalShapes), least / 3, most / 3);
  const maxShapes = options.maxShapes ?? 6;
  const maxSteps = options.maxSteps ?? 40;
  const check = (): void => {
    if (options.shouldStop?.()) throw new EstimateCancelled();
  };
  const time = async (run: (b: Batch) => Promise<unknown>, b: Batch): Promise<Timing> => {
    check();
    const t0 = clock();
    await run(b);
    return { ...shapeOf(b), seconds: clock() - t0 };
  };
  const began = clock();

  /** Rounds over the chosen batches: the first three always, the rest and repeats while the budget lasts. */
  const rounds = async (
    run: (b: Batch) => Promise<unknown>,
    chosen: Batch[],
    budget: (timings: Timing[]) => number,
    limit: number,
  ): Promise<Timing[]> => {
    const out: Timing[] = [];
    const t0 = clock();
    for (let round = 0; out.length < limit && chosen.length > 0; round++) {
      for (let i = 0; i < chosen.length && out.length < limit; i++) {
        if ((round > 0 || i >= 3) && clock() - t0 >= budget(out)) return out;
        out.push(await time(run, chosen[i]));
      }
    }
    return out;
  };

  const train = (b: Batch): Promise<unknown> => target.trainStep(b);
  const forward = (b: Batch): Promise<unknown> => target.forward(b);

  /** Untimed steps over the chosen batches (see WarmupOptions.burnInSeconds); how many were taken. */
  const burnIn = async (chosen: Batch[]): Promise<number> => {
    const seconds = options.burnInSeconds ?? 2;
    const t0 = clock();
    let taken = 0;
    while (taken < BURN_IN_MAX_STEPS && clock() - t0 < seconds) {
      const step = await time(train, chosen[taken % chosen.length]);
      taken++;
      if (step.seconds >= BURN_IN_LONG_STEP) break;
    }
    return taken;
  };

  /** A write's time, from a second write when the first was quick (REPEAT_WRITE_UNDER). */
  const timeWrite = async (write: () => Promise<void>): Promise<number> => {
    check();
    const t0 = clock();
    await write();
    const first = clock() - t0;
    if (first >= REPEAT_WRITE_UNDER) return first;
    check();
    const t1 = clock();
    await write();
    return clock() - t1;
  };

  const result: WarmupMeasurements = { steps: [], forwards: [], checkpointSeconds: 0, bestSeconds: 0, seconds: 0 };
  if (options.trainBatches.length > 0) {
    result.firstStep = await time(train, options.trainBatches[0]);
    const chosen = representatives(options.trainBatches, pickShapes(options.trainBatches, maxShapes));
    result.burnInSteps = await burnIn(chosen);
    result.steps = await rounds(train, chosen, trainBudget, maxSteps);
  }
  if (options.evalBatches.length > 0) {
    const chosen = representatives(options.evalBatches, pickShapes(options.evalBatches, maxShapes));
    result.firstForward = await time(forward, chosen[0]);
    result.forwards = await rounds(forward, chosen, evalBudget, maxSteps);
  }
  result.checkpointSeconds = await timeWrite(() => options.writeCheckpoint());
  result.bestSeconds = await timeWrite(() => options.writeBest());
  result.seconds = clock() - began;
  return result;
}

export interface TimeEstimate {
  /** Mean predicted step time over the run's steps. */
  secondsPerStep: number;
  trainSeconds: number;
  /** One evaluation pass. */
  evalPassSeconds: number;
  evalSeconds: number;
  /** Checkpoints and best-model writes. */
  saveSeconds: number;
  /** Process start to the first step, plus the first step's, first evaluation's and the release's one-off costs. */
  startupSeconds: number;
  totalSeconds: number;
  stepModel: CostModel;
  evalModel: CostModel;
}

export interface TimeEstimateInput {
  plan: RunPlan;
  /** Shapes of one evaluation pass's batches. */
  evalShapes: readonly BatchShape[];
  measurements: WarmupMeasurements;
  /** Measured: process start until the first step could begin. */
  startupSeconds: number;
  /** Measured: releasing the engine at the end. */
  teardownSeconds?: number;
  /** Best-model writes (default: one per evaluation). */
  bestWrites?: number;
}

/** The run's time from the plan and the warm-up's timings (pure arithmetic). */
export function estimateTime(input: TimeEstimateInput): TimeEstimate {
  const { plan, measurements: m } = input;
  const stepModel = fitCostModel(m.steps.length > 0 ? m.steps : m.firstStep ? [m.firstStep] : []);
  const evalModel = fitCostModel(m.forwards.length > 0 ? m.forwards : m.firstForward ? [m.firstForward] : []);
  const trainSeconds = plan.shapeCounts.reduce((s, c) => s + c.count * predictSeconds(stepModel, c.shape), 0);
  const evalPassSeconds = input.evalShapes.reduce((s, shape) => s + predictSeconds(evalModel, shape), 0);
  const evaluations = input.evalShapes.length > 0 ? plan.evaluations : 0;
  const evalSeconds = evaluations * evalPassSeconds;
  const saveSeconds = plan.checkpoints * m.checkpointSeconds + (input.bestWrites ?? plan.evaluations) * m.bestSeconds;
  const extra = (t: Timing | undefined, model: CostModel): number =>
    t ? Math.max(0, t.seconds - predictSeconds(model, t)) : 0;
  const startupSeconds =
    input.startupSeconds +
    (plan.steps > 0 ? extra(m.firstStep, stepModel) : 0) +
    (evaluations > 0 ? extra(m.firstForward, evalModel) : 0) +
    (input.teardownSeconds ?? 0);
  return {
    secondsPerStep: plan.steps > 0 ? trainSeconds / plan.steps : 0,
    trainSeconds,
    evalPassSeconds,
    evalSeconds,
    saveSeconds,
    startupSeconds,
    totalSeconds: startupSeconds + trainSeconds + evalSeconds + saveSeconds,
    stepModel,
    evalModel,
  };
}

/** This process's peak resident set size so far, in bytes (getrusage's maxrss: VmHWM on Linux). */
export function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/**
 * `bertft train --estimate --json` prints one of these (and nothing else) on stdout: a stable contract for UIs
 * (documented in README.md, "The `bertft` CLI"). Times are seconds, memory bytes; fields are only ever added.
 */
export interface EstimateEvent {
  event: 'estimate';
  /** Contract version; bumped only if a field changes meaning. */
  version: 1;
  time: string;
  /** What the user sees: "about 4 min, 1.2 GB peak memory". */
  summary: string;
  /** Expected wall time of `bertft train` with the same flags, start to exit. */
  total_seconds: number;
  /** Process start until the first step (read and tokenize the data, build the model and sessions), plus one-off warm-ups. */
  startup_seconds: number;
  train_seconds: number;
  /** All evaluation passes together. */
  eval_seconds: number;
  /** Checkpoints and best-model writes together. */
  save_seconds: number;
  /** Mean over the run's steps. */
  seconds_per_step: number;
  /** Seed screening before the run (its candidates' short runs), included in total_seconds; absent without it. */
  screening_seconds?: number;
  /** A seed ensemble's other members (whole runs each), included in total_seconds; absent for one model. */
  ensemble_seconds?: number;
  /** Peak resident memory of the training process (host memory; a GPU's own memory is not counted). */
  peak_rss_bytes: number;
  /** Parameters and both AdamW moments (12 bytes per parameter): the state a step briefly holds twice. */
  state_bytes: number;
  parameters: number;
  device: string;
  device_notes: string[];
  model: string;
  total_steps: number;
  /** Steps this run takes (total_steps minus those done, with --resume). */
  steps: number;
  steps_per_epoch: number;
  /** The epochs these steps cover (fractional when --max-steps ends one early). */
  epochs: number;
  batch_size: number;
  max_length: number;
  eval_batch_size: number;
  /** Evaluation passes (each epoch end, every --eval-steps, the last step), each followed by a checkpoint. */
  evaluations: number;
  eval_seconds_per_pass: number;
  checkpoints: number;
  /** Assumed: every evaluation improves (an upper bound). */
  best_model_writes: number;
  dataset: { train_rows: number; valid_rows: number; labels: string[] };
  resumed_from_step?: number;
  /** The full resolved training configuration (as `started` and run.json have it). */
  config: Record<string, unknown>;
  /** What the figures rest on. */
  based_on: {
    /** Timed train steps besides the first, and their distinct [batch size, padded length] shapes. */
    warmup_steps: number;
    /** Untimed steps taken before the timed ones (a fresh process's first short steps run slower). */
    burn_in_steps: number;
    warmup_shapes: [number, number][];
    /** Timed evaluation forward passes. */
    eval_forwards: number;
    /** The run's distinct batch shapes, and its padded tokens in all (dynamic padding makes them differ from max_length). */
    distinct_shapes: number;
    padded_tokens: number;
    /** The fitted step time: base + per_token·B·S + per_token_sq·B·S². */
    step_model: { base: number; per_token: number; per_token_sq: number };
    /** How long the estimate itself took, and its warm-up. */
    estimate_seconds: number;
    warmup_seconds: number;
    /** The process's malloc settings (allocator.ts) and the machine's 1-minute load average when measured. */
    allocator: string;
    load_average: number;
    cpus: number;
  };
  /** What the estimate cannot know. */
  assumptions: string[];
}

export interface BuildEstimateInput {
  plan: RunPlan;
  time: TimeEstimate;
  measurements: WarmupMeasurements;
  peakRssBytes: number;
  parameters: number;
  device: string;
  deviceNotes: string[];
  allocator: string;
  config: Record<string, unknown> & {
    model: string;
    batchSize: number;
    maxLength: number;
    evalBatchSize: number;
    earlyStoppingPatience?: number;
  };
  dataset: { train_rows: number; valid_rows: number; labels: string[] };
  resumedFromStep?: number;
  /** Seed screening: its candidates' runs together, already in time.totalSeconds. */
  screening?: { seconds: number; candidates: number; epochs: number };
  /** A seed ensemble: its other members' runs together, already in time.totalSeconds. */
  ensemble?: { seconds: number; models: number };
  estimateSeconds: number;
  now?: Date;
}

export function buildEstimateEvent(input: BuildEstimateInput): EstimateEvent {
  const { plan, time, measurements: m, config } = input;
  const round = (x: number, digits = 3): number => Number(x.toFixed(digits));
  const assumptions = [
    'The whole run: every step to total_steps' +
      (config.earlyStoppingPatience !== undefined ? '; early stopping may end it sooner' : '') +
      '.',
    'Every evaluation writes best/ (an upper bound).',
    'Step times as measured now: other work on the machine slows the run as it comes and goes.',
  ];
  if (input.screening) {
    const { candidates, epochs } = input.screening;
    assumptions.push(
      `Seed screening first trains ${candidates} seeds for ${epochs} epoch${epochs === 1 ? '' : 's'} each, at the run's step times.`,
    );
  }
  if (input.ensemble) {
    assumptions.push(
      `A seed ensemble trains ${input.ensemble.models} models one after another, each a whole run at this run's step times` +
        (input.resumedFromStep !== undefined ? ' (counted in full: an upper bound when some have trained).' : '.'),
    );
  }
  if (input.device !== 'cpu') assumptions.push(`peak_rss_bytes is host memory; ${input.device} memory is not counted.`);
  const peak = Math.round(input.peakRssBytes);
  const warmupShapes = [
    ...new Map(m.steps.map((t) => [shapeKey(t), [t.batchSize, t.seqLen] as [number, number]])).values(),
  ];
  return {
    event: 'estimate',
    version: 1,
    time: (input.now ?? new Date()).toISOString(),
    summary: `about ${formatApproxDuration(time.totalSeconds)}, ${formatBytes(peak)} peak memory`,
    total_seconds: round(time.totalSeconds),
    startup_seconds: round(time.startupSeconds),
    train_seconds: round(time.trainSeconds),
    eval_seconds: round(time.evalSeconds),
    save_seconds: round(time.saveSeconds),
    seconds_per_step: round(time.secondsPerStep, 4),
    ...(input.screening ? { screening_seconds: round(input.screening.seconds) } : {}),
    ...(input.ensemble ? { ensemble_seconds: round(input.ensemble.seconds) } : {}),
    peak_rss_bytes: peak,
    state_bytes: 12 * input.parameters,
    parameters: input.parameters,
    device: input.device,
    device_notes: input.deviceNotes,
    model: config.model,
    total_steps: plan.totalSteps,
    steps: plan.steps,
    steps_per_epoch: plan.stepsPerEpoch,
    epochs: round(plan.epochs),
    batch_size: config.batchSize,
    max_length: config.maxLength,
    eval_batch_size: config.evalBatchSize,
    evaluations: plan.evaluations,
    eval_seconds_per_pass: round(time.evalPassSeconds),
    checkpoints: plan.checkpoints,
    best_model_writes: plan.evaluations,
    dataset: input.dataset,
    ...(input.resumedFromStep !== undefined ? { resumed_from_step: input.resumedFromStep } : {}),
    config,
    based_on: {
      warmup_steps: m.steps.length,
      burn_in_steps: m.burnInSteps ?? 0,
      warmup_shapes: warmupShapes,
      eval_forwards: m.forwards.length + (m.firstForward ? 1 : 0),
      distinct_shapes: plan.shapeCounts.length,
      padded_tokens: plan.shapeCounts.reduce((s, c) => s + c.count * c.shape.batchSize * c.shape.seqLen, 0),
      step_model: {
        base: time.stepModel.base,
        per_token: time.stepModel.perToken,
        per_token_sq: time.stepModel.perTokenSq,
      },
      estimate_seconds: round(input.estimateSeconds),
      warmup_seconds: round(m.seconds),
      allocator: input.allocator,
      load_average: round(os.loadavg()[0], 2),
      cpus: os.availableParallelism(),
    },
    assumptions,
  };
}

/** "45 s", "4 min", "1 h 20 min": rounded as an estimate should be. */
export function formatApproxDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (Math.round(seconds) < 60) return `${Math.max(1, Math.round(seconds))} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const h = Math.floor(minutes / 60);
  return minutes % 60 === 0 ? `${h} h` : `${h} h ${minutes % 60} min`;
}

/** "610 MB", "1.2 GB" (powers of 1000, as file managers show them). */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${Math.round(bytes / 1e6)} MB`;
  return `${Math.max(0, Math.round(bytes / 1e3))} kB`;
}

/** The estimate for a person (`bertft train --estimate` without --json). */
export function formatEstimate(e: EstimateEvent, out?: string): string {
  const s = (x: number): string => (x >= 100 ? `${Math.round(x)} s` : `${x.toPrecision(2)} s`);
  const epochs = Number.isInteger(e.epochs) ? String(e.epochs) : e.epochs.toFixed(2);
  const lines = [
    `Estimate: ${e.summary}`,
    `  run      ${e.steps} steps (${epochs} epochs × ${e.steps_per_epoch} steps, batch ${e.batch_size}, max length ${e.max_length}` +
      `${e.resumed_from_step !== undefined ? `, resuming from step ${e.resumed_from_step}` : ''}) on ${e.device}`,
    `  time     ${formatApproxDuration(e.total_seconds)}: start-up ${s(e.startup_seconds)}, training ${s(e.train_seconds)} (${e.seconds_per_step.toPrecision(2)} s/step), ` +
      `${e.evaluations} evaluation${e.evaluations === 1 ? '' : 's'} of ${e.dataset.valid_rows} rows ${s(e.eval_seconds)}, ` +
      `${e.checkpoints} checkpoint${e.checkpoints === 1 ? '' : 's'} and best-model writes ${s(e.save_seconds)}`,
    `  memory   ${formatBytes(e.peak_rss_bytes)} peak resident (parameters and AdamW moments ${formatBytes(e.state_bytes)})`,
    `Based on ${e.based_on.warmup_steps + 1} warm-up steps (${e.based_on.warmup_shapes.length} batch shapes of the run's ${e.based_on.distinct_shapes}) and ` +
      `${e.based_on.eval_forwards} evaluation batches, measured in ${s(e.based_on.estimate_seconds)}; nothing was trained` +
      `${out ? ` or written to ${out}` : ''}.`,
    ...e.assumptions.map((a) => `  - ${a}`),
  ];
  return lines.join('\n') + '\n';
}

/**
 * `bertft train` and its estimate: the fine-tuning task (task.ts) run through the session skeleton, or measured
 * without a run. Used in-process by the CLI and inside the extension's trainer child (src/trainer/main.ts).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../errors';
import type { HubProgress } from '../model/hub';
import { describeAllocator } from '../train/allocator';
import { saveCheckpoint } from '../train/checkpoint';
import type { TrainEngine } from '../train/engine';
import {
  buildEstimateEvent,
  estimateTime,
  measureWarmup,
  peakRssBytes,
  planRun,
  shapeOf,
  type EstimateEvent,
} from '../train/estimate';
import type { DoneEvent, LogEvent } from '../run/events';
import { screeningPlan } from '../train/presets';
import { checkRunDir } from '../run/folder';
import { runPaths } from '../run/paths';
import {
  checkpointToResume,
  freshState,
  openEngine,
  runSession,
  sessionStart,
  type SessionSink,
} from '../train/session';
import { screenSeeds } from './screening';
import { classifyTask, freshOverrides, prepareClassify, writeBestModel, type SessionOptions } from './task';
import type { RunJson } from './run-data';

export type { SessionOptions } from './task';

/**
 * Fine-tunes a classifier into the run folder `options.out` (a new run, --resume or --restart). A new run with seed
 * candidates first screens them (screening.ts) and trains the kept one; a stop during screening still starts the
 * run, which stops at once with a checkpoint, so that --resume continues it.
 */
export async function runTrainingSession(options: SessionOptions, sink: SessionSink): Promise<DoneEvent> {
  const screened = await screenSeeds(options, sink);
  if (!screened) return runSession(classifyTask(options), options, sink);
  const { screening, stopped } = screened;
  return runSession(classifyTask({ ...options, trainSeed: screening.kept, seedScreening: screening }), options, {
    ...sink,
    shouldStop: () => stopped || (sink.shouldStop?.() ?? false),
  });
}

/**
 * What seed screening adds to a new run's time: each candidate is a run of `epochs` epochs (start-up, steps,
 * evaluations, a checkpoint and best/ included), timed as the run's own (`secondsFor(steps)`).
 */
function screeningEstimate(
  options: EstimateOptions,
  plan: { stepsPerEpoch: number; totalSteps: number },
  secondsFor: (totalSteps: number) => number,
): { seconds: number; candidates: number; epochs: number } | undefined {
  if (options.resume || options.restart) return undefined;
  const screening = screeningPlan(options);
  if (!screening) return undefined;
  const steps = Math.min(plan.totalSteps, screening.epochs * plan.stepsPerEpoch);
  return { ...screening, seconds: screening.candidates * secondsFor(steps) };
}

export interface EstimateOptions extends Omit<SessionOptions, 'out'> {
  /** The run folder the run would use: checked (an existing run, --resume) but never written. Optional. */
  out?: string;
}

export interface EstimateSink {
  /** The engine's device choice and warnings. */
  log?: (event: LogEvent) => void;
  /** Polled between warm-up steps; true cancels the estimate (EstimateCancelled). */
  shouldStop?: () => boolean;
  onDownload?: (progress: HubProgress) => void;
  /** When the command started, in ms since the epoch (the CLI: its process start); default: when the estimate was called. */
  startedAt?: number;
}

/**
 * `bertft train --estimate`: everything a run does before its first step (the same code: prepareClassify and openEngine), then a few
 * warm-up steps and evaluation passes on the chosen device, one checkpoint and one best-model write into a temporary
 * folder that is deleted, and the arithmetic of core/train/estimate.ts. Nothing is written to `out` (or anywhere else
 * that stays); the warm-up steps change only the engine's in-memory copy of the weights, which is then thrown away.
 */
export async function estimateTrainingSession(
  options: EstimateOptions,
  sink: EstimateSink = {},
): Promise<EstimateEvent> {
  const startedAt = sink.startedAt ?? Date.now();
  const paths = options.out !== undefined ? runPaths(path.resolve(options.out)) : undefined;
  if (!paths && (options.resume || options.restart)) {
    throw new UserError(`--${options.restart ? 'restart' : 'resume'} needs the --out folder of the run.`, {
      code: 'RUN_NOT_FOUND',
      fix: 'Add --out <run folder>.',
    });
  }
  // The refusals of runTrainingSession, read-only: an existing run without --resume, a folder that is not a run.
  const task = classifyTask(options);
  const { settings, previous } = paths
    ? sessionStart(task, { ...options, out: paths.root }, paths)
    : { settings: freshOverrides(options, ''), previous: undefined };
  if (paths) checkRunDir(paths.root);
  let engine: TrainEngine | undefined;
  let scratch: string | undefined;
  try {
    const run = await prepareClassify(settings, previous as RunJson | undefined, { onDownload: sink.onDownload });
    const checkpoint = paths
      ? await checkpointToResume(
          paths,
          options,
          previous,
          'Add --restart to estimate training this run again from step 0 with its settings, or estimate a new run in another --out folder.',
        )
      : undefined;
    const engineLog: string[] = [];
    engine = await openEngine(run, checkpoint, (line, level = 'info') => {
      engineLog.push(line);
      sink.log?.({ event: 'log', time: new Date().toISOString(), level, message: line });
    });
    const liveEngine = engine;
    // As the run's `started` event and run.json have them (the warm-up's own lines come later).
    const deviceNotes = [...engineLog, describeAllocator()];
    const startupSeconds = Math.max(0, (Date.now() - startedAt) / 1000 - run.downloadSeconds);
    const { config } = run;
    const state = checkpoint?.state ?? freshState(run);
    const plan = planRun({
      totalSteps: run.totalSteps,
      evalSteps: config.evalSteps,
      gradientAccumulationSteps: config.gradientAccumulationSteps,
      start: state,
      shapesForEpoch: run.shapesForEpoch,
    });
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
        await saveCheckpoint(runPaths(scratchDir).checkpoints, {
          weights: liveEngine.getWeights(),
          optimizer: liveEngine.getOptimizerState(),
          state,
        });
      },
      writeBest: () =>
        writeBestModel(
          runPaths(scratchDir).best,
          run,
          liveEngine.getWeights(),
          { step: 0, metric: config.metric, estimate: true },
          liveEngine.device,
        ),
      shouldStop: sink.shouldStop,
    });
    const peak = peakRssBytes();
    const device = liveEngine.device;
    const released = performance.now();
    engine = undefined;
    await liveEngine.dispose();
    const teardownSeconds = (performance.now() - released) / 1000;
    const runTime = estimateTime({
      plan,
      evalShapes: run.evalSet.batches.map(shapeOf),
      measurements,
      startupSeconds,
      teardownSeconds,
    });
    const secondsFor = (totalSteps: number): number =>
      estimateTime({
        plan: planRun({
          totalSteps,
          evalSteps: config.evalSteps,
          gradientAccumulationSteps: config.gradientAccumulationSteps,
          shapesForEpoch: run.shapesForEpoch,
        }),
        evalShapes: run.evalSet.batches.map(shapeOf),
        measurements,
        startupSeconds,
        teardownSeconds,
      }).totalSeconds;
    const screening = screeningEstimate(options, plan, secondsFor);
    // A seed ensemble's other members are whole runs of their own (core/finetune/ensemble.ts).
    const models = config.ensembleSize ?? 1;
    const ensemble = models > 1 ? { models, seconds: (models - 1) * secondsFor(run.totalSteps) } : undefined;
    const time = {
      ...runTime,
      totalSeconds: runTime.totalSeconds + (screening?.seconds ?? 0) + (ensemble?.seconds ?? 0),
    };
    return buildEstimateEvent({
      plan,
      time,
      measurements,
      peakRssBytes: peak,
      parameters: run.parameters,
      device,
      deviceNotes,
      allocator: describeAllocator(),
      config: { ...config },
      dataset: { train_rows: run.data.train.length, valid_rows: run.data.valid.length, labels: run.data.labels },
      resumedFromStep: checkpoint ? state.step : options.restart ? 0 : undefined,
      screening,
      ensemble,
      estimateSeconds: (Date.now() - startedAt) / 1000,
    });
  } finally {
    await engine?.dispose();
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  }
}

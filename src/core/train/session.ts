/**
 * The one training-session skeleton every task runs through, from a request to a finished run folder:
 *
 *   start (new run, --resume or --restart; refusals) → claim the folder → lock → recover → the task prepares its data,
 *   model and settings → restore the checkpoint → engine → run.json → `started` → the loop (steps, evaluations,
 *   checkpoints, best/, stop: the sink's shouldStop or the run's stop request file) → `done` (or an `error` event) →
 *   engine disposed, lock released.
 *
 * A task (fine-tuning in core/finetune, masked-LM pre-training in core/pretrain) supplies only what differs: how its
 * run.json stores its settings, how data and model are prepared, how a batch is prepared for its step, how the
 * weights are scored and how the best model is written. Every event goes to metrics.jsonl (except `log`), then to
 * the caller's sink.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';
import { samePath } from '../util/same-path';
import type { HubProgress } from '../model/hub';
import type { Weights } from '../model/params';
import type { Batch } from '../tokenize/batch';
import { describeAllocator } from './allocator';
import { loadLatestCheckpoint, type Checkpoint, type TrainerState } from './checkpoint';
import { createTrainEngine, type EngineLog, type EngineOptions, type TrainEngine } from './engine';
import {
  sessionErrorEvent,
  type DatasetSummary,
  type DoneEvent,
  type TrainerEvent,
  type TrainTask,
} from '../run/events';
import { acquireRunLock } from '../run/lock';
import { appendMetric, hadCheckpoint } from '../run/metrics-log';
import { claimRunDir, recoverRunDir } from '../run/folder';
import { runPaths, type RunPaths } from '../run/paths';
import { clearRunStopRequest, runStopRequested } from '../run/stop-request';
import { trainLoop, type Evaluation, type LoopSettings } from './trainer';
import { readRunJson, writeRunJson } from '../run/run-json';

/** Where a run goes and how it starts; the task's own settings travel beside it. */
export interface SessionRequest {
  out: string;
  /** Continue the run in `out` from its last complete checkpoint (every setting comes from its run.json). */
  resume?: boolean;
  /**
   * Train the run in `out` again from step 0 with its own settings (when its checkpoints are gone); its best/ stays
   * until the new run's first evaluation replaces it.
   */
  restart?: boolean;
}

export interface SessionSink {
  emit: (event: TrainerEvent) => void;
  /**
   * Polled after every step; when true the run checkpoints and ends with `done` (stopped). The run's stop request
   * file (core/run/stop-request.ts) is polled beside it.
   */
  shouldStop?: () => boolean;
  onDownload?: (progress: HubProgress) => void;
}

/** What a task has prepared before the engine exists: everything the skeleton needs to run it. */
export interface PreparedTask<E extends Evaluation> {
  seed: number;
  totalSteps: number;
  loop: LoopSettings;
  /** The selection metric's name in checkpoints and the `done` event (`accuracy`, `mlm_loss`, …). */
  metricName: string;
  /** The engine's options apart from the weights and the log. */
  engine: Omit<EngineOptions, 'weights' | 'log'>;
  /** The initial weights (a fresh run's); a checkpoint's replace them on resume. */
  weights: Weights;
  /** The resolved settings (the `started` event's config) and the dataset summary. */
  started: { config: Record<string, unknown>; dataset: DatasetSummary };
  /** run.json of a new run, given the device chosen and what the engine said while choosing it. */
  runJson(device: string, deviceNotes: string[]): Record<string, unknown>;
  batchesForEpoch(epoch: number): Batch[];
  prepareBatch?(batch: Batch, step: number): Batch;
  evaluate(engine: TrainEngine): Promise<E>;
  /** Write the best model into `dir` (through `<dir>.tmp` and a rename). */
  saveBest(engine: TrainEngine, evaluation: E, step: number, dir: string): Promise<void>;
  /**
   * Work after the loop has trained every step (a seed ensemble's other members, core/finetune/ensemble.ts), before
   * `done`; its `steps` follow the loop's in the step events. Runs again on --resume until it completes.
   */
  afterLoop?: {
    steps: number;
    run(context: AfterLoopContext): Promise<AfterLoopResult>;
  };
}

export interface AfterLoopContext {
  paths: RunPaths;
  /** The loop's own steps: after-loop step events continue from here. */
  loopSteps: number;
  /** The device the loop trained on. */
  device: string;
  emit(event: TrainerEvent): void;
  shouldStop(): boolean;
}

export interface AfterLoopResult {
  stopped: boolean;
  /** The best model after the work: its step and selection metric (unchanged when absent). */
  best?: { step: number; metric: number };
  finalStep: number;
}

/** One kind of training run. `S` is its settings as stored in run.json. */
export interface TrainingTask<S, E extends Evaluation> {
  readonly kind: TrainTask;
  /** The command that starts and resumes it, for messages (`bertft train`). */
  readonly command: string;
  /** The settings of a new run in `out`, with its paths made absolute (run.json is read from any directory). */
  fresh(out: string): S;
  /** The settings of the existing run whose run.json holds `stored`, checked against the flags given again. */
  resumed(stored: unknown, file: string): S;
  /** Everything before the engine; `previous` is the resumed run's run.json (its data must be unchanged). */
  prepare(settings: S, previous: unknown, sink: Pick<SessionSink, 'emit' | 'onDownload'>): Promise<PreparedTask<E>>;
}

const now = (): string => new Date().toISOString();

/**
 * Settings given again with --resume that differ from the run's own, as `name (run: X, given: Y)`. A resumed run
 * continues exactly as it began, so these are refused rather than ignored; only the device may change. The values
 * of `pathKeys` are files: they compare resolved, and without case where `platform`'s file systems ignore it.
 */
export function differingOnResume(
  given: object,
  stored: object,
  pathKeys: readonly string[],
  platform: NodeJS.Platform = process.platform,
): string[] {
  const differ: string[] = [];
  const run = stored as Record<string, unknown>;
  for (const [key, value] of Object.entries(given as Record<string, unknown>)) {
    if (['out', 'resume', 'restart', 'device'].includes(key) || value === undefined || value === '') continue;
    const own = run[key];
    const isPath = pathKeys.includes(key) && typeof value === 'string';
    const wanted = isPath ? path.resolve(value) : value;
    const same =
      isPath && typeof own === 'string'
        ? samePath(value, own, platform)
        : JSON.stringify(wanted) === JSON.stringify(own);
    if (!same) differ.push(`${key} (run: ${JSON.stringify(own)}, given: ${JSON.stringify(wanted)})`);
  }
  return differ;
}

/** Refuses a resume whose flags differ from the run's settings (differingOnResume), naming them. */
export function refuseDiffering(differ: string[], runJson: string, command: string): void {
  if (differ.length === 0) return;
  throw new UserError(`A resumed run continues with its own settings, and these differ: ${differ.join('; ')}.`, {
    file: runJson,
    code: 'RUN_RESUME_DIFFERS',
    fix: `Leave them out (\`${command} --resume --out ${path.dirname(runJson)}\` reads every setting from run.json), or start a new run in another --out folder.`,
  });
}

/**
 * What a run in `paths` starts from: the settings of the run to resume, or the new run's. Read-only: refuses an
 * existing run without --resume and --resume without a run, and writes nothing (the estimate checks the same).
 */
export function sessionStart<S>(
  task: TrainingTask<S, Evaluation>,
  request: SessionRequest,
  paths: RunPaths,
): { settings: S; previous?: unknown } {
  const hasRun = fs.existsSync(paths.runJson);
  if (request.resume || request.restart) {
    if (!hasRun) {
      throw new UserError(
        `There is no run to ${request.restart ? 'restart' : 'resume'} in ${paths.root} (it has no run.json).`,
        {
          file: paths.runJson,
          code: 'RUN_NOT_FOUND',
          fix: `Give the --out folder of an earlier \`${task.command}\` run, or start a new run without --resume.`,
        },
      );
    }
    const previous = readRunJson(paths.runJson);
    return { settings: task.resumed(previous, paths.runJson), previous };
  }
  if (hasRun) {
    throw new UserError(`${paths.root} already holds a training run.`, {
      file: paths.root,
      code: 'RUN_EXISTS',
      fix: 'Add --resume to continue it, or choose another --out folder.',
    });
  }
  return { settings: task.fresh(paths.root) };
}

/**
 * The checkpoint a run continues from: the latest readable one (none on --restart or for a new run). A run that
 * once completed a checkpoint and can read none is refused: starting over would train over a later best/. Killed
 * before its first checkpoint, a run starts again from step 0 and reproduces what it had.
 */
export async function checkpointToResume(
  paths: RunPaths,
  request: Pick<SessionRequest, 'restart'>,
  previous: unknown,
  restartFix: string,
): Promise<Checkpoint | undefined> {
  if (previous === undefined || request.restart) return undefined;
  const checkpoint = await loadLatestCheckpoint(paths.checkpoints);
  if (!checkpoint && hadCheckpoint(paths)) {
    throw new UserError(`${paths.root} has no readable checkpoint to resume from.`, {
      file: paths.checkpoints,
      code: 'RUN_NO_CHECKPOINT',
      fix: restartFix,
    });
  }
  return checkpoint;
}

/**
 * The engine of a prepared task, with the checkpoint's weights and optimizer moments when resuming. Our copies of
 * the weights are emptied afterwards: the engine trains its own, so their memory (a model, or model + moments) is freed.
 */
export async function openEngine(
  prepared: PreparedTask<Evaluation>,
  checkpoint: Checkpoint | undefined,
  log: EngineLog,
): Promise<TrainEngine> {
  const engine = await createTrainEngine({ ...prepared.engine, weights: checkpoint?.weights ?? prepared.weights, log });
  try {
    if (checkpoint) engine.setOptimizerState(checkpoint.optimizer);
  } catch (e) {
    await engine.dispose();
    throw e;
  }
  for (const tensors of [prepared.weights, checkpoint?.weights, checkpoint?.optimizer.m, checkpoint?.optimizer.v])
    tensors?.clear();
  return engine;
}

/** The loop state of a new run. */
export function freshState(
  prepared: Pick<PreparedTask<Evaluation>, 'seed' | 'totalSteps' | 'metricName'>,
): TrainerState {
  return {
    step: 0,
    epoch: 0,
    batchInEpoch: 0,
    totalSteps: prepared.totalSteps,
    seed: prepared.seed,
    metricName: prepared.metricName,
    bestMetric: null,
    bestStep: 0,
    evalsWithoutImprovement: 0,
  };
}

/** Runs `task` into the run folder `request.out`, from the start or from its last checkpoint, to `done`. */
export async function runSession<S, E extends Evaluation>(
  task: TrainingTask<S, E>,
  request: SessionRequest,
  sink: SessionSink,
): Promise<DoneEvent> {
  const paths = runPaths(path.resolve(request.out));
  const { settings, previous } = sessionStart(task, request, paths);
  // --out must be new, empty or a run of ours: a folder of the user's is refused before anything is written to it.
  claimRunDir(paths.root);
  const lock = acquireRunLock(paths.root);
  // Without run.json, a metrics.jsonl only records a start that failed (e.g. bad data): begin a clean log.
  if (previous === undefined) fs.rmSync(paths.metrics, { force: true });
  // A stop asked of an earlier session (one that ended as it was written) is not a stop of this one.
  clearRunStopRequest(paths.root);
  const emit = (event: TrainerEvent): void => {
    appendMetric(paths.metrics, event);
    sink.emit(event);
  };
  let engine: TrainEngine | undefined;
  try {
    await recoverRunDir(paths.root);
    const prepared = await task.prepare(settings, previous, { emit, onDownload: sink.onDownload });
    const checkpoint = await checkpointToResume(
      paths,
      request,
      previous,
      `Add --restart to train this run again from step 0 with its settings (its best/ stays until the new run's first evaluation replaces it), or start a new run in another --out folder.`,
    );
    const engineLog: string[] = [];
    engine = await openEngine(prepared, checkpoint, (line, level = 'info') => {
      engineLog.push(line);
      emit({ event: 'log', time: now(), level, message: line });
    });
    const liveEngine = engine;
    // What the engine said while choosing its device (refused providers, fallbacks) goes into run.json and `started`,
    // with the malloc settings of this process, which change the step time severalfold (core/train/allocator.ts).
    const deviceNotes = [...engineLog, describeAllocator()];
    // A resumed run keeps its run.json; only where it runs now is updated.
    const runJson =
      previous === undefined
        ? prepared.runJson(engine.device, deviceNotes)
        : { ...(previous as Record<string, unknown>), device: engine.device, device_notes: deviceNotes };
    await writeRunJson(paths.runJson, runJson);
    emit({
      event: 'started',
      time: now(),
      run_dir: paths.root,
      pid: process.pid,
      config: prepared.started.config,
      task: task.kind,
      device: engine.device,
      device_notes: deviceNotes,
      total_steps: prepared.totalSteps + (prepared.afterLoop?.steps ?? 0),
      resumed_from_step: checkpoint ? checkpoint.state.step : request.restart ? 0 : undefined,
      dataset: prepared.started.dataset,
    });
    const result = await trainLoop({
      engine,
      config: prepared.loop,
      paths,
      totalSteps: prepared.totalSteps,
      reportedTotalSteps: prepared.totalSteps + (prepared.afterLoop?.steps ?? 0),
      state: checkpoint?.state ?? freshState(prepared),
      emit,
      batchesForEpoch: (epoch) => prepared.batchesForEpoch(epoch),
      prepareBatch: prepared.prepareBatch ? (batch, step) => prepared.prepareBatch!(batch, step) : undefined,
      evaluate: () => prepared.evaluate(liveEngine),
      saveBest: (evaluation, step) => prepared.saveBest(liveEngine, evaluation, step, paths.best),
      // The caller's stop (a `stop` message, a signal) or a stop request file from a process with no channel to us.
      shouldStop: () => (sink.shouldStop?.() ?? false) || runStopRequested(paths.root),
    });
    let after: AfterLoopResult | undefined;
    const afterLoop = prepared.afterLoop;
    if (afterLoop && !result.stopped) {
      // The loop's engine is not needed after it: its memory goes before the work after it starts.
      const device = liveEngine.device;
      engine = undefined;
      await liveEngine.dispose();
      after = await afterLoop.run({
        paths,
        loopSteps: prepared.totalSteps,
        device,
        emit,
        shouldStop: () => (sink.shouldStop?.() ?? false) || runStopRequested(paths.root),
      });
    }
    const done: DoneEvent = {
      event: 'done',
      time: now(),
      stopped: result.stopped || (after?.stopped ?? false),
      best_step: after?.best?.step ?? result.state.bestStep,
      best_metric: after?.best?.metric ?? result.state.bestMetric ?? NaN,
      metric_name: prepared.metricName,
      best_dir: paths.best,
      run_dir: paths.root,
      final_step: after?.finalStep ?? result.state.step,
      ...(result.earlyStopped ? { early_stopped: true } : {}),
    };
    emit(done);
    return done;
  } catch (e) {
    if (fs.existsSync(paths.root)) appendMetric(paths.metrics, sessionErrorEvent(e).event);
    throw e;
  } finally {
    await engine?.dispose();
    clearRunStopRequest(paths.root);
    lock.release();
  }
}

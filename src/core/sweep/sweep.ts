/**
 * A hyperparameter sweep: a grid of train settings (every combination, or N of them drawn with a seed), one ordinary
 * run folder per point, trained one after another in this process, and a leaderboard read back from the trial
 * folders alone (so trials trained elsewhere, as a Slurm job array, count the same). A sweep folder holds:
 *
 *   <sweep>/sweep.json         the grid, the base train arguments and each trial's point and train arguments
 *   <sweep>/trial-000/ …       one run folder per point (`bertft train --resume --out` continues any of them)
 *   <sweep>/leaderboard.json   each trial's best selection metric, accuracy, macro-F1, steps, wall time, settings
 *
 * This module loads no onnxruntime (the leaderboard and a job array's records are read on a login node); run.ts
 * trains the trials. The settings are train flags and their values as the CLI parses them; this module treats them as opaque words,
 * and the caller turns a trial's arguments into session options.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';
import type { DoneEvent, TrainerEvent } from '../run/events';
import { readMetricsLog } from '../run/metrics-log';
import { runPaths } from '../run/paths';
import { writeJsonAtomic } from '../util/files';
import { createRng, shuffleInPlace } from '../util/random';

export const SWEEP_JSON = 'sweep.json';
export const LEADERBOARD_JSON = 'leaderboard.json';

/** One axis of the grid: a train flag and the values it takes. */
export interface SweepAxis {
  name: string;
  values: (string | number)[];
}

/** A point of the grid: flag name → value (names are validated train flags, never data). */
export type SweepPoint = Record<string, string | number>;

export interface SweepTrial {
  index: number;
  /** The trial's run folder, relative to the sweep folder. */
  dir: string;
  settings: SweepPoint;
  /** `train` and its flags for this trial, without --out (the base arguments with the point's values). */
  trainArgs: string[];
}

/** `<sweep>/sweep.json`. */
export interface SweepRecord {
  tool: 'bertft';
  kind: 'sweep';
  created: string;
  grid: SweepAxis[];
  /** Set when N points were drawn from the grid rather than all of them. */
  random: { count: number; seed: number } | null;
  /** The train arguments every trial shares, without --out. */
  baseArgs: string[];
  trials: SweepTrial[];
}

export type TrialStatus = 'done' | 'stopped' | 'failed' | 'running' | 'pending';

export interface LeaderboardRow {
  trial: number;
  dir: string;
  status: TrialStatus;
  settings: SweepPoint;
  /** The selection metric's name and its best value (null until the trial evaluated). */
  metric: string | null;
  best_metric: number | null;
  best_step: number | null;
  /** Accuracy and macro-F1 of the best evaluation (null where the task has none). */
  accuracy: number | null;
  macro_f1: number | null;
  steps: number;
  /** Seconds spent training, over every session of the trial (queue time between sessions not counted). */
  wall_seconds: number;
  /** Why it failed, for a failed trial. */
  error?: string;
}

export interface Leaderboard {
  sweep: string;
  metric: string | null;
  /** Best first: finished and stopped trials by their best metric, then the others in trial order. */
  rows: LeaderboardRow[];
}

/** Every combination of the axes' values, the last axis varying fastest. */
export function expandGrid(axes: readonly SweepAxis[]): SweepPoint[] {
  let points: SweepPoint[] = [{}];
  for (const axis of axes) {
    points = points.flatMap((p) => axis.values.map((v) => ({ ...p, [axis.name]: v })));
  }
  return points;
}

/** `count` distinct points of the grid, drawn with `seed`, in grid order. */
export function samplePoints(points: readonly SweepPoint[], count: number, seed: number): SweepPoint[] {
  if (count > points.length) {
    throw new UserError(`--random ${count} asks for more points than the grid has (${points.length}).`, {
      code: 'SWEEP_BAD_RANDOM',
      fix: `Give --random ${points.length} or fewer, or add values to a --grid.`,
    });
  }
  const order = shuffleInPlace(
    points.map((_, i) => i),
    createRng(seed, 0x5eed2000),
  );
  return order
    .slice(0, count)
    .sort((a, b) => a - b)
    .map((i) => points[i]);
}

export function trialDirName(index: number): string {
  return `trial-${String(index).padStart(3, '0')}`;
}

/** The sweep.json of `sweepDir`, or undefined when there is none; a damaged one is a user error naming it. */
export function readSweepRecord(sweepDir: string): SweepRecord | undefined {
  const file = path.join(sweepDir, SWEEP_JSON);
  if (!fs.existsSync(file)) return undefined;
  let value: Partial<SweepRecord> | undefined;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<SweepRecord>;
  } catch {
    value = undefined;
  }
  if (!value || value.kind !== 'sweep' || !Array.isArray(value.trials) || !Array.isArray(value.baseArgs)) {
    throw new UserError(`${file} is not a sweep record of bertft.`, {
      file,
      code: 'SWEEP_JSON_INVALID',
      fix: 'Start the sweep again in a new --out folder.',
    });
  }
  return value as SweepRecord;
}

/**
 * Claims `sweepDir` for a new sweep: it must be new or empty (a sweep already there continues with --resume), then
 * writes its sweep.json.
 */
export async function createSweep(sweepDir: string, record: SweepRecord): Promise<void> {
  if (fs.existsSync(sweepDir)) {
    if (!fs.statSync(sweepDir).isDirectory()) {
      throw new UserError(`The output path ${sweepDir} is a file, not a folder.`, {
        file: sweepDir,
        code: 'SWEEP_OUT_NOT_FOLDER',
        fix: 'Choose a new folder for --out.',
      });
    }
    if (fs.readdirSync(sweepDir).length > 0) {
      const ours = fs.existsSync(path.join(sweepDir, SWEEP_JSON));
      throw new UserError(`${sweepDir} is not empty${ours ? ': it holds a sweep' : ''}.`, {
        file: sweepDir,
        code: 'SWEEP_OUT_EXISTS',
        fix: ours
          ? `Continue it with \`bertft sweep --resume --out ${sweepDir}\`, or choose another --out folder.`
          : 'Choose a new or empty folder for --out.',
      });
    }
  }
  fs.mkdirSync(sweepDir, { recursive: true });
  await writeJsonAtomic(path.join(sweepDir, SWEEP_JSON), record);
}

/** A trial's row, from its run folder alone (metrics.jsonl); `failure` is a failure the caller saw itself. */
export function trialRow(sweepDir: string, trial: SweepTrial, failure?: string): LeaderboardRow {
  const events = readMetricsLog(runPaths(path.join(sweepDir, trial.dir)).metrics);
  const done = [...events].reverse().find((e): e is DoneEvent => e.event === 'done');
  const lastError = [...events].reverse().find((e) => e.event === 'error' || e.event === 'started');
  const evals = events.filter((e) => e.event === 'eval');
  const bestEval = done ? [...evals].reverse().find((e) => e.step === done.best_step) : undefined;
  const steps = Math.max(0, ...events.map((e) => (e.event === 'step' ? e.step : 0)));
  let status: TrialStatus;
  if (failure !== undefined) status = 'failed';
  else if (done) status = done.stopped ? 'stopped' : 'done';
  else if (lastError?.event === 'error') status = 'failed';
  else status = events.length > 0 ? 'running' : 'pending';
  const number = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  return {
    trial: trial.index,
    dir: trial.dir,
    status,
    settings: trial.settings,
    metric: done?.metric_name ?? null,
    best_metric: done ? number(done.best_metric) : null,
    best_step: done?.best_step ?? null,
    accuracy: bestEval ? number(bestEval.accuracy) : null,
    macro_f1: bestEval && 'macro_f1' in bestEval ? number(bestEval.macro_f1) : null,
    steps: done?.final_step ?? steps,
    wall_seconds: trainingSeconds(events),
    error: failure ?? (status === 'failed' && lastError?.event === 'error' ? lastError.message : undefined),
  };
}

/** The seconds from each `started` event to the last event of its session, summed. */
function trainingSeconds(events: readonly TrainerEvent[]): number {
  let total = 0;
  let start: number | undefined;
  let last: number | undefined;
  for (const e of events) {
    if (e.event === 'log') continue;
    const t = Date.parse(e.time);
    if (!Number.isFinite(t)) continue;
    if (e.event === 'started') {
      if (start !== undefined && last !== undefined) total += last - start;
      start = t;
    }
    last = t;
  }
  if (start !== undefined && last !== undefined) total += last - start;
  return Math.round(total / 100) / 10;
}

/** Lower is better for a loss, higher for every other selection metric. */
function better(metric: string | null): (a: number, b: number) => number {
  return metric !== null && /loss/.test(metric) ? (a, b) => a - b : (a, b) => b - a;
}

/** The leaderboard of a sweep from its trial folders; failures the caller saw are kept by trial index. */
export function buildLeaderboard(
  sweepDir: string,
  record: SweepRecord,
  failures: ReadonlyMap<number, string> = new Map(),
): Leaderboard {
  const rows = record.trials.map((t) => trialRow(sweepDir, t, failures.get(t.index)));
  const metric = rows.find((r) => r.metric !== null)?.metric ?? null;
  const cmp = better(metric);
  const ranked = rows.filter((r) => r.best_metric !== null && r.status !== 'failed');
  const rest = rows.filter((r) => !ranked.includes(r));
  ranked.sort((a, b) => cmp(a.best_metric!, b.best_metric!) || a.trial - b.trial);
  return { sweep: sweepDir, metric, rows: [...ranked, ...rest] };
}

/** Failures recorded in an earlier leaderboard.json (a trial that failed before it wrote any event). */
export function recordedFailures(sweepDir: string): Map<number, string> {
  const failures = new Map<number, string>();
  try {
    const board = JSON.parse(fs.readFileSync(path.join(sweepDir, LEADERBOARD_JSON), 'utf8')) as Leaderboard;
    for (const row of board.rows ?? []) {
      if (row.status === 'failed' && typeof row.error === 'string') failures.set(row.trial, row.error);
    }
  } catch {
    // No leaderboard yet, or one we cannot read: it is rebuilt from the trial folders.
  }
  return failures;
}

export async function writeLeaderboard(sweepDir: string, board: Leaderboard): Promise<void> {
  await writeJsonAtomic(path.join(sweepDir, LEADERBOARD_JSON), board);
}

/**
 * Sweeps in the Runs view: a folder with a sweep.json is one row, its trials the rows under it in the order of the
 * leaderboard core/sweep reads from the trial folders alone (best first), each trial an ordinary run (its dashboard,
 * its model) marked with its place and metric. No VS Code here.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  buildLeaderboard,
  readSweepRecord,
  recordedFailures,
  type LeaderboardRow,
  type SweepPoint,
  type SweepRecord,
} from '../../core/sweep/sweep';
import { join, long, say, type Message } from '../display/text';
import {
  RunStateCache,
  foldersUnder,
  isDirectory,
  isProcessAlive,
  isRunDir,
  isSweepDir,
  readRunJob,
  runAt,
  type RunInfo,
} from './runStore';

export interface SweepInfo {
  dir: string;
  name: string;
  /** When the sweep was created (sweep.json), else the folder's modification time. */
  date: string;
  /** The selection metric, once a trial has finished. */
  metric: string | null;
  /** Leaderboard order: best first. */
  trials: RunInfo[];
  /** The grid's axes as `name=v1,v2`, for the tooltip. */
  grid: string[];
  random: SweepRecord['random'];
  /** sweep.json could not be read (the message names the file and the fix). */
  error?: string;
}

/** Every sweep under `runsRoot`, newest first. A missing folder has none. */
export function listSweeps(
  runsRoot: string,
  isAlive: (pid: number) => boolean = isProcessAlive,
  cache = new RunStateCache(),
): SweepInfo[] {
  return foldersUnder(runsRoot)
    .filter(isSweepDir)
    .map((dir) => readSweep(dir, isAlive, cache))
    .sort((a, b) => b.date.localeCompare(a.date) || a.name.localeCompare(b.name));
}

/** One sweep folder: its record and its trials ranked by the leaderboard. */
export function readSweep(dir: string, isAlive: (pid: number) => boolean, cache: RunStateCache): SweepInfo {
  const name = path.basename(dir);
  let record: SweepRecord | undefined;
  try {
    record = readSweepRecord(dir);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { dir, name, date: modified(dir), metric: null, trials: [], grid: [], random: null, error: message };
  }
  if (!record) return { dir, name, date: modified(dir), metric: null, trials: [], grid: [], random: null };
  const board = buildLeaderboard(dir, record, recordedFailures(dir));
  const trials = board.rows.map((row, i) => trialRun(dir, record, row, i, isAlive, cache));
  return {
    dir,
    name,
    date: typeof record.created === 'string' && record.created !== '' ? record.created : modified(dir),
    metric: board.metric,
    trials,
    grid: record.grid.map((axis) => `${axis.name}=${axis.values.join(',')}`),
    random: record.random,
  };
}

function trialRun(
  sweepDir: string,
  record: SweepRecord,
  row: LeaderboardRow,
  i: number,
  isAlive: (pid: number) => boolean,
  cache: RunStateCache,
): RunInfo {
  const dir = path.join(sweepDir, row.dir);
  const ranked = row.best_metric !== null && row.status !== 'failed';
  const trial = {
    sweepDir,
    index: row.trial,
    rank: i + 1,
    best: i === 0 && ranked,
    settings: row.settings,
    status: row.status,
    metric: row.metric,
    bestMetric: row.best_metric,
  };
  if (isDirectory(dir) && isRunDir(dir)) {
    const run = runAt(dir, isAlive, cache);
    // A trial that failed before it wrote an event is known from the leaderboard alone.
    if (row.status === 'failed' && run.phase === 'waiting') {
      return { ...run, phase: 'failed', errorMessage: run.errorMessage ?? row.error, trial };
    }
    return { ...run, trial };
  }
  // Not started yet (a local sweep trains its trials one after another).
  const job = isDirectory(dir) ? readRunJob(dir) : undefined;
  return {
    dir,
    name: row.dir,
    phase: row.status === 'failed' ? 'failed' : 'waiting',
    task: 'classify',
    kind: 'single-label',
    date: record.created,
    step: 0,
    totalSteps: 0,
    errorMessage: row.error,
    ...(job ? { job } : {}),
    trial,
  };
}

function modified(dir: string): string {
  return fs.statSync(dir).mtime.toISOString();
}

/** A trial's settings as its label: `lr=0.001 · epochs=3` (the sweep's own words, shown as data). */
export function settingsLabel(settings: SweepPoint, fallback: string): Message {
  const words = Object.entries(settings).map(([name, value]) => `${name}=${value}`);
  return words.length > 0 ? join(words, ' · ') : say`${fallback}`;
}

/** A metric value as the leaderboard shows it. */
function metricValue(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(1) : value.toFixed(3);
}

/** A trial's row description: `★ best · accuracy 0.912 · done`, `#2 · accuracy 0.880 · done`, `#4 · waiting`. */
export function describeTrial(run: RunInfo, phaseText: string): Message {
  const t = run.trial;
  if (!t) return say`${phaseText}`;
  const parts: Message[] = [t.best ? say`★ best` : say`#${t.rank}`];
  if (t.metric !== null && t.bestMetric !== null) parts.push(say`${t.metric} ${metricValue(t.bestMetric)}`);
  parts.push(say`${phaseText}`);
  return join(parts, ' · ');
}

/** The sweep row's description: `sweep · 4/6 done · best accuracy 0.912 · 2026-12-06 10:00`. */
export function describeSweep(sweep: SweepInfo): Message {
  if (sweep.error !== undefined) return say`sweep · sweep.json unreadable`;
  const finished = sweep.trials.filter((t) => t.phase === 'done').length;
  const parts: Message[] = [say`sweep · ${finished}/${sweep.trials.length} done`];
  const best = sweep.trials.find((t) => t.trial?.best);
  if (best?.trial?.metric && best.trial.bestMetric !== null) {
    parts.push(say`best ${best.trial.metric} ${metricValue(best.trial.bestMetric)}`);
  }
  const failed = sweep.trials.filter((t) => t.phase === 'failed').length;
  if (failed > 0) parts.push(say`${failed} failed`);
  parts.push(say`${sweep.date.slice(0, 16).replace('T', ' ')}`);
  return join(parts, ' · ');
}

/** The sweep row's tooltip (markdown: one line each). */
export function describeSweepTooltip(sweep: SweepInfo): Message {
  const lines: Message[] = [say`Sweep ${sweep.name}`, say`${sweep.dir}`];
  if (sweep.error !== undefined) lines.push(say`Error: ${long(sweep.error)}`);
  else {
    lines.push(
      sweep.random
        ? say`${sweep.trials.length} trials drawn from the grid (seed ${sweep.random.seed})`
        : say`${sweep.trials.length} trials: every point of the grid`,
    );
    for (const axis of sweep.grid) lines.push(say`Grid: ${axis}`);
    const best = sweep.trials.find((t) => t.trial?.best);
    if (best?.trial) {
      lines.push(say`Best: ${settingsLabel(best.trial.settings, best.name)} (${best.name})`);
    }
  }
  return join(lines, '  \n');
}

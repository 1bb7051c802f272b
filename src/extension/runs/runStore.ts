/**
 * The runs in a workspace's run folder, read from disk alone (no VS Code): each sub-folder with a metrics.jsonl or
 * run.json is a run; its status comes from folding metrics.jsonl and, for an unfinished run, whether its process lives.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TrainTask } from '../../trainer/protocol';
import {
  applyEvents,
  bestEvalRow,
  emptyDashboardState,
  runKind,
  type DashboardState,
  type RunKind,
  type RunPhase,
} from '../protocol/dashboardState';
import { formatPerplexity } from '../dashboard/statusText';
import { join, long, say, type Message } from '../display/text';
import { hasRun, runPaths } from '../../core/run/paths';
import { MetricsFollower } from '../../core/run/metrics-log';
import { JOB_JSON, readJobRecord, type JobRecord, type JobState } from '../../core/scheduler/scheduler';
import { SWEEP_JSON, type SweepPoint, type TrialStatus } from '../../core/sweep/sweep';

/** A run submitted to a cluster (its job.json) and what the scheduler last said of it. */
export interface RunJob {
  record?: JobRecord;
  /** job.json could not be read (the message names the file and the fix). */
  recordError?: string;
  /** The scheduler's last answer (job.json's lastState until the view asks). */
  state?: JobState;
  /** Why the scheduler could not be asked (no Slurm on this machine, no answer). */
  unavailable?: string;
}

/** A run that is one trial of a sweep: its place on the sweep's leaderboard. */
export interface TrialMark {
  sweepDir: string;
  index: number;
  /** 1 for the leaderboard's first row. */
  rank: number;
  /** The leaderboard's best finished trial. */
  best: boolean;
  settings: SweepPoint;
  status: TrialStatus;
  metric: string | null;
  bestMetric: number | null;
}

export interface RunInfo {
  dir: string;
  name: string;
  phase: RunPhase;
  /** 'mlm' for a pre-training run: its best/ is a model to fine-tune from, not a classifier. */
  task: TrainTask;
  /** What it trains: one label, label sets, a number, or a masked LM. */
  kind: RunKind;
  /** ISO time the run (last) started, else the folder's modification time. */
  date: string;
  step: number;
  totalSteps: number;
  bestAccuracy?: number;
  bestMacroF1?: number;
  /** Multi-label runs (bestAccuracy is then the subset accuracy). */
  bestMicroF1?: number;
  /** Pre-training runs: the best evaluation's MLM loss and perplexity (bestAccuracy is the masked-token accuracy). */
  bestLoss?: number;
  bestPerplexity?: number;
  bestStep?: number;
  /** `<run>/best` when it exists: the model to classify with. */
  bestModelDir?: string;
  errorMessage?: string;
  /** Set for a run submitted with `bertft submit` (or a trial of a sweep submitted with `--slurm`). */
  job?: RunJob;
  /** Set for a trial of a sweep. */
  trial?: TrialMark;
}

/** Whether a process with this id exists (EPERM means it exists but belongs to someone else). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A run whose events say it is still training, but whose process is gone, was interrupted (crash, kill, reboot).
 * `isAlive` is injectable for tests.
 */
export function livePhase(state: DashboardState, isAlive: (pid: number) => boolean = isProcessAlive): RunPhase {
  if (state.phase !== 'training') return state.phase;
  return state.pid !== undefined && isAlive(state.pid) ? 'training' : 'interrupted';
}

/** Folds a run's metrics.jsonl (missing file: an empty state) and corrects the phase for a dead process. */
export function readRunState(runDir: string, isAlive: (pid: number) => boolean = isProcessAlive): DashboardState {
  return new RunStateCache().read(runDir, isAlive);
}

/**
 * Run states kept between listings: each read folds only the lines appended since the last one, so re-listing a
 * folder with a long run in training costs little. The phase of the result reflects the process as of this read.
 */
export class RunStateCache {
  private readonly entries = new Map<string, { follower: MetricsFollower; state: DashboardState }>();

  read(runDir: string, isAlive: (pid: number) => boolean = isProcessAlive): DashboardState {
    let entry = this.entries.get(runDir);
    if (!entry) {
      const state = emptyDashboardState(runDir);
      const created: { follower: MetricsFollower; state: DashboardState } = {
        state,
        follower: new MetricsFollower(
          runPaths(runDir).metrics,
          (events) => applyEvents(created.state, events),
          (events) => {
            created.state = emptyDashboardState(runDir);
            applyEvents(created.state, events);
          },
        ),
      };
      applyEvents(state, created.follower.readAll());
      this.entries.set(runDir, created);
      entry = created;
    } else {
      entry.follower.check();
    }
    return { ...entry.state, phase: livePhase(entry.state, isAlive) };
  }

  /** Forgets runs not in `keep` (deleted folders). */
  prune(keep: ReadonlySet<string>): void {
    for (const dir of this.entries.keys()) if (!keep.has(dir)) this.entries.delete(dir);
  }
}

/** A run folder: training wrote to it, or it was submitted to a cluster (a queued job has written nothing yet). */
export function isRunDir(dir: string): boolean {
  return fs.existsSync(runPaths(dir).metrics) || hasRun(dir) || fs.existsSync(path.join(dir, JOB_JSON));
}

/** A sweep folder (its trials are listed under it, see ./sweeps.ts). */
export function isSweepDir(dir: string): boolean {
  return fs.existsSync(path.join(dir, SWEEP_JSON));
}

/** The folders directly under `runsRoot` whose names do not start with a dot; none when it does not exist. */
export function foldersUnder(runsRoot: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(runsRoot);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names
    .filter((name) => !name.startsWith('.'))
    .map((name) => path.join(runsRoot, name))
    .filter(isDirectory);
}

/** Every run under `runsRoot`, newest first. A missing folder has no runs. Pass a cache when listing repeatedly. */
export function listRuns(
  runsRoot: string,
  isAlive: (pid: number) => boolean = isProcessAlive,
  cache = new RunStateCache(),
): RunInfo[] {
  return foldersUnder(runsRoot)
    .filter((dir) => !isSweepDir(dir) && isRunDir(dir))
    .map((dir) => runAt(dir, isAlive, cache))
    .sort((a, b) => b.date.localeCompare(a.date) || a.name.localeCompare(b.name));
}

/** The run in `dir`, with its job record when it was submitted to a cluster. */
export function runAt(dir: string, isAlive: (pid: number) => boolean, cache: RunStateCache): RunInfo {
  const state = cache.read(dir, isAlive);
  const run = runInfo(dir, state);
  const job = readRunJob(dir);
  if (!job) return run;
  // A job still queued has started nothing: it dates from its submission.
  const submitted = job.record?.submitted;
  return { ...run, job, ...(state.startedAt === undefined && submitted ? { date: submitted } : {}) };
}

/** `<run>/job.json` for the view: undefined when there is none, the reason when it cannot be read. */
export function readRunJob(dir: string): RunJob | undefined {
  try {
    const record = readJobRecord(dir);
    return record ? { record, state: record.lastState } : undefined;
  } catch (error) {
    return { recordError: error instanceof Error ? error.message : String(error) };
  }
}

export function runInfo(dir: string, state: DashboardState): RunInfo {
  const best = bestEvalRow(state);
  const bestDir = runPaths(dir).best;
  return {
    dir,
    name: path.basename(dir),
    phase: state.phase,
    task: state.task,
    kind: runKind(state),
    date: state.startedAt ?? fs.statSync(dir).mtime.toISOString(),
    step: state.step,
    totalSteps: state.totalSteps,
    bestAccuracy: best?.accuracy,
    bestMacroF1: best?.macroF1,
    bestMicroF1: best?.microF1,
    bestLoss: best?.loss,
    bestPerplexity: best?.perplexity,
    bestStep: best?.step,
    bestModelDir: fs.existsSync(bestDir) ? bestDir : undefined,
    errorMessage: state.error?.message,
  };
}

/** One line for the runs view: `done · acc 0.94 · 2026-11-25 08:12`, `pre-train · done · perplexity 41.2 · …`. */
export function describeRun(run: RunInfo): string {
  const parts: string[] = [phaseText(run)];
  if (run.task === 'mlm') {
    parts.unshift('pre-train');
    if (run.bestPerplexity !== undefined) parts.push(`perplexity ${formatPerplexity(run.bestPerplexity)}`);
  } else if (run.kind === 'regression') {
    parts.unshift('regression');
    if (run.bestLoss !== undefined) parts.push(`MSE ${run.bestLoss.toPrecision(3)}`);
  } else if (run.kind === 'multi-label') {
    parts.unshift('multi-label');
    if (run.bestMicroF1 !== undefined) parts.push(`micro-F1 ${run.bestMicroF1.toFixed(2)}`);
  } else if (run.bestAccuracy !== undefined) parts.push(`acc ${run.bestAccuracy.toFixed(2)}`);
  parts.push(run.date.slice(0, 16).replace('T', ' '));
  return parts.join(' · ');
}

/** `training 12/100` while training, else the phase. */
export function phaseText(run: RunInfo): string {
  return run.phase === 'training' && run.totalSteps > 0 ? `training ${run.step}/${run.totalSteps}` : run.phase;
}

/** The Runs view's tooltip of a run (markdown: one line each). */
export function describeRunTooltip(run: RunInfo): Message {
  const lines: Message[] = [
    say`${run.name}${run.task === 'mlm' ? ' (masked-LM pre-training)' : ''}`,
    say`${run.dir}`,
    say`Status: ${run.phase}`,
  ];
  if (run.totalSteps > 0) lines.push(say`Step ${run.step} of ${run.totalSteps}`);
  if (run.task === 'mlm') {
    if (run.bestLoss !== undefined) {
      lines.push(
        say`Best: MLM loss ${run.bestLoss.toFixed(3)}, perplexity ${formatPerplexity(run.bestPerplexity ?? Math.exp(run.bestLoss))}, masked-token accuracy ${(run.bestAccuracy ?? 0).toFixed(3)} at step ${run.bestStep ?? 0}`,
      );
    }
    if (run.bestModelDir) lines.push(say`Fine-tune BERT offers its best/ folder as a model.`);
  } else if (run.kind === 'regression') {
    lines.push(say`Task: regression (a number per text)`);
    if (run.bestLoss !== undefined)
      lines.push(say`Best: MSE ${run.bestLoss.toPrecision(4)} at step ${run.bestStep ?? 0}`);
  } else if (run.kind === 'multi-label') {
    lines.push(say`Task: multi-label classification (every label at or above its threshold)`);
    if (run.bestMicroF1 !== undefined)
      lines.push(
        say`Best: micro-F1 ${run.bestMicroF1.toFixed(3)}, macro-F1 ${(run.bestMacroF1 ?? 0).toFixed(3)}, subset accuracy ${(run.bestAccuracy ?? 0).toFixed(3)} at step ${run.bestStep ?? 0}`,
      );
  } else if (run.bestAccuracy !== undefined) {
    lines.push(
      say`Best: accuracy ${run.bestAccuracy.toFixed(3)}, macro-F1 ${(run.bestMacroF1 ?? 0).toFixed(3)} at step ${run.bestStep ?? 0}`,
    );
  }
  if (run.errorMessage) lines.push(say`Error: ${long(run.errorMessage)}`);
  // Two spaces before a newline: a line break in markdown.
  return join(lines, '  \n');
}

export function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

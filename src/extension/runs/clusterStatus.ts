/**
 * The state a cluster run shows in the dashboard and the status bar, derived from two sources: the scheduler's word
 * (its state, asked through the shared poller of ./jobs.ts) and the job script's own events (`slurm-events.jsonl`:
 * one line per start, signal, requeue and exit, see core/scheduler/slurm.ts). The events say what the scheduler's
 * state cannot: that a job back in the queue was preempted and requeued itself, that a running job is writing its
 * checkpoint after a signal, how a job the scheduler has forgotten ended. No VS Code here: unit-tested with real lines.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { JOB_EVENTS, type JobRecord, type JobState } from '../../core/scheduler/scheduler';
import type { ClusterStage, ClusterStatus } from '../protocol/cluster';

/** One line of the job script's events. */
export interface JobEvent {
  event: string;
  time?: string;
  /** The scheduler's id of the job that wrote it (an array task's own id, not `<array>_<index>`). */
  job?: string;
  /** How often the job had been requeued when it wrote this line (SLURM_RESTART_COUNT). */
  restart: number;
  node?: string;
  /** start: `new`, `resume` (from a checkpoint) or `restart` (run.json without a checkpoint). */
  mode?: string;
  /** signal: USR1 (time limit or preemption: checkpoint, then requeue) or TERM (scancel: checkpoint, then end). */
  signal?: string;
  /** requeue and exit: the trainer's exit code. */
  trainerExit?: number;
}

/** The lines of `slurm-events.jsonl`; a line that is not a JSON object with an event (cut short while written) is skipped. */
export function parseJobEvents(text: string): JobEvent[] {
  const events: JobEvent[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    const v = value as Record<string, unknown>;
    if (typeof v.event !== 'string') continue;
    const text = (key: string): string | undefined => {
      const field = v[key];
      return typeof field === 'string' && field !== '' ? field : undefined;
    };
    events.push({
      event: v.event,
      time: text('time'),
      job: text('job'),
      restart: typeof v.restart === 'number' ? v.restart : 0,
      node: text('node'),
      mode: text('mode'),
      signal: text('signal'),
      trainerExit: typeof v.trainer_exit === 'number' ? v.trainer_exit : undefined,
    });
  }
  return events;
}

/** `<run>/slurm-events.jsonl`, or none when the job has not started yet. */
export function readJobEvents(runDir: string): JobEvent[] {
  try {
    return parseJobEvents(fs.readFileSync(path.join(runDir, JOB_EVENTS), 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/**
 * The events of the job in `record`: not those of the jobs it replaced (`previousJobIds`), and from its first start
 * on (a start with no requeue before it), so an array task, whose lines carry its own job id, is read the same way.
 */
export function currentJobEvents(events: readonly JobEvent[], record: JobRecord): JobEvent[] {
  const previous = new Set(record.previousJobIds);
  const own = events.filter((e) => e.job === undefined || !previous.has(e.job));
  let first = 0;
  own.forEach((e, i) => {
    if (e.event === 'start' && e.restart === 0) first = i;
  });
  return own.slice(first);
}

const SCHEDULER_TITLE: Record<string, string> = { slurm: 'Slurm' };

/** The scheduler's name as people write it. */
export function schedulerTitle(name: string): string {
  return SCHEDULER_TITLE[name] ?? name;
}

export interface ClusterInputs {
  record: JobRecord;
  /** The scheduler's latest answer, or job.json's last state until it is asked. */
  state?: JobState;
  /** The job script's events (all of them; those of earlier jobs are skipped here). */
  events: readonly JobEvent[];
  /** The step the trainer's latest start resumed from (its `started` event in metrics.jsonl). */
  resumedFromStep?: number;
  /** The scheduler could not be asked from this machine. */
  unreachable?: boolean;
}

/** What the events alone say of the job's stage (undefined before its first start). */
function stageOfEvents(events: readonly JobEvent[]): ClusterStage | undefined {
  const last = events.at(-1);
  switch (last?.event) {
    case undefined:
      return undefined;
    case 'start':
      return 'running';
    case 'signal':
      return last.signal === 'USR1' ? 'preempted' : 'running';
    case 'requeue':
      return 'requeued';
    case 'exit': {
      if (last.trainerExit === 0) return 'done';
      const before = events.at(-2);
      return before?.event === 'signal' && before.signal === 'TERM' ? 'cancelled' : 'failed';
    }
    default:
      return 'unknown';
  }
}

/** The one state a cluster run shows (see ClusterStage). */
export function deriveClusterStatus(inputs: ClusterInputs): ClusterStatus {
  const { record, state } = inputs;
  const events = currentJobEvents(inputs.events, record);
  const fromEvents = stageOfEvents(events);
  const last = events.at(-1);
  const requeues = Math.max(record.restarts, state?.restarts ?? 0, events.filter((e) => e.event === 'requeue').length);
  const phase = inputs.unreachable ? undefined : state?.phase;
  let stage: ClusterStage;
  switch (phase) {
    case 'queued':
      // Back in the queue after a preemption (Slurm says PENDING, reason BeginTime; the events say it requeued).
      stage = requeues > 0 || last?.event === 'requeue' || last?.event === 'signal' ? 'requeued' : 'queued';
      break;
    case 'running':
      // The script's events run ahead of the last poll: a signal (checkpointing), a requeue, or its exit.
      stage =
        fromEvents === 'preempted' || fromEvents === 'requeued' || last?.event === 'exit' ? fromEvents! : 'running';
      break;
    case 'cancelled':
      // PREEMPTED while the script requeues itself is not the end of it.
      stage = fromEvents === 'preempted' || fromEvents === 'requeued' ? fromEvents : 'cancelled';
      break;
    case 'done':
    case 'failed':
      stage = phase;
      break;
    default:
      // Not asked (or not reachable), or forgotten by the scheduler: what the events say, else what was last seen.
      stage = fromEvents ?? (state === undefined ? 'queued' : state.phase === 'unknown' ? 'unknown' : state.phase);
  }
  const lastStart = events.filter((e) => e.event === 'start').at(-1);
  const waiting = stage === 'queued' || stage === 'requeued';
  const status: ClusterStatus = {
    scheduler: schedulerTitle(record.scheduler),
    jobId: record.jobId,
    stage,
    requeues,
  };
  if (state?.state) status.state = state.state;
  const reason = waiting || stage === 'failed' || stage === 'cancelled' ? state?.reason : undefined;
  if (reason) status.reason = reason;
  const node = waiting
    ? undefined
    : ((stage === 'running' || stage === 'preempted' ? state?.node : undefined) ?? lastStart?.node);
  if (node) status.node = node;
  if (lastStart?.mode === 'resume' && lastStart.restart > 0 && inputs.resumedFromStep !== undefined && !waiting)
    status.resumedAtStep = inputs.resumedFromStep;
  if (state?.exitCode && stage === 'failed') status.exitCode = state.exitCode;
  if (inputs.unreachable) status.unreachable = true;
  return status;
}

/**
 * The job's newest log: `slurm-<id>.out` in the run folder (one per job id: a run submitted again has several), or,
 * for a sweep's trial, `slurm-<array>_<index>.out` in the sweep folder above it. Undefined before the job wrote one.
 */
export function jobLogFile(runDir: string, record: JobRecord): string | undefined {
  const candidates: string[] = [];
  const list = (dir: string): string[] => {
    try {
      return fs.readdirSync(dir);
    } catch {
      return [];
    }
  };
  for (const name of list(runDir)) if (/^slurm-\d+(_\d+)?\.out$/.test(name)) candidates.push(path.join(runDir, name));
  if (record.arrayIndex !== null) {
    const own = path.join(path.dirname(runDir), `slurm-${record.jobId}.out`);
    if (fs.existsSync(own)) candidates.push(own);
  }
  let newest: { file: string; mtime: number } | undefined;
  for (const file of candidates) {
    const mtime = fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs;
    if (mtime !== undefined && (!newest || mtime > newest.mtime)) newest = { file, mtime };
  }
  return newest?.file;
}

/**
 * Training on a cluster through its batch scheduler. A scheduler is one small interface — render a job script,
 * submit it, ask a job's state, cancel it — so that another one (a Kubernetes Indexed Job) is a new file beside
 * slurm.ts. A submitted run folder holds, besides the run itself:
 *
 *   <run>/job.<ext>            the rendered job script (job.sbatch for Slurm)
 *   <run>/job.json             scheduler, job id, array index, when submitted, restarts and the last state seen
 *   <run>/slurm-<id>.out       the job's log (appended across requeues)
 *   <run>/slurm-events.jsonl   one line per start, signal, requeue and exit of the job script
 *
 * The job script trains with the same `bertft` (the node binary and CLI entry that submitted it): a fresh run
 * first; `--resume` once a checkpoint exists (requeued after a preemption or a time limit); `--restart` when a
 * run.json but no checkpoint exists.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../errors';
import { writeJsonAtomic } from '../util/files';

/** What a run asks of the cluster; every field optional (the cluster's defaults apply). */
export interface JobResources {
  partition?: string;
  /** Wall-time limit in the scheduler's own notation (Slurm: minutes, HH:MM:SS, D-HH…). */
  time?: string;
  gpus?: number;
  gres?: string;
  cpus?: number;
  /** Memory per node, e.g. 16G. */
  mem?: string;
  account?: string;
  qos?: string;
  /** Seconds before the time limit at which the trainer is asked to checkpoint and the job requeues itself. */
  signalLeadSeconds?: number;
  /** Further options passed to the scheduler as given (Slurm: `#SBATCH <arg>` lines). */
  extra?: readonly string[];
}

/** One training job: what to run, where, and with what. */
export interface TrainingJob {
  /** The job's name in the queue. */
  name: string;
  /** Absolute path of the run folder (shared by every node that may run the job). */
  runDir: string;
  /** Absolute working directory: relative paths among the train arguments are relative to it. */
  workDir: string;
  /** The bertft executable: the node binary and the CLI entry that submitted the job. */
  command: readonly string[];
  /** `train` and its flags for a fresh run, without --out and --device (the script adds them). */
  trainArgs: readonly string[];
  /** An explicit device: a job restarted on another node must not pick another backend. */
  device: string;
  resources: JobResources;
  /**
   * A job array (a sweep): task i trains `tasks[i]` in its own run folder, at most `maxParallel` at once; `runDir`
   * is then the folder above them (the logs go there) and `trainArgs` is unused.
   */
  array?: { tasks: readonly { runDir: string; trainArgs: readonly string[] }[]; maxParallel?: number };
  /**
   * The command that wrote the script and the one that submits it again, for its header (default: `bertft submit`
   * for one job, `bertft sweep` for an array).
   */
  writtenBy?: { command: string; resubmit: string };
}

/**
 * A job that runs one command once, no training of its own (the step that gathers a job array's results): its
 * script, log and job.json go to `runDir`.
 */
export interface CommandJob {
  name: string;
  /** Absolute folder of the job's script, log and job.json. */
  runDir: string;
  /** Absolute working directory of the command. */
  workDir: string;
  /** The whole command line: the bertft executable and its arguments. */
  command: readonly string[];
  resources: JobResources;
  /** A job that must end successfully first (an array: every task of it); the scheduler holds this one until then. */
  dependsOn?: string;
}

/** Where a job is in its life, for any scheduler. */
export type JobPhase = 'queued' | 'running' | 'done' | 'failed' | 'cancelled' | 'unknown';

export interface JobState {
  jobId: string;
  phase: JobPhase;
  /** The scheduler's own word for it (Slurm: PENDING, RUNNING, PREEMPTED, …). */
  state: string;
  /** Why it waits or ended, when the scheduler says. */
  reason?: string;
  /** The node(s) it runs or ran on. */
  node?: string;
  /** How often it was requeued. */
  restarts?: number;
  /** The script's exit code as the scheduler reports it (Slurm: `code:signal`). */
  exitCode?: string;
}

/** A queue of the cluster jobs are submitted to (Slurm: a partition), as its nodes offer it. */
export interface Partition {
  name: string;
  /** The cluster's default: a job that names none goes here. */
  isDefault: boolean;
  /** Whether it takes jobs (Slurm: up, down, drain, inact). */
  available: string;
  /** The longest time limit a job may ask, in the scheduler's notation; undefined when unlimited. */
  maxTime?: string;
  /** The time limit a job that asks none gets; undefined when the scheduler does not say. */
  defaultTime?: string;
  /** Its nodes, and their states (Slurm: idle, mixed, allocated, drained…). */
  nodes: number;
  nodeStates: string[];
  /** The generic resources of its nodes as the scheduler writes them (Slurm: gpu:a100:4, gpu:2). */
  gres: string[];
  /** Its GPUs per node by type ('' for GPUs of no named type), the most a node has. */
  gpus: { type: string; perNode: number }[];
}

export interface Scheduler {
  readonly name: SchedulerName;
  /** The job script's file name in the run folder. */
  readonly scriptName: string;
  render(job: TrainingJob): string;
  /** The script of a job that runs one command once, after `job.dependsOn` when given. */
  renderCommand(job: CommandJob): string;
  /** Submits the script file `script` of the run in `runDir`; the scheduler's job id. */
  submit(script: string, runDir: string): Promise<string>;
  state(jobId: string): Promise<JobState>;
  /** Asks the scheduler to end the job; its script stops the trainer with a checkpoint. */
  cancel(jobId: string): Promise<void>;
  /** The queues jobs may be submitted to, the default one first. */
  partitions(): Promise<Partition[]>;
}

export type SchedulerName = 'slurm';

export const JOB_JSON = 'job.json';
/** Appended by the job script: one JSON object per start, signal, requeue and exit. */
export const JOB_EVENTS = 'slurm-events.jsonl';

/** `<run>/job.json`. */
export interface JobRecord {
  scheduler: SchedulerName;
  jobId: string;
  /** The task's index when the job is one task of an array (a sweep); null otherwise. */
  arrayIndex: number | null;
  /** ISO time of the submission. */
  submitted: string;
  /** Requeues seen so far (the scheduler's count, updated by `bertft jobs`). */
  restarts: number;
  /** The script, relative to the run folder. */
  script: string;
  /** Earlier job ids of this run (resubmitted after a cancel). */
  previousJobIds: string[];
  /** The last state `bertft jobs` saw, and when. */
  lastState?: JobState;
  checked?: string;
}

export async function writeJobRecord(runDir: string, record: JobRecord): Promise<void> {
  await writeJsonAtomic(path.join(runDir, JOB_JSON), record);
}

/** `<run>/job.json`, or undefined when the folder has none; a damaged one is a user error naming the file. */
export function readJobRecord(runDir: string): JobRecord | undefined {
  const file = path.join(runDir, JOB_JSON);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const record = value as Partial<JobRecord> | undefined;
  if (!record || typeof record !== 'object' || typeof record.jobId !== 'string' || record.scheduler !== 'slurm') {
    throw new UserError(`${file} is not a job record of bertft (no scheduler and job id).`, {
      file,
      code: 'JOB_JSON_INVALID',
      fix: 'Submit the run again with `bertft submit --slurm --resume --out <run>`, which rewrites it.',
    });
  }
  return {
    scheduler: record.scheduler,
    jobId: record.jobId,
    arrayIndex: typeof record.arrayIndex === 'number' ? record.arrayIndex : null,
    submitted: typeof record.submitted === 'string' ? record.submitted : '',
    restarts: typeof record.restarts === 'number' ? record.restarts : 0,
    script: typeof record.script === 'string' ? record.script : '',
    previousJobIds: Array.isArray(record.previousJobIds)
      ? record.previousJobIds.filter((j) => typeof j === 'string')
      : [],
    lastState: record.lastState,
    checked: record.checked,
  };
}

/** Folders that each node has its own copy of: a job requeued onto another node would not find its checkpoint. */
const NODE_LOCAL_ROOTS = [
  '/tmp',
  '/var/tmp',
  '/dev/shm',
  '/run/user',
  '/scratch/local',
  '/local',
  '/localscratch',
  '/lscratch',
];

/**
 * The node-local folder `dir` lies in, if any (POSIX paths; the temporary folders of this machine count too). A
 * warning, not a refusal: on a one-node cluster it works.
 */
export function nodeLocalRoot(dir: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const resolved = path.resolve(dir);
  const roots = [...NODE_LOCAL_ROOTS, os.tmpdir(), env.TMPDIR, env.SLURM_TMPDIR].filter(
    (r): r is string => typeof r === 'string' && r !== '' && path.isAbsolute(r) && r !== path.parse(r).root,
  );
  return roots.find(
    (root) => resolved === root || resolved.startsWith(root.endsWith(path.sep) ? root : root + path.sep),
  );
}

/** The warning for a run folder on a node-local path (see nodeLocalRoot), or undefined when it is on a shared one. */
export function nodeLocalWarning(runDir: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const root = nodeLocalRoot(runDir, env);
  if (root === undefined) return undefined;
  return (
    `${runDir} is under ${root}, which each node of a cluster has its own copy of: a job that runs or is requeued ` +
    'on another node would not see this run folder or its checkpoints. Use a shared folder (your home or project ' +
    'folder) unless the cluster has one node.'
  );
}

/** How findOnPath looks: the platform's PATH rules, and whether a candidate is a program. */
export interface PathLookup {
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  isProgram?: (file: string) => boolean;
}

/** A file that exists and (outside Windows, where PATHEXT says what runs) may be executed. */
function isProgramFile(file: string, platform: NodeJS.Platform): boolean {
  try {
    if (!fs.statSync(file).isFile()) return false;
    if (platform !== 'win32') fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where the program `tool` is found on PATH, by the platform's rules (Windows: `;`-separated, a Path variable of any
 * case, quoted folders, the PATHEXT extensions; elsewhere `:` and the execute bit), or undefined.
 */
export function findOnPath(tool: string, lookup: PathLookup = {}): string | undefined {
  const env = lookup.env ?? process.env;
  const platform = lookup.platform ?? process.platform;
  const isProgram = lookup.isProgram ?? ((file: string) => isProgramFile(file, platform));
  const windows = platform === 'win32';
  const p = windows ? path.win32 : path.posix;
  const key = windows ? Object.keys(env).find((k) => k.toUpperCase() === 'PATH') : 'PATH';
  const dirs = (key === undefined ? '' : (env[key] ?? ''))
    .split(p.delimiter)
    .map((d) => (windows ? d.replace(/^"(.*)"$/, '$1') : d))
    .filter((d) => d !== '');
  const extensions = windows
    ? (env[Object.keys(env).find((k) => k.toUpperCase() === 'PATHEXT') ?? 'PATHEXT'] ?? '.COM;.EXE;.BAT;.CMD')
        .split(';')
        .filter((e) => e !== '')
    : [];
  const names =
    windows && !extensions.some((e) => tool.toUpperCase().endsWith(e.toUpperCase()))
      ? extensions.map((e) => tool + e)
      : [tool];
  for (const dir of dirs) {
    for (const name of names) {
      const file = p.join(dir, name);
      if (isProgram(file)) return file;
    }
  }
  return undefined;
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a scheduler's command-line tool; a missing tool or a hung one is a user error naming it. */
export function runTool(
  tool: string,
  args: readonly string[],
  { env = process.env, timeoutMs = 60_000 }: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        e.code === 'ENOENT'
          ? new UserError(`${tool} was not found on this machine's PATH.`, {
              code: 'SCHEDULER_TOOL_MISSING',
              fix: `Run bertft on the cluster's login node, where ${tool} is installed (or add its folder to PATH).`,
            })
          : e,
      );
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') {
        reject(
          new UserError(`${tool} ${args.join(' ')} gave no answer within ${timeoutMs / 1000} s.`, {
            code: 'SCHEDULER_TIMEOUT',
            fix: 'Check that the scheduler is up (sinfo), then try again.',
          }),
        );
      } else resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

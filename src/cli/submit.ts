/**
 * `bertft submit --slurm [train flags] --out RUN`: renders the run's job script (core/scheduler/slurm.ts), writes
 * RUN/job.sbatch and, once sbatch took it, RUN/job.json, each atomically. `--dry-run` prints the script and writes
 * nothing; `--resume` submits the run's own job.sbatch again (after `bertft cancel`). The job runs this very bertft:
 * the node binary and CLI entry that submitted it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../core/errors';
import { checkRunDir } from '../core/run/folder';
import {
  nodeLocalWarning,
  readJobRecord,
  type JobResources,
  type Scheduler,
  type TrainingJob,
} from '../core/scheduler/scheduler';
import { asksForGpu, Slurm } from '../core/scheduler/slurm';
import { submitJobScript, submitNewRun, type Submitted } from '../core/scheduler/submit';
import { packageVersion } from '../core/util/package-version';
import { getBool, getList, getNumber, getString, requireString, UsageError, type ParsedArgs } from './args';
import { COMMANDS, trainOverridesFromArgs } from './commands';
import { EXIT_OK, Output, type CliIo } from './output';

/** Flags that belong to `submit` itself, not to the trainer. */
const SUBMIT_ONLY = new Set(
  COMMANDS.submit.flags.map((f) => f.name).filter((n) => !COMMANDS.train.flags.some((t) => t.name === n)),
);
/** Train flags the job script sets itself. */
const SET_BY_SCRIPT = new Set(['out', 'device', 'resume', 'restart', 'estimate', 'json']);

/** The CLI entry of this bertft: the bundle itself (dist/cli.js), or out/src/cli.js beside this module's folder. */
export function cliEntry(): string {
  return path.basename(__filename) === 'cli.js' ? __filename : path.resolve(__dirname, '..', 'cli.js');
}

export async function submitCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const output = new Output(io, getBool(args, 'json'));
  if (!getBool(args, 'slurm')) {
    throw new UsageError('`bertft submit` needs --slurm (Slurm is the only scheduler so far).', 'Add --slurm.');
  }
  const scheduler = new Slurm(packageVersion());
  if (getBool(args, 'resume')) return resubmit(args, scheduler, output);

  const { out } = trainOverridesFromArgs(args);
  const runDir = path.resolve(out);
  const { resources, device } = clusterJobInputs(args, '`bertft submit`', 'job');
  const job: TrainingJob = {
    name: path.basename(runDir),
    runDir,
    workDir: process.cwd(),
    command: [process.execPath, cliEntry()],
    trainArgs: trainArgv(args),
    device,
    resources,
  };
  const script = scheduler.render(job);
  warnNodeLocal(runDir, output);
  if (getBool(args, 'dry-run')) {
    output.result({ event: 'dry-run', scheduler: scheduler.name, script }, () => script);
    return EXIT_OK;
  }

  const submitted = await submitNewRun(scheduler, job, script);
  reportSubmitted(scheduler, submitted, runDir, output);
  return EXIT_OK;
}

function reportSubmitted(
  scheduler: Scheduler,
  { record, scriptFile }: Submitted,
  runDir: string,
  output: Output,
): void {
  const { jobId, submitted } = record;
  output.result(
    { event: 'submitted', scheduler: scheduler.name, jobId, run: runDir, script: scriptFile, submitted },
    () =>
      [
        `Submitted ${scheduler.name} job ${jobId}: ${scriptFile}`,
        `Follow it with \`bertft jobs ${path.dirname(runDir)}\`; its log is ${path.join(runDir, `slurm-${jobId}.out`)}.`,
        `Stop it with \`bertft cancel ${runDir}\` (the trainer writes a checkpoint first).`,
        '',
      ].join('\n'),
  );
}

/** `--resume`: the run's job.sbatch, submitted again as written, once its last job has ended. */
async function resubmit(args: ParsedArgs, scheduler: Scheduler, output: Output): Promise<number> {
  const out = requireString(args, 'out', 'submit', 'runs/my-run');
  const others = [...args.flags.keys()].filter((n) => !['slurm', 'resume', 'out', 'dry-run', 'json'].includes(n));
  if (others.length > 0) {
    throw new UsageError(
      `\`bertft submit --resume\` submits the run's own job script as written; it takes no ${others.map((n) => `--${n}`).join(', ')}.`,
      'Leave them out, or submit a new run to another --out folder with the flags you want.',
    );
  }
  const runDir = path.resolve(out);
  const scriptFile = path.join(runDir, scheduler.scriptName);
  if (!fs.existsSync(scriptFile)) {
    throw new UserError(`${runDir} has no ${scheduler.scriptName}: it was not submitted with \`bertft submit\`.`, {
      file: runDir,
      code: 'SUBMIT_NO_SCRIPT',
      fix: `Submit it without --resume, or continue it here with \`bertft train --resume --out ${out}\`.`,
    });
  }
  if (getBool(args, 'dry-run')) {
    const script = fs.readFileSync(scriptFile, 'utf8');
    output.result({ event: 'dry-run', scheduler: scheduler.name, script }, () => script);
    return EXIT_OK;
  }
  const record = readJobRecord(runDir);
  if (record) {
    const state = await scheduler.state(record.jobId);
    if (state.phase === 'queued' || state.phase === 'running') {
      throw new UserError(`${runDir}'s job ${record.jobId} is still ${state.state.toLowerCase()}.`, {
        file: runDir,
        code: 'SUBMIT_JOB_ACTIVE',
        fix: `Wait for it, or cancel it first with \`bertft cancel ${out}\`.`,
      });
    }
  }
  checkRunDir(runDir);
  warnNodeLocal(runDir, output);
  const previous = record ? [...record.previousJobIds, record.jobId] : [];
  reportSubmitted(scheduler, await submitJobScript(scheduler, scriptFile, runDir, previous), runDir, output);
  return EXIT_OK;
}

function warnNodeLocal(runDir: string, output: Output): void {
  const warning = nodeLocalWarning(runDir);
  if (warning !== undefined) output.warn(warning);
}

/**
 * What a job on the cluster trains with, checked before anything is written: the data files exist (the nodes read
 * them from a shared folder), the resources asked for, and an explicit device (default cuda with GPUs, else cpu):
 * a requeued job on another node must train on the same backend.
 */
export function clusterJobInputs(
  args: ParsedArgs,
  command: string,
  what: 'job' | 'task',
): { resources: JobResources; device: string } {
  for (const flag of ['data', 'valid']) {
    const file = getString(args, flag);
    if (file !== undefined && !fs.existsSync(file)) {
      throw new UserError(`--${flag} ${file} does not exist.`, {
        file,
        code: 'SUBMIT_DATA_MISSING',
        fix: 'Give a file on a folder every node of the cluster sees (your home or project folder).',
      });
    }
  }
  const resources = resourcesFromArgs(args);
  const device = getString(args, 'device') ?? (asksForGpu(resources) ? 'cuda' : 'cpu');
  if (device === 'auto') {
    throw new UsageError(
      `${command} needs an explicit --device: a requeued ${what} on another node must train on the same backend.`,
      `Write --device ${asksForGpu(resources) ? 'cuda' : 'cpu'}, or leave --device out for that default.`,
    );
  }
  return { resources, device };
}

export function resourcesFromArgs(args: ParsedArgs): JobResources {
  return {
    partition: getString(args, 'partition'),
    time: getString(args, 'time'),
    gpus: getNumber(args, 'gpus'),
    gres: getString(args, 'gres'),
    cpus: getNumber(args, 'cpus'),
    mem: getString(args, 'mem'),
    account: getString(args, 'account'),
    qos: getString(args, 'qos'),
    signalLeadSeconds: getNumber(args, 'signal-lead'),
    extra: getList(args, 'sbatch-arg'),
  };
}

/** `train` and the train flags given, in the train command's order, without those the script sets itself. */
export function trainArgv(args: ParsedArgs): string[] {
  const argv = ['train'];
  for (const spec of COMMANDS.train.flags) {
    const value = args.flags.get(spec.name);
    if (value === undefined || SET_BY_SCRIPT.has(spec.name) || SUBMIT_ONLY.has(spec.name)) continue;
    if (typeof value === 'boolean') argv.push(value ? `--${spec.name}` : `--${spec.name}=false`);
    else if (Array.isArray(value)) for (const v of value) argv.push(`--${spec.name}`, v);
    else argv.push(`--${spec.name}`, String(value));
  }
  return argv;
}

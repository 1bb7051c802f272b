/**
 * Slurm: the job script `bertft submit --slurm` writes, and the tools it asks (sbatch, scontrol, squeue, sacct,
 * scancel). Their text output is parsed field by field and tolerates fields added, reordered or missing between
 * Slurm versions (`squeue --json` changes its schema between versions, so it is not used).
 *
 * The script's pattern (verified on a real cluster, see the README): `--requeue` and `--signal=B:USR1@<lead>` — on
 * USR1 (the time limit is near, or a preemption with preempt_send_user_signal) the script sends the trainer SIGTERM
 * (it finishes its step, writes a checkpoint and exits 130), waits for it and requeues its own job (a job that exits
 * by itself after the signal would end COMPLETED). On TERM (scancel) it stops the trainer the same way and ends. The
 * shell must trap and wait, or it dies first and the trainer runs on outside the job.
 */
import { UserError } from '../errors';
import { BEST_DIR, CHECKPOINTS_DIR, RUN_JSON } from '../run/paths';
import {
  JOB_EVENTS,
  runTool,
  type CommandJob,
  type JobPhase,
  type JobResources,
  type JobState,
  type Partition,
  type Scheduler,
  type TrainingJob,
} from './scheduler';

/** The seconds of a Slurm time limit (minutes, M:S, H:M:S, D-H, D-H:M, D-H:M:S); undefined for UNLIMITED / INFINITE. */
export function slurmTimeSeconds(time: string): number | undefined {
  const t = time.trim();
  if (/^(UNLIMITED|INFINITE)$/i.test(t)) return undefined;
  let m = /^(\d+)-(\d+)(?::(\d+)(?::(\d+))?)?$/.exec(t);
  if (m) return Number(m[1]) * 86400 + Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
  m = /^(\d+)(?::(\d+)(?::(\d+))?)?$/.exec(t);
  if (!m) {
    throw new UserError(`--time "${time}" is not a Slurm time limit.`, {
      code: 'SLURM_BAD_TIME',
      fix: 'Write minutes (90), HH:MM:SS (01:30:00), D-HH:MM (1-12:00) or D-HH (2-0).',
    });
  }
  if (m[3] !== undefined) return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
  if (m[2] !== undefined) return Number(m[1]) * 60 + Number(m[2]);
  return Number(m[1]) * 60;
}

/** How long before the time limit the trainer is asked to checkpoint: a quarter of the limit, 30 s to 5 min. */
export function signalLeadSeconds(resources: JobResources): number {
  const limit = resources.time === undefined ? undefined : slurmTimeSeconds(resources.time);
  if (resources.signalLeadSeconds !== undefined) {
    if (limit !== undefined && resources.signalLeadSeconds >= limit) {
      throw new UserError(
        `--signal-lead ${resources.signalLeadSeconds} s is not shorter than --time ${resources.time} (${limit} s).`,
        { code: 'SLURM_BAD_SIGNAL_LEAD', fix: 'Give a longer --time or a shorter --signal-lead.' },
      );
    }
    return resources.signalLeadSeconds;
  }
  return limit === undefined ? 300 : Math.min(300, Math.max(30, Math.floor(limit / 4)));
}

/** A word sbatch takes as is: names of partitions, accounts, QOS, GRES and memory sizes. */
const SLURM_WORD = /^[A-Za-z0-9_.,:+=@/-]+$/;
/** A path an `#SBATCH` line carries as is: no spaces or quotes (not parsed), no % (sbatch's filename patterns). */
const SBATCH_PATH = /^[^\s'"%#\\]+$/;

/** Refuses resource values that are malformed or would break the `#SBATCH` lines, naming the flag. */
export function checkSlurmResources(r: JobResources): void {
  const word = (flag: string, value: string | undefined, example: string): void => {
    if (value !== undefined && !SLURM_WORD.test(value)) {
      throw new UserError(`--${flag} "${value}" is not a Slurm name (letters, digits and _ . , : + = @ / - only).`, {
        code: 'SLURM_BAD_VALUE',
        fix: `Write it as \`sinfo\` / \`sacctmgr\` show it, e.g. --${flag} ${example}.`,
      });
    }
  };
  word('partition', r.partition, 'gpu');
  word('account', r.account, 'my-lab');
  word('qos', r.qos, 'normal');
  word('gres', r.gres, 'gpu:a100:1');
  if (r.time !== undefined) slurmTimeSeconds(r.time);
  if (r.mem !== undefined && !/^\d+(\.\d+)?[KMGT]?B?$/i.test(r.mem)) {
    throw new UserError(`--mem "${r.mem}" is not a Slurm memory size.`, {
      code: 'SLURM_BAD_VALUE',
      fix: 'Write a number with a unit: --mem 16G (or 16000M).',
    });
  }
  if (r.gpus !== undefined && r.gres !== undefined && /(^|,)gpu(:|$)/.test(r.gres)) {
    throw new UserError('--gpus and --gres gpu:… both ask for GPUs.', {
      code: 'SLURM_BAD_VALUE',
      fix: 'Give one: --gpus 1, or --gres gpu:a100:1 for a GPU type.',
    });
  }
  for (const arg of r.extra ?? []) {
    if (!/^-/.test(arg) || /[\r\n]/.test(arg)) {
      throw new UserError(`--sbatch-arg "${arg}" is not an sbatch option on one line.`, {
        code: 'SLURM_BAD_VALUE',
        fix: 'Give one sbatch option per --sbatch-arg, with its value after =, e.g. --sbatch-arg=--constraint=a100.',
      });
    }
  }
  signalLeadSeconds(r);
}

/** Whether the resources ask for a GPU (then the device defaults to cuda). */
export function asksForGpu(r: JobResources): boolean {
  return (r.gpus ?? 0) > 0 || (r.gres !== undefined && /(^|,)gpu(:|$)/.test(r.gres));
}

/** A bash word holding `s` literally. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The job name Slurm shows: bertft-<run folder name>, in Slurm's safe characters. */
export function slurmJobName(runDir: string): string {
  const base =
    runDir
      .split(/[\\/]/)
      .filter((p) => p !== '')
      .pop() ?? 'run';
  return `bertft-${base.replace(/[^A-Za-z0-9_.-]/g, '_')}`.slice(0, 64);
}

/** The `#SBATCH` lines of a training job (preemptible: requeued, signalled before its time limit) or a command job. */
function sbatchLines(job: TrainingJob | CommandJob): string[] {
  const r = job.resources;
  const array = 'array' in job ? job.array : undefined;
  const training = 'trainArgs' in job;
  for (const [what, p] of [
    [training ? 'run folder' : 'job folder', job.runDir],
    ['working folder', job.workDir],
    ...(array?.tasks ?? []).map((t) => ['run folder', t.runDir] as const),
  ] as const) {
    if (!SBATCH_PATH.test(p)) {
      throw new UserError(`The ${what} ${p} has a space, quote, # or % that an #SBATCH line cannot carry.`, {
        file: p,
        code: 'SLURM_BAD_PATH',
        fix: 'Choose a folder whose path has none of these characters.',
      });
    }
  }
  const dependsOn = 'dependsOn' in job ? job.dependsOn : undefined;
  if (dependsOn !== undefined && !/^[A-Za-z0-9_<>.-]+$/.test(dependsOn)) {
    throw new RangeError(`not a job id to depend on: ${dependsOn}`);
  }
  const lines = [
    `--job-name=${slurmJobName(job.runDir)}`,
    `--chdir=${job.workDir}`,
    // An array task's log: %A the array's job id, %a the task's index.
    array ? `--output=${job.runDir}/slurm-%A_%a.out` : `--output=${job.runDir}/slurm-%j.out`,
    '--open-mode=append',
    '--requeue',
    ...(training ? [`--signal=B:USR1@${signalLeadSeconds(r)}`] : []),
    // afterok: every task of an array ended COMPLETED (exit 0); a failed one holds it (DependencyNeverSatisfied).
    ...(dependsOn !== undefined ? [`--dependency=afterok:${dependsOn}`] : []),
  ];
  if (array) {
    const { tasks, maxParallel } = array;
    if (tasks.length === 0) throw new RangeError('a job array needs at least one task');
    lines.push(`--array=0-${tasks.length - 1}${maxParallel !== undefined ? `%${maxParallel}` : ''}`);
  }
  if (r.partition !== undefined) lines.push(`--partition=${r.partition}`);
  if (r.time !== undefined) lines.push(`--time=${r.time}`);
  if (r.gpus !== undefined) lines.push(`--gpus=${r.gpus}`);
  if (r.gres !== undefined) lines.push(`--gres=${r.gres}`);
  if (r.cpus !== undefined) lines.push(`--cpus-per-task=${r.cpus}`);
  if (r.mem !== undefined) lines.push(`--mem=${r.mem}`);
  if (r.account !== undefined) lines.push(`--account=${r.account}`);
  if (r.qos !== undefined) lines.push(`--qos=${r.qos}`);
  lines.push(...(r.extra ?? []));
  return lines.map((l) => `#SBATCH ${l}`);
}

/** The job script: `#SBATCH` lines, then a bash script that trains, resumes, and stops or requeues on a signal. */
export function renderSlurmScript(job: TrainingJob, version: string): string {
  checkSlurmResources(job.resources);
  const q = shellQuote;
  const cli = job.command.map(q).join(' ');
  const tail = `--out "$RUN" --device ${q(job.device)}`;
  const newArgs = job.trainArgs.map(q).join(' ');
  const command = `bertft ${job.array ? 'sweep' : 'submit'} --slurm`;
  const writtenBy = job.writtenBy ?? { command, resubmit: `${command} --resume --out ${job.runDir}` };
  return [
    '#!/bin/bash',
    `# Written by \`${writtenBy.command}\` (bertft ${version}). Submit it again with`,
    `#   ${writtenBy.resubmit}`,
    '# On USR1 (the time limit is near, or a preemption) the trainer is asked to stop (SIGTERM: it finishes its step,',
    '# writes a checkpoint and exits 130) and the job requeues itself; the requeued job resumes from that checkpoint.',
    '# On TERM (scancel) the trainer stops the same way and the job ends; `bertft train --resume` continues it.',
    ...sbatchLines(job),
    'set -u',
    ...(job.array ? arrayTaskLines(job.array.tasks) : [`RUN=${q(job.runDir)}`]),
    `cd ${q(job.workDir)} || exit 1`,
    'event() {',
    '  printf \'{"event":"%s","time":"%s","job":"%s","restart":%s,"node":"%s"%s}\\n\' "$1" "$(date -u +%FT%TZ)" \\',
    `    "\${SLURM_JOB_ID:-}" "\${SLURM_RESTART_COUNT:-0}" "\${SLURMD_NODENAME:-}" "\${2:-}" >> "$RUN/${JOB_EVENTS}"`,
    '}',
    'checkpoint=no',
    `for dir in "$RUN"/${CHECKPOINTS_DIR}/step-*; do [[ -d $dir && $dir =~ /step-[0-9]+$ ]] && checkpoint=yes; done`,
    'if [ "$checkpoint" = yes ]; then',
    `  mode=resume; args=(train ${tail} --resume)`,
    `elif [ -e "$RUN/${RUN_JSON}" ]; then`,
    `  mode=restart; args=(train ${tail} --restart)`,
    'else',
    `  mode=new; args=(${job.array ? '"${new_args[@]}"' : newArgs} ${tail})`,
    'fi',
    'event start ",\\"mode\\":\\"$mode\\""',
    `${cli} "\${args[@]}" &`,
    'trainer=$!',
    'stop_trainer() { kill -TERM "$trainer" 2>/dev/null; wait "$trainer"; }',
    'on_usr1() {',
    "  trap '' USR1",
    '  event signal \',"signal":"USR1"\'',
    '  stop_trainer; rc=$?',
    '  # 0: the run had finished before the signal; nothing to continue.',
    '  if [ "$rc" -eq 0 ]; then event exit \',"trainer_exit":0\'; exit 0; fi',
    '  event requeue ",\\"trainer_exit\\":$rc"',
    '  scontrol requeue "$SLURM_JOB_ID"',
    '  exit 0',
    '}',
    'on_term() {',
    "  trap '' TERM USR1",
    '  event signal \',"signal":"TERM"\'',
    '  stop_trainer; rc=$?',
    '  event exit ",\\"trainer_exit\\":$rc"',
    '  exit "$rc"',
    '}',
    'trap on_usr1 USR1',
    'trap on_term TERM',
    'wait "$trainer"; rc=$?',
    'event exit ",\\"trainer_exit\\":$rc"',
    `# The best model is in $RUN/${BEST_DIR}.`,
    'exit "$rc"',
    '',
  ].join('\n');
}

/**
 * A command job's script: `#SBATCH` lines, then the command. It is short and idempotent, so a preemption simply
 * requeues it and it runs again from the start.
 */
export function renderSlurmCommandScript(job: CommandJob, version: string): string {
  checkSlurmResources(job.resources);
  return [
    '#!/bin/bash',
    `# Written by bertft ${version}: ${job.name}.`,
    ...sbatchLines(job),
    'set -u',
    `cd ${shellQuote(job.workDir)} || exit 1`,
    `exec ${job.command.map(shellQuote).join(' ')}`,
    '',
  ].join('\n');
}

/** An array task's run folder and new-run arguments, picked by its index. */
function arrayTaskLines(tasks: readonly { runDir: string; trainArgs: readonly string[] }[]): string[] {
  return [
    'case "${SLURM_ARRAY_TASK_ID:-}" in',
    ...tasks.map(
      (t, i) => `  ${i}) RUN=${shellQuote(t.runDir)}; new_args=(${t.trainArgs.map(shellQuote).join(' ')}) ;;`,
    ),
    '  *) echo "bertft: no trial for array task ${SLURM_ARRAY_TASK_ID:-(none)}" >&2; exit 1 ;;',
    'esac',
  ];
}

/** `Key=Value` fields of `scontrol show job -o` (one line per job; also its multi-line form). Values may hold spaces. */
export function parseScontrolRecords(text: string): Map<string, string>[] {
  const records: Map<string, string>[] = [];
  for (const chunk of text.split(/\n(?=\s*JobId=)/)) {
    const fields = new Map<string, string>();
    for (const token of chunk.trim().split(/\s+(?=[A-Za-z][A-Za-z0-9_:/]*=)/)) {
      const eq = token.indexOf('=');
      if (eq > 0) fields.set(token.slice(0, eq), token.slice(eq + 1).trim());
    }
    if (fields.has('JobId')) records.push(fields);
  }
  return records;
}

/** Slurm's job states (long names and squeue's short codes) → a phase every scheduler shares. */
const PHASE_OF: Record<JobPhase, string[]> = {
  queued: ['PENDING', 'PD', 'REQUEUED', 'RQ', 'REQUEUE_HOLD', 'RH', 'REQUEUE_FED', 'RF', 'CONFIGURING', 'CF'],
  running: ['RUNNING', 'R', 'COMPLETING', 'CG', 'STAGE_OUT', 'SO', 'SIGNALING', 'SI', 'RESIZING', 'RS'],
  done: ['COMPLETED', 'CD'],
  failed: ['FAILED', 'F', 'TIMEOUT', 'TO', 'NODE_FAIL', 'NF', 'BOOT_FAIL', 'BF', 'OUT_OF_MEMORY', 'OOM'],
  cancelled: ['CANCELLED', 'CA', 'PREEMPTED', 'PR', 'DEADLINE', 'DL', 'REVOKED', 'RV'],
  unknown: ['SUSPENDED', 'S', 'STOPPED', 'ST', 'SPECIAL_EXIT', 'SE'],
};

/** The phase of a Slurm state word (`CANCELLED by 0` as sacct writes it counts as CANCELLED). */
export function slurmPhase(state: string): JobPhase {
  const word = state.trim().split(/[\s+]/)[0].toUpperCase();
  for (const [phase, words] of Object.entries(PHASE_OF) as [JobPhase, string[]][]) {
    if (words.includes(word)) return phase;
  }
  return 'unknown';
}

const NONE = new Set(['', '(null)', 'None', 'N/A', 'n/a']);
const present = (v: string | undefined): string | undefined => (v === undefined || NONE.has(v) ? undefined : v);

/** A job's state from `scontrol show job -o` output; undefined when it holds no such job or no JobState. */
export function stateFromScontrol(text: string, jobId: string): JobState | undefined {
  const records = parseScontrolRecords(text);
  const f = records.find((r) => r.get('JobId') === jobId) ?? records[0];
  const state = f?.get('JobState');
  if (!f || state === undefined) return undefined;
  const restarts = Number(f.get('Restarts'));
  return {
    jobId,
    phase: slurmPhase(state),
    state,
    reason: present(f.get('Reason')),
    node: present(f.get('NodeList')) ?? present(f.get('BatchHost')),
    restarts: Number.isInteger(restarts) ? restarts : undefined,
    exitCode: present(f.get('ExitCode')),
  };
}

/** The squeue format bertft asks for: job id, state, reason, nodes. */
export const SQUEUE_FORMAT = '%i|%T|%r|%N';

/** Lines of `squeue -h -o '%i|%T|%r|%N'` (or sacct -P with JobID|State|ExitCode|NodeList): one state per job. */
export function parseSqueue(text: string): JobState[] {
  const states: JobState[] = [];
  for (const line of text.split(/\r?\n/)) {
    const [jobId, state, reason, node] = line.split('|').map((f) => f.trim());
    if (!jobId || !state) continue;
    states.push({ jobId, phase: slurmPhase(state), state, reason: present(reason), node: present(node) });
  }
  return states;
}

/** `sbatch --parsable` prints `<id>` or `<id>;<cluster>`. */
export function parseSbatchJobId(stdout: string): string | undefined {
  const id = stdout.trim().split(/\r?\n/).pop()?.split(';')[0].trim();
  return id && /^\d+(_\d+)?$/.test(id) ? id : undefined;
}

/**
 * The sinfo format bertft asks for: partition (a default one marked `*`), availability, time limit, default time,
 * node count, node state, GRES (last: the one field that may grow). sinfo prints one line per partition and group of
 * alike nodes, so a partition can take several lines.
 */
export const SINFO_FORMAT = '%P|%a|%l|%L|%D|%T|%G';

/** Generic resources as sinfo writes them (`gpu:a100:4(S:0-1),mps:400`), split at the commas outside parentheses. */
export function parseGres(text: string): string[] {
  const entries: string[] = [];
  let depth = 0;
  let current = '';
  for (const c of text.trim()) {
    if (c === '(') depth++;
    if (c === ')') depth = Math.max(0, depth - 1);
    if (c === ',' && depth === 0) {
      entries.push(current);
      current = '';
    } else current += c;
  }
  entries.push(current);
  return entries.map((e) => e.trim()).filter((e) => present(e) !== undefined);
}

/** The GPUs of one GRES entry: gpu:a100:4 → a100 × 4, gpu:2 → untyped × 2, gpu:v100 → v100 × 1; others undefined. */
export function gpuOfGres(entry: string): { type: string; perNode: number } | undefined {
  const [name, second, third] = entry.replace(/\(.*\)$/, '').split(':');
  if (name !== 'gpu') return undefined;
  const count = (s: string | undefined): number => (s === undefined ? 1 : Number(/^\d+/.exec(s)?.[0] ?? 1));
  if (third !== undefined) return { type: second, perNode: count(third) };
  if (second !== undefined && /^\d/.test(second)) return { type: '', perNode: count(second) };
  return { type: second ?? '', perNode: 1 };
}

/** Lines of `sinfo -h -o SINFO_FORMAT`, one partition each (its lines merged), the default partition first. */
export function parseSinfo(text: string): Partition[] {
  const byName = new Map<string, Partition>();
  for (const line of text.split(/\r?\n/)) {
    const fields = line.split('|').map((f) => f.trim());
    if (fields.length < 7 || fields[0] === '') continue;
    const [listed, available, limit, defaultLimit, nodes, nodeState] = fields;
    const gres = parseGres(fields.slice(6).join('|'));
    const name = listed.replace(/\*$/, '');
    const time = (t: string): string | undefined =>
      present(t) === undefined || /^(infinite|unlimited)$/i.test(t) ? undefined : t;
    let partition = byName.get(name);
    if (!partition) {
      partition = {
        name,
        isDefault: false,
        available,
        maxTime: time(limit),
        defaultTime: time(defaultLimit),
        nodes: 0,
        nodeStates: [],
        gres: [],
        gpus: [],
      };
      byName.set(name, partition);
    }
    partition.isDefault ||= listed.endsWith('*');
    partition.nodes += Number.isInteger(Number(nodes)) ? Number(nodes) : 0;
    if (present(nodeState) !== undefined && !partition.nodeStates.includes(nodeState)) {
      partition.nodeStates.push(nodeState);
    }
    for (const entry of gres) {
      if (!partition.gres.includes(entry)) partition.gres.push(entry);
      const gpu = gpuOfGres(entry);
      if (!gpu) continue;
      const known = partition.gpus.find((g) => g.type === gpu.type);
      if (known) known.perNode = Math.max(known.perNode, gpu.perNode);
      else partition.gpus.push(gpu);
    }
  }
  const all = [...byName.values()];
  return [...all.filter((p) => p.isDefault), ...all.filter((p) => !p.isDefault)];
}

/** What scontrol and squeue say of a job id the controller does not know (any longer). */
const INVALID_JOB = /Invalid job id/i;

function toolError(tool: string, what: string, stderr: string, fix: string, file?: string): UserError {
  const said = stderr.trim().split(/\r?\n/).slice(-5).join(' ');
  return new UserError(`${tool} ${what}${said ? `: ${said}` : ''}.`, { code: 'SCHEDULER_REFUSED', fix, file });
}

export class Slurm implements Scheduler {
  readonly name = 'slurm';
  readonly scriptName = 'job.sbatch';

  constructor(
    private readonly version: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  render(job: TrainingJob): string {
    return renderSlurmScript(job, this.version);
  }

  renderCommand(job: CommandJob): string {
    return renderSlurmCommandScript(job, this.version);
  }

  async submit(script: string, runDir: string): Promise<string> {
    const r = await runTool('sbatch', ['--parsable', script], { env: this.env });
    const id = r.code === 0 ? parseSbatchJobId(r.stdout) : undefined;
    if (id === undefined) {
      throw toolError(
        'sbatch',
        r.code === 0 ? `printed no job id (${r.stdout.trim()})` : 'refused the job',
        r.stderr,
        `Check the partition, time, GPU and account values against \`sinfo\` and your allocation; the script is ${script}.`,
        runDir,
      );
    }
    return id;
  }

  /** `sbatch --test-only`: whether Slurm would accept the script, and what it says (nothing is submitted). */
  async testOnly(script: string): Promise<{ ok: boolean; message: string }> {
    const r = await runTool('sbatch', ['--test-only', script], { env: this.env });
    return { ok: r.code === 0, message: (r.stderr + r.stdout).trim() };
  }

  /** scontrol first (restarts, exit code); squeue where scontrol's output has no state; sacct once the job is gone. */
  async state(jobId: string): Promise<JobState> {
    const scontrol = await runTool('scontrol', ['show', 'job', '-o', jobId], { env: this.env });
    const fromScontrol = scontrol.code === 0 ? stateFromScontrol(scontrol.stdout, jobId) : undefined;
    if (fromScontrol) return fromScontrol;
    const squeue = await runTool('squeue', ['-h', '-j', jobId, '-o', SQUEUE_FORMAT], { env: this.env });
    const queued = squeue.code === 0 ? parseSqueue(squeue.stdout).find((s) => s.jobId === jobId) : undefined;
    if (queued) return queued;
    // Both failed without saying the job is unknown: no configuration, or no controller. Not a state of the job.
    if (
      scontrol.code !== 0 &&
      squeue.code !== 0 &&
      !INVALID_JOB.test(scontrol.stdout + scontrol.stderr + squeue.stdout + squeue.stderr)
    ) {
      throw toolError(
        'scontrol',
        `could not ask Slurm about job ${jobId}`,
        scontrol.stderr,
        "Check that the cluster's controller answers (`sinfo`) and that SLURM_CONF, if set, names its slurm.conf.",
      );
    }
    const sacct = await runTool('sacct', ['-n', '-P', '-X', '-j', jobId, '-o', 'JobID,State,ExitCode,NodeList'], {
      env: this.env,
    }).catch(() => undefined);
    const accounted = sacct?.code === 0 ? parseSacct(sacct.stdout).find((s) => s.jobId === jobId) : undefined;
    if (accounted) return accounted;
    return { jobId, phase: 'unknown', state: 'UNKNOWN', reason: 'Slurm no longer lists this job (no accounting)' };
  }

  /** `sinfo`'s partitions; a failing sinfo (no controller, no configuration) or an empty list is a user error. */
  async partitions(): Promise<Partition[]> {
    const r = await runTool('sinfo', ['-h', '-o', SINFO_FORMAT], { env: this.env });
    const fix =
      "Check that the cluster's controller answers (`sinfo` in a terminal) and that SLURM_CONF, if set, names its slurm.conf.";
    if (r.code !== 0) throw toolError('sinfo', 'could not list the partitions', r.stderr, fix);
    const partitions = parseSinfo(r.stdout);
    if (partitions.length === 0) {
      throw new UserError('sinfo lists no partition to submit to.', { code: 'SCHEDULER_NO_PARTITION', fix });
    }
    return partitions;
  }

  async cancel(jobId: string): Promise<void> {
    const r = await runTool('scancel', [jobId], { env: this.env });
    if (r.code !== 0) {
      throw toolError('scancel', `did not cancel job ${jobId}`, r.stderr, 'Check the job with `squeue -j <id>`.');
    }
  }
}

/** `sacct -n -P -X -o JobID,State,ExitCode,NodeList` lines. */
export function parseSacct(text: string): JobState[] {
  const states: JobState[] = [];
  for (const line of text.split(/\r?\n/)) {
    const [jobId, state, exitCode, node] = line.split('|').map((f) => f.trim());
    if (!jobId || !state) continue;
    states.push({ jobId, phase: slurmPhase(state), state, exitCode: present(exitCode), node: present(node) });
  }
  return states;
}

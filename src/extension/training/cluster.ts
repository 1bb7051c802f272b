/**
 * The Fine-tune flow's cluster step, without VS Code: whether it is offered (`sbatch` on this host's PATH), the
 * partition, GPU and time-limit choices from the scheduler's partitions, and the job that submits the run the flow
 * built: the `bertft train` flags of the same options a run on this machine gets, through core/scheduler's
 * submitNewRun, as `bertft submit --slurm` does.
 */
import type { SessionOptions } from '../../core/finetune/session';
import {
  findOnPath,
  type JobResources,
  type Partition,
  type PathLookup,
  type Scheduler,
  type TrainingJob,
} from '../../core/scheduler/scheduler';
import { asksForGpu, slurmTimeSeconds } from '../../core/scheduler/slurm';
import { isUserError } from '../../core/errors';
import { join, say, type Message } from '../display/text';

/** What the cluster step asked: where the run's job goes and what it asks for. */
export interface ClusterChoice {
  partition: string;
  /** One GPU of this type ('' for a GPU of no named type); undefined: no GPU, the job trains on CPUs. */
  gpuType?: string;
  /** The time limit in Slurm's notation; undefined: the partition's default. */
  time?: string;
}

/** Whether the cluster step is offered: `sbatch` is on this host's PATH (never on Windows, which has no Slurm). */
export function clusterAvailable(lookup: PathLookup = {}): boolean {
  return findOnPath('sbatch', lookup) !== undefined;
}

/** A quick pick item's parts, with the value it stands for. */
export interface Choice<T> {
  label: Message;
  description?: Message;
  detail?: Message;
  value: T;
}

/** The partition step's choices, from the scheduler (Slurm: sinfo); its failure is a user error to show. */
export async function partitionStep(scheduler: Pick<Scheduler, 'partitions'>): Promise<Choice<Partition>[]> {
  return partitionChoices(await scheduler.partitions());
}

/** The partition step: the default partition first (as the scheduler lists them), with its state, time limit and GRES. */
export function partitionChoices(partitions: readonly Partition[]): Choice<Partition>[] {
  return partitions.map((p) => {
    const facts = [
      ...(p.isDefault ? [say`default`] : []),
      say`${p.available}`,
      p.maxTime === undefined ? say`no time limit` : say`up to ${p.maxTime}`,
      p.gres.length > 0 ? say`${p.gres.join(', ')}` : say`no GPUs`,
    ];
    return {
      label: say`${p.name}`,
      description: join(facts, ' · '),
      detail: say`${p.nodes} node${p.nodes === 1 ? '' : 's'}: ${p.nodeStates.join(', ') || 'state unknown'}`,
      value: p,
    };
  });
}

/** The GPU step: one GPU of each type the partition's nodes have (bertft trains on one), then none. */
export function gpuChoices(partition: Partition): Choice<string | undefined>[] {
  const gpus: Choice<string | undefined>[] = partition.gpus.map((g) => ({
    label: g.type === '' ? say`1 GPU` : say`1 × ${g.type} GPU`,
    description: say`${g.perNode} per node`,
    detail: g.type === '' ? say`--gres=gpu:1, trains with CUDA` : say`--gres=gpu:${g.type}:1, trains with CUDA`,
    value: g.type,
  }));
  return [
    ...gpus,
    {
      label: say`No GPU`,
      description: say`the job trains on the node's CPUs`,
      detail: say`device cpu`,
      value: undefined,
    },
  ];
}

/** Why `text` is not a time limit the partition takes (empty: its default), or undefined when it is. */
export function validateTime(text: string, partition: Partition): string | undefined {
  const time = text.trim();
  if (time === '') return undefined;
  let seconds: number | undefined;
  try {
    seconds = slurmTimeSeconds(time);
  } catch (error) {
    if (!isUserError(error)) throw error;
    return 'Write minutes (90), HH:MM:SS (01:30:00), D-HH:MM (1-12:00) or D-HH (2-0).';
  }
  if (seconds === 0) return 'A time limit of 0 is not a limit; leave it empty for the partition default.';
  const max = partition.maxTime === undefined ? undefined : slurmTimeSeconds(partition.maxTime);
  if (max !== undefined && (seconds === undefined || seconds > max)) {
    return `${partition.name} allows at most ${partition.maxTime}.`;
  }
  return undefined;
}

/** The job's resources: the partition, one GPU of the chosen type (or none), the time limit. */
export function clusterResources(choice: ClusterChoice): JobResources {
  const resources: JobResources = { partition: choice.partition };
  if (choice.time !== undefined && choice.time.trim() !== '') resources.time = choice.time.trim();
  if (choice.gpuType !== undefined) resources.gres = choice.gpuType === '' ? 'gpu:1' : `gpu:${choice.gpuType}:1`;
  return resources;
}

/**
 * The bertft a job runs: this extension's node and CLI entry. In VS Code's own Electron binary (a desktop window, not
 * Remote-SSH's server) that binary runs a script only with ELECTRON_RUN_AS_NODE set.
 */
export function clusterCommand(execPath: string, cliEntry: string, electron: boolean): string[] {
  return electron ? ['env', 'ELECTRON_RUN_AS_NODE=1', execPath, cliEntry] : [execPath, cliEntry];
}

/**
 * The job that trains `options` (the request a run on this machine would get) on the cluster. Its device is explicit,
 * as `bertft submit` requires: cuda with a GPU, else cpu (the device chosen for this machine says nothing of a node).
 */
export function clusterJob(
  options: SessionOptions,
  choice: ClusterChoice,
  where: { command: readonly string[]; workDir: string },
): TrainingJob {
  const resources = clusterResources(choice);
  return {
    name: options.out.split(/[\\/]/).pop() ?? 'run',
    runDir: options.out,
    workDir: where.workDir,
    command: where.command,
    trainArgs: trainArgv(options),
    device: asksForGpu(resources) ? 'cuda' : 'cpu',
    resources,
  };
}

/** Options the job script sets itself (--out, --device) or that a new run never has. */
const SET_BY_SCRIPT = new Set<keyof SessionOptions>(['out', 'device', 'resume', 'restart']);

/** `bertft train`'s flag for each option of a fine-tuning request (the inverse of the CLI's trainChoices). */
const TRAIN_FLAG: { readonly [K in keyof SessionOptions]?: string } = {
  data: 'data',
  valid: 'valid',
  textColumn: 'text-column',
  labelColumn: 'label-column',
  textPairColumn: 'text-pair-column',
  labelSeparator: 'label-separator',
  labelColumns: 'label-columns',
  model: 'model',
  preset: 'preset',
  epochs: 'epochs',
  batchSize: 'batch-size',
  lr: 'lr',
  maxLength: 'max-length',
  truncation: 'truncation',
  warmupSteps: 'warmup-steps',
  warmupRatio: 'warmup-ratio',
  weightDecay: 'weight-decay',
  lrSchedule: 'lr-schedule',
  gradientAccumulationSteps: 'gradient-accumulation-steps',
  labelSmoothing: 'label-smoothing',
  problemType: 'task',
  evalSteps: 'eval-steps',
  metric: 'metric',
  earlyStoppingPatience: 'early-stopping',
  earlyStoppingThreshold: 'early-stopping-threshold',
  classWeights: 'class-weights',
  maxSteps: 'max-steps',
  seed: 'seed',
  seedCandidates: 'seed-candidates',
  screenEpochs: 'screen-epochs',
  ensembleSize: 'ensemble',
  validRatio: 'valid-ratio',
  saveTotalLimit: 'save-total-limit',
  stepsPerRun: 'steps-per-run',
};

/**
 * `train` and the flags of `options`, so that `bertft train` parses back the same request (a unit test checks it with
 * the CLI's own parser). An option with no flag is a bug here, not something to drop silently.
 */
export function trainArgv(options: SessionOptions): string[] {
  const argv = ['train'];
  for (const [key, value] of Object.entries(options) as [keyof SessionOptions, unknown][]) {
    if (value === undefined || SET_BY_SCRIPT.has(key)) continue;
    if (key === 'dropout') {
      if (value === false) argv.push('--no-dropout');
      continue;
    }
    const flag = TRAIN_FLAG[key];
    if (flag === undefined)
      throw new Error(`The fine-tuning option ${key} has no bertft train flag to submit it with.`);
    if (typeof value === 'boolean') argv.push(value ? `--${flag}` : `--${flag}=false`);
    else if (Array.isArray(value)) argv.push(`--${flag}`, value.join(','));
    else if (typeof value === 'string' || typeof value === 'number') argv.push(`--${flag}`, String(value));
    else throw new Error(`The fine-tuning option ${key} is not a value a flag can carry.`);
  }
  return argv;
}

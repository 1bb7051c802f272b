/**
 * The `bertft` commands, their flags and help text, and the translation of train flags into TrainOverrides.
 * Kept free of heavy imports so that a usage mistake is reported instantly.
 */
import { LONGEST_CONTEXT } from '../core/model/catalog';
import { ALL_DEVICES } from '../core/runtime/devices';
import { LR_SCHEDULES } from '../core/train/schedule';
import { RANKINGS } from '../core/finetune/confident-learning';
import { FINE_TUNE_TASKS, SELECTION_METRICS, type TrainOverrides } from '../core/train/presets';
import { getBool, getNumber, getString, requireString, type FlagSpec, type ParsedArgs } from './args';

const DATA_FLAGS: FlagSpec[] = [
  { name: 'data', kind: 'string', help: 'training data: .csv, .tsv, .jsonl, .json or a folder per class' },
  { name: 'valid', kind: 'string', help: 'validation file (default: a stratified split of --data)' },
  { name: 'text-column', kind: 'string', help: 'column holding the text (default: detected)' },
  { name: 'label-column', kind: 'string', help: 'column holding the label (default: detected)' },
  {
    name: 'text-pair-column',
    kind: 'string',
    help: 'column holding the second text of a pair task (default: detected for sentence1/sentence2, question/answer, premise/hypothesis, text_a/text_b)',
  },
  {
    name: 'label-separator',
    kind: 'string',
    help: 'multi-label: the character between labels in one label cell (default: | or ; when exactly one is used)',
  },
  {
    name: 'label-columns',
    kind: 'string',
    help: 'multi-label: one 0/1 column per label, comma-separated (--label-columns toxic,obscene,insult)',
  },
];

/** --label-separator and --label-columns: how a multi-label dataset writes its label sets (either implies it). */
export function labelSetOptions(args: ParsedArgs): { labelSeparator?: string; labelColumns?: string[] } {
  const columns = getString(args, 'label-columns');
  return {
    labelSeparator: getString(args, 'label-separator'),
    labelColumns: columns?.split(',').map((c) => c.trim()),
  };
}

const JSON_FLAG: FlagSpec = { name: 'json', kind: 'boolean', help: 'print one JSON object per line (for machines)' };
/** Training and pre-training continue or redo a run the same way. */
const RESUME_FLAG: FlagSpec = {
  name: 'resume',
  kind: 'boolean',
  help: 'continue the run in --out from its last checkpoint; every setting comes from its run.json (--data not needed)',
};
const RESTART_FLAG: FlagSpec = {
  name: 'restart',
  kind: 'boolean',
  help: 'train the run in --out again from step 0 with its settings, when it has no readable checkpoint (its best/ stays until replaced)',
};
const DEVICE_FLAG: FlagSpec = {
  name: 'device',
  kind: 'string',
  choices: ['auto', ...ALL_DEVICES],
  help: 'where to run (default auto: the GPU providers of this platform, then cpu)',
};

const TRAIN_FLAGS: FlagSpec[] = [
  ...DATA_FLAGS,
  {
    name: 'model',
    kind: 'string',
    help: 'hub id, model folder, run folder, or random:tiny|mini|small|base (default random:tiny)',
  },
  { name: 'out', kind: 'string', help: 'run directory to create (or resume)' },
  { name: 'preset', kind: 'string', choices: ['fast', 'tutorial'], help: 'starting recipe (default fast)' },
  { name: 'epochs', kind: 'number', above: 0, max: 1000, help: 'passes over the training data' },
  { name: 'batch-size', kind: 'int', min: 1, max: 4096, help: 'examples per optimizer step' },
  { name: 'lr', kind: 'number', above: 0, max: 1, help: 'peak learning rate' },
  {
    name: 'max-length',
    kind: 'int',
    min: 8,
    max: LONGEST_CONTEXT,
    help: "tokens per example, up to the model's context (default: from the data, at most 512)",
  },
  { name: 'truncation', kind: 'string', choices: ['head', 'head+tail', 'window'], help: 'how long texts are cut' },
  { name: 'warmup-steps', kind: 'int', min: 0, help: 'linear warmup, in steps' },
  { name: 'warmup-ratio', kind: 'number', min: 0, max: 1, help: 'linear warmup, as a share of all steps' },
  {
    name: 'lr-schedule',
    kind: 'string',
    choices: LR_SCHEDULES,
    help: 'learning rate after warmup: linear decay to 0, cosine decay to 0, or constant (default linear)',
  },
  { name: 'weight-decay', kind: 'number', min: 0, max: 1, help: 'AdamW weight decay' },
  {
    name: 'gradient-accumulation-steps',
    kind: 'int',
    min: 1,
    max: 1024,
    help: 'batches per optimizer step (mean gradient): effective batch = batch size × N (default 1)',
  },
  {
    name: 'label-smoothing',
    kind: 'number',
    min: 0,
    max: 1,
    help: 'cross-entropy label smoothing ε, as torch.nn.CrossEntropyLoss (default 0)',
  },
  {
    name: 'task',
    kind: 'string',
    choices: FINE_TUNE_TASKS,
    help:
      'classification (default), regression: the label column holds a number per text (one output, MSE loss), or ' +
      'multi-label: a set of labels per text (one sigmoid output per label, BCE loss; detected for JSON label lists)',
  },
  { name: 'eval-steps', kind: 'int', min: 1, help: 'evaluate every N steps (always at each epoch end)' },
  {
    name: 'metric',
    kind: 'string',
    choices: SELECTION_METRICS,
    help: 'what picks the best model (default loss)',
  },
  { name: 'early-stopping', kind: 'int', min: 1, help: 'stop after N evaluations without improvement' },
  { name: 'early-stopping-threshold', kind: 'number', min: 0, help: 'least change that counts as an improvement' },
  { name: 'class-weights', kind: 'boolean', help: 'weight the loss by inverse class frequency' },
  { name: 'max-steps', kind: 'int', min: 1, help: 'stop after this many optimizer steps' },
  { name: 'seed', kind: 'int', min: 0, max: 2 ** 31 - 1, help: 'seed for init, split, shuffling and dropout' },
  {
    name: 'seed-candidates',
    kind: 'int',
    min: 1,
    max: 32,
    help: 'seed screening: train N seeds for --screen-epochs epochs each, keep the best by the selection metric and train it to the end (default 1)',
  },
  { name: 'screen-epochs', kind: 'int', min: 1, max: 1000, help: 'epochs each seed candidate trains (default 1)' },
  {
    name: 'ensemble',
    kind: 'int',
    min: 1,
    max: 16,
    help: 'seed ensemble: train N models with different seeds and predict with the mean of their probabilities (default 3 from scratch with one label per row and no --max-steps, else 1)',
  },
  {
    name: 'valid-ratio',
    kind: 'number',
    above: 0,
    max: 0.9,
    help: 'share held out for validation without --valid',
  },
  { name: 'save-total-limit', kind: 'int', min: 1, help: 'checkpoints kept besides the best (default 2)' },
  { name: 'no-dropout', kind: 'boolean', help: 'train without dropout' },
  {
    name: 'group-by-length',
    kind: 'boolean',
    help: 'batch rows of similar length together: less padding, faster (default: on for a pre-trained model, off from scratch, where it cost accuracy; --group-by-length=false turns it off)',
  },
  {
    name: 'steps-per-run',
    kind: 'int',
    min: 1,
    max: 64,
    help: 'optimizer steps per engine call, in one ONNX Loop (default 1; more saves host/device round trips on a GPU, same numbers)',
  },
  DEVICE_FLAG,
  RESUME_FLAG,
  RESTART_FLAG,
  {
    name: 'estimate',
    kind: 'boolean',
    help: 'print the expected run time and peak memory from a few warm-up steps; trains nothing, writes nothing (--out optional)',
  },
  JSON_FLAG,
];

export const SLURM_FLAGS: FlagSpec[] = [
  { name: 'slurm', kind: 'boolean', help: 'submit to Slurm with sbatch (the only scheduler so far)' },
  { name: 'partition', kind: 'string', help: 'Slurm partition (default: the cluster default)' },
  { name: 'time', kind: 'string', help: 'wall-time limit: minutes, HH:MM:SS or D-HH:MM (the job requeues itself)' },
  { name: 'gpus', kind: 'int', min: 1, max: 64, help: 'GPUs for the job (the device defaults to cuda)' },
  { name: 'gres', kind: 'string', help: 'generic resources as sbatch --gres takes them, e.g. gpu:a100:1' },
  { name: 'cpus', kind: 'int', min: 1, max: 1024, help: 'CPUs for the trainer (sbatch --cpus-per-task)' },
  { name: 'mem', kind: 'string', help: 'memory per node, e.g. 16G' },
  { name: 'account', kind: 'string', help: 'account to charge (sbatch --account)' },
  { name: 'qos', kind: 'string', help: 'quality of service (sbatch --qos)' },
  {
    name: 'signal-lead',
    kind: 'int',
    min: 10,
    max: 65535,
    help: 'seconds before the time limit when the trainer checkpoints and the job requeues (default: a quarter of --time, 30 to 300)',
  },
  {
    name: 'sbatch-arg',
    kind: 'repeat',
    help: 'one more sbatch option, as --sbatch-arg=--constraint=a100 (repeatable)',
  },
  { name: 'dry-run', kind: 'boolean', help: 'print the job script; write and submit nothing' },
];

export interface CommandSpec {
  summary: string;
  flags: FlagSpec[];
  /** The flag a lone argument stands for (`bertft cancel RUN` is `bertft cancel --out RUN`). */
  positional?: string;
}

export const COMMANDS: Record<string, CommandSpec> = {
  check: {
    summary:
      'check a dataset before training (exit 1 on fatal problems); with --suspects, list its likely mislabeled rows',
    flags: [
      ...DATA_FLAGS,
      {
        name: 'max-length',
        kind: 'int',
        min: 8,
        max: LONGEST_CONTEXT,
        help: 'report the share of texts longer than this (with --suspects: tokens per example, at most 512)',
      },
      {
        name: 'model',
        kind: 'string',
        help: 'model whose tokenizer counts tokens (default: the bundled BERT vocab); with --suspects, the model each fold fine-tunes (default random:tiny)',
      },
      {
        name: 'suspects',
        kind: 'boolean',
        help: 'list the likely mislabeled rows: fine-tunes one model per fold, then confident learning on the out-of-fold probabilities (slow: k trainings)',
      },
      { name: 'folds', kind: 'int', min: 2, max: 20, help: 'with --suspects: folds, one model each (default 5)' },
      {
        name: 'epochs',
        kind: 'number',
        above: 0,
        max: 1000,
        help: 'with --suspects: epochs per fold (default 6 from random weights, 2 from a pre-trained model)',
      },
      { name: 'seed', kind: 'int', min: 0, max: 2 ** 31 - 1, help: 'with --suspects: seed for the folds and training' },
      {
        name: 'rank-by',
        kind: 'string',
        choices: RANKINGS,
        help: 'with --suspects: self-confidence (p of the given label, lowest first; default) or margin (p given − best other)',
      },
      {
        name: 'out',
        kind: 'string',
        help: 'with --suspects: a new folder that keeps the fold runs and suspects.json (default: a temporary one, deleted)',
      },
      {
        name: 'aggregate',
        kind: 'boolean',
        help: "with --suspects --out DIR: the step after a --slurm job array: each fold's model predicts its rows, DIR/suspects.json",
      },
      ...SLURM_FLAGS.map((f) =>
        f.name === 'slurm'
          ? {
              ...f,
              help: 'with --suspects --out DIR: the folds as one Slurm job array, then a job after it that writes DIR/suspects.json',
            }
          : f.name === 'dry-run'
            ? { ...f, help: 'with --slurm: print both job scripts; write and submit nothing' }
            : f,
      ),
      DEVICE_FLAG,
      JSON_FLAG,
    ],
  },
  train: {
    summary:
      'fine-tune a model; writes a run directory (--out). With --estimate: the expected time and peak memory, nothing trained or written',
    flags: TRAIN_FLAGS,
  },
  eval: {
    summary: 'evaluate a trained model on a labelled file',
    flags: [
      { name: 'model', kind: 'string', help: 'model folder or run folder (its best/)' },
      ...DATA_FLAGS.filter((f) => f.name !== 'valid'),
      { name: 'batch-size', kind: 'int', min: 1, max: 4096, help: 'examples per forward pass (default 32)' },
      DEVICE_FLAG,
      JSON_FLAG,
    ],
  },
  gpu: {
    summary: 'show GPU support (ORT providers, CUDA libraries); --install-cuda fetches the CUDA provider',
    flags: [
      {
        name: 'install-cuda',
        kind: 'boolean',
        help: 'download the CUDA execution provider matching the bundled onnxruntime-node',
      },
      { name: 'cache', kind: 'string', help: 'download folder (default ~/.cache/bertft)' },
      { name: 'feed', kind: 'string', help: 'NuGet v3 service index (default nuget.org; for mirrors)' },
      {
        name: 'target-dir',
        kind: 'string',
        help: "where the provider libraries go (default: onnxruntime-node's binary folder)",
      },
      JSON_FLAG,
    ],
  },
  models: {
    summary: 'list the model families you can fine-tune, with suggested Hub ids and when to pick each',
    flags: [JSON_FLAG],
  },
  pretrain: {
    summary:
      'continue masked-LM pre-training (BERT, DistilBERT, RoBERTa / XLM-R, ELECTRA) on unlabelled text; writes <out>/best/',
    flags: [
      {
        name: 'data',
        kind: 'string',
        help: 'unlabelled text: a folder of .txt files, a .txt file, or .csv / .jsonl with a text column',
      },
      { name: 'text-column', kind: 'string', help: 'column holding the text (default: detected)' },
      {
        name: 'model',
        kind: 'string',
        help: 'hub id, model folder, or random:tiny|mini|small|base (default random:tiny)',
      },
      { name: 'out', kind: 'string', help: 'run directory to create' },
      { name: 'epochs', kind: 'number', above: 0, max: 1000, help: 'passes over the text (default 1)' },
      { name: 'max-steps', kind: 'int', min: 1, help: 'stop after this many optimizer steps' },
      { name: 'batch-size', kind: 'int', min: 1, max: 4096, help: 'windows per optimizer step (default 16)' },
      {
        name: 'lr',
        kind: 'number',
        above: 0,
        max: 1,
        help: 'peak learning rate (default 5e-4 from random, 5e-5 from a checkpoint)',
      },
      { name: 'max-length', kind: 'int', min: 8, max: 512, help: 'tokens per window (default 128)' },
      {
        name: 'mask-prob',
        kind: 'number',
        above: 0,
        max: 0.9,
        help: 'share of tokens chosen for prediction (default 0.15)',
      },
      {
        name: 'whole-word',
        kind: 'boolean',
        help: 'choose whole words (WordPiece ## pieces, BPE pieces up to the next Ġ) instead of single tokens',
      },
      {
        name: 'eval-steps',
        kind: 'int',
        min: 1,
        help: 'evaluate every N steps and at each epoch end (default N: a tenth of the steps)',
      },
      { name: 'seed', kind: 'int', min: 0, max: 2 ** 31 - 1, help: 'seed for init, order, masks and dropout' },
      { name: 'no-dropout', kind: 'boolean', help: 'train without dropout' },
      DEVICE_FLAG,
      RESUME_FLAG,
      RESTART_FLAG,
      JSON_FLAG,
    ],
  },
  submit: {
    summary:
      'train on a cluster: writes <out>/job.sbatch and <out>/job.json and submits the job (preemption- and time-limit-safe: it checkpoints, requeues and resumes)',
    flags: [
      ...SLURM_FLAGS,
      // --resume resubmits the run's own job script; --estimate and --restart are the trainer's business.
      ...TRAIN_FLAGS.filter((f) => f.name !== 'estimate' && f.name !== 'restart').map((f) =>
        f.name === 'resume'
          ? { ...f, help: 'submit the run in --out again (after bertft cancel): its job.sbatch as written' }
          : f.name === 'device'
            ? { ...f, help: 'where the job trains (default cpu, or cuda with --gpus / --gres gpu:…; auto is refused)' }
            : f,
      ),
    ],
  },
  sweep: {
    summary:
      'train one run per point of a grid of train settings (--grid lr=1e-4,3e-4 --grid epochs=2,4), here one after another or with --slurm as one job array; --show prints the leaderboard',
    flags: [
      {
        name: 'grid',
        kind: 'repeat',
        help: 'a train flag and its values, as --grid lr=1e-4,3e-4 (repeatable: every combination is a trial)',
      },
      {
        name: 'random',
        kind: 'int',
        min: 1,
        help: 'train N points drawn from the grid (seeded by --seed, default 0) instead of all of them',
      },
      {
        name: 'show',
        kind: 'string',
        help: "print a sweep folder's leaderboard, best first: bertft sweep --show SWEEP",
      },
      {
        name: 'max-parallel',
        kind: 'int',
        min: 1,
        max: 10000,
        help: 'with --slurm: trials running at once (sbatch --array=0-N%P; default: as many as the cluster allows)',
      },
      ...SLURM_FLAGS.map((f) =>
        f.name === 'slurm' ? { ...f, help: 'submit the trials to Slurm as one job array (task i trains trial i)' } : f,
      ),
      ...TRAIN_FLAGS.filter((f) => f.name !== 'estimate' && f.name !== 'restart').map((f) =>
        f.name === 'resume'
          ? {
              ...f,
              help: 'continue the sweep in --out: finished trials are skipped, a started one resumed, failed ones tried again',
            }
          : f.name === 'out'
            ? { ...f, help: 'the sweep folder to create: sweep.json, trial-000/ … and leaderboard.json' }
            : f,
      ),
    ],
  },
  jobs: {
    summary: 'list the submitted runs under a folder (default .) with their scheduler state: bertft jobs [FOLDER]',
    flags: [{ name: 'dir', kind: 'string', help: 'folder to look in, two levels deep (default .)' }, JSON_FLAG],
    positional: 'dir',
  },
  cancel: {
    summary: "cancel a run's job (scancel): the trainer writes a checkpoint first. bertft cancel RUN",
    flags: [{ name: 'out', kind: 'string', help: 'the run folder (or give it as the only argument)' }, JSON_FLAG],
    positional: 'out',
  },
  push: {
    summary:
      'upload a model (a run folder: its best/) to a Hugging Face Hub repository, created if missing: bertft push RUN --repo user/name',
    flags: [
      {
        name: 'model',
        kind: 'string',
        help: 'model folder or run folder (its best/); or give it as the only argument',
      },
      { name: 'repo', kind: 'string', help: 'the repository: user/name or org/name (name alone: your account)' },
      {
        name: 'private',
        kind: 'boolean',
        help: 'create the repository private (an existing one keeps its visibility)',
      },
      { name: 'message', kind: 'string', help: 'the commit message (default "Upload <folder> with bertft <version>")' },
      JSON_FLAG,
    ],
    positional: 'model',
  },
  predict: {
    summary: 'classify texts with a trained model',
    flags: [
      { name: 'model', kind: 'string', help: 'model folder or run folder (its best/)' },
      { name: 'text', kind: 'repeat', help: 'a text to classify (repeatable)' },
      {
        name: 'text-pair',
        kind: 'repeat',
        help: 'the second text of a pair model, one per --text in the same order (repeatable)',
      },
      { name: 'file', kind: 'string', help: 'texts: one per line (.txt), JSONL with a "text" field, or CSV' },
      {
        name: 'text-column',
        kind: 'string',
        help: 'column holding the text in a CSV/JSONL --file (default: detected)',
      },
      {
        name: 'text-pair-column',
        kind: 'string',
        help: 'column holding the second text of a pair in a CSV/JSONL --file (default: detected)',
      },
      {
        name: 'explain',
        kind: 'boolean',
        help: "explain each prediction: every token's integrated gradient toward the predicted label, a pair's from both texts (CPU; [PAD] baseline)",
      },
      {
        name: 'explain-steps',
        kind: 'int',
        min: 1,
        max: 1000,
        help: 'integrated-gradients steps of --explain (default 50; the time grows with them)',
      },
      {
        name: 'top',
        kind: 'int',
        min: 1,
        help: 'tokens shown each way per text by --explain (default 5; --json: all)',
      },
      DEVICE_FLAG,
      JSON_FLAG,
    ],
  },
};

/** Train flags → the user's explicit choices (undefined where the preset decides). */
export function trainOverridesFromArgs(
  args: ParsedArgs,
): TrainOverrides & { resume: boolean; restart: boolean; json: boolean } {
  // Resuming (or restarting) reads the data and every other setting from the run's run.json.
  const continues = getBool(args, 'resume') || getBool(args, 'restart');
  const data = continues
    ? (getString(args, 'data') ?? '')
    : requireString(args, 'data', 'train', 'examples/spam-ham.csv');
  return {
    data,
    out: requireString(args, 'out', 'train', 'runs/my-run'),
    ...trainChoices(args),
    restart: getBool(args, 'restart'),
  };
}

/** `bertft train --estimate`: the same flags, but --out is optional (the estimate writes nothing; a given --out is checked). */
export function estimateOptionsFromArgs(
  args: ParsedArgs,
): Omit<TrainOverrides, 'out'> & { out?: string; resume: boolean; restart: boolean; json: boolean } {
  const continues = getBool(args, 'resume') || getBool(args, 'restart');
  const data = continues
    ? (getString(args, 'data') ?? '')
    : requireString(args, 'data', 'train', 'examples/spam-ham.csv');
  return { data, out: getString(args, 'out'), ...trainChoices(args), restart: getBool(args, 'restart') };
}

function trainChoices(args: ParsedArgs): Omit<TrainOverrides, 'data' | 'out'> & { resume: boolean; json: boolean } {
  return {
    valid: getString(args, 'valid'),
    textColumn: getString(args, 'text-column'),
    labelColumn: getString(args, 'label-column'),
    textPairColumn: getString(args, 'text-pair-column'),
    ...labelSetOptions(args),
    model: getString(args, 'model'),
    preset: getString(args, 'preset') as TrainOverrides['preset'],
    epochs: getNumber(args, 'epochs'),
    batchSize: getNumber(args, 'batch-size'),
    lr: getNumber(args, 'lr'),
    maxLength: getNumber(args, 'max-length'),
    truncation: getString(args, 'truncation') as TrainOverrides['truncation'],
    warmupSteps: getNumber(args, 'warmup-steps'),
    warmupRatio: getNumber(args, 'warmup-ratio'),
    weightDecay: getNumber(args, 'weight-decay'),
    lrSchedule: getString(args, 'lr-schedule') as TrainOverrides['lrSchedule'],
    gradientAccumulationSteps: getNumber(args, 'gradient-accumulation-steps'),
    labelSmoothing: getNumber(args, 'label-smoothing'),
    problemType: getString(args, 'task') as TrainOverrides['problemType'],
    evalSteps: getNumber(args, 'eval-steps'),
    metric: getString(args, 'metric') as TrainOverrides['metric'],
    earlyStoppingPatience: getNumber(args, 'early-stopping'),
    earlyStoppingThreshold: getNumber(args, 'early-stopping-threshold'),
    classWeights: args.flags.has('class-weights') ? getBool(args, 'class-weights') : undefined,
    maxSteps: getNumber(args, 'max-steps'),
    seed: getNumber(args, 'seed'),
    seedCandidates: getNumber(args, 'seed-candidates'),
    screenEpochs: getNumber(args, 'screen-epochs'),
    ensembleSize: getNumber(args, 'ensemble'),
    validRatio: getNumber(args, 'valid-ratio'),
    saveTotalLimit: getNumber(args, 'save-total-limit'),
    dropout: getBool(args, 'no-dropout') ? false : undefined,
    groupByLength: args.flags.has('group-by-length') ? getBool(args, 'group-by-length') : undefined,
    stepsPerRun: getNumber(args, 'steps-per-run'),
    device: getString(args, 'device') as TrainOverrides['device'],
    resume: getBool(args, 'resume'),
    json: getBool(args, 'json'),
  };
}

/**
 * `bertft sweep --data … [train flags] --grid lr=1e-4,3e-4 --grid epochs=2,4 [--random N] --out SWEEP`: one trial
 * run folder per point of the grid (core/sweep), trained here one after another, or with `--slurm` as one job array
 * whose task i trains trial i (core/scheduler/slurm.ts; `--dry-run` prints its script). `--show SWEEP` prints the
 * leaderboard, best first; `--resume --out SWEEP` continues a sweep. Grid values are checked by the train flags' own
 * specs, so a value `bertft train` refuses is refused here the same way, naming --grid.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../core/errors';
import { claimRunDir } from '../core/run/folder';
import { nativeRuntimeError } from '../core/runtime/devices';
import { readJobRecord, type TrainingJob } from '../core/scheduler/scheduler';
import { submitArrayScript } from '../core/scheduler/submit';
import { Slurm } from '../core/scheduler/slurm';
import {
  buildLeaderboard,
  createSweep,
  expandGrid,
  readSweepRecord,
  recordedFailures,
  samplePoints,
  trialDirName,
  writeLeaderboard,
  type Leaderboard,
  type LeaderboardRow,
  type SweepAxis,
  type SweepPoint,
  type SweepRecord,
} from '../core/sweep/sweep';
import { writeFileAtomic } from '../core/util/files';
import { packageVersion } from '../core/util/package-version';
import {
  getBool,
  getList,
  getNumber,
  getString,
  parseArgs,
  requireString,
  UsageError,
  type FlagValue,
  type ParsedArgs,
} from './args';
import { COMMANDS, trainOverridesFromArgs } from './commands';
import { EXIT_BAD_INPUT, EXIT_CANCELLED, EXIT_OK, Output, stopOnSignal, type CliIo } from './output';
import { TrainReporter } from './progress';
import { cliEntry, clusterJobInputs, trainArgv } from './submit';

/** Train flags that say where and how to run, or what the data is: the same for every trial, never on a grid. */
const NOT_ON_GRID = new Set([
  'data',
  'valid',
  'out',
  'device',
  'resume',
  'restart',
  'estimate',
  'json',
  'metric',
  'task',
  'text-column',
  'label-column',
  'text-pair-column',
  'label-separator',
  'label-columns',
]);

/** The train flags a --grid may name: numbers, choices and the model. */
function gridFlags(): Map<string, (typeof COMMANDS)['train']['flags'][number]> {
  return new Map(
    COMMANDS.train.flags
      .filter(
        (f) =>
          !NOT_ON_GRID.has(f.name) &&
          (f.kind === 'int' || f.kind === 'number' || (f.kind === 'string' && (f.choices || f.name === 'model'))),
      )
      .map((f) => [f.name, f]),
  );
}

/** `--grid name=v1,v2,…` flags → axes, each value parsed and checked by the train flag's own spec. */
export function parseGrid(grids: readonly string[]): SweepAxis[] {
  const specs = gridFlags();
  const axes: SweepAxis[] = [];
  for (const grid of grids) {
    const eq = grid.indexOf('=');
    const name = eq === -1 ? grid.trim() : grid.slice(0, eq).trim().replace(/^--/, '');
    const spec = specs.get(name);
    if (eq === -1 || name === '') {
      throw new UsageError(`--grid "${grid}" is not a train flag with its values.`, 'Write --grid lr=1e-4,3e-4.');
    }
    if (!spec) {
      const known = COMMANDS.train.flags.some((f) => f.name === name);
      throw new UsageError(
        known
          ? `--grid ${name}: --${name} is the same for every trial of a sweep; it cannot vary.`
          : `--grid ${name}: \`bertft train\` has no flag --${name}.`,
        known
          ? `Give it once as --${name} <value>; a --grid takes one of: ${[...specs.keys()].join(', ')}.`
          : `A --grid takes one of: ${[...specs.keys()].join(', ')}.`,
      );
    }
    if (axes.some((a) => a.name === name)) {
      throw new UsageError(`--grid ${name} is given twice.`, `Give all its values in one: --grid ${name}=a,b,c.`);
    }
    const raw = grid
      .slice(eq + 1)
      .split(',')
      .map((v) => v.trim());
    if (raw.some((v) => v === '')) {
      throw new UsageError(
        `--grid ${name} has an empty value ("${grid}").`,
        `Write --grid ${name}=a,b with no empty value.`,
      );
    }
    const values = raw.map((v) => {
      try {
        return parseArgs([`--${name}=${v}`], [spec], 'sweep').flags.get(name) as string | number;
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        throw new UsageError(`--grid ${name}: ${e.message}`, e.fix?.replace(`--${name} `, `--grid ${name}=`));
      }
    });
    if (new Set(values).size !== values.length) {
      throw new UsageError(`--grid ${name} repeats a value (${raw.join(',')}).`, 'Give each value once.');
    }
    axes.push({ name, values });
  }
  return axes;
}

export async function sweepCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const output = new Output(io, getBool(args, 'json'));
  const show = getString(args, 'show');
  if (show !== undefined) return showCommand(args, show, output);
  if (getBool(args, 'resume')) return resumeCommand(args, output, io);

  const out = requireString(args, 'out', 'sweep', 'sweeps/lr');
  const sweepDir = path.resolve(out);
  const grids = getList(args, 'grid');
  if (grids.length === 0) throw new UsageError('`bertft sweep` needs a --grid.', 'Add --grid lr=1e-4,3e-4.');
  const axes = parseGrid(grids);
  const both = axes.find((a) => args.flags.has(a.name));
  if (both) {
    throw new UsageError(
      `--${both.name} is given both alone and as --grid ${both.name}.`,
      `Leave out --${both.name}, or its --grid.`,
    );
  }
  if (args.flags.has('max-parallel') && !getBool(args, 'slurm')) {
    throw new UsageError('--max-parallel applies to --slurm job arrays; here trials run one after another.');
  }
  // Every base flag is checked as `bertft train` checks it (--data required, and so on) before anything is written.
  trainOverridesFromArgs(withFlags(args, new Map([['out', out]])));
  const all = expandGrid(axes);
  const count = getNumber(args, 'random');
  const sampleSeed = getNumber(args, 'seed') ?? 0;
  const points = count === undefined ? all : samplePoints(all, count, sampleSeed);
  const record: SweepRecord = {
    tool: 'bertft',
    kind: 'sweep',
    created: new Date().toISOString(),
    grid: axes,
    random: count === undefined ? null : { count, seed: sampleSeed },
    baseArgs: trainArgv(args),
    trials: points.map((point, index) => ({
      index,
      dir: trialDirName(index),
      settings: point,
      trainArgs: trainArgv(withFlags(args, new Map(Object.entries(point)))),
    })),
  };
  if (getBool(args, 'slurm')) return submitSweep(args, sweepDir, record, output);
  if (getBool(args, 'dry-run')) throw new UsageError('--dry-run applies to --slurm.', 'Add --slurm, or leave it out.');
  await createSweep(sweepDir, record);
  output.note(`Sweep of ${record.trials.length} trials in ${sweepDir}\n`);
  return runLocal(sweepDir, record, getString(args, 'device'), output, io);
}

/** `args` with some flags set (a trial's point, --out), as a train command line would give them. */
function withFlags(args: ParsedArgs, flags: ReadonlyMap<string, FlagValue>): ParsedArgs {
  return { flags: new Map([...args.flags, ...flags]), positionals: [] };
}

async function runLocal(
  sweepDir: string,
  record: SweepRecord,
  device: string | undefined,
  output: Output,
  io: CliIo,
): Promise<number> {
  // Only training loads onnxruntime: --show and --slurm work on a login node without its native library.
  const unsupported = nativeRuntimeError();
  if (unsupported) throw unsupported;
  const { runSweep } = await import('../core/sweep/run');
  const stop = stopOnSignal(output, '\nStopping the sweep after this step (the trial keeps a checkpoint)...\n');
  try {
    const { leaderboard, stopped } = await runSweep(
      sweepDir,
      record,
      (trial, runDir, resume) => {
        // A resumed trial reads every setting from its run.json; a new one gets the trial's train arguments.
        const argv = resume ? ['--resume', '--out', runDir] : [...trial.trainArgs.slice(1), '--out', runDir];
        if (device !== undefined) argv.push('--device', device);
        const { json: _json, ...options } = trainOverridesFromArgs(parseArgs(argv, COMMANDS.train.flags, 'train'));
        return options;
      },
      {
        session: () => {
          const reporter = new TrainReporter(io, false);
          return { emit: (e) => (output.json ? undefined : reporter.report(e)) };
        },
        trialStarting: (trial, mode) =>
          output.note(
            `\n${mode === 'resume' ? 'Resuming' : 'Starting'} ${trial.dir} (${settingsText(trial.settings)})\n`,
          ),
        trialEnded: (_trial, row) =>
          output.result({ event: 'trial', ...row }, () =>
            row.status === 'failed' ? `${row.dir} failed: ${row.error}\n` : '',
          ),
        shouldStop: stop.requested,
      },
    );
    output.result({ event: 'leaderboard', ...leaderboard }, () => formatLeaderboard(leaderboard));
    if (stopped) {
      output.note(`Stopped. Continue with \`bertft sweep --resume --out ${sweepDir}\`.\n`);
      return EXIT_CANCELLED;
    }
    // A script that runs a sweep learns from the exit status that a trial failed (each failure is printed above).
    const failed = leaderboard.rows.filter((r) => r.status === 'failed').length;
    if (failed > 0) {
      output.note(
        `${failed} of ${leaderboard.rows.length} trials failed. Fix what they say, then \`bertft sweep --resume --out ${sweepDir}\` retries them.\n`,
      );
      return EXIT_BAD_INPUT;
    }
    return EXIT_OK;
  } finally {
    stop.dispose();
  }
}

/** `--resume --out SWEEP`: the sweep's own trials, here or (with --slurm) its job array submitted again. */
async function resumeCommand(args: ParsedArgs, output: Output, io: CliIo): Promise<number> {
  const out = requireString(args, 'out', 'sweep', 'sweeps/lr');
  const sweepDir = path.resolve(out);
  const allowed = ['resume', 'out', 'json', 'device', 'slurm', 'dry-run'];
  const others = [...args.flags.keys()].filter((n) => !allowed.includes(n));
  if (others.length > 0) {
    throw new UsageError(
      `\`bertft sweep --resume\` continues the sweep as its sweep.json says; it takes no ${others.map((n) => `--${n}`).join(', ')}.`,
      'Leave them out, or start a new sweep in another --out folder with the flags you want.',
    );
  }
  const record = readSweepRecord(sweepDir);
  if (!record) {
    throw new UserError(`${sweepDir} holds no sweep (no sweep.json).`, {
      file: sweepDir,
      code: 'SWEEP_NOT_FOUND',
      fix: 'Give the --out folder of an earlier `bertft sweep`, or start a new sweep without --resume.',
    });
  }
  if (getBool(args, 'slurm')) return resubmitSweep(sweepDir, getBool(args, 'dry-run'), output);
  return runLocal(sweepDir, record, getString(args, 'device'), output, io);
}

function showCommand(args: ParsedArgs, show: string, output: Output): Promise<number> {
  const others = [...args.flags.keys()].filter((n) => n !== 'show' && n !== 'json');
  if (others.length > 0) {
    throw new UsageError(`\`bertft sweep --show\` takes no ${others.map((n) => `--${n}`).join(', ')}.`);
  }
  const sweepDir = path.resolve(show);
  const record = readSweepRecord(sweepDir);
  if (!record) {
    throw new UserError(`${sweepDir} holds no sweep (no sweep.json).`, {
      file: sweepDir,
      code: 'SWEEP_NOT_FOUND',
      fix: 'Give the --out folder of a `bertft sweep`.',
    });
  }
  const leaderboard = buildLeaderboard(sweepDir, record, recordedFailures(sweepDir));
  // Trials trained elsewhere (a job array) reach leaderboard.json here.
  return writeLeaderboard(sweepDir, leaderboard).then(() => {
    output.result({ event: 'leaderboard', ...leaderboard }, () => formatLeaderboard(leaderboard));
    return EXIT_OK;
  });
}

function settingsText(settings: SweepPoint): string {
  return Object.entries(settings)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

const fixed = (v: number | null, digits = 4): string => (v === null ? '-' : v.toFixed(digits));

export function formatLeaderboard(board: Leaderboard): string {
  const metric = board.metric ?? 'metric';
  const table = [
    ['RANK', 'TRIAL', 'STATUS', `BEST ${metric.toUpperCase()}`, 'ACCURACY', 'MACRO-F1', 'STEPS', 'TIME', 'SETTINGS'],
    ...board.rows.map((r: LeaderboardRow, i) => [
      r.best_metric !== null && r.status !== 'failed' ? String(i + 1) : '-',
      r.dir,
      r.status,
      fixed(r.best_metric),
      fixed(r.accuracy),
      fixed(r.macro_f1),
      String(r.steps),
      `${r.wall_seconds.toFixed(1)}s`,
      settingsText(r.settings),
    ]),
  ];
  const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
  const lines = table.map((row) =>
    row
      .map((cell, c) => cell.padEnd(widths[c]))
      .join('  ')
      .trimEnd(),
  );
  const failed = board.rows.filter((r) => r.status === 'failed' && r.error);
  return [
    `Leaderboard of ${board.sweep} (best ${metric} first):`,
    ...lines,
    ...failed.map((r) => `${r.dir}: ${r.error}`),
    '',
  ].join('\n');
}

/** `--slurm`: the sweep's job array, task i training trial i; `--dry-run` prints its script and writes nothing. */
async function submitSweep(args: ParsedArgs, sweepDir: string, record: SweepRecord, output: Output): Promise<number> {
  const scheduler = new Slurm(packageVersion());
  const { resources, device } = clusterJobInputs(args, '`bertft sweep --slurm`', 'task');
  const job: TrainingJob = {
    name: path.basename(sweepDir),
    runDir: sweepDir,
    workDir: process.cwd(),
    command: [process.execPath, cliEntry()],
    trainArgs: record.baseArgs,
    device,
    resources,
    array: {
      tasks: record.trials.map((t) => ({ runDir: path.join(sweepDir, t.dir), trainArgs: t.trainArgs })),
      maxParallel: getNumber(args, 'max-parallel'),
    },
  };
  const script = scheduler.render(job);
  if (getBool(args, 'dry-run')) {
    output.result({ event: 'dry-run', scheduler: scheduler.name, script, trials: record.trials }, () => script);
    return EXIT_OK;
  }
  await createSweep(sweepDir, record);
  // Each trial folder exists and is ours before its task starts: the job script logs its events into it.
  for (const t of record.trials) claimRunDir(path.join(sweepDir, t.dir));
  const scriptFile = path.join(sweepDir, scheduler.scriptName);
  await writeFileAtomic(scriptFile, script);
  return submitArray(scheduler, scriptFile, sweepDir, record, [], output);
}

async function submitArray(
  scheduler: Slurm,
  scriptFile: string,
  sweepDir: string,
  record: SweepRecord,
  previousJobIds: string[],
  output: Output,
): Promise<number> {
  const tasks = record.trials.map((t) => ({ runDir: path.join(sweepDir, t.dir), index: t.index }));
  const { jobId } = await submitArrayScript(scheduler, scriptFile, sweepDir, tasks, previousJobIds);
  output.result({ event: 'submitted', scheduler: scheduler.name, jobId, sweep: sweepDir, script: scriptFile }, () =>
    [
      `Submitted ${scheduler.name} job array ${jobId} (${record.trials.length} trials): ${scriptFile}`,
      `Follow it with \`bertft jobs ${sweepDir}\`; the leaderboard: \`bertft sweep --show ${sweepDir}\`.`,
      '',
    ].join('\n'),
  );
  return EXIT_OK;
}

async function resubmitSweep(sweepDir: string, dryRun: boolean, output: Output): Promise<number> {
  const scheduler = new Slurm(packageVersion());
  const scriptFile = path.join(sweepDir, scheduler.scriptName);
  if (!fs.existsSync(scriptFile)) {
    throw new UserError(`${sweepDir} has no ${scheduler.scriptName}: it was not submitted with --slurm.`, {
      file: sweepDir,
      code: 'SUBMIT_NO_SCRIPT',
      fix: `Continue it here with \`bertft sweep --resume --out ${sweepDir}\`.`,
    });
  }
  if (dryRun) {
    const script = fs.readFileSync(scriptFile, 'utf8');
    output.result({ event: 'dry-run', scheduler: scheduler.name, script }, () => script);
    return EXIT_OK;
  }
  const record = readJobRecord(sweepDir);
  if (record) {
    const state = await scheduler.state(record.jobId);
    if (state.phase === 'queued' || state.phase === 'running') {
      throw new UserError(`${sweepDir}'s job array ${record.jobId} is still ${state.state.toLowerCase()}.`, {
        file: sweepDir,
        code: 'SUBMIT_JOB_ACTIVE',
        fix: `Wait for it, or cancel it first with \`scancel ${record.jobId}\`.`,
      });
    }
  }
  const sweep = readSweepRecord(sweepDir)!;
  return submitArray(
    scheduler,
    scriptFile,
    sweepDir,
    sweep,
    record ? [...record.previousJobIds, record.jobId] : [],
    output,
  );
}

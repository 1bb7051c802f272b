/**
 * `bertft check --suspects`: the likely mislabeled rows of a dataset (core/finetune/suspects.ts), ranked, each as
 * file:line, the given and the suggested label and the out-of-fold probability of each. Progress on stderr; with
 * --json one `{"event":"suspects",...}` object on stdout. Ctrl-C stops after the current step (exit 130).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Ranking } from '../core/finetune/confident-learning';
import {
  aggregateSuspects,
  claimSuspectsOut,
  findSuspects,
  foldRunDir,
  foldTrainingOptions,
  planSuspects,
  readSuspectsPlan,
  SuspectsCancelled,
  writeFoldTrainingFile,
  writeSuspectsSettings,
  type SuspectsOptions,
  type SuspectsReport,
  type SuspectsSink,
} from '../core/finetune/suspects';
import type { SessionOptions } from '../core/finetune/session';
import { claimRunDir } from '../core/run/folder';
import { nodeLocalWarning, writeJobRecord, type CommandJob, type TrainingJob } from '../core/scheduler/scheduler';
import { Slurm } from '../core/scheduler/slurm';
import { submitArrayScript } from '../core/scheduler/submit';
import { writeFileAtomic } from '../core/util/files';
import { packageVersion } from '../core/util/package-version';
import { visible } from '../core/util/inert-text';
import { ownValue } from '../core/util/records';
import type { DeviceChoice } from '../core/runtime/devices';
import { getBool, getNumber, getString, requireString, UsageError, type ParsedArgs } from './args';
import { cliEntry, clusterJobInputs } from './submit';
import { EXIT_CANCELLED, EXIT_OK, Output, stopOnSignal, type CliIo } from './output';

/** Characters of a row's text shown after its suspect line. */
const PREVIEW = 60;

const percent = (p: number) => `${(100 * p).toFixed(1)}%`;

/** A row's text on one line, invisibles escaped, cut to `width`. */
function preview(text: string, width = PREVIEW): string {
  const line = visible(text.replace(/\s+/g, ' ').trim());
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}

/** The report for a person: a summary, then one line a suspect, most likely wrong first. */
export function formatSuspects(report: SuspectsReport, cwd = process.cwd()): string {
  const n = report.suspects.length;
  const thresholds = report.labels
    .map((l) => `${visible(l)} ${(ownValue(report.thresholds, l) ?? NaN).toFixed(2)}`)
    .join(', ');
  const lines = [
    `${n} likely mislabeled row${n === 1 ? '' : 's'} of ${report.rows} (${report.folds} folds, ${report.epochs} epochs ` +
      `each, ${visible(report.model)}; out-of-fold accuracy ${percent(report.outOfFoldAccuracy)}; ` +
      `thresholds: ${thresholds}), ranked by ${report.ranking}:`,
  ];
  for (const s of report.suspects) {
    const where = `${path.relative(cwd, s.file) || s.file}:${s.line}`;
    const suggested = ownValue(s.probabilities, s.suggested) ?? NaN;
    lines.push(
      `  ${where}  ${visible(s.given)} → ${visible(s.suggested)}  ` +
        `(p ${percent(s.selfConfidence)} → ${percent(suggested)})  ${preview(s.text)}`,
    );
  }
  if (report.out !== undefined) lines.push(`The fold runs and suspects.json are in ${report.out}.`);
  return lines.join('\n') + '\n';
}

/** The finder's options from `bertft check --suspects` flags. */
function suspectsOptionsFromArgs(args: ParsedArgs): SuspectsOptions {
  return {
    data: requireString(args, 'data', 'check --suspects', 'examples/spam-ham.csv'),
    textColumn: getString(args, 'text-column'),
    labelColumn: getString(args, 'label-column'),
    textPairColumn: getString(args, 'text-pair-column'),
    folds: getNumber(args, 'folds'),
    seed: getNumber(args, 'seed'),
    model: getString(args, 'model'),
    epochs: getNumber(args, 'epochs'),
    maxLength: getNumber(args, 'max-length'),
    device: getString(args, 'device') as DeviceChoice | undefined,
    out: getString(args, 'out'),
    ranking: getString(args, 'rank-by') as Ranking | undefined,
  };
}

export async function suspectsCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const json = getBool(args, 'json');
  const output = new Output(io, json);
  if (getBool(args, 'slurm')) return submitSuspects(args, output);
  const stop = stopOnSignal(output, '\nStopping after this step (press Ctrl-C again to quit at once)...\n');
  try {
    let shownTenth = -1;
    const sink: SuspectsSink = {
      shouldStop: stop.requested,
      onFold: ({ fold, folds, phase }) =>
        output.note(
          phase === 'train'
            ? `fold ${fold}/${folds}: training on the other folds...\n`
            : `fold ${fold}/${folds}: predicting its rows...\n`,
        ),
      emit: (e) => {
        // One progress line every 10% of a fold's steps is enough for a person.
        if (e.event === 'started') shownTenth = -1;
        if (e.event !== 'step') return;
        const tenth = Math.floor((10 * e.step) / e.total_steps);
        if (tenth > shownTenth) output.note(`  step ${e.step}/${e.total_steps}\n`);
        shownTenth = Math.max(shownTenth, tenth);
      },
    };
    const report = getBool(args, 'aggregate')
      ? await aggregate(args, sink)
      : await findSuspects(suspectsOptionsFromArgs(args), sink);
    output.result(report, () => formatSuspects(report));
    return EXIT_OK;
  } catch (e) {
    if (e instanceof SuspectsCancelled) return EXIT_CANCELLED;
    output.failed(e);
    throw e;
  } finally {
    stop.dispose();
  }
}

/** Flags `--aggregate` takes: the rest was fixed when the folds were dealt (`<out>/suspects-settings.json`). */
const AGGREGATE_FLAGS = ['suspects', 'aggregate', 'out', 'device', 'json'];

/** `--aggregate --out DIR`: the folds trained by a job array predict their held-out rows; DIR/suspects.json. */
async function aggregate(args: ParsedArgs, sink: SuspectsSink): Promise<SuspectsReport> {
  const others = [...args.flags.keys()].filter((n) => !AGGREGATE_FLAGS.includes(n));
  if (others.length > 0) {
    throw new UsageError(
      `\`bertft check --suspects --aggregate\` reads its settings from the folds' folder; it takes no ` +
        `${others.map((n) => `--${n}`).join(', ')}.`,
      'Leave them out: give only --out (the folder of `bertft check --suspects --slurm`) and --device.',
    );
  }
  const root = path.resolve(requireString(args, 'out', 'check --suspects --aggregate', 'suspects'));
  const plan = await readSuspectsPlan(root);
  return aggregateSuspects(plan, root, getString(args, 'device') as DeviceChoice | undefined, sink);
}

/**
 * A fold's training options as `bertft train` flags (without --out and --device, which the job script sets): the
 * array task trains exactly what the local finder trains.
 */
export function foldTrainArgv(o: SessionOptions): string[] {
  const argv = ['train', '--data', o.data];
  const flag = (name: string, value: string | number | undefined): void => {
    if (value !== undefined) argv.push(`--${name}`, String(value));
  };
  flag('text-column', o.textColumn);
  flag('label-column', o.labelColumn);
  flag('text-pair-column', o.textPairColumn);
  flag('model', o.model);
  flag('epochs', o.epochs);
  flag('seed', o.seed);
  flag('max-length', o.maxLength);
  flag('save-total-limit', o.saveTotalLimit);
  flag('ensemble', o.ensembleSize);
  return argv;
}

/**
 * `--slurm --out DIR`: the folds' training files written here, then one job array (task i trains fold i into
 * DIR/fold-<i+1>/run) and one job after it (`--aggregate`, in DIR/aggregate/) that writes DIR/suspects.json.
 * `--dry-run` prints both scripts and writes nothing.
 */
async function submitSuspects(args: ParsedArgs, output: Output): Promise<number> {
  const what = '`bertft check --suspects --slurm`';
  if (getBool(args, 'aggregate')) throw new UsageError('--aggregate and --slurm do not go together.', 'Give one.');
  const options = suspectsOptionsFromArgs(args);
  const root = path.resolve(requireString(args, 'out', 'check --suspects --slurm', 'suspects'));
  const { resources, device } = clusterJobInputs(args, what, 'task');
  const plan = await planSuspects(options);
  const scheduler = new Slurm(packageVersion());
  const command = [process.execPath, cliEntry()];
  const folds = Array.from({ length: plan.folds }, (_, f) => f);
  const arrayJob: TrainingJob = {
    name: path.basename(root),
    runDir: root,
    workDir: process.cwd(),
    command,
    trainArgs: [],
    device,
    resources,
    writtenBy: {
      command: 'bertft check --suspects --slurm',
      // A requeued or resubmitted task resumes its fold from its checkpoint; the aggregate job waits for the array.
      resubmit: `sbatch ${path.join(root, scheduler.scriptName)}`,
    },
    array: {
      tasks: folds.map((f) => ({
        runDir: foldRunDir(root, f),
        trainArgs: foldTrainArgv(foldTrainingOptions(plan, root, f, undefined)),
      })),
    },
  };
  const aggregateDir = path.join(root, 'aggregate');
  const aggregateJob = (dependsOn: string): CommandJob => ({
    name: `the aggregate step of ${what}`,
    runDir: aggregateDir,
    workDir: process.cwd(),
    command: [...command, 'check', '--suspects', '--aggregate', '--out', root, '--device', device],
    resources,
    dependsOn,
  });
  const arrayScript = scheduler.render(arrayJob);
  if (getBool(args, 'dry-run')) {
    const aggregateScript = scheduler.renderCommand(aggregateJob('<array-job-id>'));
    output.result({ event: 'dry-run', scheduler: scheduler.name, script: arrayScript, aggregateScript }, () =>
      [arrayScript, aggregateScript].join('\n'),
    );
    return EXIT_OK;
  }
  const warning = nodeLocalWarning(root);
  if (warning !== undefined) output.warn(warning);

  claimSuspectsOut(root);
  await writeSuspectsSettings(plan, options, root);
  for (const f of folds) {
    await writeFoldTrainingFile(plan, root, f);
    // Ours before its task starts: the job script logs its events into it.
    claimRunDir(foldRunDir(root, f));
  }
  const arrayFile = path.join(root, scheduler.scriptName);
  await writeFileAtomic(arrayFile, arrayScript);
  const tasks = folds.map((f) => ({ runDir: foldRunDir(root, f), index: f }));
  const { jobId, submitted } = await submitArrayScript(scheduler, arrayFile, root, tasks, []);

  fs.mkdirSync(aggregateDir, { recursive: true });
  const aggregateFile = path.join(aggregateDir, scheduler.scriptName);
  let aggregateId: string;
  try {
    await writeFileAtomic(aggregateFile, scheduler.renderCommand(aggregateJob(jobId)));
    aggregateId = await scheduler.submit(aggregateFile, aggregateDir);
  } catch (e) {
    // The folds alone would train for nothing: no job is left without the one that reads its results.
    await scheduler.cancel(jobId).catch(() => undefined);
    throw e;
  }
  await writeJobRecord(aggregateDir, {
    scheduler: scheduler.name,
    jobId: aggregateId,
    arrayIndex: null,
    submitted: new Date().toISOString(),
    restarts: 0,
    script: scheduler.scriptName,
    previousJobIds: [],
  });
  output.result(
    {
      event: 'submitted',
      scheduler: scheduler.name,
      jobId,
      aggregateJobId: aggregateId,
      out: root,
      script: arrayFile,
      aggregateScript: aggregateFile,
      submitted,
    },
    () =>
      [
        `Submitted ${scheduler.name} job array ${jobId} (${plan.folds} folds, task i trains fold i + 1): ${arrayFile}`,
        `and job ${aggregateId}, which starts once every fold has trained and writes ` +
          `${path.join(root, 'suspects.json')}.`,
        `Follow them with \`bertft jobs ${root}\`.`,
        '',
      ].join('\n'),
  );
  return EXIT_OK;
}

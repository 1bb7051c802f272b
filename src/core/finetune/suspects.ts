/**
 * `bertft check --suspects`: the rows whose label is likely wrong. The data is dealt into k stratified folds
 * (data/folds.ts); for each fold a classifier is fine-tuned on the other folds through the ordinary training session
 * (runTrainingSession, with its own validation split of those rows) and predicts the held-out fold, so every row gets
 * class probabilities from a model that never saw it. Confident learning (confident-learning.ts) then picks and ranks
 * the rows confidently of another class than their label.
 *
 * Everything is written under a folder of ours: `<out>/fold-i/train.jsonl` (the fold's training rows) and
 * `<out>/fold-i/run/` (its run folder), and `<out>/suspects.json` (the report). Without `out` that folder is a
 * temporary one, deleted at the end. The user's data file is only read.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../errors';
import { writeFileAtomic, writeJsonAtomic } from '../util/files';
import { recordOf } from '../util/records';
import { softmaxRows } from '../util/metrics';
import { readDataset } from '../data/read';
import { buildLabelMap } from '../data/labels';
import { DEFAULT_FOLDS, stratifiedFolds } from '../data/folds';
import type { Example } from '../data/types';
import type { DeviceChoice } from '../runtime/devices';
import { isFromScratch } from '../train/presets';
import { loadPredictor } from '../infer/predictor';
import { BEST_DIR } from '../run/paths';
import { runTrainingSession, type SessionOptions } from './session';
import { findLabelIssues, perClassThresholds, type Ranking } from './confident-learning';
import {
  SuspectsCancelled,
  type Suspect,
  type SuspectsOptions,
  type SuspectsReport,
  type SuspectsSink,
} from './suspects-report';

export * from './suspects-report';

/**
 * The cheap preset: half the epochs a training run would use (12 from scratch, 3 from a pre-trained model), since
 * k models are trained and out-of-fold probabilities need a fair model, not the best one.
 */
export const SUSPECTS_EPOCHS = { fromScratch: 6, pretrained: 2 } as const;

/** The longest text kept in a suspect (for display: the row itself is at file:line). */
const TEXT_PREVIEW = 300;

/** `out` absent (created) or an empty folder; anything else is the user's and refused. */
export function claimSuspectsOut(out: string): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(out);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      fs.mkdirSync(out, { recursive: true });
      return;
    }
    if (code === 'ENOTDIR') {
      throw new UserError(`The output path ${out} is a file, not a folder.`, {
        file: out,
        code: 'SUSPECTS_OUT_NOT_FOLDER',
        fix: 'Give --out a new folder name.',
      });
    }
    throw e;
  }
  if (entries.length > 0) {
    throw new UserError(`${out} is not empty; the finder writes its fold runs into a new folder.`, {
      file: out,
      code: 'SUSPECTS_OUT_NOT_EMPTY',
      fix: 'Give --out a new or empty folder, or leave --out out (the fold runs then go to a temporary folder).',
    });
  }
}

/** JSON Lines the training session reads back with the columns named explicitly. */
function foldTrainingFile(rows: Example[]): string {
  return rows
    .map((e) =>
      JSON.stringify(
        e.textPair === undefined
          ? { text: e.text, label: e.label }
          : { text: e.text, text_pair: e.textPair, label: e.label },
      ),
    )
    .map((line) => `${line}\n`)
    .join('');
}

function classesTooSmall(examples: Example[], labels: string[], k: number): void {
  for (const label of labels) {
    const rows = examples.filter((e) => e.label === label);
    // A fold's training rows must still hold two of the class: one for its training and one for its validation.
    if (rows.length - Math.ceil(rows.length / k) < 2) {
      throw new UserError(
        `The label "${label}" has ${rows.length} row${rows.length === 1 ? '' : 's'}: too few to hold some out in each of ${k} folds.`,
        {
          file: rows[0].file,
          line: rows[0].line,
          code: 'SUSPECTS_CLASS_TOO_SMALL',
          fix: 'Add rows of this label, remove it, or use fewer folds (--folds).',
        },
      );
    }
  }
}

/**
 * The finder's settings with their defaults filled in, the data read and checked, and every row's fold: all that
 * the fold trainings and the aggregate step need, computed the same way by each of them (the deal is seeded).
 */
export interface SuspectsPlan {
  /** The data file, absolute. */
  data: string;
  folds: number;
  seed: number;
  model: string;
  epochs: number;
  ranking: Ranking;
  maxLength: number | undefined;
  examples: Example[];
  labels: string[];
  /** Each row's fold, 0-based. */
  fold: Int32Array;
  pairs: boolean;
}

/** Reads and checks the data and deals its rows into the folds; writes nothing. */
export async function planSuspects(options: SuspectsOptions): Promise<SuspectsPlan> {
  const k = options.folds ?? DEFAULT_FOLDS;
  const seed = options.seed ?? 42;
  const model = options.model ?? 'random:tiny';
  const epochs = options.epochs ?? (isFromScratch(model) ? SUSPECTS_EPOCHS.fromScratch : SUSPECTS_EPOCHS.pretrained);
  const ranking = options.ranking ?? 'self-confidence';
  const dataset = await readDataset(options.data, {
    textColumn: options.textColumn,
    labelColumn: options.labelColumn,
    textPairColumn: options.textPairColumn,
  });
  const examples = dataset.examples;
  const labels = buildLabelMap(examples.map((e) => e.label)).labels;
  if (labels.length < 2) {
    throw new UserError(`Only one label ("${labels[0] ?? ''}") is in ${options.data}; nothing can be mislabeled.`, {
      file: options.data,
      code: 'DATA_ONE_CLASS',
      fix: 'Check that the right column is the label (--label-column).',
    });
  }
  const fold = stratifiedFolds(examples, k, seed);
  classesTooSmall(examples, labels, k);
  return {
    data: path.resolve(options.data),
    folds: k,
    seed,
    model,
    epochs,
    ranking,
    maxLength: options.maxLength,
    examples,
    labels,
    fold,
    pairs: dataset.textPairColumn !== undefined,
  };
}

/** `<root>/fold-<f + 1>`: fold f's training file and run folder. */
export function foldDir(root: string, f: number): string {
  return path.join(root, `fold-${f + 1}`);
}

/** The run folder fold f trains into. */
export function foldRunDir(root: string, f: number): string {
  return path.join(foldDir(root, f), 'run');
}

/** Writes `<root>/fold-<f + 1>/train.jsonl`: the rows of every other fold. */
export async function writeFoldTrainingFile(plan: SuspectsPlan, root: string, f: number): Promise<void> {
  fs.mkdirSync(foldDir(root, f), { recursive: true });
  const rows = plan.examples.filter((_, i) => plan.fold[i] !== f);
  await writeFileAtomic(path.join(foldDir(root, f), 'train.jsonl'), foldTrainingFile(rows));
}

/**
 * The training session's options of fold f, here and on a cluster alike (`bertft check --suspects --slurm` turns
 * them into the train flags of its job array's task f).
 */
export function foldTrainingOptions(
  plan: SuspectsPlan,
  root: string,
  f: number,
  device: DeviceChoice | undefined,
): SessionOptions {
  return {
    data: path.join(foldDir(root, f), 'train.jsonl'),
    out: foldRunDir(root, f),
    textColumn: 'text',
    labelColumn: 'label',
    ...(plan.pairs ? { textPairColumn: 'text_pair' } : {}),
    model: plan.model,
    epochs: plan.epochs,
    seed: plan.seed,
    maxLength: plan.maxLength,
    device,
    saveTotalLimit: 1,
    // One model per fold: the folds are already k runs, and bench:suspects measured the finder with single models.
    ensembleSize: 1,
  };
}

/** Trains fold f into its run folder (its training file written first); false when it was stopped. */
export async function trainFold(
  plan: SuspectsPlan,
  root: string,
  f: number,
  device: DeviceChoice | undefined,
  sink: SuspectsSink = {},
): Promise<boolean> {
  await writeFoldTrainingFile(plan, root, f);
  const done = await runTrainingSession(foldTrainingOptions(plan, root, f, device), {
    emit: (e) => sink.emit?.(e),
    shouldStop: sink.shouldStop,
    onDownload: sink.onDownload,
  });
  return !done.stopped;
}

/** Out-of-fold probabilities, row by row in the data's label order. */
export function emptyProbabilities(plan: SuspectsPlan): Float32Array {
  return new Float32Array(plan.examples.length * plan.labels.length);
}

/** Fold f's trained model (its run's best/) predicts the fold's held-out rows into `probabilities`. */
export async function predictFold(
  plan: SuspectsPlan,
  root: string,
  f: number,
  probabilities: Float32Array,
  device: DeviceChoice | undefined,
): Promise<void> {
  const heldOut = plan.examples.map((_, i) => i).filter((i) => plan.fold[i] === f);
  await predictInto(foldRunDir(root, f), plan.examples, heldOut, plan.labels, probabilities, device);
}

export async function findSuspects(options: SuspectsOptions, sink: SuspectsSink = {}): Promise<SuspectsReport> {
  const plan = await planSuspects(options);
  const k = plan.folds;
  const keep = options.out !== undefined;
  const root = keep ? path.resolve(options.out as string) : fs.mkdtempSync(path.join(os.tmpdir(), 'bertft-suspects-'));
  if (keep) claimSuspectsOut(root);
  const probabilities = emptyProbabilities(plan);
  try {
    for (let f = 0; f < k; f++) {
      if (sink.shouldStop?.()) throw new SuspectsCancelled();
      sink.onFold?.({ fold: f + 1, folds: k, phase: 'train' });
      if (!(await trainFold(plan, root, f, options.device, sink))) throw new SuspectsCancelled();
      sink.onFold?.({ fold: f + 1, folds: k, phase: 'predict' });
      await predictFold(plan, root, f, probabilities, options.device);
    }
  } finally {
    if (!keep) fs.rmSync(root, { recursive: true, force: true });
  }
  return suspectsReport(plan, probabilities, keep ? root : undefined);
}

/**
 * The aggregate step of folds trained elsewhere (a cluster's job array): every fold's model predicts its held-out
 * rows, and the report is written to `<root>/suspects.json` as findSuspects writes it.
 */
export async function aggregateSuspects(
  plan: SuspectsPlan,
  root: string,
  device: DeviceChoice | undefined,
  sink: SuspectsSink = {},
): Promise<SuspectsReport> {
  const probabilities = emptyProbabilities(plan);
  for (let f = 0; f < plan.folds; f++) {
    const best = path.join(foldRunDir(root, f), BEST_DIR);
    if (!fs.existsSync(best)) {
      throw new UserError(`Fold ${f + 1} has no trained model: ${best} does not exist.`, {
        file: foldRunDir(root, f),
        code: 'SUSPECTS_FOLD_NOT_TRAINED',
        fix: `Check the fold's job with \`bertft jobs ${root}\` and its log; train it again before aggregating.`,
      });
    }
    sink.onFold?.({ fold: f + 1, folds: plan.folds, phase: 'predict' });
    await predictFold(plan, root, f, probabilities, device);
  }
  return suspectsReport(plan, probabilities, root);
}

/** Confident learning on the out-of-fold probabilities; written to `<out>/suspects.json` when `out` is given. */
async function suspectsReport(
  plan: SuspectsPlan,
  probabilities: Float32Array,
  out: string | undefined,
): Promise<SuspectsReport> {
  const { examples, labels } = plan;
  const numClasses = labels.length;
  const label2id = new Map(labels.map((l, i) => [l, i]));
  const given = Int32Array.from(examples, (e) => label2id.get(e.label) as number);
  const table = { probabilities, given, numClasses };
  const thresholds = perClassThresholds(table);
  let correct = 0;
  for (let i = 0; i < examples.length; i++) {
    const row = probabilities.subarray(i * numClasses, (i + 1) * numClasses);
    if (row.indexOf(Math.max(...row)) === given[i]) correct++;
  }
  const suspects = findLabelIssues(table, plan.ranking).map((issue): Suspect => {
    const e = examples[issue.row];
    return {
      file: e.file,
      line: e.line,
      text: e.text.slice(0, TEXT_PREVIEW),
      ...(e.textPair !== undefined ? { textPair: e.textPair.slice(0, TEXT_PREVIEW) } : {}),
      given: labels[issue.given],
      suggested: labels[issue.suggested],
      selfConfidence: issue.selfConfidence,
      margin: issue.margin,
      probabilities: recordOf(labels.map((l, j) => [l, probabilities[issue.row * numClasses + j]])),
    };
  });
  const report: SuspectsReport = {
    event: 'suspects',
    data: plan.data,
    rows: examples.length,
    folds: plan.folds,
    seed: plan.seed,
    model: plan.model,
    epochs: plan.epochs,
    ranking: plan.ranking,
    labels,
    thresholds: recordOf(labels.map((l, j) => [l, thresholds[j]])),
    outOfFoldAccuracy: correct / examples.length,
    suspects,
    ...(out !== undefined ? { out } : {}),
  };
  if (out !== undefined) await writeJsonAtomic(path.join(out, 'suspects.json'), report);
  return report;
}

/** The fold's model's probabilities of the held-out rows, written into `probabilities` in the data's label order. */
async function predictInto(
  run: string,
  examples: Example[],
  rows: number[],
  labels: string[],
  probabilities: Float32Array,
  device: DeviceChoice | undefined,
): Promise<void> {
  const predictor = await loadPredictor(run, { device });
  try {
    const texts = rows.map((i) => examples[i].text);
    const pairs = examples[0].textPair !== undefined ? rows.map((i) => examples[i].textPair ?? '') : undefined;
    const modelLabels = predictor.labels;
    const p = softmaxRows(await predictor.logits(texts, pairs), modelLabels.length);
    const columnOf = modelLabels.map((l) => labels.indexOf(l));
    const numClasses = labels.length;
    rows.forEach((row, r) => {
      columnOf.forEach((column, m) => (probabilities[row * numClasses + column] = p[r * modelLabels.length + m]));
    });
  } finally {
    await predictor.dispose();
  }
}

/** `<out>/suspects-settings.json`: what the aggregate step of folds trained elsewhere needs to deal the rows again. */
export const SUSPECTS_SETTINGS = 'suspects-settings.json';

interface SuspectsSettings extends Omit<SuspectsOptions, 'out' | 'device'> {
  /** Rows the data had when the folds were dealt: the aggregate step refuses a data file changed since. */
  rows: number;
}

/** Writes the plan's settings (every default filled in, the data path absolute) to `<root>/suspects-settings.json`. */
export async function writeSuspectsSettings(plan: SuspectsPlan, options: SuspectsOptions, root: string): Promise<void> {
  const settings: SuspectsSettings = {
    data: plan.data,
    textColumn: options.textColumn,
    labelColumn: options.labelColumn,
    textPairColumn: options.textPairColumn,
    folds: plan.folds,
    seed: plan.seed,
    model: plan.model,
    epochs: plan.epochs,
    maxLength: plan.maxLength,
    ranking: plan.ranking,
    rows: plan.examples.length,
  };
  await writeJsonAtomic(path.join(root, SUSPECTS_SETTINGS), settings);
}

/** The plan of the folds written into `root` by `bertft check --suspects --slurm`, dealt again from its settings. */
export async function readSuspectsPlan(root: string): Promise<SuspectsPlan> {
  const file = path.join(root, SUSPECTS_SETTINGS);
  let settings: SuspectsSettings;
  try {
    settings = JSON.parse(fs.readFileSync(file, 'utf8')) as SuspectsSettings;
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw new UserError(`${file} ${missing ? 'does not exist' : 'is not valid JSON'}.`, {
      file,
      code: 'SUSPECTS_NO_SETTINGS',
      fix: 'Give --out the folder `bertft check --suspects --slurm` wrote its folds into.',
    });
  }
  if (typeof settings !== 'object' || settings === null || typeof settings.data !== 'string') {
    throw new UserError(`${file} holds no data file.`, {
      file,
      code: 'SUSPECTS_NO_SETTINGS',
      fix: 'Give --out the folder `bertft check --suspects --slurm` wrote its folds into.',
    });
  }
  const { rows, ...options } = settings;
  const plan = await planSuspects(options);
  if (plan.examples.length !== rows) {
    throw new UserError(`${plan.data} has ${plan.examples.length} rows now; its folds were dealt from ${rows}.`, {
      file: plan.data,
      code: 'SUSPECTS_DATA_CHANGED',
      fix: 'Run the finder again on the data as it is now.',
    });
  }
  return plan;
}

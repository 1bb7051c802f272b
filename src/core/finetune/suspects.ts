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
import { runTrainingSession } from './session';
import { findLabelIssues, perClassThresholds } from './confident-learning';
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
function claimOut(out: string): void {
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

export async function findSuspects(options: SuspectsOptions, sink: SuspectsSink = {}): Promise<SuspectsReport> {
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

  const keep = options.out !== undefined;
  const root = keep ? path.resolve(options.out as string) : fs.mkdtempSync(path.join(os.tmpdir(), 'bertft-suspects-'));
  if (keep) claimOut(root);
  const numClasses = labels.length;
  const probabilities = new Float32Array(examples.length * numClasses);
  try {
    for (let f = 0; f < k; f++) {
      if (sink.shouldStop?.()) throw new SuspectsCancelled();
      sink.onFold?.({ fold: f + 1, folds: k, phase: 'train' });
      const foldDir = path.join(root, `fold-${f + 1}`);
      fs.mkdirSync(foldDir, { recursive: true });
      const trainFile = path.join(foldDir, 'train.jsonl');
      await writeFileAtomic(trainFile, foldTrainingFile(examples.filter((_, i) => fold[i] !== f)));
      const run = path.join(foldDir, 'run');
      const done = await runTrainingSession(
        {
          data: trainFile,
          out: run,
          textColumn: 'text',
          labelColumn: 'label',
          ...(dataset.textPairColumn !== undefined ? { textPairColumn: 'text_pair' } : {}),
          model,
          epochs,
          seed,
          maxLength: options.maxLength,
          device: options.device,
          saveTotalLimit: 1,
        },
        { emit: (e) => sink.emit?.(e), shouldStop: sink.shouldStop, onDownload: sink.onDownload },
      );
      if (done.stopped) throw new SuspectsCancelled();
      sink.onFold?.({ fold: f + 1, folds: k, phase: 'predict' });
      const heldOut = examples.map((_, i) => i).filter((i) => fold[i] === f);
      await predictInto(run, examples, heldOut, labels, probabilities, options.device);
    }
  } finally {
    if (!keep) fs.rmSync(root, { recursive: true, force: true });
  }

  const label2id = new Map(labels.map((l, i) => [l, i]));
  const given = Int32Array.from(examples, (e) => label2id.get(e.label) as number);
  const table = { probabilities, given, numClasses };
  const thresholds = perClassThresholds(table);
  let correct = 0;
  for (let i = 0; i < examples.length; i++) {
    const row = probabilities.subarray(i * numClasses, (i + 1) * numClasses);
    if (row.indexOf(Math.max(...row)) === given[i]) correct++;
  }
  const suspects = findLabelIssues(table, ranking).map((issue): Suspect => {
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
    data: path.resolve(options.data),
    rows: examples.length,
    folds: k,
    seed,
    model,
    epochs,
    ranking,
    labels,
    thresholds: recordOf(labels.map((l, j) => [l, thresholds[j]])),
    outOfFoldAccuracy: correct / examples.length,
    suspects,
    ...(keep ? { out: root } : {}),
  };
  if (keep) await writeJsonAtomic(path.join(root, 'suspects.json'), report);
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

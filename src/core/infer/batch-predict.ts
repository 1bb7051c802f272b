/**
 * Predict a whole dataset file (CSV/TSV, JSONL, JSON array) or class folder with a trained model: one
 * predictions CSV next to the input (text, true label when present, predicted label, its score, every class's
 * probability), and, when the input has labels, accuracy and the confusion matrix. Labels are optional here, unlike
 * for training: an unlabelled file is simply predicted. A multi-label model writes every label at or above its
 * threshold (joined by `|`) and every label's sigmoid probability; a regression model its number. Neither is scored
 * here (`bertft eval` scores them).
 */
import * as path from 'node:path';
import { TEXT_COLUMN_NAMES, LABEL_COLUMN_NAMES, canonicalLabel, detectFormat, readDataset } from '../data';
import { detectTextPairColumns, findColumn } from '../data/columns';
import { readRows } from '../data/read';
import { statInput } from '../data/source';
import { DataError, UserError } from '../errors';
import { writeFileAtomic } from '../util/files';
import { samePath } from '../util/same-path';
import { confusionCounts } from '../util/metrics';
import { ownValue } from '../util/records';
import type { Prediction } from './predictor';

/** What batch prediction needs of a model: the in-process Predictor or the extension's worker proxy. */
export interface PredictFn {
  readonly labels: readonly string[];
  /** A regression model: one number per text. */
  readonly regression?: boolean;
  /** A multi-label model's threshold per label (then every label at or above its own is predicted). */
  readonly thresholds?: ArrayLike<number>;
  predict(texts: string[]): Promise<Prediction[]>;
}

/** Separates a multi-label prediction's labels in the predictions CSV (as `--label-separator` would read them). */
export const PREDICTED_LABEL_SEPARATOR = '|';

/** The predictions CSV's columns after the true label: what each kind of model predicts. */
function predictionColumns(model: PredictFn): { header: string[]; cells: (p: Prediction) => (string | number)[] } {
  if (model.regression) return { header: ['predicted'], cells: (p) => [(p.value ?? p.score).toFixed(6)] };
  const probabilities = (p: Prediction) => model.labels.map((l) => (ownValue(p.scores, l) ?? 0).toFixed(6));
  const perLabel = model.labels.map((l) => `p_${l}`);
  if (model.thresholds !== undefined) {
    return {
      header: ['predicted', ...perLabel],
      cells: (p) => [(p.predicted ?? []).map((l) => l.label).join(PREDICTED_LABEL_SEPARATOR), ...probabilities(p)],
    };
  }
  return {
    header: ['predicted', 'score', ...perLabel],
    cells: (p) => [p.label, p.score.toFixed(6), ...probabilities(p)],
  };
}

export interface InputRow {
  text: string;
  /** The second text, when the input has a text-pair column. */
  textPair?: string;
  /** The true label, when the input has a label column (or is a class folder). */
  label?: string;
  file: string;
  line: number;
}

export interface ReadInputOptions {
  textColumn?: string;
  labelColumn?: string;
  textPairColumn?: string;
}

function labelOf(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  if (typeof value === 'string' && value.trim() !== '') return canonicalLabel(value);
  return undefined;
}

/** The column (or key) names of a dataset file, from its first row: what a user chooses the text column among. */
export async function readColumns(input: string): Promise<string[]> {
  if ((await statInput(input)).isDirectory()) return [];
  const header = { columns: [] as string[] };
  const rows = readRows(input, await detectFormat(input), header);
  await rows.next();
  await rows.return(undefined);
  return header.columns;
}

/** Rows of a dataset file or folder; the label column is used when there is one. */
export async function readInputRows(
  input: string,
  options: ReadInputOptions = {},
): Promise<{ rows: InputRow[]; labelled: boolean }> {
  if ((await statInput(input)).isDirectory()) {
    const dataset = await readDataset(input, { format: 'folder' });
    return { rows: dataset.examples.map((e) => ({ ...e })), labelled: true };
  }
  const header = { columns: [] as string[] };
  const source = readRows(input, await detectFormat(input), header);
  const rows: InputRow[] = [];
  let textKey: string | undefined;
  let labelKey: string | undefined;
  let pairKey: string | undefined;
  for await (const row of source) {
    if (textKey === undefined) {
      const pick = (wanted: string | undefined, names: string[], role: string): string | undefined => {
        if (wanted === undefined) return names.map((n) => findColumn(header.columns, n)).find((c) => c !== undefined);
        const found = findColumn(header.columns, wanted);
        if (found === undefined) {
          throw new DataError(
            `There is no ${role} column named "${wanted}". Columns found: ${header.columns.map((c) => `"${c}"`).join(', ')}.`,
            {
              file: input,
              line: 1,
              code: 'DATA_UNKNOWN_COLUMN',
              fix: `Choose one of the columns found as the ${role} column.`,
            },
          );
        }
        return found;
      };
      const pair = detectTextPairColumns(header.columns, options);
      textKey = pair?.text ?? pick(options.textColumn, TEXT_COLUMN_NAMES, 'text');
      pairKey =
        pair?.textPair ??
        (options.textPairColumn === undefined ? undefined : pick(options.textPairColumn, [], 'second text'));
      if (textKey === undefined) {
        throw new DataError(
          `Cannot tell which column holds the text. Columns found: ${header.columns.map((c) => `"${c}"`).join(', ')}.`,
          {
            file: input,
            line: 1,
            code: 'DATA_NO_TEXT_COLUMN',
            fix: `Rename the text column to "text", or choose it explicitly (textColumn).`,
          },
        );
      }
      labelKey = pick(options.labelColumn, LABEL_COLUMN_NAMES, 'label');
    }
    const text = ownValue(row.fields, textKey);
    if (typeof text !== 'string' && typeof text !== 'number') {
      throw new DataError(`Row has no text (column "${textKey}" is empty, missing or not a string).`, {
        file: input,
        line: row.line,
        code: 'DATA_MISSING_TEXT',
        fix: 'Fill in the text or delete the row.',
      });
    }
    const textPair = pairKey === undefined ? undefined : ownValue(row.fields, pairKey);
    if (pairKey !== undefined && ((typeof textPair !== 'string' && typeof textPair !== 'number') || textPair === '')) {
      throw new DataError(`Row has no second text (column "${pairKey}" is empty, missing or not a string).`, {
        file: input,
        line: row.line,
        code: 'DATA_MISSING_TEXT_PAIR',
        fix: `Fill in the second text ("${pairKey}") or delete the row.`,
      });
    }
    rows.push({
      text: String(text),
      ...(pairKey === undefined ? {} : { textPair: String(textPair) }),
      label: labelKey === undefined ? undefined : labelOf(ownValue(row.fields, labelKey)),
      file: input,
      line: row.line,
    });
  }
  return { rows, labelled: labelKey !== undefined && rows.some((r) => r.label !== undefined) };
}

export interface ConfusionMatrix {
  /** Row labels: true labels (the model's, then any the model does not know). */
  trueLabels: string[];
  /** Column labels: the model's labels. */
  predictedLabels: string[];
  /** counts[t][p]: rows with true label trueLabels[t] predicted as predictedLabels[p]. */
  counts: number[][];
}

export interface Evaluation {
  /** Rows with a true label. */
  evaluated: number;
  correct: number;
  accuracy: number;
  confusion: ConfusionMatrix;
  /** True labels the model cannot predict (always counted wrong). */
  unknownLabels: string[];
}

/** Accuracy and confusion matrix over the rows that have a true label. */
export function evaluatePredictions(
  labels: readonly string[],
  truth: readonly (string | undefined)[],
  predicted: readonly string[],
): Evaluation {
  const unknown = [...new Set(truth.filter((t): t is string => t !== undefined && !labels.includes(t)))].sort();
  const trueLabels = [...labels, ...unknown];
  const rows = truth.flatMap((t, i) => (t === undefined ? [] : [i]));
  const counts = confusionCounts(
    rows.map((i) => trueLabels.indexOf(truth[i]!)),
    rows.map((i) => labels.indexOf(predicted[i])),
    trueLabels.length,
    labels.length,
  );
  const evaluated = rows.length;
  const correct = rows.filter((i) => truth[i] === predicted[i]).length;
  return {
    evaluated,
    correct,
    accuracy: evaluated === 0 ? 0 : correct / evaluated,
    unknownLabels: unknown,
    confusion: { trueLabels, predictedLabels: [...labels], counts },
  };
}

export interface PredictDatasetOptions extends ReadInputOptions {
  /** Output CSV; default `<input>.predictions.csv` next to the input. */
  out?: string;
  /** Texts per predict() call, between progress reports and cancellation checks (default 64). */
  chunkSize?: number;
  onProgress?(done: number, total: number): void;
  /** Checked between chunks; when aborted, nothing is written and a UserError with code CANCELLED is thrown. */
  signal?: AbortSignal;
}

export interface DatasetPredictionReport {
  input: string;
  output: string;
  rows: number;
  labelled: boolean;
  /** Present when the input has labels. */
  evaluation?: Evaluation;
}

export function defaultPredictionsFile(input: string): string {
  const resolved = path.resolve(input);
  const ext = path.extname(resolved);
  return `${ext ? resolved.slice(0, -ext.length) : resolved}.predictions.csv`;
}

function csvField(value: string | number): string {
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export class CancelledError extends UserError {
  constructor(what: string) {
    super(`${what} was cancelled.`, { code: 'CANCELLED' });
    this.name = 'CancelledError';
  }
}

export async function predictDataset(
  model: PredictFn,
  input: string,
  options: PredictDatasetOptions = {},
): Promise<DatasetPredictionReport> {
  if (options.out !== undefined && samePath(options.out, input)) {
    throw new UserError(`The predictions would be written over the input file ${input}.`, {
      file: input,
      code: 'PREDICT_OUT_IS_INPUT',
      fix: `Choose another output file, or leave it out to write ${path.basename(defaultPredictionsFile(input))} next to the input.`,
    });
  }
  const { rows, labelled } = await readInputRows(input, options);
  if (rows.length === 0) {
    throw new DataError('There is nothing to predict: the input has no rows.', {
      file: input,
      code: 'DATA_EMPTY_FILE',
      fix: 'Choose a file with at least one text.',
    });
  }
  const chunk = options.chunkSize ?? 64;
  const predictions: Prediction[] = [];
  options.onProgress?.(0, rows.length);
  for (let i = 0; i < rows.length; i += chunk) {
    if (options.signal?.aborted) throw new CancelledError('Prediction');
    predictions.push(...(await model.predict(rows.slice(i, i + chunk).map((r) => r.text))));
    options.onProgress?.(predictions.length, rows.length);
  }
  if (options.signal?.aborted) throw new CancelledError('Prediction');

  const folder = rows[0].file !== input;
  const columns = predictionColumns(model);
  const header = [...(folder ? ['file'] : ['line']), 'text', ...(labelled ? ['label'] : []), ...columns.header];
  const lines = [header.map(csvField).join(',')];
  rows.forEach((r, i) => {
    const p = predictions[i];
    lines.push(
      [
        folder ? path.relative(input, r.file) : r.line,
        r.text,
        ...(labelled ? [r.label ?? ''] : []),
        ...columns.cells(p),
      ]
        .map(csvField)
        .join(','),
    );
  });
  const output = options.out ?? defaultPredictionsFile(input);
  await writeFileAtomic(output, lines.join('\n') + '\n');
  return {
    input,
    output,
    rows: rows.length,
    labelled,
    evaluation:
      labelled && !model.regression && model.thresholds === undefined
        ? evaluatePredictions(
            model.labels,
            rows.map((r) => r.label),
            predictions.map((p) => p.label),
          )
        : undefined,
  };
}

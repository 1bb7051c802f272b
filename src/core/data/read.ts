/**
 * readDataset: any supported file or folder → Examples with file and line, plus the problems met on the way.
 *
 * What stops reading (a thrown DataError) and what is only reported (a DataProblem in `dataset.problems`, or in the
 * dataset check):
 *  - Always thrown: the data cannot be read as a dataset at all — missing or unreadable path, empty file, header
 *    without rows, broken syntax (CSV quoting, invalid JSON on a line), bytes that are not UTF-8 in a CSV/JSON file,
 *    text or label column not found, a folder without class subfolders. Nothing after such a point can be trusted.
 *  - Row errors — a row without text or label, a label that is neither string nor integer, labels of mixed types —
 *    are thrown at the first one by default (training must not silently drop rows), or with `lenient: true` (the
 *    dataset check) recorded as 'error' problems and the row skipped, so that every bad row is listed at once.
 *  - Reported, never thrown: skipped documents in a class folder (binary, not UTF-8, empty), files outside class
 *    folders; and everything the check finds in readable data (one class, imbalance, duplicates, leakage, label
 *    spelling variants, blank texts, truncation).
 */
import * as path from 'node:path';
import { DataError } from '../errors';
import { detectColumns, type ColumnChoice, type ColumnOverrides } from './columns';
import { readCsvRows } from './csv';
import { readFolder } from './folder';
import { readJsonArrayRows, readJsonlRows } from './json';
import { ExampleCollector, type RawRow } from './rows';
import { readCheckedChunks, statInput } from './source';
import type { DataFormat, Dataset } from './types';
import * as fsp from 'node:fs/promises';

export interface ReadOptions extends ColumnOverrides {
  /** Force a format instead of deciding from the extension (and, for unknown extensions, the first character). */
  format?: DataFormat;
  /** CSV/TSV delimiter; sniffed from the header line when absent. */
  delimiter?: string;
  /** Record row errors as problems and skip the row, instead of throwing at the first one. */
  lenient?: boolean;
  /**
   * Each row has a set of labels (`--task multi-label`); also implied by labelSeparator and labelColumns, and
   * detected without it when the first row's label is a JSON list.
   */
  multiLabel?: boolean;
  /** The separator of a multi-label cell (`--label-separator`); detected in CSV/TSV when absent. */
  labelSeparator?: string;
  /** Labels are numbers (`--task regression`): a JSON label may have a fraction, which is refused for classes. */
  numericLabels?: boolean;
}

async function firstNonSpaceChar(file: string): Promise<string> {
  for await (const { bytes } of readCheckedChunks(file, 64 * 1024)) {
    const text = bytes
      .toString('utf8')
      .replace(/^\uFEFF/, '')
      .trimStart();
    if (text.length > 0) return text[0];
  }
  return '';
}

/** The format of a file, from its extension; JSON-looking content decides for .json and unknown extensions. */
/**
 * The raw rows of a dataset file in `format`, fields by column (or key) name, `header.columns` filled from the first
 * row: the one dispatch over the file readers, for labelled data, prediction input and pre-training text alike.
 */
export function readRows(
  input: string,
  format: Exclude<DataFormat, 'folder'>,
  header: { columns: string[] },
  delimiter?: string,
): AsyncGenerator<RawRow> {
  if (format === 'csv' || format === 'tsv')
    return readCsvRows(input, header, { delimiter, defaultDelimiter: format === 'tsv' ? '\t' : ',' });
  return format === 'jsonl' ? readJsonlRows(input, header) : readJsonArrayRows(input, header);
}

export async function detectFormat(file: string): Promise<Exclude<DataFormat, 'folder'>> {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.tsv' || ext === '.tab') return 'tsv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  const first = await firstNonSpaceChar(file);
  if (first === '[') return 'json';
  if (first === '{') return 'jsonl'; // many ".json" exports (e.g. Hugging Face datasets) are JSON Lines
  return ext === '.json' ? 'json' : 'csv';
}

/** Formats people often try, with what to do instead. */
const CONVERT = 'Export or convert the data to CSV (with a header row), JSON Lines, or a folder per class.';
const UNSUPPORTED = new Map<string, [what: string, fix: string]>([
  ...(['.xlsx', '.xls'] as const).map((e) => [e, ['Excel workbooks', CONVERT]] as [string, [string, string]]),
  ['.ods', ['spreadsheets', CONVERT]],
  ['.parquet', ['Parquet files', CONVERT]],
  ['.arrow', ['Arrow files', CONVERT]],
  ['.feather', ['Feather files', CONVERT]],
  ['.pkl', ['pickles', CONVERT]],
  ['.zip', ['zip archives', CONVERT]],
  ['.gz', ['compressed files', CONVERT]],
]);

/** A .json file that is one object rather than a list of examples (e.g. {"data": [...]}) is refused, not read as one row. */
async function refuseSingleObject(file: string): Promise<void> {
  const stat = await fsp.stat(file);
  if (stat.size > 64 * 1024 * 1024) return;
  let value: unknown;
  try {
    value = JSON.parse((await fsp.readFile(file, 'utf8')).replace(/^\uFEFF/, ''));
  } catch {
    return; // several objects, one per line: JSON Lines
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const lists = Object.entries(value)
      .filter(([, v]) => Array.isArray(v))
      .map(([k]) => JSON.stringify(k));
    throw new DataError('This .json file holds one JSON object, not a list of examples.', {
      file,
      line: 1,
      code: 'DATA_JSON_SINGLE_OBJECT',
      fix: `Save the examples as a JSON array ([{"text": …, "label": …}, …]) or as JSON Lines (one object per line, .jsonl)${lists.length ? `; the list under ${lists.slice(0, 3).join(', ')} may be it` : ''}.`,
    });
  }
}

/**
 * A .txt file is read as a delimited table only when its header names a text and a label column; a plain text file
 * (sentences, no labels: the usual mistake) is refused as such rather than reported as a CSV without columns.
 */
function detectTxtColumns<T>(input: string, ext: string, detect: () => T): T {
  try {
    return detect();
  } catch (e) {
    const code = (e as DataError).code;
    if (ext !== '.txt' || (code !== 'DATA_NO_TEXT_COLUMN' && code !== 'DATA_NO_LABEL_COLUMN')) throw e;
    throw new DataError('A plain-text file has no labels, so it cannot be trained on.', {
      file: input,
      code: 'DATA_UNSUPPORTED_FORMAT',
      cause: e,
      fix: 'Use a CSV with a text and a label column, or a folder per class holding .txt documents (data/spam/1.txt, data/ham/2.txt).',
    });
  }
}

export async function readDataset(input: string, options: ReadOptions = {}): Promise<Dataset> {
  const stat = await statInput(input);
  const ext = path.extname(input).toLowerCase();
  const unsupported = UNSUPPORTED.get(ext);
  if (stat.isFile() && unsupported && options.format === undefined) {
    throw new DataError(`${unsupported[0]} (${ext}) cannot be read as a labelled dataset.`, {
      file: input,
      code: 'DATA_UNSUPPORTED_FORMAT',
      fix: unsupported[1],
    });
  }
  if (options.format === 'folder' && !stat.isDirectory()) {
    throw new DataError('Folder-per-class data must be a folder, but this is a file.', {
      file: input,
      code: 'DATA_NOT_A_FOLDER',
      fix: 'Pick the folder that holds one subfolder per class.',
    });
  }
  if (stat.isDirectory()) {
    if (options.multiLabel || options.labelSeparator !== undefined || options.labelColumns !== undefined) {
      throw new DataError('A folder per class gives each document one label, so it cannot hold multi-label data.', {
        file: input,
        code: 'DATA_MULTI_LABEL_FOLDER',
        fix: 'Give a CSV/TSV (labels in one delimited cell, or one 0/1 column per label) or JSON Lines (labels as a list).',
      });
    }
    const { examples, labelKind, problems } = await readFolder(input);
    return { path: input, format: 'folder', examples, labelKind, columns: [], problems };
  }
  // (A 'folder' format for a file was refused above.)
  const format =
    options.format !== undefined && options.format !== 'folder' ? options.format : await detectFormat(input);
  if (format === 'jsonl' && ext === '.json') await refuseSingleObject(input);
  const header = { columns: [] as string[] };
  const rows = readRows(input, format, header, options.delimiter);
  let collector: ExampleCollector | undefined;
  let columns: ColumnChoice = { text: '', label: '' };
  for await (const row of rows) {
    if (collector === undefined) {
      columns = detectTxtColumns(input, ext, () => detectColumns(header.columns, options, input));
      const multi = options.multiLabel === true || options.labelSeparator !== undefined;
      collector = new ExampleCollector(input, columns, options.lenient ?? false, {
        mode: multi ? 'multi' : 'auto',
        separator: options.labelSeparator,
        lists: format === 'json' || format === 'jsonl',
        numbers: options.numericLabels === true,
      });
    }
    collector.add(row);
  }
  if (collector === undefined) {
    if (format === 'csv' || format === 'tsv') detectColumns(header.columns, options, input);
    throw new DataError(format === 'json' ? 'The JSON array is empty.' : 'The file has a header but no data rows.', {
      file: input,
      line: 1,
      code: 'DATA_NO_ROWS',
      fix: 'Add at least one example per class (a few hundred per class is a good start).',
    });
  }
  const labelKind = collector.finish();
  return {
    path: input,
    format,
    examples: collector.examples,
    labelKind,
    textColumn: columns.text,
    labelColumn: columns.label,
    ...(columns.textPair !== undefined ? { textPairColumn: columns.textPair } : {}),
    ...(collector.multiLabel !== undefined ? { multiLabel: collector.multiLabel } : {}),
    columns: header.columns,
    problems: collector.problems,
  };
}

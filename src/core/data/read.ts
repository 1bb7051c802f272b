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
import { detectColumns, type ColumnOverrides } from './columns';
import { readCsvRows } from './csv';
import { readFolder } from './folder';
import { readJsonArrayRows, readJsonlRows } from './json';
import { ExampleCollector, type RawRow } from './rows';
import { readCheckedChunks, statInput } from './source';
import type { DataFormat, Dataset } from './types';

export interface ReadOptions extends ColumnOverrides {
  /** Force a format instead of deciding from the extension (and, for unknown extensions, the first character). */
  format?: DataFormat;
  /** CSV/TSV delimiter; sniffed from the header line when absent. */
  delimiter?: string;
  /** Record row errors as problems and skip the row, instead of throwing at the first one. */
  lenient?: boolean;
}

async function firstNonSpaceChar(file: string): Promise<string> {
  for await (const { bytes } of readCheckedChunks(file, 64 * 1024)) {
    const text = bytes.toString('utf8').replace(/^\uFEFF/, '').trimStart();
    if (text.length > 0) return text[0];
  }
  return '';
}

/** The format of a file, from its extension; JSON-looking content decides for .json and unknown extensions. */
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
const UNSUPPORTED: Record<string, string> = {
  '.xlsx': 'Excel workbooks', '.xls': 'Excel workbooks', '.ods': 'spreadsheets', '.parquet': 'Parquet files',
  '.arrow': 'Arrow files', '.feather': 'Feather files', '.pkl': 'pickles', '.zip': 'zip archives', '.gz': 'compressed files',
};

export async function readDataset(input: string, options: ReadOptions = {}): Promise<Dataset> {
  const stat = await statInput(input);
  const ext = path.extname(input).toLowerCase();
  if (stat.isFile() && UNSUPPORTED[ext] && options.format === undefined) {
    throw new DataError(`${UNSUPPORTED[ext]} (${ext}) cannot be read directly.`, {
      file: input,
      code: 'DATA_UNSUPPORTED_FORMAT',
      fix: 'Export or convert the data to CSV (with a header row), JSON Lines, or a folder per class.',
    });
  }
  if (options.format === 'folder' && !stat.isDirectory()) {
    throw new DataError('Folder-per-class data must be a folder, but this is a file.', {
      file: input, code: 'DATA_NOT_A_FOLDER', fix: 'Pick the folder that holds one subfolder per class.',
    });
  }
  if (stat.isDirectory()) {
    const { examples, labelKind, problems } = await readFolder(input);
    return { path: input, format: 'folder', examples, labelKind, columns: [], problems };
  }
  const format = options.format ?? (await detectFormat(input));
  const header = { columns: [] as string[] };
  const rows: AsyncGenerator<RawRow> =
    format === 'csv' || format === 'tsv'
      ? readCsvRows(input, header, { delimiter: options.delimiter, defaultDelimiter: format === 'tsv' ? '\t' : ',' })
      : format === 'jsonl'
        ? readJsonlRows(input, header)
        : readJsonArrayRows(input, header);
  let collector: ExampleCollector | undefined;
  let columns = { text: '', label: '' };
  for await (const row of rows) {
    if (collector === undefined) {
      columns = detectColumns(header.columns, options, input);
      collector = new ExampleCollector(input, columns, options.lenient ?? false);
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
    columns: header.columns,
    problems: collector.problems,
  };
}

/** `bertft predict`: classify --text values and/or the texts of a --file; one line per text (JSON with --json). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { DataError } from '../core/errors';
import { TEXT_COLUMN_NAMES } from '../core/data/columns';
import { loadPredictor } from '../core/infer/predictor';
import { getList, getString, requireString, UsageError, type ParsedArgs } from './args';
import { EXIT_OK, type CliIo } from './main';

function pickColumn(columns: string[], wanted: string | undefined, file: string): string {
  const lower = columns.map((c) => c.trim().toLowerCase());
  const found = wanted !== undefined
    ? columns[lower.indexOf(wanted.trim().toLowerCase())]
    : TEXT_COLUMN_NAMES.map((n) => columns[lower.indexOf(n)]).find((c) => c !== undefined);
  if (found === undefined) {
    throw new DataError(`${wanted !== undefined ? `No column "${wanted}"` : 'No text column'} found; the columns are ${columns.map((c) => `"${c}"`).join(', ') || '(none)'}.`,
      { file, line: 1, code: 'DATA_NO_TEXT_COLUMN', fix: 'Name the text column with --text-column.' });
  }
  return found;
}

/** Texts from a .txt (one per line), .jsonl/.ndjson (a text field per line) or .csv/.tsv (a text column) file. */
export function readTexts(file: string, textColumn?: string): string[] {
  let content: string;
  try {
    content = fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch (e) {
    throw new DataError(`Cannot read ${file}.`, { file, code: 'DATA_UNREADABLE', cause: e, fix: 'Check the path given to --file.' });
  }
  const ext = path.extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') {
    const texts: string[] = [];
    const lines = content.split(/\r?\n/);
    let column: string | undefined;
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch {
        throw new DataError('This line is not valid JSON.', { file, line: i + 1, code: 'DATA_BAD_JSON', fix: 'Write one JSON object per line.' });
      }
      if (typeof row !== 'object' || row === null) throw new DataError('This line is not a JSON object.', { file, line: i + 1, code: 'DATA_BAD_JSON' });
      column ??= pickColumn(Object.keys(row), textColumn, file);
      const text = (row as Record<string, unknown>)[column];
      if (typeof text !== 'string') {
        throw new DataError(`The "${column}" field is missing or not a string.`, { file, line: i + 1, code: 'DATA_MISSING_TEXT', fix: `Give every line a "${column}" string.` });
      }
      texts.push(text);
    });
    return texts;
  }
  if (ext === '.csv' || ext === '.tsv') {
    let rows: Record<string, string>[];
    try {
      rows = parseCsv(content, { columns: true, delimiter: ext === '.tsv' ? '\t' : ',', skip_empty_lines: true, relax_column_count: true });
    } catch (e) {
      throw new DataError(`Cannot parse ${path.basename(file)} as ${ext.slice(1).toUpperCase()}: ${(e as Error).message}`, {
        file, code: 'DATA_BAD_CSV', cause: e, fix: 'Fix the quoting on the line named, or pass a .txt file with one text per line.' });
    }
    if (rows.length === 0) return [];
    const column = pickColumn(Object.keys(rows[0]), textColumn, file);
    return rows.map((r) => r[column] ?? '');
  }
  return content.split(/\r?\n/).filter((l) => l.trim() !== '');
}

export async function predictCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const modelDir = requireString(args, 'model', 'predict', 'runs/my-run');
  const file = getString(args, 'file');
  const texts = [...getList(args, 'text'), ...(file !== undefined ? readTexts(file, getString(args, 'text-column')) : [])];
  if (texts.length === 0) throw new UsageError('`bertft predict` needs texts to classify.', 'Add --text "some text" (repeatable) or --file texts.txt.');
  const predictor = await loadPredictor(modelDir, { device: getString(args, 'device') as 'cpu' | undefined });
  try {
    const json = args.flags.get('json') === true;
    const predictions = await predictor.predict(texts);
    predictions.forEach((p, i) => {
      if (json) io.stdout(JSON.stringify({ label: p.label, score: p.score, scores: p.scores }) + '\n');
      else io.stdout(`${p.label}\t${p.score.toFixed(4)}\t${texts[i].replace(/\s+/g, ' ').slice(0, 80)}\n`);
    });
  } finally {
    await predictor.dispose();
  }
  return EXIT_OK;
}

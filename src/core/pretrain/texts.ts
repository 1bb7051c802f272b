/**
 * Unlabelled text for pre-training: a folder (every .txt / .md file below it is a document; hidden and system entries
 * are skipped), a .txt file (documents separated by blank lines), or CSV / TSV / JSON Lines / JSON (the text column;
 * labels, if any, are ignored).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { DataError } from '../errors';
import { TEXT_COLUMN_NAMES } from '../data/columns';
import { isSystemEntry } from '../data/folder';
import { detectFormat, readRows } from '../data/read';
import { statInput } from '../data/source';
import { ownValue } from '../util/records';

const TEXT_FILE = /\.(txt|md|text)$/i;

async function filesBelow(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    if (isSystemEntry(entry.name)) continue;
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesBelow(p)));
    else if (entry.isFile() && TEXT_FILE.test(entry.name)) out.push(p);
  }
  return out.sort();
}

/** Paragraphs with their line breaks as `\n`, as Python reads text files: a CRLF checkout gives the same documents. */
function paragraphs(text: string): string[] {
  return text
    .split(/\r?\n\s*\r?\n/)
    .map((p) => p.trim().replace(/\r\n?/g, '\n'))
    .filter((p) => p.length > 0);
}

function pickTextColumn(columns: string[], override: string | undefined, file: string): string {
  const lower = new Map(columns.map((c) => [c.toLowerCase(), c]));
  const found =
    override !== undefined
      ? lower.get(override.toLowerCase())
      : columns.length === 1
        ? columns[0]
        : TEXT_COLUMN_NAMES.map((n) => lower.get(n)).find((c) => c !== undefined);
  if (found === undefined) {
    throw new DataError(`Cannot tell which column holds the text. Columns found: ${columns.join(', ')}.`, {
      file,
      line: 1,
      code: 'DATA_NO_TEXT_COLUMN',
      fix: `Name the text column "text", or choose it with --text-column.`,
    });
  }
  return found;
}

/** The documents in `input`, in a stable order. Throws a DataError when there is no text at all. */
export async function readUnlabelledTexts(input: string, options: { textColumn?: string } = {}): Promise<string[]> {
  const stat = await statInput(input);
  let texts: string[] = [];
  if (stat.isDirectory()) {
    for (const file of await filesBelow(input)) texts.push((await fs.readFile(file, 'utf8')).trim());
  } else if (TEXT_FILE.test(input)) {
    texts = paragraphs(await fs.readFile(input, 'utf8'));
  } else {
    const header = { columns: [] as string[] };
    const rows = readRows(input, await detectFormat(input), header);
    let column: string | undefined;
    for await (const row of rows) {
      column ??= pickTextColumn(header.columns, options.textColumn, input);
      const v = ownValue(row.fields, column);
      if (typeof v === 'string' && v.trim() !== '') texts.push(v.trim());
    }
  }
  texts = texts.filter((t) => t.length > 0);
  if (texts.length === 0) {
    throw new DataError('There is no text to pre-train on.', {
      file: input,
      code: 'DATA_NO_TEXT',
      fix: 'Point --data to a folder of .txt files, a .txt file, or a CSV / JSONL file with a text column.',
    });
  }
  return texts;
}

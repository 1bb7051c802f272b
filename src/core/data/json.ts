/**
 * JSON Lines (one object per line, streamed) and JSON arrays of objects (read whole: a JSON array cannot be
 * streamed without a streaming JSON parser, so very large data should be JSONL).
 */
import { promises as fsp } from 'node:fs';
import { DataError } from '../errors';
import type { RawRow } from './rows';
import { firstInvalidUtf8, notUtf8Error, readCheckedChunks, UTF8_BOM } from './source';

/** Largest JSON array read whole; above this the fix is to convert to JSONL. */
export const MAX_JSON_ARRAY_BYTES = 512 * 1024 * 1024;

/** Short, input-free wording of a JSON.parse error, and the character position when V8 gives one. */
function describeJsonError(e: unknown): { reason: string; position?: number } {
  const message = e instanceof Error ? e.message : String(e);
  const pos = /at position (\d+)/.exec(message);
  const reason = message
    .replace(/, ".*" is not valid JSON$/s, '')
    .replace(/ in JSON at position \d+.*$/s, '')
    .slice(0, 200);
  return { reason, position: pos ? Number(pos[1]) : undefined };
}

function linesBefore(text: string, position: number): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < position; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

function invalidJson(file: string, line: number, reason: string, jsonl: boolean): DataError {
  return new DataError(`Invalid JSON on line ${line}: ${reason}.`, {
    file,
    line,
    code: 'DATA_JSON_SYNTAX',
    fix: jsonl
      ? 'Each line must be one complete JSON object, e.g. {"text": "…", "label": "spam"}; fix or delete this line.'
      : 'Fix the JSON at this line (a missing comma, quote or bracket is the usual cause).',
  });
}

function notAnObject(file: string, line: number, value: unknown): DataError {
  return new DataError(
    `Expected a JSON object with text and label, found ${Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'null' : `a ${typeof value}`}.`,
    {
      file,
      line,
      code: 'DATA_JSON_NOT_OBJECT',
      fix: 'Write each example as an object, e.g. {"text": "…", "label": "spam"}.',
    },
  );
}

function emptyFile(file: string): DataError {
  return new DataError('The file is empty.', {
    file,
    line: 1,
    code: 'DATA_EMPTY_FILE',
    fix: 'Add one JSON object per example, e.g. {"text": "…", "label": "spam"}.',
  });
}

/** JSON Lines, streamed. `header.columns` gets the first object's keys before the first row is yielded. */
export async function* readJsonlRows(file: string, header: { columns: string[] }): AsyncGenerator<RawRow> {
  let pending: Buffer[] = [];
  let lineNo = 0;
  let sawContent = false;
  function* parseLine(bytes: Buffer): Generator<RawRow> {
    lineNo++;
    if (lineNo === 1 && bytes.subarray(0, 3).equals(UTF8_BOM)) bytes = bytes.subarray(3);
    const text = bytes.toString('utf8');
    if (text.trim() === '') return;
    sawContent = true;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw invalidJson(file, lineNo, describeJsonError(e).reason, true);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      if (lineNo === 1 && Array.isArray(value)) {
        throw new DataError('This file holds a JSON array, not JSON Lines.', {
          file,
          line: 1,
          code: 'DATA_JSON_NOT_OBJECT',
          fix: 'Name the file .json (array of objects) or write one object per line (.jsonl).',
        });
      }
      throw notAnObject(file, lineNo, value);
    }
    const fields = value as Record<string, unknown>;
    if (header.columns.length === 0) header.columns = Object.keys(fields);
    yield { fields, line: lineNo };
  }
  for await (const { bytes } of readCheckedChunks(file)) {
    let from = 0;
    for (let nl = bytes.indexOf(0x0a); nl !== -1; nl = bytes.indexOf(0x0a, from)) {
      pending.push(bytes.subarray(from, nl));
      yield* parseLine(Buffer.concat(pending));
      pending = [];
      from = nl + 1;
    }
    if (from < bytes.length) pending.push(bytes.subarray(from));
  }
  if (pending.length > 0) yield* parseLine(Buffer.concat(pending));
  if (!sawContent) throw emptyFile(file);
}

/**
 * Start offsets of the top-level elements of a JSON array text (strings and nesting respected), so that each
 * element can be parsed on its own and reported with its own line. Returns null when the text is not an array.
 */
export function arrayElementSpans(text: string): Array<[number, number]> | null {
  let i = 0;
  const skipWs = () => {
    while (i < text.length && ' \t\r\n'.includes(text[i])) i++;
  };
  skipWs();
  if (text[i] !== '[') return null;
  i++;
  const spans: Array<[number, number]> = [];
  skipWs();
  if (text[i] === ']') return spans;
  for (;;) {
    skipWs();
    const start = i;
    let depth = 0;
    while (i < text.length) {
      const ch = text[i];
      if (ch === '"') {
        i++;
        while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      } else if (ch === '{' || ch === '[') depth++;
      else if (ch === '}' || ch === ']') {
        if (depth === 0) break;
        depth--;
      } else if (ch === ',' && depth === 0) break;
      i++;
    }
    spans.push([start, i]);
    if (i >= text.length || text[i] === ']') return spans;
    i++; // the comma
  }
}

/** A JSON array of objects, read whole. */
export async function* readJsonArrayRows(file: string, header: { columns: string[] }): AsyncGenerator<RawRow> {
  const stat = await fsp.stat(file);
  if (stat.size > MAX_JSON_ARRAY_BYTES) {
    throw new DataError(
      `The JSON file is ${(stat.size / 2 ** 20).toFixed(0)} MB; JSON arrays over ${MAX_JSON_ARRAY_BYTES / 2 ** 20} MB are not read whole.`,
      {
        file,
        code: 'DATA_JSON_TOO_LARGE',
        fix: 'Convert it to JSON Lines (.jsonl, one object per line), which is read as a stream.',
      },
    );
  }
  const bytes = await fsp.readFile(file);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    const bad = Math.max(0, firstInvalidUtf8(bytes));
    throw notUtf8Error(file, linesBefore(bytes.subarray(0, bad).toString('latin1'), bad) + 1);
  }
  if (text.trim() === '') throw emptyFile(file);
  const spans = arrayElementSpans(text);
  if (spans === null) {
    throw new DataError('Expected a JSON array of objects ([{"text": …, "label": …}, …]).', {
      file,
      line: 1,
      code: 'DATA_JSON_NOT_ARRAY',
      fix: 'Wrap the objects in [ ], or write one object per line and name the file .jsonl.',
    });
  }
  // One parse of the whole text catches syntax errors between elements too; elements are then parsed one by one
  // only to give each its line.
  try {
    JSON.parse(text);
  } catch (e) {
    const { reason, position } = describeJsonError(e);
    throw invalidJson(file, position === undefined ? 1 : linesBefore(text, position) + 1, reason, false);
  }
  let line = 1;
  let counted = 0;
  for (const [start, end] of spans) {
    line += linesBefore(text.slice(counted, start), Infinity);
    counted = start;
    const value: unknown = JSON.parse(text.slice(start, end));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw notAnObject(file, line, value);
    const fields = value as Record<string, unknown>;
    if (header.columns.length === 0) header.columns = Object.keys(fields);
    yield { fields, line };
  }
}

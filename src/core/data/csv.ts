/**
 * CSV / TSV with a header row (RFC 4180: quoted fields, embedded newlines and quotes, CRLF, UTF-8 BOM), parsed by
 * csv-parse as a stream. The delimiter is sniffed from the header line unless given.
 */
import { parse, type CsvError } from 'csv-parse';
import { DataError } from '../errors';
import type { RawRow } from './rows';
import { LineIndex, readCheckedChunks, UTF8_BOM } from './source';
import { recordOf } from '../util/records';

const CHUNK_SIZE = 1 << 20;

export const DELIMITER_CANDIDATES = [',', '\t', ';', '|'] as const;

/** The candidate that occurs most often outside quotes in the first line; `fallback` on a tie at zero. */
export function sniffDelimiter(firstLine: string, fallback: string): string {
  const counts = new Map<string, number>();
  let inQuotes = false;
  for (const ch of firstLine) {
    if (ch === '"') inQuotes = !inQuotes;
    else if (!inQuotes && (DELIMITER_CANDIDATES as readonly string[]).includes(ch))
      counts.set(ch, (counts.get(ch) ?? 0) + 1);
  }
  let best = fallback;
  let bestCount = counts.get(fallback) ?? 0;
  for (const [ch, n] of counts) {
    if (n > bestCount) {
      best = ch;
      bestCount = n;
    }
  }
  return best;
}

export interface CsvOptions {
  /** Field delimiter; sniffed from the header when absent. */
  delimiter?: string;
  /** Used when sniffing finds no candidate (',' for .csv, tab for .tsv). */
  defaultDelimiter?: string;
}

/** Reads a header-first CSV. `header.columns` is filled before the first row is yielded. */
export async function* readCsvRows(
  file: string,
  header: { columns: string[] },
  options: CsvOptions = {},
): AsyncGenerator<RawRow> {
  const chunks = readCheckedChunks(file, CHUNK_SIZE);
  const first = await chunks.next();
  const firstBytes = first.done ? Buffer.alloc(0) : first.value.bytes;
  const body = firstBytes.subarray(firstBytes.subarray(0, 3).equals(UTF8_BOM) ? 3 : 0);
  const wholeFileInFirstChunk = first.done || firstBytes.length < CHUNK_SIZE;
  if (first.done || (wholeFileInFirstChunk && body.toString('utf8').trim() === '')) {
    throw new DataError('The file is empty.', {
      file,
      line: 1,
      code: 'DATA_EMPTY_FILE',
      fix: 'Add a header line (e.g. "text,label") and one row per example.',
    });
  }
  const newline = body.indexOf(0x0a);
  const firstLine = body.subarray(0, newline === -1 ? body.length : newline).toString('utf8');
  const delimiter = options.delimiter ?? sniffDelimiter(firstLine, options.defaultDelimiter ?? ',');

  const lines = new LineIndex();
  let prevEnd = 0;
  let prevEmpty = 0;
  let isHeader = true;
  // on_record wraps each record with its start line; it runs synchronously inside the parser, so the line stays
  // right even when a later parse error discards records still buffered in the stream.
  const parser = parse({
    delimiter,
    bom: true,
    // A quote inside an unquoted field (5" screen) is kept as a character, as Python's csv module and spreadsheets do.
    relax_quotes: true,
    skip_empty_lines: true,
    on_record: (record: string[], context) => {
      const line = lines.lineAt(prevEnd) + (context.empty_lines - prevEmpty);
      prevEnd = context.bytes;
      prevEmpty = context.empty_lines;
      return { record, line } as unknown as string[];
    },
  });

  const feed = (async () => {
    try {
      let next: IteratorResult<{ bytes: Buffer; start: number }> = first;
      while (!next.done && !parser.destroyed) {
        lines.add(next.value.bytes, next.value.start);
        if (!parser.write(next.value.bytes)) {
          await new Promise((resolve) => {
            parser.once('drain', resolve);
            parser.once('close', resolve);
          });
        }
        next = await chunks.next();
      }
      if (parser.destroyed) await chunks.return(undefined);
      else parser.end();
    } catch (e) {
      parser.destroy(e as Error);
    }
  })();

  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; line: number }>) {
      if (isHeader) {
        header.columns = item.record.map((c) => c.trim());
        isHeader = false;
        continue;
      }
      yield { fields: recordOf(header.columns.map((c, i) => [c, item.record[i]])), line: item.line };
    }
  } catch (e) {
    if (e instanceof DataError) throw e;
    const err = e as CsvError;
    const emptyLines = typeof err.empty_lines === 'number' ? err.empty_lines : prevEmpty;
    const line = lines.lineAt(prevEnd) + Math.max(0, emptyLines - prevEmpty);
    throw new DataError(`The CSV is broken here: ${err.message.replace(/ (at|on) line \d+/g, '')}.`, {
      file,
      line,
      code: 'DATA_CSV_SYNTAX',
      fix: csvFix(err.code, delimiter),
      cause: e,
    });
  } finally {
    parser.destroy();
    await feed;
  }
}

function csvFix(code: string | undefined, delimiter: string): string {
  const d = delimiter === '\t' ? 'tab' : `"${delimiter}"`;
  switch (code) {
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH':
      return `Give this row as many fields as the header; quote fields that contain ${d}, e.g. "a${delimiter} b".`;
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'Close the quoted field that starts on this line with a ", and write quotes inside a quoted field as "".';
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'INVALID_OPENING_QUOTE':
      return 'Inside a quoted field write a quote as two quotes (""), and quote the whole field.';
    default:
      return 'Fix the row so it is valid CSV (RFC 4180), or export the data again from its source.';
  }
}

/**
 * Reading a data file as a stream of checked bytes: the file is never held in one string, every chunk is checked to
 * be UTF-8 (a bad byte stops reading with its line), and newline positions are remembered so that parsers which
 * report byte offsets can be turned into line numbers.
 */
import { createReadStream, promises as fsp } from 'node:fs';
import { DataError } from '../errors';

export const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** 1-based line numbers for byte offsets in a stream, asked for in non-decreasing order; memory stays small. */
export class LineIndex {
  private newlineOffsets: number[] = [];
  private consumed = 0;
  private linesBefore = 0;

  /** Record the newlines of `chunk`, which starts at byte `start` of the stream. */
  add(chunk: Buffer, start: number): void {
    for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) this.newlineOffsets.push(start + i);
  }

  /** The line that byte `offset` is on. */
  lineAt(offset: number): number {
    const offsets = this.newlineOffsets;
    while (this.consumed < offsets.length && offsets[this.consumed] < offset) {
      this.consumed++;
      this.linesBefore++;
    }
    if (this.consumed > 65536) {
      offsets.splice(0, this.consumed);
      this.consumed = 0;
    }
    return this.linesBefore + 1;
  }
}

/** Index of the first byte of `buf` that cannot be UTF-8 (a sequence cut off at the very end counts as valid). */
export function firstInvalidUtf8(buf: Uint8Array): number {
  let i = 0;
  while (i < buf.length && i < 3 && (buf[i] & 0xc0) === 0x80) i++; // tail of a character begun in the previous chunk
  while (i < buf.length) {
    const b = buf[i];
    const need =
      b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    if (need < 0) return i;
    for (let k = 1; k <= need; k++) {
      if (i + k >= buf.length) return -1;
      if ((buf[i + k] & 0xc0) !== 0x80) return i;
    }
    i += need + 1;
  }
  return -1;
}

function countNewlines(buf: Buffer, end = buf.length): number {
  let n = 0;
  for (let i = buf.indexOf(0x0a); i !== -1 && i < end; i = buf.indexOf(0x0a, i + 1)) n++;
  return n;
}

export function notUtf8Error(file: string, line: number): DataError {
  return new DataError(`The file is not valid UTF-8 (first bad byte on line ${line}).`, {
    file,
    line,
    code: 'DATA_NOT_UTF8',
    fix: 'Re-save the file as UTF-8 (e.g. in VS Code: "Save with Encoding" → UTF-8, or `iconv -f latin1 -t utf-8`).',
  });
}

/** Stat a path and turn "missing" / "unreadable" into DataErrors that say what to do. */
export async function statInput(path: string): Promise<import('node:fs').Stats> {
  try {
    return await fsp.stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new DataError('The dataset file does not exist.', {
        file: path,
        code: 'DATA_MISSING_FILE',
        fix: 'Check the path (it is resolved from the current folder) or pick the file again.',
        cause: e,
      });
    }
    throw new DataError(`The dataset cannot be read (${code ?? String(e)}).`, {
      file: path,
      code: 'DATA_UNREADABLE',
      fix: 'Check that the file exists and that you have permission to read it.',
      cause: e,
    });
  }
}

export interface CheckedChunk {
  bytes: Buffer;
  /** Byte offset of `bytes` in the file. */
  start: number;
}

/**
 * The bytes of `file`, chunk by chunk, each one checked to be UTF-8 before it is handed on. Throws a DataError
 * naming the line of the first bad byte.
 */
export async function* readCheckedChunks(file: string, chunkSize = 1 << 20): AsyncGenerator<CheckedChunk> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let start = 0;
  let newlines = 0;
  let stream;
  try {
    stream = createReadStream(file, { highWaterMark: chunkSize });
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      try {
        decoder.decode(chunk, { stream: true });
      } catch {
        const bad = firstInvalidUtf8(chunk);
        throw notUtf8Error(file, newlines + countNewlines(chunk, bad < 0 ? 0 : bad) + 1);
      }
      yield { bytes: chunk, start };
      start += chunk.length;
      newlines += countNewlines(chunk);
    }
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(`The dataset cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}).`, {
      file,
      code: 'DATA_UNREADABLE',
      fix: 'Check that the file exists, is a regular file, and that you have permission to read it.',
      cause: e,
    });
  } finally {
    stream?.destroy();
  }
  try {
    decoder.decode();
  } catch {
    throw notUtf8Error(file, newlines + 1);
  }
}

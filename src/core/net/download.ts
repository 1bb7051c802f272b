/**
 * Resumable file download: bytes go to `<dest>.incomplete`, an interrupted transfer continues with a Range request,
 * and `dest` appears (by rename) only once the file is complete and verified.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { namingFile } from '../errors';
import { renameWithRetry } from '../util/files';
import { ConnectionError, HttpStatusError, headerValue, request, toNetError } from './http';

export interface DownloadOptions {
  headers?: Record<string, string>;
  /** Size the finished file must have, when the server told us beforehand. */
  expectedSize?: number;
  /**
   * Checks the complete file (at its temporary path); throws ChecksumError when it is wrong. Without `expectedSize`,
   * it is the only guard against a body without Content-Length that the server cut by closing the connection: such a
   * body looks complete (a cut chunked body does not: it is resumed).
   */
  verify?: (file: string) => Promise<void>;
  /** Called as bytes arrive (at most every 100 ms, and once at the end); `total` is undefined when unknown. */
  onProgress?: (bytes: number, total: number | undefined) => void;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** How many times a transfer cut off mid-body is resumed before giving up. Default 3. */
  retries?: number;
}

/** The finished download does not match its expected checksum or size; the partial file has been deleted. */
export class ChecksumError extends Error {
  constructor(
    readonly file: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`${path.basename(file)}: expected ${expected}, got ${actual}`);
    this.name = 'ChecksumError';
  }
}

const PROGRESS_INTERVAL_MS = 100;
const FILE_SYSCALLS = new Set(['open', 'write', 'writev', 'close', 'fsync']);

export function incompletePath(dest: string): string {
  return `${dest}.incomplete`;
}

export async function downloadFile(url: string, dest: string, opts: DownloadOptions = {}): Promise<void> {
  const partial = incompletePath(dest);
  await fs.promises.mkdir(path.dirname(dest), { recursive: true });
  const retries = opts.retries ?? 3;
  for (let attempt = 0; ; attempt++) {
    try {
      await transfer(url, partial, opts);
      break;
    } catch (err) {
      const resumable = err instanceof ConnectionError && (await sizeOf(partial)) > 0;
      if (!resumable || attempt >= retries) throw err;
      await new Promise((resolve) => setTimeout(resolve, 250 * (attempt + 1)));
    }
  }
  const size = await sizeOf(partial);
  if (opts.expectedSize !== undefined && size !== opts.expectedSize) {
    await fs.promises.rm(partial, { force: true });
    throw new ChecksumError(partial, `${opts.expectedSize} bytes`, `${size} bytes`);
  }
  if (opts.verify) {
    try {
      await opts.verify(partial);
    } catch (err) {
      await fs.promises.rm(partial, { force: true });
      throw err;
    }
  }
  await renameWithRetry(partial, dest);
}

/** Brings `partial` to the full file, appending to what an earlier attempt left. */
async function transfer(url: string, partial: string, opts: DownloadOptions): Promise<void> {
  let start = await sizeOf(partial);
  if (opts.expectedSize !== undefined && start > opts.expectedSize) start = await truncate(partial);
  if (opts.expectedSize !== undefined && start === opts.expectedSize && start > 0) return;

  const headers = { ...(opts.headers ?? {}), 'accept-encoding': 'identity' };
  let res = await request(url, {
    headers: start > 0 ? { ...headers, range: `bytes=${start}-` } : headers,
    followRedirects: 'all',
    signal: opts.signal,
    timeoutMs: opts.timeoutMs,
  });
  if (start > 0 && res.status === 416) {
    // Our partial file no longer fits the remote one: start over.
    res.body.resume();
    start = await truncate(partial);
    res = await request(url, { headers, followRedirects: 'all', signal: opts.signal, timeoutMs: opts.timeoutMs });
  }
  if (res.status === 200) {
    if (start > 0) start = await truncate(partial); // the server ignored our Range header
  } else if (res.status === 206) {
    if (rangeStart(headerValue(res.headers, 'content-range')) !== start) {
      res.body.resume();
      await truncate(partial);
      throw new ConnectionError('EBADRANGE', url, new Error('server answered a different byte range'));
    }
  } else {
    res.body.resume();
    throw new HttpStatusError(res.status, res.url, res.headers);
  }

  const length = Number(headerValue(res.headers, 'content-length'));
  const total = opts.expectedSize ?? (Number.isFinite(length) ? start + length : undefined);
  let bytes = start;
  let lastReport = 0;
  const report = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      const now = Date.now();
      if (opts.onProgress && now - lastReport >= PROGRESS_INTERVAL_MS) {
        lastReport = now;
        opts.onProgress(bytes, total);
      }
      done(null, chunk);
    },
  });
  try {
    await pipeline(res.body, report, fs.createWriteStream(partial, { flags: 'a' }));
  } catch (err) {
    // Writing the file failed (a full disk): this machine's error, not the network's, and it names the file.
    if (FILE_SYSCALLS.has((err as NodeJS.ErrnoException).syscall ?? '')) throw namingFile(err, partial);
    throw toNetError(err, url, opts.signal);
  }
  // A server that closes the connection early without an error still leaves us short.
  if (res.body.readableAborted || (total !== undefined && bytes < total)) {
    throw new ConnectionError('ECONNRESET', url, new Error(`connection closed after ${bytes} of ${total} bytes`));
  }
  opts.onProgress?.(bytes, total);
}

function rangeStart(contentRange: string | undefined): number | undefined {
  const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(contentRange ?? '');
  return m ? Number(m[1]) : undefined;
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await fs.promises.stat(file)).size;
  } catch {
    return 0;
  }
}

async function truncate(file: string): Promise<0> {
  await fs.promises.writeFile(file, Buffer.alloc(0));
  return 0;
}

/** Hex (or base64) digest of a file, streamed. */
export async function hashFile(
  file: string,
  algorithm: 'sha256' | 'sha512',
  encoding: 'hex' | 'base64' = 'hex',
): Promise<string> {
  const hash = crypto.createHash(algorithm);
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest(encoding);
}

/** The git object id of a file's content, which the Hub uses as the ETag of files not stored in LFS. */
export async function gitBlobSha1(file: string): Promise<string> {
  const hash = crypto.createHash('sha1');
  hash.update(`blob ${(await fs.promises.stat(file)).size}\0`);
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

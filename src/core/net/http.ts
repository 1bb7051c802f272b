/**
 * A minimal HTTP(S) client on node:http/https. We use these modules rather than `fetch` because the VS Code
 * extension host patches them to honour the user's proxy settings; elsewhere (the CLI, the trainer child) requests go
 * through the proxy HTTPS_PROXY / HTTP_PROXY name, unless NO_PROXY lists the host (./proxy.ts).
 * Errors thrown here are internal (`HttpStatusError`, `ConnectionError`); each caller (Hub, CUDA provider) turns them
 * into a UserError that names its own fix. A proxy that cannot be used is a UserError already (PROXY_FAILED): its fix
 * is the same for every caller.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import * as zlib from 'node:zlib';
import { UserError } from '../errors';
import {
  openTunnel,
  proxyAuthorization,
  proxyError,
  proxyFor,
  proxyRefused,
  tlsOverTunnel,
  viaProxyOptions,
} from './proxy';

/** What a request may send: a file's bytes go as a Blob (`fs.openAsBlob`), read as they are sent. */
export type RequestBody = string | Uint8Array | Blob;

export interface RequestOptions {
  method?: 'GET' | 'HEAD' | 'POST' | 'PUT';
  headers?: Record<string, string>;
  /**
   * Sent with its Content-Length (presigned storage URLs refuse chunked uploads). A request with a body follows no
   * redirect: its answer, a 3xx included, goes to the caller.
   */
  body?: RequestBody;
  /** Bytes of `body` handed to the connection so far, as they go. */
  onBodyProgress?: (sent: number, total: number) => void;
  /**
   * 'all': follow every redirect (dropping Authorization when the origin changes); 'relative': only redirects whose
   * Location is a relative URL (how the Hub points a renamed repo at its new name, unlike its absolute CDN redirects).
   */
  followRedirects?: 'all' | 'relative' | 'none';
  signal?: AbortSignal;
  /** Fail when the socket is idle this long (connecting or mid-body). Default 30 s. */
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The URL that answered, after redirects. */
  url: string;
  body: http.IncomingMessage;
}

/** The server answered with a status the caller did not expect. */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly url: string,
    readonly headers: http.IncomingHttpHeaders,
  ) {
    super(`HTTP ${status} from ${url}`);
    this.name = 'HttpStatusError';
  }

  header(name: string): string | undefined {
    return headerValue(this.headers, name);
  }
}

/** No answer at all: DNS failure, refused or reset connection, timeout. `code` is the Node error code. */
export class ConnectionError extends Error {
  constructor(
    readonly code: string,
    readonly url: string,
    cause: unknown,
  ) {
    super(`cannot reach ${new URL(url).host} (${code})`, { cause });
    this.name = 'ConnectionError';
  }
}

/** The caller's AbortSignal fired. */
export class AbortedError extends Error {
  constructor() {
    super('download cancelled');
    this.name = 'AbortedError';
  }
}

const MAX_REDIRECTS = 10;
const DEFAULT_TIMEOUT_MS = 30_000;

export function headerValue(headers: http.IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** Sends one request and resolves once the status line and headers arrive; the body is left to the caller. */
export async function request(url: string, opts: RequestOptions = {}): Promise<HttpResponse> {
  let current = url;
  let headers = { ...(opts.headers ?? {}), ...contentLength(opts.body) };
  for (let hop = 0; ; hop++) {
    const res = await requestOnce(current, headers, opts);
    const location = headerValue(res.headers, 'location');
    const isRedirect = res.status >= 300 && res.status < 400 && location !== undefined;
    if (!isRedirect || opts.followRedirects === 'none' || opts.body !== undefined || hop >= MAX_REDIRECTS) return res;
    const isRelative = !/^[a-z][a-z0-9+.-]*:|^\/\//i.test(location);
    if (opts.followRedirects === 'relative' && !isRelative) return res;
    const next = new URL(location, current);
    const sameOrigin = next.origin === new URL(current).origin;
    res.body.resume(); // discard the redirect's body so the socket is freed
    if (!sameOrigin) {
      // A signed CDN URL must not receive the user's Hub token.
      headers = Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization'));
    }
    current = next.toString();
  }
}

function contentLength(body: RequestBody | undefined): Record<string, string> {
  if (body === undefined) return {};
  const bytes = typeof body === 'string' ? Buffer.byteLength(body) : body instanceof Blob ? body.size : body.byteLength;
  return { 'content-length': String(bytes) };
}

/** Socket errors of a request sent to a proxy that mean the proxy itself could not be reached. */
const PROXY_CONNECT_FAILURES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** One request, directly or through the proxy the environment names for its URL (./proxy.ts). */
async function requestOnce(url: string, headers: Record<string, string>, opts: RequestOptions): Promise<HttpResponse> {
  if (opts.signal?.aborted) throw new AbortedError();
  const target = new URL(url);
  const lib = target.protocol === 'https:' ? https : http;
  const proxy = proxyFor(target);
  if (!proxy) return send(url, { lib, target, options: {}, headers }, opts);
  if (target.protocol === 'http:') {
    // Plain HTTP goes to the proxy itself, which is asked for the absolute URL.
    const via = viaProxyOptions(proxy, target);
    const proxied = { ...headers, host: target.host, ...proxyAuthorization(proxy) };
    const res = await send(url, { ...via, headers: proxied }, opts, (err) =>
      PROXY_CONNECT_FAILURES.has(err.code ?? '')
        ? proxyError(proxy, target, `it could not be reached (${err.code})`, err)
        : undefined,
    );
    if (res.status !== 407) return res;
    res.body.resume();
    throw proxyRefused(proxy, target, res.status, res.body.statusMessage);
  }
  let tunnel: Socket;
  try {
    tunnel = await openTunnel(proxy, target, { signal: opts.signal, timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS });
  } catch (err) {
    if (err instanceof UserError && !opts.signal?.aborted) throw err;
    throw toNetError(err, url, opts.signal);
  }
  const options = { createConnection: () => tlsOverTunnel(tunnel, target) };
  return send(url, { lib, target, options, headers }, opts);
}

interface Outgoing {
  lib: typeof http | typeof https;
  /** The URL to connect to; absent when `options` name the host (a request sent to a proxy). */
  target?: URL;
  options: https.RequestOptions;
  headers: Record<string, string>;
}

/** Sends `out` and resolves at its status line; `proxyFailure` names errors that are the proxy's. */
function send(
  url: string,
  out: Outgoing,
  opts: RequestOptions,
  proxyFailure?: (err: NodeJS.ErrnoException) => Error | undefined,
): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const options = { ...out.options, method: opts.method ?? 'GET', headers: out.headers, signal: opts.signal };
    const onResponse = (res: http.IncomingMessage): void => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers, url, body: res });
    };
    const req = out.target ? out.lib.request(out.target, options, onResponse) : out.lib.request(options, onResponse);
    req.setTimeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, () => {
      req.destroy(Object.assign(new Error('no data received'), { code: 'ETIMEDOUT' }));
    });
    let bodyError: Error | undefined;
    req.on('error', (err: NodeJS.ErrnoException) => {
      // A body that cannot be read (its file changed or vanished) is not a network failure.
      if (bodyError !== undefined) return reject(bodyError);
      reject((!opts.signal?.aborted && proxyFailure?.(err)) || toNetError(err, url, opts.signal));
    });
    writeBody(req, opts, (err) => {
      bodyError = err;
      req.destroy(err);
    });
  });
}

/** Sends `opts.body` (none: ends the request), reporting its progress; `fail` gets an error reading it. */
function writeBody(req: http.ClientRequest, opts: RequestOptions, fail: (err: Error) => void): void {
  const body = opts.body;
  if (body === undefined) return void req.end();
  if (!(body instanceof Blob)) {
    const bytes = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
    req.end(body, () => opts.onBodyProgress?.(bytes, bytes));
    return;
  }
  const source = Readable.fromWeb(body.stream() as NodeReadableStream<Uint8Array>);
  let sent = 0;
  source.on('data', (chunk: Buffer) => {
    sent += chunk.length;
    opts.onBodyProgress?.(sent, body.size);
  });
  source.once('error', fail);
  req.once('close', () => source.destroy());
  source.pipe(req);
}

/** Maps a socket-level error to AbortedError or ConnectionError. */
export function toNetError(err: unknown, url: string, signal?: AbortSignal): Error {
  if (signal?.aborted) return new AbortedError();
  if (err instanceof ConnectionError || err instanceof AbortedError) return err;
  const code = (err as NodeJS.ErrnoException)?.code ?? 'ECONNRESET';
  return new ConnectionError(code, url, err);
}

/** Reads a whole (small) body, gunzipping it when the server compressed it. */
export async function readBody(res: HttpResponse, maxBytes = 16 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of res.body) {
      total += (chunk as Buffer).length;
      if (total > maxBytes) {
        res.body.destroy();
        throw new Error(`response from ${res.url} is larger than ${maxBytes} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    throw toNetError(err, res.url);
  }
  const raw = Buffer.concat(chunks);
  return headerValue(res.headers, 'content-encoding') === 'gzip' ? zlib.gunzipSync(raw) : raw;
}

/** GETs a JSON document; non-200 answers throw HttpStatusError. */
export async function getJson(url: string, opts: RequestOptions = {}): Promise<unknown> {
  const res = await request(url, {
    ...opts,
    followRedirects: 'all',
    headers: { accept: 'application/json', 'accept-encoding': 'gzip', ...(opts.headers ?? {}) },
  });
  if (res.status !== 200) {
    res.body.resume();
    throw new HttpStatusError(res.status, res.url, res.headers);
  }
  return JSON.parse((await readBody(res)).toString('utf8'));
}

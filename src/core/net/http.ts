/**
 * A minimal HTTP(S) client on node:http/https. We use these modules rather than `fetch` because the VS Code
 * extension host patches them to honour the user's proxy settings.
 * Errors thrown here are internal (`HttpStatusError`, `ConnectionError`); each caller (Hub, CUDA provider) turns them
 * into a UserError that names its own fix.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import * as zlib from 'node:zlib';

export interface RequestOptions {
  method?: 'GET' | 'HEAD';
  headers?: Record<string, string>;
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

export function headerValue(headers: http.IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** Sends one request and resolves once the status line and headers arrive; the body is left to the caller. */
export async function request(url: string, opts: RequestOptions = {}): Promise<HttpResponse> {
  let current = url;
  let headers = { ...(opts.headers ?? {}) };
  for (let hop = 0; ; hop++) {
    const res = await requestOnce(current, headers, opts);
    const location = headerValue(res.headers, 'location');
    const isRedirect = res.status >= 300 && res.status < 400 && location !== undefined;
    if (!isRedirect || opts.followRedirects === 'none' || hop >= MAX_REDIRECTS) return res;
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

function requestOnce(url: string, headers: Record<string, string>, opts: RequestOptions): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(new AbortedError());
    const parsed = new URL(url);
    const lib = parsed.protocol === 'https:' ? https : http;
    const req = lib.request(parsed, { method: opts.method ?? 'GET', headers, signal: opts.signal }, (res) => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers, url, body: res });
    });
    req.setTimeout(opts.timeoutMs ?? 30_000, () => {
      req.destroy(Object.assign(new Error('no data received'), { code: 'ETIMEDOUT' }));
    });
    req.on('error', (err) => reject(toNetError(err, url, opts.signal)));
    req.end();
  });
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

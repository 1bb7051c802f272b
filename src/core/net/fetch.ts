/**
 * `fetch` on our HTTP client (./http.ts), for libraries that take a fetch function (@huggingface/hub): their
 * requests then go through the proxy the environment names (./proxy.ts) in the CLI, and through VS Code's proxying
 * of node:http/https in the extension host, as our own downloads do. Node's global fetch does neither.
 *
 * Only what such libraries use: string or URL input, GET/HEAD/POST/PUT, a string, bytes or Blob body, an AbortSignal,
 * and the answer as a standard `Response`. Redirects are followed for requests without a body. A connection
 * failure rejects with http.ts's `ConnectionError` (`AbortedError` when the signal fired), for the caller to name.
 *
 * A library may add `progressHint: { progressCallback(fraction) }` to the init of an upload (@huggingface/hub does,
 * for its own XMLHttpRequest path): it is called as the body goes out, never with 1 (the library says when a file is
 * done).
 */
import { setMaxListeners } from 'node:events';
import { Readable } from 'node:stream';
import { request, type RequestBody, type RequestOptions } from './http';

/** Statuses whose answer has no body: a Response refuses one. */
const NO_BODY = new Set([101, 103, 204, 205, 304]);
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT']);

interface ProgressHint {
  progressCallback?: (fraction: number) => void;
}

export async function nodeFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
  if (typeof input !== 'string' && !(input instanceof URL)) {
    throw new TypeError('nodeFetch takes a URL, not a Request');
  }
  const method = (init.method ?? 'GET').toUpperCase();
  if (!METHODS.has(method)) throw new TypeError(`nodeFetch does not send ${method} requests`);
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((value, name) => (headers[name] = value));
  const body = requestBody(init.body);
  const hint = (init as { progressHint?: ProgressHint }).progressHint;
  const onBodyProgress =
    typeof hint?.progressCallback === 'function'
      ? (sent: number, total: number) => hint.progressCallback!(total > 0 ? Math.min(sent / total, 0.999) : 0)
      : undefined;
  // A library may run dozens of requests on one signal at once (@huggingface/hub: 5 files × 5 parts); each request's
  // listener goes when it ends, so Node's leak warning at 11 would only be noise.
  if (init.signal) setMaxListeners(100, init.signal);
  const res = await request(String(input), {
    method: method as RequestOptions['method'],
    headers,
    body,
    onBodyProgress,
    followRedirects: 'all',
    signal: init.signal ?? undefined,
    timeoutMs: 120_000,
  });
  const noBody = method === 'HEAD' || NO_BODY.has(res.status);
  if (noBody) res.body.resume();
  const answer = new Response(noBody ? null : (Readable.toWeb(res.body) as ReadableStream<Uint8Array>), {
    status: res.status,
    statusText: res.body.statusMessage ?? '',
    headers: responseHeaders(res.body.rawHeaders),
  });
  // Error messages name the URL that answered; a constructed Response has none of its own.
  Object.defineProperty(answer, 'url', { value: res.url });
  return answer;
}

function requestBody(body: RequestInit['body']): RequestBody | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array || body instanceof Blob) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  throw new TypeError('nodeFetch sends a string, bytes or a Blob as the body');
}

/** Raw header pairs as Headers (repeated names joined, as fetch does). */
function responseHeaders(raw: readonly string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
  return headers;
}

/**
 * A small HTTP server on 127.0.0.1 for network tests. It serves files from `root` two ways:
 * - Hub style: `/<repo>/resolve/<revision>/<file>` → `root/<repo>/<file>`, with the headers huggingface.co sends
 *   (X-Repo-Commit; ETag = git blob sha1 for small files; for `lfs` files a 302 to `/lfs/...` carrying
 *   X-Linked-Etag = sha256 and X-Linked-Size; X-Error-Code on 401/404).
 * - Static: any other path → `root/<path>`.
 * Both honour Range requests. Knobs simulate failures: cut a transfer off after N bytes, ignore Range, corrupt a
 * file's bytes while keeping its advertised checksum, require a token for gated repos, answer like a plain mirror
 * (an opaque ETag, bodies without Content-Length). With `tls` it serves HTTPS (certificates: ./tls-cert.ts).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The client's port: a proxy's test can tell the connections it made from direct ones. */
  remotePort: number;
}

export interface LoopbackOptions {
  root: string;
  /** Commit hash reported in X-Repo-Commit; also accepted as a revision. */
  commit?: string;
  /** File names (basenames) served as LFS files. Default: *.safetensors, *.nupkg, *.bin. */
  isLfs?: (file: string) => boolean;
  /** Repo ids that answer 401 GatedRepo unless `Authorization: Bearer <token>` matches. */
  gated?: Record<string, string>;
  /** Serve HTTPS with this key and certificate (PEM) instead of HTTP. */
  tls?: { key: string; cert: string };
}

export interface Faults {
  /** Cut the connection after this many body bytes, for the next `count` file bodies. */
  cutAfterBytes?: { bytes: number; count: number };
  /** Answer 200 with the whole file even when a Range is asked for. */
  ignoreRange?: boolean;
  /** Files (url paths ending with one of these) whose served bytes are altered, headers unchanged. */
  corrupt?: string[];
  /** Wait this long before answering the next request (to trigger a client timeout). */
  delayMs?: number;
  /**
   * Send bodies and HEAD answers without Content-Length: 'chunked', or 'close' (the body ends when the connection
   * closes, so a cut-off transfer looks complete to the client).
   */
  unsized?: 'chunked' | 'close';
  /** Hub resolve answers like a plain mirror: the file itself (no LFS redirect) with an opaque ETag and no size. */
  opaqueEtag?: boolean;
}

export class LoopbackServer {
  readonly requests: RecordedRequest[] = [];
  faults: Faults = {};
  private server?: http.Server | https.Server;
  private readonly commit: string;

  constructor(private readonly opts: LoopbackOptions) {
    this.commit = opts.commit ?? 'a'.repeat(40);
  }

  get url(): string {
    const addr = this.server?.address() as AddressInfo | null;
    if (!addr) throw new Error('server not started');
    return `${this.opts.tls ? 'https' : 'http'}://127.0.0.1:${addr.port}`;
  }

  async start(): Promise<this> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => this.handle(req, res);
    this.server = this.opts.tls ? https.createServer(this.opts.tls, handler) : http.createServer(handler);
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Requests whose path contains `fragment`. */
  requestsFor(fragment: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path.includes(fragment));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    this.requests.push({
      method: req.method ?? 'GET',
      path: urlPath,
      headers: req.headers,
      remotePort: req.socket.remotePort ?? 0,
    });
    if (this.faults.delayMs) {
      const delayMs = this.faults.delayMs;
      this.faults = { ...this.faults, delayMs: undefined };
      setTimeout(() => this.route(req, res, urlPath), delayMs);
      return;
    }
    this.route(req, res, urlPath);
  }

  private route(req: http.IncomingMessage, res: http.ServerResponse, urlPath: string): void {
    const hub = /^\/(.+)\/resolve\/([^/]+)\/(.+)$/.exec(urlPath);
    if (hub) return this.resolve(req, res, hub[1], hub[2], hub[3]);
    const lfs = /^\/lfs\/(.+)$/.exec(urlPath);
    const file = path.join(this.opts.root, lfs ? lfs[1] : urlPath);
    if (!file.startsWith(this.opts.root) || !isFile(file)) return this.fail(res, 404, 'EntryNotFound');
    this.sendFile(req, res, file, urlPath, {});
  }

  private resolve(req: http.IncomingMessage, res: http.ServerResponse, repo: string, rev: string, name: string): void {
    const token = this.opts.gated?.[repo];
    if (token !== undefined && req.headers.authorization !== `Bearer ${token}`) return this.fail(res, 401, 'GatedRepo');
    const repoDir = path.join(this.opts.root, repo);
    if (!fs.existsSync(repoDir)) return this.fail(res, 401, 'RepoNotFound'); // the Hub hides private repos this way
    if (rev !== 'main' && rev !== this.commit) return this.fail(res, 404, 'RevisionNotFound');
    const file = path.join(repoDir, name);
    if (!isFile(file)) return this.fail(res, 404, 'EntryNotFound');
    const content = fs.readFileSync(file);
    const common = { 'x-repo-commit': this.commit };
    if (this.faults.opaqueEtag) {
      const opaque = `mirror-${crypto.createHash('md5').update(content).digest('hex').slice(0, 12)}`;
      return this.sendFile(req, res, file, req.url ?? '', { ...common, etag: `"${opaque}"` });
    }
    const isLfs = this.opts.isLfs ?? ((f: string) => /\.(safetensors|nupkg|bin)$/.test(f));
    if (isLfs(name)) {
      const sha256 = crypto.createHash('sha256').update(content).digest('hex');
      res.writeHead(302, {
        ...common,
        location: `${this.url}/lfs/${repo}/${name}`, // absolute, like the Hub's CDN redirects
        'x-linked-etag': `"${sha256}"`,
        'x-linked-size': String(content.length),
        'content-length': '0',
      });
      return void res.end();
    }
    const sha1 = crypto.createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
    this.sendFile(req, res, file, req.url ?? '', { ...common, etag: `"${sha1}"` });
  }

  private sendFile(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    file: string,
    urlPath: string,
    headers: http.OutgoingHttpHeaders,
  ): void {
    let content = fs.readFileSync(file);
    if (this.faults.corrupt?.some((suffix) => urlPath.endsWith(suffix))) {
      content = Buffer.from(content);
      content[content.length - 1] ^= 0xff;
    }
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const unsized = this.faults.unsized;
    if (unsized === 'close') res.useChunkedEncodingByDefault = false;
    const length = (n: number): http.OutgoingHttpHeaders => (unsized ? {} : { 'content-length': String(n) });
    if (range && !this.faults.ignoreRange) {
      start = Number(range[1]);
      if (start >= content.length) {
        res.writeHead(416, { 'content-range': `bytes */${content.length}` });
        return void res.end();
      }
      res.writeHead(206, {
        ...headers,
        ...length(content.length - start),
        'content-range': `bytes ${start}-${content.length - 1}/${content.length}`,
      });
    } else {
      res.writeHead(200, { ...headers, ...length(content.length) });
    }
    if (req.method === 'HEAD') return void res.end();
    const body = content.subarray(start);
    const cut = this.faults.cutAfterBytes;
    if (cut && cut.count > 0 && body.length > cut.bytes) {
      cut.count--;
      res.write(body.subarray(0, cut.bytes), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(body);
  }

  private fail(res: http.ServerResponse, status: number, errorCode: string): void {
    res.writeHead(status, { 'x-error-code': errorCode, 'content-type': 'text/plain' });
    res.end(errorCode);
  }
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Starts a server; remember to `close()` it. */
export async function startLoopbackServer(opts: LoopbackOptions): Promise<LoopbackServer> {
  return new LoopbackServer(opts).start();
}

/**
 * A Hugging Face Hub on 127.0.0.1 for push tests: the endpoints @huggingface/hub calls to create a repository and
 * commit files to it, answering as huggingface.co does, and checking what it receives.
 *
 *   GET  /api/whoami-v2                                  the token's account and role (401 for an unknown token)
 *   POST /api/repos/create                               {name, organization, visibility, type}: 200, 409 if it exists,
 *                                                        403 outside the token's own namespace and orgs
 *   POST /api/models/<repo>/preupload/<rev>              which files go by LFS (by name, like the Hub's default
 *                                                        .gitattributes, or over `lfsOver` bytes)
 *   POST /<repo>.git/info/lfs/objects/batch              LFS batch: an upload action per object it does not hold yet:
 *                                                        a basic PUT, or multipart parts + completion over `multipartOver`
 *   PUT  /lfs-upload/<repo>/<oid>, /lfs-part/<repo>/<oid>/<n>   storage (a repository's own); the oid must be the sha256
 *   POST /lfs-complete/<repo>/<oid>                      joins the parts, checks the sha256
 *   POST /api/models/<repo>/commit/<rev>                 NDJSON header + files (base64) + lfsFiles (known oids only)
 *
 * Every request is recorded with its body. `failures` make chosen requests answer an error status once.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

export interface HubAccount {
  name: string;
  role: 'read' | 'write' | 'fineGrained';
  orgs?: string[];
}

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface HubCommit {
  summary: string;
  description?: string;
  /** Every file of the repository after this commit. */
  files: Map<string, Buffer>;
  /** The paths this commit sent as lfsFile entries, with their oids. */
  lfs: Map<string, string>;
}

export interface HubRepo {
  id: string;
  private: boolean;
  commits: HubCommit[];
}

export interface Failure {
  method: string;
  /** A regular expression the request path must match. */
  path: RegExp;
  status: number;
  /** A JSON body {error} when given, else plain text. */
  error?: string;
  /** Answer with the error this many times (default 1). */
  times?: number;
}

export interface HubPushServerOptions {
  /** Token → account. */
  accounts: Record<string, HubAccount>;
  /** Files larger than this go by LFS whatever their name (the Hub's 10 MB). */
  lfsOver?: number;
  /** LFS objects larger than this are uploaded in parts of `partSize` bytes. */
  multipartOver?: number;
  partSize?: number;
}

const LFS_NAMES = /\.(safetensors|onnx|bin|pt|pth|h5|msgpack|model|ot|tflite|zip)$/;

export class HubPushServer {
  readonly requests: ReceivedRequest[] = [];
  readonly repos = new Map<string, HubRepo>();
  /** LFS storage, per repository as on the Hub: `<repo>/<oid>` → bytes. */
  readonly objects = new Map<string, Buffer>();
  failures: Failure[] = [];
  private readonly parts = new Map<string, Map<number, Buffer>>();
  private server?: http.Server;

  constructor(private readonly opts: HubPushServerOptions) {}

  get url(): string {
    const addr = this.server?.address() as AddressInfo | null;
    if (!addr) throw new Error('server not started');
    return `http://127.0.0.1:${addr.port}`;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
        const request = { method: req.method ?? 'GET', path: urlPath, headers: req.headers, body };
        this.requests.push(request);
        try {
          this.route(request, res);
        } catch (e) {
          json(res, 500, { error: `test server: ${(e as Error).message}` });
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Requests whose method and path match. */
  requestsTo(method: string, path: RegExp): ReceivedRequest[] {
    return this.requests.filter((r) => r.method === method && path.test(r.path));
  }

  private account(req: ReceivedRequest): HubAccount | undefined {
    const match = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    return match ? this.opts.accounts[match[1]] : undefined;
  }

  private route(req: ReceivedRequest, res: http.ServerResponse): void {
    const failure = this.failures.find((f) => f.method === req.method && f.path.test(req.path));
    if (failure) {
      if ((failure.times ?? 1) <= 1) this.failures = this.failures.filter((f) => f !== failure);
      else failure.times = (failure.times ?? 1) - 1;
      if (failure.error !== undefined) return json(res, failure.status, { error: failure.error });
      res.writeHead(failure.status, { 'content-type': 'text/plain' });
      return void res.end('Internal Server Error');
    }
    const p = req.path;
    if (req.method === 'GET' && p === '/api/whoami-v2') return this.whoami(req, res);
    if (req.method === 'POST' && p === '/api/repos/create') return this.create(req, res);
    let m = /^\/api\/models\/(.+)\/preupload\/([^/]+)$/.exec(p);
    if (req.method === 'POST' && m) return this.preupload(req, res, m[1]);
    m = /^\/(.+)\.git\/info\/lfs\/objects\/batch$/.exec(p);
    if (req.method === 'POST' && m) return this.batch(req, res, m[1]);
    m = /^\/lfs-upload\/(.+)\/([0-9a-f]{64})$/.exec(p);
    if (req.method === 'PUT' && m) return this.store(res, m[1], m[2], req.body);
    m = /^\/lfs-part\/(.+\/[0-9a-f]{64})\/(\d+)$/.exec(p);
    if (req.method === 'PUT' && m) return this.part(req, res, m[1], Number(m[2]));
    m = /^\/lfs-complete\/(.+)\/([0-9a-f]{64})$/.exec(p);
    if (req.method === 'POST' && m) return this.complete(req, res, m[1], m[2]);
    m = /^\/api\/models\/(.+)\/commit\/([^/]+)$/.exec(p);
    if (req.method === 'POST' && m) return this.commit(req, res, m[1]);
    json(res, 404, { error: `no route for ${req.method} ${p}` });
  }

  private whoami(req: ReceivedRequest, res: http.ServerResponse): void {
    const account = this.account(req);
    if (!account) return json(res, 401, { error: 'Invalid credentials in Authorization header' });
    json(res, 200, {
      type: 'user',
      id: `id-${account.name}`,
      name: account.name,
      fullname: account.name,
      orgs: (account.orgs ?? []).map((name) => ({ type: 'org', name })),
      auth: { type: 'access_token', accessToken: { displayName: 'test', role: account.role } },
    });
  }

  private create(req: ReceivedRequest, res: http.ServerResponse): void {
    const account = this.account(req);
    if (!account) return json(res, 401, { error: 'Invalid credentials in Authorization header' });
    const payload = JSON.parse(req.body.toString('utf8')) as {
      name: string;
      organization?: string;
      visibility?: string;
    };
    const namespace = payload.organization ?? account.name;
    if (namespace !== account.name && !(account.orgs ?? []).includes(namespace)) {
      return json(res, 403, {
        error: `You don't have the rights to create a model under the namespace "${namespace}"`,
      });
    }
    const id = `${namespace}/${payload.name}`;
    if (this.repos.has(id)) return json(res, 409, { error: 'You already created this model repo', url: this.page(id) });
    this.repos.set(id, { id, private: payload.visibility === 'private', commits: [] });
    json(res, 200, { url: this.page(id), name: id, id: `repo-${id}` });
  }

  /** The repository a request may write to, or undefined after answering 401/404/403. */
  private writable(req: ReceivedRequest, res: http.ServerResponse, id: string): HubRepo | undefined {
    const account = this.account(req);
    if (!account) return void json(res, 401, { error: 'Invalid credentials in Authorization header' });
    const repo = this.repos.get(id);
    if (!repo) return void json(res, 404, { error: 'Repository not found' });
    const namespace = id.split('/')[0];
    if (account.role === 'read' || (namespace !== account.name && !(account.orgs ?? []).includes(namespace))) {
      return void json(res, 403, { error: 'You do not have write access to this repository' });
    }
    return repo;
  }

  private preupload(req: ReceivedRequest, res: http.ServerResponse, id: string): void {
    if (!this.writable(req, res, id)) return;
    const payload = JSON.parse(req.body.toString('utf8')) as { files: { path: string; size: number }[] };
    const lfsOver = this.opts.lfsOver ?? 10_000_000;
    json(res, 200, {
      files: payload.files.map((f) => ({
        path: f.path,
        uploadMode: LFS_NAMES.test(f.path) || f.size > lfsOver ? 'lfs' : 'regular',
        shouldIgnore: false,
      })),
    });
  }

  private batch(req: ReceivedRequest, res: http.ServerResponse, id: string): void {
    if (!this.writable(req, res, id)) return;
    const payload = JSON.parse(req.body.toString('utf8')) as {
      operation: string;
      transfers: string[];
      objects: { oid: string; size: number }[];
    };
    if (payload.operation !== 'upload') return json(res, 422, { error: 'only uploads' });
    const multipartOver = this.opts.multipartOver ?? Infinity;
    const partSize = this.opts.partSize ?? 5_000_000;
    const seen = new Set<string>();
    const objects = [];
    for (const { oid, size } of payload.objects) {
      if (seen.has(oid)) continue; // one answer per object, as Git LFS servers give
      seen.add(oid);
      if (this.objects.has(`${id}/${oid}`)) {
        objects.push({ oid, size, authenticated: true });
      } else if (size > multipartOver && payload.transfers.includes('multipart')) {
        const header: Record<string, string> = { chunk_size: String(partSize) };
        for (let n = 1; n <= Math.ceil(size / partSize); n++) {
          header[String(n).padStart(5, '0')] = `${this.url}/lfs-part/${id}/${oid}/${n}`;
        }
        objects.push({
          oid,
          size,
          authenticated: true,
          actions: { upload: { href: `${this.url}/lfs-complete/${id}/${oid}`, header } },
        });
      } else {
        objects.push({
          oid,
          size,
          authenticated: true,
          actions: { upload: { href: `${this.url}/lfs-upload/${id}/${oid}` } },
        });
      }
    }
    res.writeHead(200, { 'content-type': 'application/vnd.git-lfs+json', 'x-request-id': 'req-batch' });
    res.end(JSON.stringify({ transfer: 'basic', objects }));
  }

  private store(res: http.ServerResponse, id: string, oid: string, body: Buffer): void {
    if (sha256(body) !== oid) return json(res, 400, { error: `content does not hash to ${oid}` });
    this.objects.set(`${id}/${oid}`, body);
    res.writeHead(200, { etag: `"${oid.slice(0, 32)}"` });
    res.end();
  }

  /** `key`: `<repo>/<oid>`. */
  private part(req: ReceivedRequest, res: http.ServerResponse, key: string, n: number): void {
    const parts = this.parts.get(key) ?? new Map<number, Buffer>();
    this.parts.set(key, parts);
    parts.set(n, req.body);
    res.writeHead(200, { etag: `"part-${n}-${sha256(req.body).slice(0, 16)}"` });
    res.end();
  }

  private complete(req: ReceivedRequest, res: http.ServerResponse, id: string, oid: string): void {
    const payload = JSON.parse(req.body.toString('utf8')) as {
      oid: string;
      parts: { partNumber: number; etag: string }[];
    };
    const parts = this.parts.get(`${id}/${oid}`);
    if (!parts || payload.oid !== oid) return json(res, 400, { error: 'unknown upload' });
    const ordered = payload.parts.map((p) => {
      const bytes = parts.get(p.partNumber);
      if (!bytes || p.etag !== `"part-${p.partNumber}-${sha256(bytes).slice(0, 16)}"`)
        throw new Error(`bad part ${p.partNumber}`);
      return bytes;
    });
    this.store(res, id, oid, Buffer.concat(ordered));
  }

  private commit(req: ReceivedRequest, res: http.ServerResponse, id: string): void {
    const repo = this.writable(req, res, id);
    if (!repo) return;
    const lines = req.body
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { key: string; value: Record<string, unknown> });
    const header = lines.find((l) => l.key === 'header');
    if (!header || typeof header.value.summary !== 'string') return json(res, 400, { error: 'no commit header' });
    const files = new Map(repo.commits.at(-1)?.files ?? []);
    const lfs = new Map<string, string>();
    for (const { key, value } of lines) {
      if (key === 'file') {
        if (value.encoding !== 'base64') return json(res, 400, { error: `${String(value.path)}: not base64` });
        files.set(String(value.path), Buffer.from(String(value.content), 'base64'));
      } else if (key === 'lfsFile') {
        const oid = String(value.oid);
        const bytes = this.objects.get(`${id}/${oid}`);
        if (!bytes || value.algo !== 'sha256' || Number(value.size) !== bytes.length) {
          return json(res, 422, { error: `LFS object ${oid} of ${String(value.path)} was never uploaded` });
        }
        files.set(String(value.path), bytes);
        lfs.set(String(value.path), oid);
      } else if (key !== 'header') {
        return json(res, 400, { error: `unexpected ${key}` });
      }
    }
    repo.commits.push({
      summary: header.value.summary,
      description: typeof header.value.description === 'string' ? header.value.description : undefined,
      files,
      lfs,
    });
    const oid = sha256(req.body).slice(0, 40);
    json(res, 200, { success: true, commitOid: oid, commitUrl: `${this.page(id)}/commit/${oid}`, hookOutput: '' });
  }

  private page(id: string): string {
    return `${this.url}/${id}`;
  }
}

function json(res: http.ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

export function sha256(bytes: Buffer): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

/** Every file under `dir` with its sha256 and modification time: what "the local model is untouched" means. */
export function folderSnapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (folder: string): void => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const file = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(file);
      else out.set(path.relative(dir, file), `${sha256(fs.readFileSync(file))} ${fs.statSync(file).mtimeMs}`);
    }
  };
  walk(dir);
  return out;
}

export async function startHubPushServer(opts: HubPushServerOptions): Promise<HubPushServer> {
  return new HubPushServer(opts).start();
}

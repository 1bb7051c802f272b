/**
 * A loopback npm registry for installing a packed tarball without the network: it serves the packuments and tarballs of
 * the packages a manifest depends on, at the versions installed in this repository's node_modules (package-lock.json).
 * The tarballs are the registry's own bytes from npm's cache (where `npm ci` left them, found by the lock's integrity),
 * else a fresh `npm pack` of the installed folder.
 */
import { execFile, execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';

interface LockEntry {
  version: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

interface Served {
  name: string;
  version: string;
  /** The package's manifest fields npm resolves with (its package.json as installed). */
  manifest: Record<string, unknown>;
  tarball: string;
  integrity: string;
}

/** The manifest fields a packument version carries for installing. */
const MANIFEST_FIELDS = [
  'name',
  'version',
  'dependencies',
  'optionalDependencies',
  'peerDependencies',
  'peerDependenciesMeta',
  'bin',
  'os',
  'cpu',
  'engines',
  'scripts',
  'license',
];

const NPM_EXEC = { encoding: 'utf8', shell: process.platform === 'win32', maxBuffer: 64 * 2 ** 20 } as const;

interface NpmOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs `npm` (npm.cmd on Windows goes through the shell) and returns its stdout. */
export function npm(args: readonly string[], options: NpmOptions): string {
  return execFileSync('npm', args, { ...options, ...NPM_EXEC, stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * `npm` without blocking this process: needed while the registry it talks to is served from this process. Rejects
 * with npm's stderr when it fails.
 */
export async function npmAsync(args: readonly string[], options: NpmOptions): Promise<string> {
  try {
    return (await promisify(execFile)('npm', args, { ...options, ...NPM_EXEC })).stdout;
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new Error(`npm ${args.join(' ')} failed: ${err.message}\n${err.stderr ?? ''}`, { cause: e });
  }
}

/** The environment for an npm child that must not inherit the npm settings of a run started by `npm test`. */
export function cleanNpmEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_(config|package|lifecycle)_/i.test(key)) env[key] = value;
  }
  return { ...env, ...extra };
}

/** The path cacache stores content of this integrity under (cacache's content-v2 layout). */
function cachedContent(cacheDir: string, integrity: string): string | undefined {
  const [algorithm, base64] = integrity.split(' ')[0].split('-');
  if (!algorithm || !base64) return undefined;
  const hex = Buffer.from(base64, 'base64').toString('hex');
  const file = path.join(cacheDir, '_cacache', 'content-v2', algorithm, hex.slice(0, 2), hex.slice(2, 4), hex.slice(4));
  return fs.existsSync(file) ? file : undefined;
}

export class NpmRegistry {
  private readonly served = new Map<string, Served[]>();
  private server?: http.Server;

  /**
   * @param repoRoot the repository whose node_modules and package-lock.json supply the packages
   * @param dependencies the manifest's dependencies: these and everything they need are served
   * @param workDir where tarballs packed here go
   */
  constructor(repoRoot: string, dependencies: Record<string, string>, workDir: string) {
    const lock = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, LockEntry>;
    };
    const cacheDir = npm(['config', 'get', 'cache'], { cwd: workDir, env: cleanNpmEnv() }).trim();
    // Resolve each dependency as Node does, from the requiring package's folder upwards.
    const queue: [string, string][] = Object.keys(dependencies).map((name) => ['', name]);
    const seen = new Set<string>();
    while (queue.length > 0) {
      const [from, name] = queue.shift()!;
      const key = this.resolve(lock.packages, from, name);
      if (seen.has(key)) continue;
      seen.add(key);
      const entry = lock.packages[key];
      const folder = path.join(repoRoot, ...key.split('/'));
      const manifest = JSON.parse(fs.readFileSync(path.join(folder, 'package.json'), 'utf8')) as Record<
        string,
        unknown
      >;
      let tarball = entry.integrity ? cachedContent(cacheDir, entry.integrity) : undefined;
      let integrity = entry.integrity ?? '';
      if (!tarball) {
        const packed = npm(['pack', '--ignore-scripts', '--pack-destination', workDir, folder], {
          cwd: workDir,
          env: cleanNpmEnv(),
        });
        tarball = path.join(workDir, packed.trim().split('\n').pop()!);
        integrity = `sha512-${crypto.createHash('sha512').update(fs.readFileSync(tarball)).digest('base64')}`;
      }
      const fields = Object.fromEntries(MANIFEST_FIELDS.filter((f) => f in manifest).map((f) => [f, manifest[f]]));
      const versions = this.served.get(name) ?? [];
      versions.push({ name, version: entry.version, manifest: fields, tarball, integrity });
      this.served.set(name, versions);
      for (const dep of [...Object.keys(entry.dependencies ?? {}), ...Object.keys(entry.optionalDependencies ?? {})]) {
        queue.push([key, dep]);
      }
    }
  }

  /** The names of the packages served. */
  get names(): string[] {
    return [...this.served.keys()].sort();
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) throw new Error('registry not started');
    return `http://127.0.0.1:${address.port}/`;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private resolve(packages: Record<string, LockEntry>, from: string, name: string): string {
    for (
      let dir = from;
      ;
      dir = dir.includes('/node_modules/') ? dir.slice(0, dir.lastIndexOf('/node_modules/')) : ''
    ) {
      const key = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
      if (packages[key]) return key;
      if (dir === '') throw new Error(`${name} (needed by ${from || 'the package'}) is not in package-lock.json`);
    }
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).slice(1);
    const tarball = /^-\/(.+)\/(\d[^/]*)\.tgz$/.exec(url);
    if (tarball) {
      const found = this.served.get(tarball[1])?.find((v) => v.version === tarball[2]);
      if (!found) return this.notFound(res);
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': fs.statSync(found.tarball).size,
      });
      fs.createReadStream(found.tarball).pipe(res);
      return;
    }
    const versions = this.served.get(url);
    if (!versions) return this.notFound(res);
    const latest = versions[versions.length - 1].version;
    const body = JSON.stringify({
      name: url,
      'dist-tags': { latest },
      versions: Object.fromEntries(
        versions.map((v) => [
          v.version,
          {
            ...v.manifest,
            dist: { tarball: `${this.url}-/${encodeURIComponent(v.name)}/${v.version}.tgz`, integrity: v.integrity },
          },
        ]),
      ),
    });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  }

  private notFound(res: http.ServerResponse): void {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":"Not found"}');
  }
}

/** A file of a .tgz (npm pack's output): its path inside the archive and its permission bits. */
export interface TarEntry {
  path: string;
  mode: number;
  body: Buffer;
}

/** The regular files of a gzipped tar archive (ustar headers and a long path in a pax or GNU header, as npm writes). */
export function readTarball(file: string): TarEntry[] {
  const tar = zlib.gunzipSync(fs.readFileSync(file));
  const entries: TarEntry[] = [];
  let longName: string | undefined;
  for (let at = 0; at + 512 <= tar.length;) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const text = (from: number, length: number) =>
      header
        .subarray(from, from + length)
        .toString('utf8')
        .replace(/\0.*$/s, '');
    const size = parseInt(text(124, 12).trim() || '0', 8);
    const type = text(156, 1) || '0';
    const body = tar.subarray(at + 512, at + 512 + size);
    const prefix = text(345, 155);
    const name = longName ?? (prefix ? `${prefix}/${text(0, 100)}` : text(0, 100));
    longName = undefined;
    if (type === 'L') longName = body.toString('utf8').replace(/\0.*$/s, '');
    else if (type === 'x') longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))?.[1];
    else if (type === '0')
      entries.push({ path: name, mode: parseInt(text(100, 8).trim(), 8), body: Buffer.from(body) });
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return entries;
}

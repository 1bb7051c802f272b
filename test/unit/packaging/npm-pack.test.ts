/**
 * The `bertft` CLI as an npm package: `npm pack` (its prepack script builds dist/), then the tarball installed with
 * `npm install -g` into a temporary prefix, its dependencies from a loopback registry serving this repository's own
 * installed versions (test/helpers/npm-registry.ts: no network), and the installed `bertft` run from there.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { isBuiltin } from 'node:module';
import * as path from 'node:path';
import { NpmRegistry, cleanNpmEnv, npm, npmAsync, readTarball, type TarEntry } from '../../helpers/npm-registry';
import { tempFolder } from '../../helpers/temp';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const EXAMPLE = path.join(REPO_ROOT, 'examples', 'spam-ham.csv');

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  bin?: Record<string, string>;
  files?: string[];
  dependencies?: Record<string, string>;
}

let temp: string;
let prefix: string;
let entries: Map<string, TarEntry>;
let packed: Manifest;
let registry: NpmRegistry | undefined;

/** The installed `bertft`: <prefix>/bin/bertft, or the .cmd shim npm writes into the prefix itself on Windows. */
function bertft(args: readonly string[], cwd = REPO_ROOT): { code: number; stdout: string; stderr: string } {
  const windows = process.platform === 'win32';
  const bin = windows ? path.join(prefix, 'bertft.cmd') : path.join(prefix, 'bin', 'bertft');
  try {
    const stdout = execFileSync(bin, args, { cwd, encoding: 'utf8', shell: windows, stdio: 'pipe' });
    return { code: 0, stdout, stderr: '' };
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    return { code: err.status, stdout: err.stdout, stderr: err.stderr };
  }
}

before(async () => {
  temp = tempFolder('bertft-npm-');
  prefix = path.join(temp, 'prefix');
  const out = npm(['pack', '--pack-destination', temp], { cwd: REPO_ROOT, env: cleanNpmEnv() });
  const tarball = path.join(temp, out.trim().split('\n').pop()!);
  entries = new Map(readTarball(tarball).map((e) => [e.path, e]));
  packed = JSON.parse(entries.get('package/package.json')!.body.toString('utf8')) as Manifest;

  registry = await new NpmRegistry(REPO_ROOT, packed.dependencies ?? {}, temp).start();
  const npmEnv = cleanNpmEnv({ ONNXRUNTIME_NODE_INSTALL: 'skip' });
  const flags = ['--registry', registry.url, '--cache', path.join(temp, 'cache'), '--no-audit', '--no-fund'];
  await npmAsync(['install', '-g', '--prefix', prefix, '--no-update-notifier', ...flags, tarball], {
    cwd: temp,
    env: npmEnv,
  });
});

after(async () => {
  await registry?.close();
  if (temp) fs.rmSync(temp, { recursive: true, force: true });
});

test('the tarball holds the bundled CLI, its tokenizer assets and the docs; no sources, tests or other bundles', () => {
  const files = [...entries.keys()].map((p) => p.replace(/^package\//, ''));
  const always = ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md'];
  const stray = files.filter((f) => !always.includes(f) && f !== 'dist/cli.js' && !f.startsWith('assets/'));
  assert.deepEqual(stray, [], 'files outside the allow-list');
  for (const f of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'dist/cli.js', 'assets/tokenizer.json']) {
    assert.ok(files.includes(f), `${f} is in the tarball`);
  }
  const assets = fs.readdirSync(path.join(REPO_ROOT, 'assets')).map((f) => `assets/${f}`);
  assert.deepEqual(files.filter((f) => f.startsWith('assets/')).sort(), assets.sort(), 'every asset');
});

test('package.json: public; the bertft bin executable with a node shebang; onnxruntime-node its one dependency', () => {
  assert.equal(packed.private, undefined);
  assert.equal(
    packed.files,
    undefined,
    'vsce refuses a "files" field beside .vscodeignore: .npmignore is the allow-list',
  );
  assert.equal(path.posix.normalize(packed.bin?.bertft ?? ''), 'dist/cli.js');
  const cli = entries.get('package/dist/cli.js')!;
  assert.ok(cli.body.toString('utf8').startsWith('#!/usr/bin/env node\n'), 'shebang on the first line');
  assert.equal(cli.mode & 0o111, 0o111, `dist/cli.js is executable in the tarball (mode ${cli.mode.toString(8)})`);
  assert.deepEqual(Object.keys(packed.dependencies ?? {}), ['onnxruntime-node']);
});

test('everything dist/cli.js requires at run time is a Node built-in or a dependency of the package', () => {
  const source = entries.get('package/dist/cli.js')!.body.toString('utf8');
  const required = new Set([...source.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]));
  assert.ok(required.has('onnxruntime-node'), 'onnxruntime-node stays external');
  const foreign = [...required].filter((m) => !isBuiltin(m) && !(m in (packed.dependencies ?? {})));
  assert.deepEqual(foreign, []);
  assert.doesNotMatch(source, /\bimport\(\s*["'](?!node:)[^"']+["']\s*\)/, 'no dynamic import of a package');
});

test('installed with npm install -g: bertft --version prints the version', () => {
  const r = bertft(['--version']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${packed.version}\n`);
  const ours = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as Manifest;
  assert.equal(packed.version, ours.version);
});

test('installed with npm install -g: bertft check on the bundled example, with the tokenizer of the package', () => {
  const r = bertft(['check', '--data', EXAMPLE]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /spam-ham\.csv: 400 rows, csv \(text: "text", label: "label"\)/);
  assert.match(r.stdout, /^ {2}ham +287 /m);
  assert.match(r.stdout, /^ {2}spam +113 /m);
  assert.match(r.stdout, /^Token lengths: median \d+, p90 \d+/m);
  assert.match(r.stdout, /^Result: usable, with warnings\.$/m);
});

test('installed with npm install -g: onnxruntime-node loads from the installed package (bertft gpu)', () => {
  const r = bertft(['gpu', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const status = JSON.parse(r.stdout) as { ort_version: string; provider_dir: string };
  assert.equal(status.ort_version, packed.dependencies?.['onnxruntime-node']);
  const installed = fs.realpathSync(prefix);
  assert.ok(fs.realpathSync(status.provider_dir).startsWith(installed), `${status.provider_dir} is under ${installed}`);
});

test('installed with npm install -g: a usage mistake exits 1 with the fix, and help fits 80 columns', () => {
  const r = bertft(['train', '--truncation', 'middle']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--truncation must be one of head, head\+tail, window/);
  const help = bertft(['train', '--help']);
  assert.equal(help.code, 0);
  for (const line of help.stdout.split('\n')) assert.ok(line.length <= 80, line);
});

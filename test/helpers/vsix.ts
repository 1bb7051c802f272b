/**
 * The VSIXs of `npm run package` (scripts/package.mjs) for tests: found in dist-vsix/, or built there once when one is
 * missing or older than what decides its contents, and read as the zips they are (adm-zip, already a dependency).
 */
import AdmZip from 'adm-zip';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const VSIX_DIR = path.join(REPO_ROOT, 'dist-vsix');
export const UNIVERSAL = 'universal';

const VERSION = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;

/** Where `npm run package` writes the VSIX of a target ('universal' for the one without a native binary). */
export function vsixPath(target: string, dir = VSIX_DIR): string {
  return path.join(dir, `bert-${target}-${VERSION}.vsix`);
}

/**
 * What decides which files a VSIX holds and its manifest: the allow-list, the packaging and build scripts, the
 * manifest, the shipped folders and onnxruntime-node's own package. Source edits change the bundles' bytes, not that,
 * so they do not force a rebuild here (`npm run package` and the e2e test always build afresh).
 */
function newestInput(): number {
  const files = [
    'package.json',
    '.vscodeignore',
    'README.md',
    'CHANGELOG.md',
    'package.nls.json',
    'LICENSE',
    'scripts/package.mjs',
    'scripts/build.mjs',
  ];
  const folders = ['media', 'assets', 'examples', 'l10n', 'node_modules/onnxruntime-node/bin'];
  let newest = Math.max(
    ...files.map((f) => fs.statSync(path.join(REPO_ROOT, f)).mtimeMs),
    fs.statSync(path.join(REPO_ROOT, 'node_modules', 'onnxruntime-node', 'package.json')).mtimeMs,
  );
  for (const folder of folders) {
    for (const entry of fs.readdirSync(path.join(REPO_ROOT, folder), { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) newest = Math.max(newest, fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
    }
  }
  return newest;
}

/** Builds the VSIXs of `targets` with scripts/package.mjs into `dir`. */
export function buildVsixes(targets: readonly string[], dir = VSIX_DIR): void {
  execFileSync(
    process.execPath,
    [path.join(REPO_ROOT, 'scripts', 'package.mjs'), '--out', dir, ...targets.flatMap((t) => ['--target', t])],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 2 ** 20 },
  );
}

/** The VSIX of every target, building those that are missing or stale. */
export function packagedVsixes(targets: readonly string[]): Map<string, string> {
  const newest = newestInput();
  const stale = targets.filter((t) => !fs.existsSync(vsixPath(t)) || fs.statSync(vsixPath(t)).mtimeMs < newest);
  if (stale.length > 0) buildVsixes(stale);
  return new Map(targets.map((t) => [t, vsixPath(t)]));
}

/** A VSIX opened as a zip: its entry names and the bytes of one entry. */
export class Vsix {
  private readonly zip: AdmZip;
  readonly entries: string[];

  constructor(readonly file: string) {
    this.zip = new AdmZip(file);
    this.entries = this.zip.getEntries().map((e) => e.entryName);
  }

  read(entry: string): Buffer {
    const data = this.zip.getEntry(entry)?.getData();
    if (!data) throw new Error(`${entry} is not in ${this.file}`);
    return data;
  }

  text(entry: string): string {
    return this.read(entry).toString('utf8');
  }
}

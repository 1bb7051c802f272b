/**
 * The layering rules from DEVELOPERS.md, checked on the sources: src/core is plain Node (no `vscode`, and nothing from
 * the extension, the trainer or the CLI), so the CLI and the trainer child process can run it without VS Code.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const REPO = path.resolve(__dirname, '..', '..', '..', '..');

/** Module specifiers a TypeScript file imports: static and type imports, re-exports, import() and require(). */
export function importSpecifiers(source: string): string[] {
  const withoutComments = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const patterns = [
    /\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  const found: string[] = [];
  for (const p of patterns) for (const m of withoutComments.matchAll(p)) found.push(m[1]);
  return found;
}

function typeScriptFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return typeScriptFiles(full);
    return e.name.endsWith('.ts') ? [full] : [];
  });
}

/** Every (file, specifier) in `dir` that breaks `forbidden`, as "file: specifier" lines. */
function violations(dir: string, forbidden: (specifier: string, resolved: string | undefined) => boolean): string[] {
  const bad: string[] = [];
  for (const file of typeScriptFiles(dir)) {
    for (const spec of importSpecifiers(fs.readFileSync(file, 'utf8'))) {
      const resolved = spec.startsWith('.') ? path.relative(REPO, path.resolve(path.dirname(file), spec)) : undefined;
      if (forbidden(spec, resolved)) bad.push(`${path.relative(REPO, file)}: ${spec}`);
    }
  }
  return bad;
}

const isVscode = (spec: string): boolean => spec === 'vscode';
const under = (resolved: string | undefined, ...dirs: string[]): boolean =>
  resolved !== undefined && dirs.some((d) => resolved === d || resolved.startsWith(`${d}${path.sep}`));

test('the import scanner finds every form of import', () => {
  const source = [
    "import * as vscode from 'vscode';",
    "import type { Batch } from '../tokenize/batch';",
    "export { x } from '../../extension/log';",
    "import './side-effect';",
    "const m = await import('../../trainer/main');",
    "const r = require('node:fs');",
    "// import { commented } from 'vscode-commented-out';",
    "/* import { blocked } from 'blocked'; */",
    "const url = 'http://example.invalid'; // a string, not an import",
  ].join('\n');
  assert.deepEqual(importSpecifiers(source).sort(), [
    '../../extension/log',
    '../../trainer/main',
    '../tokenize/batch',
    './side-effect',
    'node:fs',
    'vscode',
  ]);
});

test('src/core exists and has sources to check', () => {
  assert.ok(typeScriptFiles(path.join(REPO, 'src', 'core')).length > 0);
});

test('src/core never imports vscode', () => {
  assert.deepEqual(violations(path.join(REPO, 'src', 'core'), isVscode), []);
});

test('src/core never imports from src/extension, src/trainer or the CLI', () => {
  const outward = (_: string, resolved: string | undefined): boolean =>
    under(resolved, 'src/extension', 'src/trainer', 'src/cli') || resolved === 'src/cli';
  assert.deepEqual(violations(path.join(REPO, 'src', 'core'), outward), []);
});

test('the trainer child process, the CLI and the webview never import vscode', () => {
  const dirs = ['src/trainer', 'src/cli', 'webview'].map((d) => path.join(REPO, d));
  const files = [path.join(REPO, 'src', 'cli.ts')].filter((f) => fs.existsSync(f));
  const bad = dirs.flatMap((d) => violations(d, isVscode));
  for (const f of files)
    if (importSpecifiers(fs.readFileSync(f, 'utf8')).some(isVscode)) bad.push(path.relative(REPO, f));
  assert.deepEqual(bad, []);
});

/** Runtime imports of a file (type-only imports and re-exports are erased by the compiler, so they load nothing). */
function runtimeImports(file: string): string[] {
  const source = fs
    .readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const typeOnly = /\b(?:import|export)\s+type\s[^'"`;]*?\bfrom\s*['"][^'"]+['"]/g;
  return importSpecifiers(source.replace(typeOnly, ''));
}

/** Every source file `entry` loads at run time, following relative imports. */
function loadedFrom(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of runtimeImports(file)) {
      if (!spec.startsWith('.')) continue;
      const base = path.resolve(path.dirname(file), spec);
      const next = [`${base}.ts`, path.join(base, 'index.ts')].find((f) => fs.existsSync(f));
      if (next) visit(next);
    }
  };
  visit(entry);
  return seen;
}

test('the extension host never loads onnxruntime: only the inference worker and the trainer child do', () => {
  const loaded = loadedFrom(path.join(REPO, 'src', 'extension', 'extension.ts'));
  assert.ok(loaded.size > 20, `the import walk found only ${loaded.size} files`);
  const ort = [...loaded]
    .filter((f) => runtimeImports(f).includes('onnxruntime-node'))
    .map((f) => path.relative(REPO, f));
  assert.deepEqual(ort, []);
  // The walk does see onnxruntime where it is loaded.
  const worker = loadedFrom(path.join(REPO, 'src', 'extension', 'inference', 'worker.ts'));
  assert.ok([...worker].some((f) => runtimeImports(f).includes('onnxruntime-node')));
});

/**
 * The layers inside src/core, lowest first (ARCHITECTURE.md): a folder imports only from its own layer or lower ones.
 * Folders of one layer do not import each other.
 */
const CORE_LAYERS: readonly string[][] = [
  ['errors.ts'],
  ['util'],
  ['net', 'tokenize', 'graph', 'run'],
  ['data', 'model', 'runtime', 'scheduler'],
  ['train'],
  ['infer'],
  ['finetune', 'pretrain'],
  ['sweep'],
];

function coreUnit(resolved: string): string | undefined {
  const rel = path.relative(path.join('src', 'core'), resolved);
  if (rel.startsWith('..')) return undefined;
  const first = rel.split(path.sep)[0];
  return first === 'errors' ? 'errors.ts' : first;
}

test('inside src/core, imports point down the layers: errors → util → net, tokenize, graph, run → data, model, runtime, scheduler → train → infer → finetune, pretrain → sweep', () => {
  const rank = new Map(CORE_LAYERS.flatMap((layer, i) => layer.map((unit) => [unit, i] as const)));
  const bad: string[] = [];
  for (const file of typeScriptFiles(path.join(REPO, 'src', 'core'))) {
    const from = coreUnit(path.relative(REPO, file));
    if (from === undefined || !rank.has(from)) {
      bad.push(`${path.relative(REPO, file)}: not in a layer of CORE_LAYERS`);
      continue;
    }
    for (const spec of importSpecifiers(fs.readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const to = coreUnit(path.relative(REPO, path.resolve(path.dirname(file), spec)));
      if (to === undefined || to === from) continue;
      if (!rank.has(to) || rank.get(to)! >= rank.get(from)!) bad.push(`${path.relative(REPO, file)}: ${spec}`);
    }
  }
  assert.deepEqual(bad, []);
});

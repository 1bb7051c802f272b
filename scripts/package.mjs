#!/usr/bin/env node
// `npm run package`: one VSIX per VS Code target that onnxruntime-node ships a native binding for, each holding only
// its own binding and libraries (node_modules/onnxruntime-node/bin/napi-v6/<os>/<arch>/), plus one universal VSIX
// with no native binary, which the Marketplace offers on every other platform (an Intel Mac, Alpine, ...); there the
// extension says on activation that it cannot run, and why (src/core/runtime/devices.ts `nativeSupport`).
//
// The VSIXs are packed from a staging folder, never from the repository itself, so packaging does not replace the
// dist/ that tests or a running VS Code are loading: the production bundles are built into <stage>/dist; the files the
// allow-list names at the top level (README.md, LICENSE, media/, ...) are copied beside them with the production
// dependencies (`npm ls --omit=dev`, which vsce runs again in the stage), onnxruntime-node without its binaries; and
// per target only that target's binary folder is put in. The staged package.json is the repository's without
// "files" (npm's publish list for the bertft CLI, which vsce refuses beside .vscodeignore); its vscode:prepublish runs
// a stand-in that says dist/ is built. .vscodeignore is the allow-list shared by all VSIXs; per target this script
// writes a copy that re-includes the target's binary folder and runs `vsce package --target <t> --ignoreFile <copy>`.
//
// usage: node scripts/package.mjs [--out <folder>] [--target <t>]...
//   --out      where the VSIXs go (default dist-vsix/), named bert-<target>-<version>.vsix
//   --target   only these targets (win32-x64, win32-arm64, darwin-arm64, linux-x64, linux-arm64, universal)
// The last stdout line is one JSON object: { "vsix": [{ "target", "file", "bytes" }] }.
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The VS Code targets with an onnxruntime-node binding (kept equal to NATIVE_VSCODE_TARGETS by the VSIX test). */
const NATIVE_TARGETS = ['win32-x64', 'win32-arm64', 'darwin-arm64', 'linux-x64', 'linux-arm64'];
const UNIVERSAL = 'universal';

function parseArgs(argv) {
  const options = { out: path.join(root, 'dist-vsix'), targets: [] };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if ((flag === '--out' || flag === '--target') && value !== undefined && !value.startsWith('--')) {
      if (flag === '--out') options.out = path.resolve(value);
      else options.targets.push(value);
      i++;
    } else {
      throw new Error(`package: unknown or incomplete flag "${flag}" (use --out <folder>, --target <t>)`);
    }
  }
  const known = [...NATIVE_TARGETS, UNIVERSAL];
  for (const t of options.targets) {
    if (!known.includes(t)) throw new Error(`package: unknown target "${t}" (one of ${known.join(', ')})`);
  }
  if (options.targets.length === 0) options.targets = known;
  return options;
}

/** The allow-list's re-included paths (`!x` lines of .vscodeignore). */
function allowed() {
  return readFileSync(path.join(root, '.vscodeignore'), 'utf8')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.startsWith('!'))
    .map((line) => line.slice(1));
}

const ORT_NODE = path.join('node_modules', 'onnxruntime-node');
const NAPI = path.join(ORT_NODE, 'bin', 'napi-v6');

/** The folders of the production dependencies, relative to the repository (nested ones included). */
function productionDependencies() {
  const listed = execFileSync('npm', ['ls', '--omit=dev', '--parseable', '--all', '--loglevel=error'], {
    cwd: root,
    encoding: 'utf8',
    shell: process.platform === 'win32',
    maxBuffer: 16 * 2 ** 20,
  });
  return listed
    .split(/\r?\n/)
    .filter((dir) => path.isAbsolute(dir) && path.resolve(dir) !== root)
    .map((dir) => path.relative(root, dir));
}

/** A stage holding what vsce packs, except onnxruntime-node's binaries (`putBinaries`). */
function makeStage(stage) {
  execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), '--production', '--into', stage], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const { files: _npmFiles, ...manifest } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const tops = new Set(allowed().map((p) => p.split('/')[0]));
  for (const top of tops) {
    if (top === 'dist' || top === 'node_modules' || top === 'package.json' || top.includes('*')) continue;
    cpSync(path.join(root, top), path.join(stage, top), { recursive: true });
  }
  for (const dep of productionDependencies()) {
    const from = path.join(root, dep);
    // Nested dependencies are listed, and copied, on their own; onnxruntime-node's binaries go in per target.
    const filter = (src) =>
      (path.basename(src) !== 'node_modules' || src === from) && src !== path.join(root, ORT_NODE, 'bin');
    cpSync(from, path.join(stage, dep), { recursive: true, filter });
  }
  mkdirSync(path.join(stage, 'scripts'));
  writeFileSync(
    path.join(stage, 'scripts', 'build.mjs'),
    "console.log('build: dist/ was built by scripts/package.mjs before vsce ran');\n",
  );
}

/**
 * A versioned copy of the library the binding links: the macOS folder holds libonnxruntime.1.30.0.dylib next to
 * libonnxruntime.1.dylib, byte for byte the same (npm packages have no symlinks), and the binding loads only
 * `@rpath/libonnxruntime.1.dylib`. Leaving the copy out halves the macOS VSIX.
 */
function redundantCopy(dir, name, names) {
  const versioned = /^(libonnxruntime\.\d+)\.\d+\.\d+\.dylib$/.exec(name);
  if (!versioned) return false;
  const linked = `${versioned[1]}.dylib`;
  return names.includes(linked) && readFileSync(path.join(dir, name)).equals(readFileSync(path.join(dir, linked)));
}

/** Puts the target's own onnxruntime-node binaries, and no other, into the stage. */
function putBinaries(stage, target) {
  rmSync(path.join(stage, ORT_NODE, 'bin'), { recursive: true, force: true });
  if (target === UNIVERSAL) return;
  const [platform, arch] = target.split('-');
  const from = path.join(root, NAPI, platform, arch);
  const to = path.join(stage, NAPI, platform, arch);
  mkdirSync(to, { recursive: true });
  const names = readdirSync(from);
  for (const name of names) {
    if (!redundantCopy(from, name, names)) cpSync(path.join(from, name), path.join(to, name));
  }
}

/** The allow-list for one target: .vscodeignore, plus the target's own onnxruntime-node binary folder. */
function ignoreFileFor(target) {
  const base = readFileSync(path.join(root, '.vscodeignore'), 'utf8');
  if (target === UNIVERSAL) return base;
  const [platform, arch] = target.split('-');
  return `${base.trimEnd()}\n# ${target} only:\n!node_modules/onnxruntime-node/bin/napi-v6/${platform}/${arch}/**\n`;
}

/** Renames `from` over `to`; across file systems (the temporary folder on another disk), copies then renames. */
function moveFile(from, to) {
  try {
    renameSync(from, to);
  } catch (e) {
    if (e.code !== 'EXDEV') throw e;
    const sibling = `${to}.${process.pid}.tmp`;
    cpSync(from, sibling);
    renameSync(sibling, to);
  }
}

function main() {
  const { out, targets } = parseArgs(process.argv.slice(2));
  const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
  mkdirSync(out, { recursive: true });
  const temp = mkdtempSync(path.join(os.tmpdir(), 'bertft-package-'));
  const stage = path.join(temp, 'extension');
  mkdirSync(stage);
  const built = [];
  try {
    makeStage(stage);
    for (const target of targets) {
      putBinaries(stage, target);
      const ignoreFile = path.join(temp, `${target}.vscodeignore`);
      writeFileSync(ignoreFile, ignoreFileFor(target));
      const file = path.join(out, `bert-${target}-${version}.vsix`);
      // Written under a temporary name, then renamed: a reader sees the old VSIX or the new one, never a partial one.
      const partial = path.join(temp, path.basename(file));
      const targetArgs = target === UNIVERSAL ? [] : ['--target', target];
      console.log(`package: ${target} -> ${path.relative(root, file)}`);
      execFileSync(process.execPath, [vsce, 'package', ...targetArgs, '--ignoreFile', ignoreFile, '-o', partial], {
        cwd: stage,
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      moveFile(partial, file);
      built.push({ target, file, bytes: statSync(file).size });
    }
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
  for (const v of built) console.log(`package: ${v.target.padEnd(13)} ${(v.bytes / 2 ** 20).toFixed(1)} MiB`);
  console.log(JSON.stringify({ vsix: built }));
}

try {
  main();
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 1;
}

/**
 * `npm run package`: one VSIX per VS Code target with an onnxruntime-node binding, and a universal one without any
 * native binary. Each is opened as the zip it is and its file list, manifest and size are checked. The VSIXs are built
 * into dist-vsix/ when missing or stale (test/helpers/vsix.ts); building all six takes a minute or two.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import AdmZip from 'adm-zip';
import { NATIVE_VSCODE_TARGETS, platformDevices, vscodeTarget } from '../../../src/core/runtime/devices';
import { REPO_ROOT, UNIVERSAL, Vsix, packagedVsixes } from '../../helpers/vsix';
import { tempFolder } from '../../helpers/temp';

/** Each target's files of node_modules/onnxruntime-node/bin/napi-v6/<os>/<arch>/, as the VSIX must hold them. */
const BINARIES: ReadonlyMap<string, readonly string[]> = new Map([
  ['win32-x64', ['DirectML.dll', 'dxcompiler.dll', 'dxil.dll', 'onnxruntime.dll', 'onnxruntime_binding.node']],
  ['win32-arm64', ['DirectML.dll', 'dxcompiler.dll', 'dxil.dll', 'onnxruntime.dll', 'onnxruntime_binding.node']],
  // libonnxruntime.1.30.0.dylib, an identical copy the binding does not link, is left out (scripts/package.mjs).
  ['darwin-arm64', ['libonnxruntime.1.dylib', 'onnxruntime_binding.node']],
  ['linux-x64', ['libonnxruntime.so.1', 'onnxruntime_binding.node']],
  ['linux-arm64', ['libonnxruntime.so.1', 'onnxruntime_binding.node']],
  [UNIVERSAL, []],
]);

/** The onnxruntime library each binding links, by the name its loader looks for. */
const LINKED_LIBRARY: ReadonlyMap<string, string> = new Map([
  ['win32-x64', 'onnxruntime.dll'],
  ['win32-arm64', 'onnxruntime.dll'],
  ['darwin-arm64', '@rpath/libonnxruntime.1.dylib'],
  ['linux-x64', 'libonnxruntime.so.1'],
  ['linux-arm64', 'libonnxruntime.so.1'],
]);

/** Size budget per VSIX in MiB (README, "Platforms"): measured 2026-12-06 plus about 10% headroom. */
const BUDGET_MIB: ReadonlyMap<string, number> = new Map([
  ['win32-x64', 32],
  ['win32-arm64', 33],
  ['darwin-arm64', 15],
  ['linux-x64', 20],
  ['linux-arm64', 12],
  [UNIVERSAL, 1.5],
]);

const TARGETS = [...NATIVE_VSCODE_TARGETS, UNIVERSAL];
const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
  version: string;
  icon: string;
  engines: { vscode: string };
};
const vsixes = packagedVsixes(TARGETS);

test('npm run package builds a VSIX for every target onnxruntime-node ships a binding for, and a universal one', () => {
  const script = fs.readFileSync(path.join(REPO_ROOT, 'scripts', 'package.mjs'), 'utf8');
  const listed = /const NATIVE_TARGETS = \[([^\]]*)\]/.exec(script)?.[1].match(/'[^']+'/g);
  assert.deepEqual(
    listed?.map((t) => t.slice(1, -1)),
    [...NATIVE_VSCODE_TARGETS],
    'scripts/package.mjs and core/runtime/devices.ts name the same targets',
  );
  const shipped = fs
    .readdirSync(path.join(REPO_ROOT, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6'))
    .flatMap((os) =>
      fs
        .readdirSync(path.join(REPO_ROOT, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', os))
        .map((a) => `${os}-${a}`),
    );
  assert.deepEqual([...NATIVE_VSCODE_TARGETS].sort(), shipped.sort(), 'a target per binding onnxruntime-node ships');
  assert.deepEqual([...BINARIES.keys()].sort(), [...TARGETS].sort());
  for (const target of TARGETS) assert.ok(fs.existsSync(vsixes.get(target)!), `${target}: ${vsixes.get(target)}`);
});

for (const target of TARGETS) {
  test(`${target}: its own onnxruntime binding and libraries, nothing of another platform`, () => {
    const vsix = new Vsix(vsixes.get(target)!);
    const bin = 'extension/node_modules/onnxruntime-node/bin/';
    const binaries = vsix.entries.filter((e) => e.startsWith(bin)).sort();
    const [os, arch] = target.split('-');
    const expected = BINARIES.get(target)!.map((name) => `${bin}napi-v6/${os}/${arch}/${name}`);
    assert.deepEqual(binaries, [...expected].sort());
    const foreign = vsix.entries.filter((e) => /\.(node|dll|dylib|so(\.\d+)*|exe)$/i.test(e) && !expected.includes(e));
    assert.deepEqual(foreign, [], 'native files outside the target folder');
    if (target === UNIVERSAL) return;
    // The binding in the VSIX is the one onnxruntime-node ships, and the library it links is beside it.
    const binding = vsix.read(`${bin}napi-v6/${os}/${arch}/onnxruntime_binding.node`);
    const shipped = fs.readFileSync(
      path.join(REPO_ROOT, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', os, arch, 'onnxruntime_binding.node'),
    );
    assert.ok(binding.equals(shipped), 'the binding is onnxruntime-node’s own');
    const linked = LINKED_LIBRARY.get(target)!;
    assert.ok(binding.includes(Buffer.from(linked)), `the ${target} binding links ${linked}`);
    assert.ok(vsix.entries.includes(`${bin}napi-v6/${os}/${arch}/${path.posix.basename(linked)}`));
  });

  test(`${target}: the bundles, manifest, icon, LICENSE and CHANGELOG; no source maps, sources, tests or other packages`, () => {
    const vsix = new Vsix(vsixes.get(target)!);
    for (const needed of [
      'extension.vsixmanifest',
      'extension/package.json',
      'extension/readme.md',
      'extension/changelog.md',
      'extension/package.nls.json',
      'extension/l10n/bundle.l10n.json',
      'extension/LICENSE.txt',
      `extension/${manifest.icon}`,
      'extension/dist/extension.js',
      'extension/dist/trainer.js',
      'extension/dist/inferenceWorker.js',
      'extension/dist/cli.js',
      'extension/dist/webview.js',
      'extension/assets/vocab.txt',
      'extension/examples/spam-ham.csv',
      'extension/node_modules/onnxruntime-node/dist/index.js',
      'extension/node_modules/onnxruntime-common/dist/cjs/index.js',
    ]) {
      assert.ok(vsix.entries.includes(needed), `${needed} missing`);
    }
    const unwanted = vsix.entries.filter(
      (e) =>
        /\.(map|ts|tsx|mts|py|vsix)$/.test(e) ||
        /(^|\/)(test|tests|fixtures|__tests__)\//.test(e) ||
        /^extension\/(src|out|scripts|bench|webview|test|test-output|dist-vsix|\.bert|\.cache)\//.test(e) ||
        /^extension\/examples\/(?!spam-ham\.csv$|README\.md$)/.test(e) ||
        (e.startsWith('extension/node_modules/') && !/^extension\/node_modules\/onnxruntime-(node|common)\//.test(e)),
    );
    assert.deepEqual(unwanted, []);
    // The production bundles: minified, no source-map reference.
    assert.doesNotMatch(vsix.text('extension/dist/extension.js'), /sourceMappingURL/);

    const packed = JSON.parse(vsix.text('extension/package.json')) as typeof manifest;
    assert.equal(packed.engines.vscode, manifest.engines.vscode);
    assert.equal(packed.version, manifest.version);
    assert.equal(packed.icon, 'media/icon.png');
    const icon = vsix.read(`extension/${packed.icon}`);
    assert.ok(
      icon.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
      'icon is a PNG',
    );
    assert.match(vsix.text('extension/LICENSE.txt'), /MIT License/);

    const xml = vsix.text('extension.vsixmanifest');
    const identity = /<Identity [^>]*\/>/.exec(xml)?.[0] ?? '';
    if (target === UNIVERSAL) assert.doesNotMatch(identity, /TargetPlatform=/);
    else assert.match(identity, new RegExp(`TargetPlatform="${target}"`));
    assert.ok(xml.includes(`Id="Microsoft.VisualStudio.Code.Engine" Value="${manifest.engines.vscode}"`), 'engine');
    assert.match(xml, /<Icon>extension\/media\/icon\.png<\/Icon>/);
    assert.match(xml, /<License>extension\/LICENSE\.txt<\/License>/);
  });

  test(`${target}: within its size budget (${BUDGET_MIB.get(target)} MiB)`, () => {
    const mib = fs.statSync(vsixes.get(target)!).size / 2 ** 20;
    assert.ok(mib <= BUDGET_MIB.get(target)!, `${target} VSIX is ${mib.toFixed(1)} MiB`);
  });
}

/** Runs the `bertft` a VSIX carries, unpacked into a temporary folder, as an installed extension would run it. */
function packagedCli(target: string, ...args: string[]): { code: number | null; out: string; err: string } {
  const dir = tempFolder(`bertft-vsix-${target}-`);
  try {
    new AdmZip(vsixes.get(target)).extractAllTo(dir);
    const r = spawnSync(process.execPath, [path.join(dir, 'extension', 'dist', 'cli.js'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, BERTFT_TRAINING_CHILD: '1' },
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const here = vscodeTarget(process.platform, process.arch);

test(
  `${here} (this machine): the bertft its VSIX carries loads the packaged binding and offers this platform's devices`,
  {
    skip: NATIVE_VSCODE_TARGETS.includes(here) ? false : `no VSIX for ${here}`,
  },
  () => {
    const r = packagedCli(here, 'gpu', '--json');
    assert.equal(r.code, 0, r.err);
    const status = JSON.parse(r.out) as { devices: string[]; backends: string[] };
    assert.deepEqual(status.devices, [...platformDevices(process.platform, process.arch)]);
    assert.ok(status.backends.includes('cpu'));
  },
);

test('universal: on this machine its bertft says the package has no native library for it and exits 1; check still works', () => {
  const r = packagedCli(UNIVERSAL, 'gpu');
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /holds no onnxruntime-node native library for/);
  assert.match(r.err, new RegExp(`\\(${here}\\)`));
  assert.doesNotMatch(r.err, /Cannot find module|at .*\.js:\d+/, 'no missing-module error or stack trace');
  const data = path.join(REPO_ROOT, 'examples', 'spam-ham.csv');
  const check = packagedCli(UNIVERSAL, 'check', '--data', data);
  assert.equal(check.code, 0, check.err);
});

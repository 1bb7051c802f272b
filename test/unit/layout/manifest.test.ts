/** package.json is also the extension manifest: the rules a reviewer (and vsce) checks, so edits cannot break them. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const REPO = path.resolve(__dirname, '..', '..', '..', '..');

interface Command {
  command: string;
  title: string;
  category: string;
  enablement?: string;
}
interface MenuItem {
  command: string;
  when?: string;
}
interface Manifest {
  main: string;
  bin: Record<string, string>;
  engines: Record<string, string>;
  activationEvents?: string[];
  extensionKind: string[];
  capabilities: { untrustedWorkspaces: { supported: unknown }; virtualWorkspaces: unknown };
  contributes: { commands: Command[]; menus: Record<string, MenuItem[]> };
  devDependencies: Record<string, string>;
  scripts: Record<string, string>;
}

const manifest = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as Manifest;
/** The manifest's strings are %keys% of package.nls.json (test/unit/layout/l10n.test.ts). */
const nls = JSON.parse(fs.readFileSync(path.join(REPO, 'package.nls.json'), 'utf8')) as Record<string, string>;
const text = (value: string): string => nls[/^%([^%]+)%$/.exec(value)?.[1] ?? ''] ?? value;

test('every command is a bert.* command in the BERT category', () => {
  assert.ok(manifest.contributes.commands.length >= 5);
  for (const c of manifest.contributes.commands) {
    assert.match(c.command, /^bert\.[a-zA-Z.]+$/);
    assert.equal(text(c.category), 'BERT', `${c.command} has no "BERT" category`);
    assert.ok(text(c.title).length > 0 && !text(c.title).startsWith('%'));
  }
});

test('menus only name declared commands, and Classify Selection needs a selection', () => {
  const declared = new Set(manifest.contributes.commands.map((c) => c.command));
  for (const [menu, items] of Object.entries(manifest.contributes.menus)) {
    for (const item of items) assert.ok(declared.has(item.command), `${menu} names undeclared ${item.command}`);
  }
  const needsSelection = (menu: string): boolean =>
    manifest.contributes.menus[menu]?.some(
      (i) => i.command === 'bert.classifySelection' && /\beditorHasSelection\b/.test(i.when ?? ''),
    ) ?? false;
  assert.ok(needsSelection('editor/context'), 'Classify Selection is not in editor/context when editorHasSelection');
  assert.ok(needsSelection('commandPalette'), 'Classify Selection is in the palette without a selection');
});

test('activation is lazy: no "*" activation event', () => {
  assert.ok(!(manifest.activationEvents ?? []).includes('*'));
});

test('runs where the data is, and limits untrusted and virtual workspaces', () => {
  assert.deepEqual(manifest.extensionKind, ['workspace']);
  assert.equal(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
  assert.equal(manifest.capabilities.virtualWorkspaces, false);
  const fineTune = manifest.contributes.commands.find((c) => c.command === 'bert.fineTune');
  assert.equal(fineTune?.enablement, 'isWorkspaceTrusted');
});

test('entry points are the esbuild bundles, and @types/vscode is not newer than engines.vscode', () => {
  assert.equal(manifest.main, './dist/extension.js');
  assert.equal(manifest.bin.bertft, './dist/cli.js');
  const build = fs.readFileSync(path.join(REPO, 'scripts', 'build.mjs'), 'utf8');
  for (const out of ['dist/extension.js', 'dist/trainer.js', 'dist/cli.js', 'dist/webview.js'])
    assert.ok(build.includes(`'${out}'`), out);
  const version = (v: string): number[] =>
    v
      .replace(/^[\^~]/, '')
      .split('.')
      .map(Number);
  const engine = version(manifest.engines.vscode);
  const types = version(manifest.devDependencies['@types/vscode']);
  assert.ok(
    types[0] < engine[0] || (types[0] === engine[0] && types[1] <= engine[1]),
    'vsce refuses @types/vscode newer than engines.vscode',
  );
});

test('.vscodeignore is an allow-list', () => {
  const lines = fs
    .readFileSync(path.join(REPO, '.vscodeignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  assert.equal(lines[0], '**');
  assert.ok(lines.includes('!dist/**'));
  assert.ok(!lines.some((l) => /^!node_modules\/\*\*/.test(l)), 'all of node_modules re-included');
});

/**
 * scripts/system-packages.sh, shared by `npm test` and .ci/run (#14): on a fresh machine it names what is missing and
 * why, installs it with apt-get when it can, and otherwise stops at once with the exact command to run. Run here with
 * a PATH that hides the tools (a machine without them) and apt-get's install replaced by a dry run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempFolder } from '../../helpers/temp';

const SCRIPT = path.join(__dirname, '..', '..', '..', '..', 'scripts', 'system-packages.sh');
const BASH = '/bin/bash';

/** A bin folder holding only `tools` (linked from this machine), plus optional scripts written verbatim. */
function binWith(tools: string[], scripts: Record<string, string> = {}): string {
  const bin = tempFolder('syspkg-bin-');
  for (const tool of tools) {
    const found = spawnSync(BASH, ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    assert.ok(found, `${tool} exists on this machine`);
    fs.symlinkSync(found, path.join(bin, tool));
  }
  for (const [name, body] of Object.entries(scripts)) {
    fs.writeFileSync(path.join(bin, name), `#!${BASH}\n${body}\n`, { mode: 0o755 });
  }
  return bin;
}

function run(bin: string, env: Record<string, string> = {}) {
  return spawnSync(BASH, [SCRIPT], { encoding: 'utf8', env: { PATH: bin, CHROMIUM: '/nonexistent/chromium', ...env } });
}

test('a machine with everything needs nothing', { skip: process.platform !== 'linux' }, () => {
  const r = spawnSync(BASH, [SCRIPT], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
});

test('missing tools are named with their package and reason; as root it would install exactly those', () => {
  const bin = binWith(['rg'], { id: 'echo 0', 'apt-get': 'exit 0' });
  const r = run(bin, { BERTFT_APT_DRY_RUN: '1' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /missing chromium build-essential python3/);
  assert.match(r.stderr, /chromium: the browser the integration and e2e tests drive/);
  assert.doesNotMatch(r.stderr, /ripgrep/, 'rg is on the PATH, so ripgrep is not asked for');
  assert.match(r.stderr, /would run: +apt-get install -y --no-install-recommends chromium build-essential python3/);
});

test('without root or password-less sudo it stops at once with the command to run', () => {
  const bin = binWith([], { id: 'echo 1000', 'apt-get': 'exit 0', sudo: 'exit 1' });
  const r = run(bin);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /cannot install them without a password/);
  assert.match(r.stderr, /sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium ripgrep/);
});

test('a machine without apt-get is told to use its own package manager', () => {
  const r = run(binWith([], { id: 'echo 0' }));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /not a Debian\/Ubuntu machine \(no apt-get\)/);
});

test('CHROMIUM pointing at a browser elsewhere replaces the chromium package', () => {
  const bin = binWith(['rg', 'make', 'g++', 'python3'], { id: 'echo 0', 'apt-get': 'exit 0' });
  const browser = path.join(bin, 'my-browser');
  fs.writeFileSync(browser, '', { mode: 0o755 });
  const r = run(bin, { CHROMIUM: browser, BERTFT_APT_DRY_RUN: '1' });
  assert.doesNotMatch(r.stderr, /chromium/);
});

/**
 * The dev container (.devcontainer/) stays in step with the machine CI tests on: Node 20 on Debian 12, the system
 * packages .ci/run ensures (through the same script), and `npm ci` without onnxruntime-node's CUDA download. Building
 * the image needs Docker, which the test machines do not run; this checks what the build and the first start read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const DEVCONTAINER = path.join(REPO_ROOT, '.devcontainer');

interface DevContainer {
  build: { dockerfile: string; context: string };
  remoteUser: string;
  containerEnv: Record<string, string>;
  postCreateCommand: string;
}

/** devcontainer.json is JSON with comments, which TypeScript's config parser reads. */
function readDevContainer(): DevContainer {
  const file = path.join(DEVCONTAINER, 'devcontainer.json');
  const parsed = ts.parseConfigFileTextToJson(file, fs.readFileSync(file, 'utf8'));
  assert.equal(parsed.error, undefined, 'devcontainer.json parses');
  return parsed.config as DevContainer;
}

/** The arguments a script line passes to scripts/system-packages.sh. */
function systemPackageArgs(text: string, where: string): string[] {
  const line = /^(?:RUN )?bash \S*system-packages\.sh([^\n\\&]*)/m.exec(text);
  assert.ok(line, `${where} runs scripts/system-packages.sh`);
  return line[1].trim().split(/\s+/);
}

test('devcontainer.json: builds the Dockerfile from the repository root, runs npm ci without the CUDA download', () => {
  const config = readDevContainer();
  assert.ok(fs.existsSync(path.join(DEVCONTAINER, config.build.dockerfile)));
  assert.equal(path.resolve(DEVCONTAINER, config.build.context), REPO_ROOT);
  assert.equal(config.containerEnv.ONNXRUNTIME_NODE_INSTALL, 'skip');
  assert.match(config.postCreateCommand, /^npm ci\b/);
  assert.equal(config.remoteUser, 'node');
});

test('Dockerfile: Node 20 on Debian 12, the system packages .ci/run ensures, through the same script', () => {
  const dockerfile = fs.readFileSync(path.join(DEVCONTAINER, readDevContainer().build.dockerfile), 'utf8');
  assert.match(dockerfile, /^FROM mcr\.microsoft\.com\/devcontainers\/javascript-node:1-20-bookworm$/m);
  assert.match(dockerfile, /^COPY scripts\/system-packages\.sh /m);
  assert.ok(fs.existsSync(path.join(REPO_ROOT, 'scripts', 'system-packages.sh')));
  const ci = fs.readFileSync(path.join(REPO_ROOT, '.ci', 'run'), 'utf8');
  assert.deepEqual(systemPackageArgs(dockerfile, 'the Dockerfile'), systemPackageArgs(ci, '.ci/run'));
  const { engines } = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
    engines: { node: string };
  };
  assert.equal(engines.node, '>=20', 'the image has the oldest Node the package supports');
});

test(".ci/run (and so the dev container) ensures the Slurm packages of the cluster layer's one-node cluster", () => {
  const setup = path.join(REPO_ROOT, 'scripts', 'slurm', 'setup.sh');
  const printed = spawnSync('bash', [setup, 'packages'], { encoding: 'utf8' });
  assert.equal(printed.status, 0, printed.stderr);
  const slurm = printed.stdout.trim().split(/\s+/);
  assert.ok(slurm.includes('slurmctld') && slurm.includes('munge'), printed.stdout);
  const ci = systemPackageArgs(fs.readFileSync(path.join(REPO_ROOT, '.ci', 'run'), 'utf8'), '.ci/run');
  assert.deepEqual(
    slurm.filter((p) => !ci.includes(p)),
    [],
    'every package scripts/slurm/setup.sh needs',
  );
});

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../../../src/cli/main';
import type { CliIo } from '../../../src/cli/output';
import { CUDA_PROVIDER_FILES } from '../../../src/core/runtime/cuda-provider';
import { FAKE_ORT_VERSION, fakeNupkg, fakeProviderLibraries, publishFakeFeed } from '../../helpers/fake-nuget';
import { startLoopbackServer, type LoopbackServer } from '../../helpers/loopback-server';
import { tempFolder } from '../../helpers/temp';

let root: string;
let server: LoopbackServer;

before(async () => {
  root = tempFolder('bertft-gpu-cli-');
  server = await startLoopbackServer({ root });
});

after(async () => {
  await server.close();
  fs.rmSync(root, { recursive: true, force: true });
});

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io: CliIo & { out: string; err: string } = {
    out: '',
    err: '',
    stderrIsTTY: false,
    stdout: (t) => {
      io.out += t;
    },
    stderr: (t) => {
      io.err += t;
    },
  };
  const code = await runCli(argv, io);
  return { code, out: io.out, err: io.err };
}

function freshDirs(): { target: string; cache: string } {
  const target = fs.mkdtempSync(path.join(root, 'ort-bin-'));
  const cache = fs.mkdtempSync(path.join(root, 'cache-'));
  return { target, cache };
}

test('bertft gpu --json reports the ORT providers, the missing CUDA provider and what the CUDA runtime lacks', async () => {
  const { target } = freshDirs();
  const r = await cli('gpu', '--json', '--target-dir', target);
  assert.equal(r.code, 0, r.err);
  const status = JSON.parse(r.out) as {
    ort_version: string;
    backends: string[];
    cuda_provider_installed: boolean;
    cuda_provider_missing: string[];
    cuda_runtime: { ok: boolean; message: string };
  };
  assert.equal(status.ort_version, FAKE_ORT_VERSION);
  assert.ok(status.backends.includes('cpu'));
  assert.equal(status.cuda_provider_installed, false);
  assert.deepEqual(
    status.cuda_provider_missing,
    CUDA_PROVIDER_FILES.map((f) => f.name),
  );
  assert.equal(typeof status.cuda_runtime.message, 'string');
  assert.ok(status.cuda_runtime.message.length > 0);
});

test('bertft gpu --install-cuda downloads from the feed, verifies and places the provider, then reports it installed', async () => {
  const { target, cache } = freshDirs();
  const feed = publishFakeFeed(root, server.url, 'feed-ok', fakeNupkg(), true);
  const r = await cli('gpu', '--install-cuda', '--feed', feed, '--target-dir', target, '--cache', cache, '--json');
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /CUDA provider download: 100%/);
  assert.match(r.err, /verified by sha512/);
  for (const f of CUDA_PROVIDER_FILES)
    assert.ok(fs.readFileSync(path.join(target, f.name)).equals(fakeProviderLibraries.get(f.name)!));
  assert.equal((JSON.parse(r.out) as { cuda_provider_installed: boolean }).cuda_provider_installed, true);
});

test('bertft gpu --install-cuda with an unreachable feed exits 1 with an offline message and places nothing', async () => {
  const { target, cache } = freshDirs();
  const closed = await startLoopbackServer({ root });
  const url = `${closed.url}/index.json`;
  await closed.close();
  const r = await cli('gpu', '--install-cuda', '--feed', url, '--target-dir', target, '--cache', cache);
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /^bertft: /);
  assert.match(r.err, /Fix: /);
  assert.deepEqual(fs.readdirSync(target), []);
});

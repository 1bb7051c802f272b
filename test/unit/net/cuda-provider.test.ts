import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bundledOrtVersion, ortBinaryDir } from '../../../src/core/runtime/devices';
import {
  CUDA_PACKAGE_ID,
  CUDA_PROVIDER_FILES,
  detectCudaRuntime,
  installCudaProvider,
  missingCudaProviderFiles,
  NUGET_INDEX_URL,
  readElfNeeded,
} from '../../../src/core/runtime/cuda-provider';
import { parseLdconfig } from '../../../src/core/runtime/linux-libraries';
import { FAKE_ORT_VERSION, fakeNupkg, fakeProviderLibraries, publishFakeFeed } from '../../helpers/fake-nuget';
import { LoopbackServer, startLoopbackServer } from '../../helpers/loopback-server';
import { tempDir } from './tiny-hub';
import { rejectsWithCode } from '../../helpers/rejects';

const VERSION = FAKE_ORT_VERSION;
const ID = CUDA_PACKAGE_ID.toLowerCase();
let root: string;
let server: LoopbackServer;
const libs = fakeProviderLibraries;

function publishFeed(feed: string, nupkg: Buffer, withCatalog: boolean, version = VERSION): string {
  return publishFakeFeed(root, server.url, feed, nupkg, withCatalog, version);
}

before(async () => {
  root = tempDir('nuget-root');
  server = await startLoopbackServer({ root });
});

after(async () => {
  await server.close();
  fs.rmSync(root, { recursive: true, force: true });
});

function dirs() {
  server.faults = {};
  server.requests.length = 0;
  return { targetDir: tempDir('ort-bin'), cacheDir: tempDir('cuda-cache') };
}

test("the package, files and feed match what onnxruntime-node's own install script uses", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- onnxruntime-node's install script data: plain CommonJS, no types
  const meta = require('onnxruntime-node/script/install-metadata.js') as {
    manifests: Record<string, Record<string, { path: string; package: string }>>;
    packages: Record<string, { name: string; versions: Array<{ version: string }> }>;
    feeds: Record<string, { index: string }>;
  };
  const manifest = meta.manifests['linux/x64:cuda12'];
  for (const f of CUDA_PROVIDER_FILES) {
    assert.equal(manifest[`./${f.name}`].path, f.pathInPackage);
    assert.equal(meta.packages[manifest[`./${f.name}`].package].name, CUDA_PACKAGE_ID);
  }
  assert.equal(meta.packages['nuget:linux/x64:cuda12'].versions[0].version, bundledOrtVersion());
  assert.equal(meta.feeds.nuget.index, NUGET_INDEX_URL);
  assert.ok(fs.existsSync(path.join(ortBinaryDir(), 'onnxruntime_binding.node')));
});

test('downloads the package, verifies its sha512 and places both libraries', async () => {
  const { targetDir, cacheDir } = dirs();
  const feed = publishFeed('good', fakeNupkg(), true);
  assert.deepEqual(
    missingCudaProviderFiles(targetDir),
    CUDA_PROVIDER_FILES.map((f) => f.name),
  );
  const progress: number[] = [];
  const result = await installCudaProvider({
    targetDir,
    cacheDir,
    ortVersion: VERSION,
    feedIndexUrl: feed,
    onProgress: (b) => progress.push(b),
  });
  assert.equal(result.verifiedBy, 'sha512');
  assert.equal(result.packageUrl, `${server.url}/good/flat/${ID}/${VERSION}/${ID}.${VERSION}.nupkg`);
  for (const f of CUDA_PROVIDER_FILES) {
    assert.ok(fs.readFileSync(path.join(targetDir, f.name)).equals(libs.get(f.name)!), f.name);
  }
  assert.deepEqual(missingCudaProviderFiles(targetDir), []);
  assert.deepEqual(
    fs.readdirSync(targetDir).sort(),
    CUDA_PROVIDER_FILES.map((f) => f.name).sort(),
    'no temporary files left',
  );
  assert.deepEqual(fs.readdirSync(cacheDir), [], 'the package is removed from the cache after use');
  assert.equal(
    progress.at(-1),
    fs.statSync(path.join(root, 'good', 'flat', ID, VERSION, `${ID}.${VERSION}.nupkg`)).size,
  );
});

test('a package whose bytes do not match the catalog sha512 is rejected and nothing is placed', async () => {
  const { targetDir, cacheDir } = dirs();
  const feed = publishFeed('tampered', fakeNupkg(), true);
  server.faults = { corrupt: ['.nupkg'] };
  await rejectsWithCode(
    installCudaProvider({ targetDir, cacheDir, ortVersion: VERSION, feedIndexUrl: feed }),
    'CUDA_CHECKSUM',
  );
  assert.deepEqual(fs.readdirSync(targetDir), []);
  assert.deepEqual(fs.readdirSync(cacheDir), []);
});

test('without a catalog hash the zip CRCs are the check: a good package passes, a damaged one is rejected', async () => {
  const good = dirs();
  const result = await installCudaProvider({
    ...good,
    ortVersion: VERSION,
    feedIndexUrl: publishFeed('nocat', fakeNupkg(), false),
  });
  assert.equal(result.verifiedBy, 'zip-crc32');
  assert.deepEqual(missingCudaProviderFiles(good.targetDir), []);

  const bad = dirs();
  const damaged = fakeNupkg();
  const at = damaged.indexOf('fake libonnxruntime_providers_cuda.so');
  damaged[at + 1000] ^= 0xff;
  const err = await rejectsWithCode(
    installCudaProvider({ ...bad, ortVersion: VERSION, feedIndexUrl: publishFeed('damaged', damaged, false) }),
    'CUDA_PACKAGE_CORRUPT',
  );
  assert.match(err.message, /CRC32/);
  assert.deepEqual(fs.readdirSync(bad.targetDir), [], 'not even the undamaged shared library is placed');
  assert.deepEqual(fs.readdirSync(bad.cacheDir), []);
});

test('a version the feed does not have, and an unreachable feed, give clear errors', async () => {
  const { targetDir, cacheDir } = dirs();
  const feed = publishFeed('good', fakeNupkg(), true);
  const missing = await rejectsWithCode(
    installCudaProvider({ targetDir, cacheDir, ortVersion: '9.9.9', feedIndexUrl: feed }),
    'CUDA_PACKAGE_NOT_FOUND',
  );
  assert.match(missing.message, /404/);
  const offline = await rejectsWithCode(
    installCudaProvider({ targetDir, cacheDir, ortVersion: VERSION, feedIndexUrl: 'http://127.0.0.1:1/index.json' }),
    'CUDA_OFFLINE',
  );
  assert.match(offline.message, /offline/);
});

test('on this machine (no CUDA) the detector names every missing library', () => {
  const report = detectCudaRuntime({ env: {} });
  assert.equal(report.ok, false);
  for (const soname of ['libcuda.so.1', 'libcudart.so.12', 'libcublas.so.12', 'libcublasLt.so.12', 'libcudnn.so.9']) {
    assert.ok(report.missing.includes(soname), soname);
  }
  assert.match(report.message, /libcudart\.so\.12 \(CUDA 12 runtime\)/);
  assert.match(report.message, /libcudnn\.so\.9 \(cuDNN 9\)/);
  assert.match(report.message, /NVIDIA driver/);
});

test('the detector finds libraries on LD_LIBRARY_PATH or in the ld.so cache, and flags copies off the loader path', () => {
  const dir = tempDir('fake-cuda');
  const names = [
    'libcuda.so.1',
    'libcudart.so.12',
    'libcublas.so.12',
    'libcublasLt.so.12',
    'libcufft.so.11',
    'libcurand.so.10',
  ];
  for (const n of names) fs.writeFileSync(path.join(dir, n), '');
  const ldconfig =
    '2 libs found in cache\n\tlibcudnn.so.9 (libc6,x86-64) => /opt/cudnn/libcudnn.so.9\n\tlibcudnn.so.9 (libc6) => /opt/i386/libcudnn.so.9\n';
  const ok = detectCudaRuntime({ env: { LD_LIBRARY_PATH: dir }, ldconfigOutput: ldconfig });
  assert.deepEqual(ok.missing, []);
  assert.equal(ok.ok, true);
  assert.equal(ok.libraries.find((l) => l.soname === 'libcudnn.so.9')?.loadablePath, '/opt/cudnn/libcudnn.so.9');

  const offPath = detectCudaRuntime({ env: {}, ldconfigOutput: '', extraDirs: [dir] });
  const cudart = offPath.libraries.find((l) => l.soname === 'libcudart.so.12');
  assert.equal(cudart?.loadablePath, undefined);
  assert.equal(cudart?.offPathCopy, path.join(dir, 'libcudart.so.12'));
  assert.match(offPath.message, /LD_LIBRARY_PATH/);
});

test('parseLdconfig keeps 64-bit entries only', () => {
  const map = parseLdconfig(
    '\tlibz.so.1 (libc6) => /usr/lib32/libz.so.1\n\tlibz.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libz.so.1\n',
  );
  assert.equal(map.get('libz.so.1'), '/lib/x86_64-linux-gnu/libz.so.1');
});

test('ELF DT_NEEDED is read from a real shared object, and drives the detector when the provider is installed', () => {
  const binding = path.join(ortBinaryDir(), 'onnxruntime_binding.node');
  const needed = readElfNeeded(binding);
  assert.ok(needed.includes('libonnxruntime.so.1'), needed.join(','));
  assert.ok(
    needed.some((n) => n.startsWith('libc.so')),
    needed.join(','),
  );
  // The binding links no CUDA library, so only the driver remains to check.
  const report = detectCudaRuntime({ env: {}, ldconfigOutput: '', providerLibrary: binding });
  assert.deepEqual(
    report.libraries.map((l) => l.soname),
    ['libcuda.so.1'],
  );
});

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { UserError } from '../../../src/core/errors';
import { HubProgress, hubCacheDir, parseModelSpec, resolveModel } from '../../../src/core/model/hub';
import { readSafetensors } from '../../../src/core/model/safetensors';
import { LoopbackServer, startLoopbackServer } from '../../helpers/loopback-server';
import { sha256, tempDir, TinyRepo, writeTinyRepo } from './tiny-hub';
import { rejectsWithCode } from '../../helpers/rejects';

const COMMIT = '0123456789abcdef0123456789abcdef01234567';
let root: string;
let server: LoopbackServer;
let bert: TinyRepo;
let vocabRepo: TinyRepo;

before(async () => {
  root = tempDir('hub-root');
  bert = writeTinyRepo(root, 'org/tiny-bert', 'json');
  vocabRepo = writeTinyRepo(root, 'tiny-vocab', 'vocab');
  writeTinyRepo(root, 'org/gated', 'json');
  writeTinyRepo(root, 'org/no-weights', 'json', false);
  server = await startLoopbackServer({ root, commit: COMMIT, gated: { 'org/gated': 'hf_secret' } });
});

after(async () => {
  await server.close();
  fs.rmSync(root, { recursive: true, force: true });
});

/** Fresh HF_HOME per test, and the loopback server as endpoint; `env` keeps the developer's HF_* out. */
function setup(extraEnv: NodeJS.ProcessEnv = {}) {
  const home = tempDir('hf-home');
  server.requests.length = 0;
  server.faults = {};
  const env = { HF_HOME: home, HF_ENDPOINT: server.url, ...extraEnv };
  return { home, env, cache: path.join(home, 'hub') };
}

test('downloads config, tokenizer.json and weights into the HF cache layout, with progress', async () => {
  const { env, cache } = setup();
  const events: HubProgress[] = [];
  const result = await resolveModel('org/tiny-bert', { env, onProgress: (p) => events.push(p) });
  assert.equal(result.kind, 'hub');
  if (result.kind !== 'hub') return;
  const repoDir = path.join(cache, 'models--org--tiny-bert');
  assert.equal(result.dir, path.join(repoDir, 'snapshots', COMMIT));
  assert.equal(result.commit, COMMIT);
  assert.deepEqual([...result.files].sort(), ['config.json', 'model.safetensors', 'tokenizer.json']);
  for (const [name, content] of Object.entries(bert.files)) {
    assert.ok(fs.readFileSync(path.join(result.dir, name)).equals(content), name);
  }
  const weights = bert.files['model.safetensors'];
  assert.equal(
    fs.readlinkSync(path.join(result.dir, 'model.safetensors')),
    path.join('..', '..', 'blobs', sha256(weights)),
  );
  assert.equal(fs.readFileSync(path.join(repoDir, 'refs', 'main'), 'utf8'), COMMIT);
  assert.deepEqual(
    fs.readdirSync(path.join(repoDir, 'blobs')).filter((f) => f.endsWith('.incomplete')),
    [],
  );

  const last = events.filter((e) => e.file === 'model.safetensors').at(-1);
  assert.deepEqual(last, { file: 'model.safetensors', bytes: weights.length, total: weights.length });
  assert.ok(events.some((e) => e.file === 'config.json'));
});

test('a second call is a cache hit and makes no request', async () => {
  const { env } = setup();
  const first = await resolveModel('org/tiny-bert', { env });
  assert.ok(server.requests.length > 0);
  server.requests.length = 0;
  const second = await resolveModel('org/tiny-bert', { env });
  assert.deepEqual(second, first);
  assert.equal(server.requests.length, 0);
});

test('a pinned @commit is downloaded and then served from the cache', async () => {
  const { env } = setup();
  const result = await resolveModel(`org/tiny-bert@${COMMIT}`, { env });
  assert.equal(result.kind === 'hub' && result.revision, COMMIT);
  server.requests.length = 0;
  await resolveModel(`org/tiny-bert@${COMMIT}`, { env });
  assert.equal(server.requests.length, 0);
});

test('without tokenizer.json, vocab.txt and tokenizer_config.json are fetched', async () => {
  const { env } = setup();
  const result = await resolveModel('tiny-vocab', { env });
  assert.ok(result.kind === 'hub');
  assert.deepEqual([...result.files].sort(), [
    'config.json',
    'model.safetensors',
    'tokenizer_config.json',
    'vocab.txt',
  ]);
  assert.ok(fs.readFileSync(path.join(result.dir, 'vocab.txt')).equals(vocabRepo.files['vocab.txt']));
});

test('an interrupted weights download resumes with a Range request and is verified', async () => {
  const { env } = setup();
  server.faults = { cutAfterBytes: { bytes: 10_000, count: 1 } };
  const result = await resolveModel('org/tiny-bert', { env });
  assert.ok(result.kind === 'hub');
  const gets = server.requestsFor('/lfs/org/tiny-bert/model.safetensors').filter((r) => r.method === 'GET');
  assert.equal(gets.length, 2);
  assert.equal(gets[0].headers.range, undefined);
  assert.equal(gets[1].headers.range, 'bytes=10000-');
  assert.ok(fs.readFileSync(path.join(result.dir, 'model.safetensors')).equals(bert.files['model.safetensors']));
});

test('a corrupted download (sha256 mismatch) is rejected and nothing is placed', async () => {
  const { env, cache } = setup();
  server.faults = { corrupt: ['model.safetensors'] };
  const err = await rejectsWithCode(resolveModel('org/tiny-bert', { env }), 'HUB_CHECKSUM');
  assert.match(err.message, /corrupted/);
  const repoDir = path.join(cache, 'models--org--tiny-bert');
  const blobs = fs.readdirSync(path.join(repoDir, 'blobs'));
  assert.ok(!blobs.includes(sha256(bert.files['model.safetensors'])));
  assert.deepEqual(
    blobs.filter((f) => f.endsWith('.incomplete')),
    [],
  );
  assert.ok(!fs.existsSync(path.join(repoDir, 'snapshots', COMMIT, 'model.safetensors')));
  assert.ok(!fs.existsSync(path.join(repoDir, 'refs', 'main')));
});

test('a corrupted small file (git sha1 mismatch) is rejected too', async () => {
  const { env } = setup();
  server.faults = { corrupt: ['config.json'] };
  await rejectsWithCode(resolveModel('org/tiny-bert', { env }), 'HUB_CHECKSUM');
});

test('an unknown model, revision or missing weights give "no such" errors', async () => {
  const { env } = setup();
  const missing = await rejectsWithCode(resolveModel('org/does-not-exist', { env }), 'HUB_NO_SUCH_MODEL');
  assert.match(missing.message, /No such model/);
  await rejectsWithCode(resolveModel('org/tiny-bert@v9', { env }), 'HUB_NO_SUCH_REVISION');
  await rejectsWithCode(resolveModel('org/no-weights', { env }), 'HUB_NO_WEIGHTS');
});

test('a gated model needs a token: none, a wrong one, then the right one', async () => {
  const { env } = setup();
  const none = await rejectsWithCode(resolveModel('org/gated', { env }), 'HUB_GATED');
  assert.match(none.message, /gated or private/);
  assert.match(none.fix ?? '', /HF_TOKEN/);
  assert.equal(server.requests[0].headers.authorization, undefined);

  const wrong = await rejectsWithCode(resolveModel('org/gated', { env, token: 'hf_wrong' }), 'HUB_GATED');
  assert.match(wrong.message, /your token does not give access/);

  const viaOption = await resolveModel('org/gated', { env, token: 'hf_secret' });
  assert.equal(viaOption.kind, 'hub');
  const viaEnv = await resolveModel('org/gated', { env: { ...setup().env, HF_TOKEN: 'hf_secret' } });
  assert.equal(viaEnv.kind, 'hub');
  assert.ok(server.requests.every((r) => r.path.startsWith('/lfs/') || r.headers.authorization === 'Bearer hf_secret'));
});

test('the token file written by `huggingface-cli login` is used', async () => {
  const { env, home } = setup();
  fs.writeFileSync(path.join(home, 'token'), 'hf_secret\n');
  assert.equal((await resolveModel('org/gated', { env })).kind, 'hub');
});

test('no connection (refused port) says so and suggests a local folder', async () => {
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const { env } = setup({ HF_ENDPOINT: `http://127.0.0.1:${port}` });
  const err = await rejectsWithCode(resolveModel('org/tiny-bert', { env }), 'HUB_OFFLINE');
  assert.match(err.message, /the connection was refused \(ECONNREFUSED\)/);
  assert.match(err.message, /There is no folder "org\/tiny-bert" in .* either/);
  assert.match(err.fix ?? '', /local model folder/);
});

test('HF_HUB_OFFLINE=1 uses the cache and fails clearly without it', async () => {
  const { env } = setup({ HF_HUB_OFFLINE: '1' });
  const err = await rejectsWithCode(resolveModel('org/tiny-bert', { env }), 'HUB_NOT_CACHED');
  assert.match(err.message, /HF_HUB_OFFLINE/);
  assert.equal(server.requests.length, 0);

  const online = await resolveModel('org/tiny-bert', { env: { ...env, HF_HUB_OFFLINE: '0' } });
  server.requests.length = 0;
  assert.deepEqual(await resolveModel('org/tiny-bert', { env }), online);
  assert.equal(server.requests.length, 0);
});

test('an incomplete snapshot in the cache is completed, not used', async () => {
  const { env } = setup();
  const first = await resolveModel('org/tiny-bert', { env });
  assert.ok(first.kind === 'hub');
  fs.rmSync(path.join(first.dir, 'model.safetensors'));
  server.requests.length = 0;
  const events: HubProgress[] = [];
  const second = await resolveModel('org/tiny-bert', { env, onProgress: (p) => events.push(p) });
  assert.ok(second.kind === 'hub');
  assert.ok(fs.existsSync(path.join(second.dir, 'model.safetensors')));
  assert.ok(server.requests.length > 0);
  // Every blob was still in the cache and verified against the Hub's answer, so nothing was downloaded again.
  assert.deepEqual(
    server.requests.filter((r) => r.method !== 'HEAD'),
    [],
  );
  assert.deepEqual(events, []);
});

/** The blob behind a snapshot file, for tests that damage the cache as a short transfer or a bad disk would. */
const blobOf = (dir: string, name: string) => fs.realpathSync(path.join(dir, name));

test('a truncated weights blob in the cache is noticed, fetched again (once) and the weights load', async () => {
  const { env } = setup();
  const first = await resolveModel('org/tiny-bert', { env });
  assert.ok(first.kind === 'hub');
  const weights = bert.files['model.safetensors'];
  fs.truncateSync(blobOf(first.dir, 'model.safetensors'), 10_000);
  server.requests.length = 0;
  const events: HubProgress[] = [];
  const second = await resolveModel('org/tiny-bert', { env, onProgress: (p) => events.push(p) });
  assert.ok(second.kind === 'hub');
  assert.deepEqual(
    events.filter((e) => e.replacing !== undefined),
    [
      {
        file: 'model.safetensors',
        bytes: 0,
        total: weights.length,
        replacing: `expected ${weights.length} bytes, found 10000 bytes`,
      },
    ],
  );
  assert.equal(server.requestsFor('/lfs/org/tiny-bert/model.safetensors').length, 1);
  assert.deepEqual(
    server.requests.filter((r) => r.method === 'GET' && !r.path.endsWith('/model.safetensors')),
    [],
    'the other blobs were right',
  );
  assert.ok(fs.readFileSync(path.join(second.dir, 'model.safetensors')).equals(weights));
  const loaded = await readSafetensors(path.join(second.dir, 'model.safetensors'));
  assert.deepEqual(loaded.get('classifier.weight')?.shape, [2, 8192]);
  server.requests.length = 0;
  assert.deepEqual(await resolveModel('org/tiny-bert', { env }), second);
  assert.equal(server.requests.length, 0, 'whole again: a cache hit without any request');
});

test('a blob whose content does not match its checksum (sha256 or git sha1) is fetched again when the Hub is asked', async () => {
  const { env } = setup();
  const first = await resolveModel('org/tiny-bert', { env });
  assert.ok(first.kind === 'hub');
  for (const name of ['model.safetensors', 'config.json']) {
    const blob = blobOf(first.dir, name);
    const bytes = fs.readFileSync(blob);
    bytes[bytes.length - 2] ^= 0x01; // same size, still well-formed: only the checksum can tell
    fs.writeFileSync(blob, bytes);
    fs.rmSync(path.join(first.dir, name)); // an incomplete snapshot: the Hub is asked, and its answer checks the blob
  }
  server.requests.length = 0;
  const events: HubProgress[] = [];
  const second = await resolveModel('org/tiny-bert', { env, onProgress: (p) => events.push(p) });
  assert.ok(second.kind === 'hub');
  const replaced = events.filter((e) => e.replacing !== undefined);
  assert.deepEqual(
    replaced.map((e) => e.file),
    ['config.json', 'model.safetensors'],
  );
  assert.match(
    replaced[1].replacing ?? '',
    new RegExp(`^expected ${sha256(bert.files['model.safetensors'])}, found [0-9a-f]{64}$`),
  );
  assert.equal(server.requestsFor('/lfs/org/tiny-bert/model.safetensors').length, 1);
  assert.equal(
    server.requestsFor('/org/tiny-bert/resolve/main/config.json').filter((r) => r.method === 'GET').length,
    1,
  );
  for (const name of ['model.safetensors', 'config.json']) {
    assert.ok(fs.readFileSync(path.join(second.dir, name)).equals(bert.files[name]), name);
  }
});

test('a mirror with opaque ETags and no sizes: a download cut short is never placed, the next one is; a short blob left by an earlier version is replaced', async () => {
  const { env, cache } = setup();
  const repoDir = path.join(cache, 'models--org--tiny-bert');
  server.faults = { opaqueEtag: true, unsized: 'close', cutAfterBytes: { bytes: 10_000, count: 1 } };
  const err = await rejectsWithCode(resolveModel('org/tiny-bert', { env }), 'HUB_CHECKSUM');
  assert.match(err.message, /model\.safetensors was corrupted/);
  const blobs = () => fs.readdirSync(path.join(repoDir, 'blobs'));
  assert.deepEqual(
    blobs().filter((f) => f.endsWith('.incomplete')),
    [],
  );
  assert.ok(!fs.existsSync(path.join(repoDir, 'snapshots', COMMIT, 'model.safetensors')));
  assert.ok(!fs.existsSync(path.join(repoDir, 'refs', 'main')));

  server.faults = { opaqueEtag: true, unsized: 'close' };
  const result = await resolveModel('org/tiny-bert', { env });
  assert.ok(result.kind === 'hub');
  const weights = bert.files['model.safetensors'];
  assert.ok(fs.readFileSync(path.join(result.dir, 'model.safetensors')).equals(weights));
  assert.match(path.basename(blobOf(result.dir, 'model.safetensors')), /^mirror-/);

  // What the opaque-ETag bug used to leave: a short blob, a complete snapshot and refs/main.
  fs.truncateSync(blobOf(result.dir, 'model.safetensors'), 10_000);
  const events: HubProgress[] = [];
  const again = await resolveModel('org/tiny-bert', { env, onProgress: (p) => events.push(p) });
  assert.ok(again.kind === 'hub');
  assert.match(
    events.find((e) => e.replacing)?.replacing ?? '',
    /^expected a complete model\.safetensors, found .*truncated/,
  );
  assert.ok(fs.readFileSync(path.join(again.dir, 'model.safetensors')).equals(weights));
});

test('offline, a damaged cached file is used as it is (loading it names the file) rather than refused as missing', async () => {
  const { env } = setup();
  const first = await resolveModel('org/tiny-bert', { env });
  assert.ok(first.kind === 'hub');
  fs.truncateSync(blobOf(first.dir, 'model.safetensors'), 10_000);
  server.requests.length = 0;
  assert.deepEqual(await resolveModel('org/tiny-bert', { env: { ...env, HF_HUB_OFFLINE: '1' } }), first);
  assert.equal(server.requests.length, 0);
});

test('specs: local folders, random markers, hub ids and invalid input', () => {
  const dir = tempDir('local-model');
  assert.deepEqual(parseModelSpec(dir), { kind: 'local', dir });
  assert.deepEqual(parseModelSpec('random:tiny'), { kind: 'random', size: 'tiny' });
  assert.deepEqual(parseModelSpec('bert-base-uncased'), { kind: 'hub', repoId: 'bert-base-uncased', revision: 'main' });
  assert.deepEqual(parseModelSpec('google-bert/bert-base-uncased@v1.0'), {
    kind: 'hub',
    repoId: 'google-bert/bert-base-uncased',
    revision: 'v1.0',
  });
  assert.throws(
    () => parseModelSpec('./no/such/folder'),
    (e: unknown) => e instanceof UserError && e.code === 'MODEL_FOLDER_MISSING',
  );
  for (const bad of ['a/b/c', 'bad id', 'org--x/y', 'x@']) {
    assert.throws(
      () => parseModelSpec(bad),
      (e: unknown) => e instanceof UserError && e.code === 'MODEL_SPEC_INVALID',
      bad,
    );
  }
});

test('the cache folder follows HF_HUB_CACHE, HF_HOME and XDG_CACHE_HOME', () => {
  assert.equal(hubCacheDir({ HF_HUB_CACHE: '/c', HF_HOME: '/h' }), '/c');
  assert.equal(hubCacheDir({ HF_HOME: '/h' }), path.join('/h', 'hub'));
  assert.equal(hubCacheDir({ XDG_CACHE_HOME: '/x' }), path.join('/x', 'huggingface', 'hub'));
});

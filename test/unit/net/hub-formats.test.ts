/**
 * Hub downloads of every weight format, from the loopback Hub: model.safetensors when the repository has it, else the
 * safetensors index and its shards, else pytorch_model.bin, else the .bin index and its shards; one cache, progress
 * per file, cache hits without requests, a missing or damaged shard fetched again alone.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadModelDir } from '../../../src/core/model/load';
import { loadTokenizer } from '../../../src/core/tokenize/tokenizer';
import { HubProgress, resolveModel } from '../../../src/core/model/hub';
import { Tensor, Weights } from '../../../src/core/model/params';
import { readPytorchBinNames } from '../../../src/core/model/pytorch-bin';
import { readSafetensors, writeSafetensors } from '../../../src/core/model/safetensors';
import { LoopbackServer, startLoopbackServer } from '../../helpers/loopback-server';
import { rejectsWithCode } from '../../helpers/rejects';
import { sha256, tempDir } from './tiny-hub';

const FIXTURES = path.join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'torch-bin');
const TOKENIZERS = path.join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'tokenizers');
const COMMIT = 'fedcba9876543210fedcba9876543210fedcba98';
const SHARDS = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
const BIN_SHARD = 'pytorch_model-00001-of-00001.bin';
let root: string;
let server: LoopbackServer;
/** The fixture model loaded from its own folder: what every repository below must load to. */
let expected: Weights;

/** Writes root/<repo>/ with the fixture's config.json, vocab.txt and tokenizer_config.json plus `files`. */
function repo(id: string, files: Record<string, Buffer | string>): string {
  const dir = path.join(root, id);
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ['config.json', 'vocab.txt', 'tokenizer_config.json']) {
    fs.copyFileSync(path.join(FIXTURES, f), path.join(dir, f));
  }
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
  return dir;
}

before(async () => {
  root = tempDir('hub-formats-root');
  const bin = fs.readFileSync(path.join(FIXTURES, 'pytorch_model.bin'));
  repo('org/bin-only', { 'pytorch_model.bin': bin });

  // The same tensors as safetensors shards: the embeddings in the first, the rest in the second.
  const reference = await readSafetensors(path.join(FIXTURES, 'reference-pytorch_model.safetensors'));
  const parts = [new Map<string, Tensor>(), new Map<string, Tensor>()];
  const weightMap: Record<string, string> = {};
  for (const [name, t] of reference) {
    const k = name.includes('embeddings') ? 0 : 1;
    parts[k].set(name, t);
    weightMap[name] = SHARDS[k];
  }
  const sharded = repo('org/sharded', {
    'model.safetensors.index.json': JSON.stringify({ metadata: {}, weight_map: weightMap }),
  });
  for (const [k, part] of parts.entries()) await writeSafetensors(path.join(sharded, SHARDS[k]), part);

  repo('org/both', { 'pytorch_model.bin': bin });
  await writeSafetensors(path.join(root, 'org', 'both', 'model.safetensors'), reference);

  const names = await readPytorchBinNames(path.join(FIXTURES, 'pytorch_model.bin'));
  repo('org/sharded-bin', {
    'pytorch_model.bin.index.json': JSON.stringify({
      weight_map: Object.fromEntries(names.map((n) => [n, BIN_SHARD])),
    }),
    [BIN_SHARD]: bin,
  });
  repo('org/evil-index', {
    'model.safetensors.index.json': JSON.stringify({ weight_map: { a: '../../org/sharded/' + SHARDS[0] } }),
  });

  // Tokenizers without tokenizer.json or vocab.txt (test/fixtures/tokenizers): GPT-2/RoBERTa BPE files, a
  // SentencePiece model; and half a BPE tokenizer, which is no tokenizer.
  const tokenizerRepo = (id: string, files: Record<string, string>) => {
    const dir = path.join(root, id);
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(path.join(FIXTURES, 'config.json'), path.join(dir, 'config.json'));
    fs.copyFileSync(path.join(FIXTURES, 'pytorch_model.bin'), path.join(dir, 'pytorch_model.bin'));
    for (const [name, from] of Object.entries(files))
      fs.copyFileSync(path.join(TOKENIZERS, from), path.join(dir, name));
  };
  tokenizerRepo('org/bpe-tokenizer', { 'vocab.json': 'roberta/vocab.json', 'merges.txt': 'roberta/merges.txt' });
  tokenizerRepo('org/spm-tokenizer', { 'spm.model': 'deberta-v3/spm.model' });
  fs.writeFileSync(
    path.join(root, 'org', 'spm-tokenizer', 'tokenizer_config.json'),
    JSON.stringify({ tokenizer_class: 'DebertaV2Tokenizer' }),
  );
  tokenizerRepo('org/half-tokenizer', { 'vocab.json': 'roberta/vocab.json' });

  const local = tempDir('hub-formats-local');
  for (const f of ['config.json', 'pytorch_model.bin']) fs.copyFileSync(path.join(FIXTURES, f), path.join(local, f));
  expected = (await loadModelDir(local, 2, 4)).weights;
  server = await startLoopbackServer({ root, commit: COMMIT });
});

after(async () => {
  await server.close();
  fs.rmSync(root, { recursive: true, force: true });
});

function setup() {
  const home = tempDir('hub-formats-home');
  server.requests.length = 0;
  server.faults = {};
  return { env: { HF_HOME: home, HF_ENDPOINT: server.url }, cache: path.join(home, 'hub') };
}

function bytesOf(t: Tensor): Buffer {
  return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

async function assertLoadsLikeFixture(dir: string): Promise<void> {
  const { weights } = await loadModelDir(dir, 2, 4);
  assert.deepEqual([...weights.keys()], [...expected.keys()]);
  for (const [name, t] of weights) assert.ok(bytesOf(t).equals(bytesOf(expected.get(name)!)), name);
}

function gets(fragment: string): number {
  return server.requestsFor(fragment).filter((r) => r.method === 'GET').length;
}

test('a .bin-only repository: pytorch_model.bin is downloaded with progress, loads, and is then a cache hit', async () => {
  const { env } = setup();
  const events: HubProgress[] = [];
  const result = await resolveModel('org/bin-only', { env, onProgress: (p) => events.push(p) });
  assert.ok(result.kind === 'hub');
  assert.deepEqual(result.files, ['config.json', 'vocab.txt', 'tokenizer_config.json', 'pytorch_model.bin']);
  const size = fs.statSync(path.join(FIXTURES, 'pytorch_model.bin')).size;
  assert.deepEqual(events.filter((e) => e.file === 'pytorch_model.bin').at(-1), {
    file: 'pytorch_model.bin',
    bytes: size,
    total: size,
  });
  // Asked for, in order, before the .bin: model.safetensors and its index (both absent).
  const heads = server.requests.filter((r) => r.method === 'HEAD').map((r) => path.posix.basename(r.path));
  assert.deepEqual(heads.slice(-3), ['model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin']);
  await assertLoadsLikeFixture(result.dir);

  server.requests.length = 0;
  assert.deepEqual(await resolveModel('org/bin-only', { env }), result);
  assert.equal(server.requests.length, 0);
});

test('a sharded repository: the index, then each shard with its own progress; a lost shard is fetched again alone', async () => {
  const { env, cache } = setup();
  const events: HubProgress[] = [];
  const result = await resolveModel('org/sharded', { env, onProgress: (p) => events.push(p) });
  assert.ok(result.kind === 'hub');
  assert.deepEqual(result.files, [
    'config.json',
    'vocab.txt',
    'tokenizer_config.json',
    'model.safetensors.index.json',
    ...SHARDS,
  ]);
  for (const shard of SHARDS) {
    const size = fs.statSync(path.join(root, 'org', 'sharded', shard)).size;
    assert.deepEqual(events.filter((e) => e.file === shard).at(-1), { file: shard, bytes: size, total: size });
    assert.equal(gets(`/lfs/org/sharded/${shard}`), 1);
  }
  assert.equal(server.requestsFor('pytorch_model.bin').length, 0);
  await assertLoadsLikeFixture(result.dir);

  server.requests.length = 0;
  assert.deepEqual(await resolveModel('org/sharded', { env }), result);
  assert.equal(server.requests.length, 0, 'a complete sharded snapshot is a cache hit');

  // The second shard's blob is gone (a cleaned cache): only it is downloaded again.
  const blob = path.join(
    cache,
    'models--org--sharded',
    'blobs',
    sha256(fs.readFileSync(path.join(root, 'org', 'sharded', SHARDS[1]))),
  );
  fs.rmSync(blob);
  server.requests.length = 0;
  const again = await resolveModel('org/sharded', { env });
  assert.equal(gets(`/lfs/org/sharded/${SHARDS[1]}`), 1);
  assert.equal(gets(`/lfs/org/sharded/${SHARDS[0]}`), 0);
  await assertLoadsLikeFixture(again.kind === 'hub' ? again.dir : '');
});

test('model.safetensors is preferred: the .bin beside it is never requested', async () => {
  const { env } = setup();
  const result = await resolveModel('org/both', { env });
  assert.ok(result.kind === 'hub');
  assert.deepEqual(result.files.at(-1), 'model.safetensors');
  assert.equal(server.requestsFor('pytorch_model.bin').length, 0);
  assert.equal(fs.existsSync(path.join(result.dir, 'pytorch_model.bin')), false);
  await assertLoadsLikeFixture(result.dir);
});

test('pytorch_model.bin.index.json and its .bin shard', async () => {
  const { env } = setup();
  const result = await resolveModel('org/sharded-bin', { env });
  assert.ok(result.kind === 'hub');
  assert.deepEqual(result.files.slice(-2), ['pytorch_model.bin.index.json', BIN_SHARD]);
  await assertLoadsLikeFixture(result.dir);
});

test('a truncated pytorch_model.bin in the cache is noticed and fetched again', async () => {
  const { env } = setup();
  const first = await resolveModel('org/bin-only', { env });
  assert.ok(first.kind === 'hub');
  const blob = fs.realpathSync(path.join(first.dir, 'pytorch_model.bin'));
  fs.truncateSync(blob, 5000);
  server.requests.length = 0;
  const events: HubProgress[] = [];
  const second = await resolveModel('org/bin-only', { env, onProgress: (p) => events.push(p) });
  assert.equal(gets('/lfs/org/bin-only/pytorch_model.bin'), 1);
  assert.match(events.find((e) => e.replacing)?.replacing ?? '', /expected \d+ bytes, found 5000 bytes/);
  await assertLoadsLikeFixture(second.kind === 'hub' ? second.dir : '');
});

test('an index that names a file outside the repository folder is refused before any shard is requested', async () => {
  const { env } = setup();
  const err = await rejectsWithCode(resolveModel('org/evil-index', { env }), 'MODEL_BAD_INDEX');
  assert.match(err.message, /not a \.safetensors file of the same folder/);
  assert.equal(server.requestsFor('org/sharded').length, 0);
});

test('a tokenizer as vocab.json + merges.txt or a SentencePiece model is downloaded whole and loads; half of one is none', async () => {
  const { env } = setup();
  const bpe = await resolveModel('org/bpe-tokenizer', { env });
  assert.ok(bpe.kind === 'hub');
  assert.deepEqual(bpe.files, ['config.json', 'vocab.json', 'merges.txt', 'pytorch_model.bin']);
  assert.ok((await loadTokenizer(bpe.dir)).tokenIds('The State of the Union is strong').length > 0);
  const spm = await resolveModel('org/spm-tokenizer', { env });
  assert.ok(spm.kind === 'hub');
  assert.deepEqual(spm.files, ['config.json', 'spm.model', 'tokenizer_config.json', 'pytorch_model.bin']);
  assert.ok((await loadTokenizer(spm.dir)).tokenIds('The State of the Union is strong').length > 0);
  // Cache hits: the snapshot holds a whole tokenizer.
  server.requests.length = 0;
  assert.deepEqual(await resolveModel('org/spm-tokenizer', { env }), spm);
  assert.equal(server.requests.length, 0);

  const refused = await rejectsWithCode(resolveModel('org/half-tokenizer', { env }), 'HUB_NO_TOKENIZER');
  assert.match(refused.message, /vocab\.json \+ merges\.txt/);
  assert.equal(gets('org/half-tokenizer/resolve'), 0, 'nothing downloaded');
});

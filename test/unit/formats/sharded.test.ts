/** Sharded checkpoints: model.safetensors.index.json (and pytorch_model.bin.index.json) with their shards. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseBertConfig } from '../../../src/core/model/config';
import { loadModelDir } from '../../../src/core/model/load';
import { bertClassifierParamSpecs, initWeights, Tensor, Weights } from '../../../src/core/model/params';
import { readPytorchBinNames } from '../../../src/core/model/pytorch-bin';
import { writeSafetensors } from '../../../src/core/model/safetensors';
import { findWeights, readWeightNames } from '../../../src/core/model/weights-file';
import { rejectsWithCode } from '../../helpers/rejects';
import { tempFolder } from '../../helpers/temp';

const FIXTURES = path.join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'torch-bin');
const CONFIG = {
  model_type: 'bert',
  vocab_size: 30,
  hidden_size: 8,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  intermediate_size: 16,
  max_position_embeddings: 16,
};

function tempDir(): string {
  return tempFolder('bertft-sharded-');
}

function bytesOf(t: Tensor): Buffer {
  return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

function assertSameWeights(a: Weights, b: Weights): void {
  assert.deepEqual([...a.keys()], [...b.keys()]);
  for (const [name, t] of a) assert.ok(bytesOf(t).equals(bytesOf(b.get(name)!)), name);
}

/** A folder with config.json and the weights split over `shards` safetensors files (layer 1 and the head in the last). */
async function shardedDir(weights: Weights, shards = 2): Promise<{ dir: string; map: Record<string, string> }> {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(CONFIG));
  const map: Record<string, string> = {};
  const parts = Array.from({ length: shards }, () => new Map<string, Tensor>());
  [...weights].forEach(([name, t], i) => {
    const k = Math.min(shards - 1, Math.floor((i * shards) / weights.size));
    parts[k].set(name, t);
    map[name] = `model-0000${k + 1}-of-0000${shards}.safetensors`;
  });
  for (const [k, part] of parts.entries()) {
    await writeSafetensors(path.join(dir, `model-0000${k + 1}-of-0000${shards}.safetensors`), part);
  }
  fs.writeFileSync(
    path.join(dir, 'model.safetensors.index.json'),
    JSON.stringify({ metadata: { total_size: 0 }, weight_map: map }),
  );
  return { dir, map };
}

test('sharded safetensors load like the single file, each tensor from the shard the index names', async () => {
  const config = parseBertConfig(CONFIG);
  const weights = initWeights(bertClassifierParamSpecs(config, 3), 5, 0.3);
  const single = tempDir();
  fs.writeFileSync(path.join(single, 'config.json'), JSON.stringify(CONFIG));
  await writeSafetensors(path.join(single, 'model.safetensors'), weights);
  const { dir, map } = await shardedDir(weights, 3);

  const source = await findWeights(dir);
  assert.equal(source.file, path.join(dir, 'model.safetensors.index.json'));
  assert.equal(source.shards.length, 3);
  assert.deepEqual((await readWeightNames(source)).sort(), [...weights.keys()].sort());
  assertSameWeights((await loadModelDir(dir, 3, 1)).weights, (await loadModelDir(single, 3, 1)).weights);

  // The first shard also holds (zeros for) a tensor the index gives to the last: the index decides.
  const first = 'model-00001-of-00003.safetensors';
  const lastName = [...weights.keys()].at(-1)!;
  assert.notEqual(map[lastName], first);
  const stray = new Map([...weights].filter(([n]) => map[n] === first));
  stray.set(lastName, {
    shape: weights.get(lastName)!.shape,
    data: new Float32Array(weights.get(lastName)!.data.length),
  });
  await writeSafetensors(path.join(dir, first), stray);
  const loaded = await loadModelDir(dir, 3, 1);
  assert.ok(bytesOf(loaded.weights.get(lastName)!).equals(bytesOf(weights.get(lastName)!)));
});

test('a bad index, a missing shard or a shard without its tensors is a ModelError naming the file', async () => {
  const config = parseBertConfig(CONFIG);
  const weights = initWeights(bertClassifierParamSpecs(config, 2), 5, 0.3);
  const { dir, map } = await shardedDir(weights);
  const index = path.join(dir, 'model.safetensors.index.json');
  const name = Object.keys(map)[0];

  for (const shard of ['../model-00001-of-00002.safetensors', '/etc/passwd', 'sub\\x.safetensors', 'x.bin', 7]) {
    fs.writeFileSync(index, JSON.stringify({ weight_map: { ...map, [name]: shard } }));
    const err = await rejectsWithCode(findWeights(dir), 'MODEL_BAD_INDEX');
    assert.equal(err.file, index);
    assert.match(err.message, /not a \.safetensors file of the same folder/);
  }
  for (const text of ['{"weight_map": ', '{"metadata": {}}', '{"weight_map": {}}', '[]']) {
    fs.writeFileSync(index, text);
    await rejectsWithCode(findWeights(dir), 'MODEL_BAD_INDEX');
  }

  fs.writeFileSync(index, JSON.stringify({ weight_map: { ...map, [name]: 'model-00009-of-00009.safetensors' } }));
  const missing = await rejectsWithCode(loadModelDir(dir, 2, 0), 'MODEL_MISSING_SHARD');
  assert.match(missing.message, /lacks model-00009-of-00009\.safetensors/);

  assert.equal(map[name], 'model-00001-of-00002.safetensors');
  const other = 'model-00002-of-00002.safetensors';
  fs.writeFileSync(index, JSON.stringify({ weight_map: { ...map, [name]: other } }));
  const misplaced = await rejectsWithCode(loadModelDir(dir, 2, 0), 'MODEL_MISSING_SHARD');
  assert.match(misplaced.message, new RegExp(`maps tensor "${name.replace(/\./g, '\\.')}" to ${other}`));
});

test('pytorch_model.bin.index.json with .bin shards; the safetensors index wins over pytorch_model.bin', async () => {
  const dir = tempDir();
  for (const f of ['config.json', 'vocab.txt']) fs.copyFileSync(path.join(FIXTURES, f), path.join(dir, f));
  const shard = 'pytorch_model-00001-of-00001.bin';
  fs.copyFileSync(path.join(FIXTURES, 'pytorch_model.bin'), path.join(dir, shard));
  const names = await readPytorchBinNames(path.join(dir, shard));
  fs.writeFileSync(
    path.join(dir, 'pytorch_model.bin.index.json'),
    JSON.stringify({ weight_map: Object.fromEntries(names.map((n) => [n, shard])) }),
  );
  const plain = tempDir();
  for (const f of ['config.json', 'pytorch_model.bin']) fs.copyFileSync(path.join(FIXTURES, f), path.join(plain, f));
  assertSameWeights((await loadModelDir(dir, 2, 3)).weights, (await loadModelDir(plain, 2, 3)).weights);

  // Beside pytorch_model.bin, a sharded safetensors checkpoint is the one read.
  const config = parseBertConfig(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'config.json'), 'utf8')));
  const other = initWeights(bertClassifierParamSpecs(config, 2), 9, 0.3);
  const { dir: both } = await shardedDir(other);
  fs.copyFileSync(path.join(FIXTURES, 'config.json'), path.join(both, 'config.json'));
  fs.copyFileSync(path.join(FIXTURES, 'pytorch_model.bin'), path.join(both, 'pytorch_model.bin'));
  assert.equal((await findWeights(both)).file, path.join(both, 'model.safetensors.index.json'));
  assertSameWeights((await loadModelDir(both, 2, 3)).weights, other);
});

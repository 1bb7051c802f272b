import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ModelError } from '../../../src/core/errors';
import { BertConfig, parseBertConfig } from '../../../src/core/model/config';
import { loadModelDir, saveHfModel } from '../../../src/core/model/load';
import { bertClassifierParamSpecs, initWeights, Tensor, Weights } from '../../../src/core/model/params';
import { readSafetensors, writeSafetensors } from '../../../src/core/model/safetensors';
import { tempFolder } from '../../helpers/temp';

const HF_CONFIG = {
  architectures: ['BertModel'],
  model_type: 'bert',
  vocab_size: 50,
  hidden_size: 16,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  intermediate_size: 32,
  max_position_embeddings: 24,
  type_vocab_size: 2,
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  layer_norm_eps: 1e-12,
  initializer_range: 0.5,
  pad_token_id: 0,
  hidden_act: 'gelu',
  some_custom_key: 'kept',
  num_labels: 7,
};

function tinyConfig(): BertConfig {
  return parseBertConfig(JSON.parse(JSON.stringify(HF_CONFIG)), 'config.json');
}

function tinyWeights(config: BertConfig, numLabels: number, seed: number): Weights {
  return initWeights(bertClassifierParamSpecs(config, numLabels), seed, 0.3);
}

/** Writes config.json (HF_CONFIG + overrides) and model.safetensors with the given tensors into a fresh folder. */
async function modelDir(tensors: Map<string, Tensor>, config: Record<string, unknown> = HF_CONFIG): Promise<string> {
  const dir = tempFolder('bertft-load-');
  await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify(config));
  await writeSafetensors(path.join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  return dir;
}

function assertSameTensor(a: Tensor | undefined, b: Tensor | undefined, name: string): void {
  assert.ok(a && b, `${name} present`);
  assert.deepEqual(a.shape, b.shape, name);
  assert.deepEqual(
    Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength),
    Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength),
    name,
  );
}

function std(t: Tensor): number {
  const mean = t.data.reduce((a, b) => a + b, 0) / t.data.length;
  return Math.sqrt(t.data.reduce((a, b) => a + (b - mean) ** 2, 0) / t.data.length);
}

async function expectModelError(p: Promise<unknown>, pattern: RegExp): Promise<ModelError> {
  let caught: unknown;
  await assert.rejects(p, (e: unknown) => {
    caught = e;
    return true;
  });
  assert.ok(caught instanceof ModelError, `expected ModelError, got ${String(caught)}`);
  assert.match(caught.message, pattern);
  return caught;
}

test('saveHfModel then loadModelDir returns the same weights and a complete HF config.json', async () => {
  const config = tinyConfig();
  const weights = tinyWeights(config, 3, 1);
  const dir = path.join(tempFolder('bertft-load-'), 'nested', 'best');
  await saveHfModel(dir, { config, weights, id2label: ['neg', 'neu', 'pos'] });
  assert.deepEqual((await fs.readdir(dir)).sort(), ['config.json', 'model.safetensors']);

  const json = JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(json.architectures, ['BertForSequenceClassification']);
  assert.equal(json.model_type, 'bert');
  assert.deepEqual(json.id2label, { 0: 'neg', 1: 'neu', 2: 'pos' });
  assert.deepEqual(json.label2id, { neg: 0, neu: 1, pos: 2 });
  assert.equal(json.num_labels, undefined, 'stale num_labels dropped: transformers derives it from id2label');
  assert.equal(json.some_custom_key, 'kept');
  assert.equal(json.hidden_size, 16);
  assert.equal(json.initializer_range, 0.5);

  const st = await readSafetensors(path.join(dir, 'model.safetensors'));
  assert.deepEqual([...st.keys()].sort(), [...weights.keys()].sort());

  const back = await loadModelDir(dir, 3, 99);
  assert.equal(back.addedHead, false);
  assert.equal(back.config.hiddenSize, 16);
  assert.deepEqual([...back.weights.keys()], [...weights.keys()], 'spec order');
  for (const [name, t] of weights) assertSameTensor(back.weights.get(name), t, name);
});

test('a bare BertModel checkpoint (no bert. prefix, no classifier) gets a fresh head with std = initializer_range', async () => {
  const config = tinyConfig();
  const weights = tinyWeights(config, 2, 2);
  const bare = new Map<string, Tensor>();
  for (const [name, t] of weights) if (!name.startsWith('classifier.')) bare.set(name.replace(/^bert\./, ''), t);
  const dir = await modelDir(bare);

  const a = await loadModelDir(dir, 4, 7);
  assert.equal(a.addedHead, true);
  assert.deepEqual(a.weights.get('classifier.weight')!.shape, [4, 16]);
  assert.deepEqual([...a.weights.get('classifier.bias')!.data], [0, 0, 0, 0]);
  const s = std(a.weights.get('classifier.weight')!);
  assert.ok(s > 0.3 && s < 0.7, `classifier std ${s} should be near initializer_range 0.5`);
  for (const [name, t] of weights) if (!name.startsWith('classifier.')) assertSameTensor(a.weights.get(name), t, name);

  const again = await loadModelDir(dir, 4, 7);
  assertSameTensor(again.weights.get('classifier.weight'), a.weights.get('classifier.weight'), 'same seed, same head');
  const other = await loadModelDir(dir, 4, 8);
  assert.notDeepEqual([...other.weights.get('classifier.weight')!.data], [...a.weights.get('classifier.weight')!.data]);
});

test('a classifier with a different label count is replaced; other heads, position_ids and gamma/beta are handled', async () => {
  const config = tinyConfig();
  const weights = tinyWeights(config, 5, 3);
  const tensors = new Map<string, Tensor>();
  for (const [name, t] of weights)
    tensors.set(name.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta'), t);
  tensors.set('cls.predictions.bias', { shape: [50], data: new Float32Array(50) });
  tensors.set('bert.embeddings.position_ids', { shape: [1, 24], data: new Float32Array(24) });
  tensors.set('qa_outputs.weight', { shape: [2, 16], data: new Float32Array(32) });
  const dir = await modelDir(tensors);

  const loaded = await loadModelDir(dir, 2, 1);
  assert.equal(loaded.addedHead, true);
  assert.deepEqual(loaded.weights.get('classifier.weight')!.shape, [2, 16]);
  assert.ok(!loaded.weights.has('cls.predictions.bias') && !loaded.weights.has('bert.qa_outputs.weight'));
  assertSameTensor(
    loaded.weights.get('bert.embeddings.LayerNorm.weight'),
    weights.get('bert.embeddings.LayerNorm.weight'),
    'gamma → weight',
  );
  assertSameTensor(
    loaded.weights.get('bert.encoder.layer.1.output.LayerNorm.bias'),
    weights.get('bert.encoder.layer.1.output.LayerNorm.bias'),
    'beta → bias',
  );

  const same = await loadModelDir(dir, 5, 1);
  assert.equal(same.addedHead, false);
  assertSameTensor(
    same.weights.get('classifier.weight'),
    weights.get('classifier.weight'),
    'kept when the label count matches',
  );
});

test('a checkpoint without a pooler gets a fresh pooler (as from_pretrained does) but keeps its classifier', async () => {
  const config = tinyConfig();
  const weights = tinyWeights(config, 3, 4);
  const tensors = new Map([...weights].filter(([n]) => !n.startsWith('bert.pooler.')));
  const loaded = await loadModelDir(await modelDir(tensors), 3, 1);
  assert.equal(loaded.addedHead, false);
  assert.deepEqual(loaded.weights.get('bert.pooler.dense.weight')!.shape, [16, 16]);
  assertSameTensor(loaded.weights.get('classifier.weight'), weights.get('classifier.weight'), 'classifier kept');
});

test('missing and unexpected encoder tensors are listed in one ModelError', async () => {
  const config = tinyConfig();
  const tensors = new Map(tinyWeights(config, 3, 5));
  tensors.delete('bert.encoder.layer.1.attention.self.key.bias');
  tensors.set('bert.encoder.layer.2.output.dense.weight', { shape: [2], data: new Float32Array(2) });
  const dir = await modelDir(tensors);
  const e = await expectModelError(
    loadModelDir(dir, 3, 0),
    /missing 1 tensor\(s\): bert\.encoder\.layer\.1\.attention\.self\.key\.bias; unexpected 1 tensor\(s\): bert\.encoder\.layer\.2\.output\.dense\.weight/,
  );
  assert.equal(e.file, path.join(dir, 'model.safetensors'));
});

test('a half-present pooler is an error, not a silent re-initialisation', async () => {
  const tensors = new Map(tinyWeights(tinyConfig(), 3, 6));
  tensors.delete('bert.pooler.dense.bias');
  await expectModelError(
    loadModelDir(await modelDir(tensors), 3, 0),
    /missing 1 tensor\(s\): bert\.pooler\.dense\.bias/,
  );
});

test('a shape mismatch names the tensor, the expected and the found shape', async () => {
  const config = tinyConfig();
  const tensors = new Map(tinyWeights(config, 3, 7));
  tensors.set('bert.encoder.layer.0.intermediate.dense.weight', { shape: [31, 16], data: new Float32Array(31 * 16) });
  await expectModelError(
    loadModelDir(await modelDir(tensors), 3, 0),
    /bert\.encoder\.layer\.0\.intermediate\.dense\.weight .*shape \[31, 16\].*implies \[32, 16\]/,
  );
});

test('missing config.json, bad config.json and missing or unreadable weights are ModelErrors with a fix', async () => {
  const empty = tempFolder('bertft-load-');
  const e1 = await expectModelError(loadModelDir(empty, 2, 0), /no readable config\.json/);
  assert.equal(e1.file, path.join(empty, 'config.json'));

  const bad = tempFolder('bertft-load-');
  await fs.writeFile(path.join(bad, 'config.json'), '{"hidden_size": 16,');
  await expectModelError(loadModelDir(bad, 2, 0), /config\.json is not valid JSON/);

  const noWeights = tempFolder('bertft-load-');
  await fs.writeFile(path.join(noWeights, 'config.json'), JSON.stringify(HF_CONFIG));
  const e3 = await expectModelError(
    loadModelDir(noWeights, 2, 0),
    /has no weights: none of model\.safetensors, model\.safetensors\.index\.json, pytorch_model\.bin/,
  );
  assert.equal(e3.code, 'MODEL_NO_WEIGHTS');

  // A pytorch_model.bin is read now (test/unit/formats/pytorch-bin.test.ts); one that is no checkpoint is named.
  await fs.writeFile(path.join(noWeights, 'pytorch_model.bin'), 'x');
  const e4 = await expectModelError(loadModelDir(noWeights, 2, 0), /pytorch_model\.bin is not a readable PyTorch/);
  assert.equal(e4.file, path.join(noWeights, 'pytorch_model.bin'));
});

test('saveHfModel refuses labels that do not match the classifier, and leaves no files', async () => {
  const config = tinyConfig();
  const dir = path.join(tempFolder('bertft-load-'), 'out');
  await expectModelError(
    saveHfModel(dir, { config, weights: tinyWeights(config, 3, 8), id2label: ['a', 'b'] }),
    /3 outputs but 2 labels/,
  );
  await expectModelError(
    saveHfModel(dir, { config, weights: tinyWeights(config, 2, 8), id2label: ['a', 'a'] }),
    /not unique/,
  );
  await assert.rejects(fs.access(dir));
});

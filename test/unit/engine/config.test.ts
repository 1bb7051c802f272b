import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelError } from '../../../src/core/errors';
import { parseBertConfig, presetConfig } from '../../../src/core/model/config';
import { bertClassifierParamSpecs, initWeights, numel } from '../../../src/core/model/params';
import { linearScheduleLr, resolveWarmupSteps } from '../../../src/core/train/schedule';

test('parseBertConfig reads HF keys, fills HF defaults and keeps the raw JSON', () => {
  const cfg = parseBertConfig({
    model_type: 'bert',
    hidden_size: 128,
    num_attention_heads: 2,
    num_hidden_layers: 2,
    intermediate_size: 512,
    id2label: { 0: 'a' },
  });
  assert.equal(cfg.hiddenSize, 128);
  assert.equal(cfg.vocabSize, 30522);
  assert.equal(cfg.layerNormEps, 1e-12);
  assert.deepEqual(cfg.raw.id2label, { 0: 'a' });
});

test('parseBertConfig names the bad key and the file', () => {
  assert.throws(
    () => parseBertConfig({ hidden_size: 'big' }, '/m/config.json'),
    (e: unknown) => e instanceof ModelError && /"hidden_size"/.test(e.message) && e.file === '/m/config.json',
  );
  assert.throws(() => parseBertConfig({ hidden_size: 100, num_attention_heads: 12 }), /not a multiple/);
  assert.throws(() => parseBertConfig({ model_type: 't5' }), /'t5' is not supported; supported: bert, distilbert/);
  assert.throws(() => parseBertConfig({ hidden_dropout_prob: 1.5 }), /hidden_dropout_prob/);
  assert.throws(() => parseBertConfig([1, 2]), ModelError);
});

test('presets have the agreed sizes', () => {
  const sizes = (['tiny', 'mini', 'small', 'base'] as const).map((s) => {
    const c = presetConfig(s);
    return [c.numHiddenLayers, c.hiddenSize, c.numAttentionHeads, c.intermediateSize];
  });
  assert.deepEqual(sizes, [
    [2, 64, 2, 256],
    [4, 256, 4, 1024],
    [4, 512, 8, 2048],
    [12, 768, 12, 3072],
  ]);
  assert.equal(presetConfig('tiny').vocabSize, 30522);
});

test('bert-base parameter specs: HF names, count and decay flags', () => {
  const specs = bertClassifierParamSpecs(presetConfig('base'), 2);
  assert.equal(specs.length, 5 + 12 * 16 + 4);
  const total = specs.reduce((a, s) => a + numel(s.shape), 0);
  assert.equal(total, 109483778); // bert-base-uncased (109,482,240) + a 2-label head (1,538)
  const byName = new Map(specs.map((s) => [s.name, s]));
  assert.deepEqual(byName.get('bert.encoder.layer.3.intermediate.dense.weight')?.shape, [3072, 768]);
  assert.equal(byName.get('bert.encoder.layer.0.attention.output.LayerNorm.weight')?.decay, false);
  assert.equal(byName.get('classifier.bias')?.decay, false);
  assert.equal(byName.get('classifier.weight')?.decay, true);
  assert.equal(byName.get('bert.embeddings.word_embeddings.weight')?.decay, true);
});

test('initWeights is deterministic per seed', () => {
  const specs = bertClassifierParamSpecs(
    parseBertConfig({
      vocab_size: 50,
      hidden_size: 16,
      num_attention_heads: 2,
      num_hidden_layers: 1,
      intermediate_size: 32,
    }),
    3,
  );
  const a = initWeights(specs, 1, 0.02);
  const b = initWeights(specs, 1, 0.02);
  const c = initWeights(specs, 2, 0.02);
  const w = 'bert.embeddings.word_embeddings.weight';
  assert.deepEqual(a.get(w)!.data, b.get(w)!.data);
  assert.notDeepEqual(a.get(w)!.data, c.get(w)!.data);
  const d = a.get(w)!.data;
  const std = Math.sqrt(d.reduce((s, x) => s + x * x, 0) / d.length);
  assert.ok(Math.abs(std - 0.02) < 0.002, `std ${std}`);
  assert.ok(a.get('bert.embeddings.LayerNorm.weight')!.data.every((x) => x === 1));
  assert.ok(a.get('classifier.bias')!.data.every((x) => x === 0));
});

test('linear schedule with warmup follows HF get_linear_schedule_with_warmup', () => {
  // HF: lr_lambda(s) = s / max(1, warmup) if s < warmup else max(0, (total - s) / max(1, total - warmup))
  const lr = (s: number) => linearScheduleLr(s, 2e-5, 10, 110);
  assert.equal(lr(0), 0);
  assert.equal(lr(5), 1e-5);
  assert.equal(lr(10), 2e-5);
  assert.ok(Math.abs(lr(60) - 1e-5) < 1e-18);
  assert.equal(lr(110), 0);
  assert.equal(lr(200), 0);
  assert.equal(linearScheduleLr(0, 1, 0, 4), 1);
  assert.equal(linearScheduleLr(3, 1, 0, 4), 0.25);
  assert.equal(resolveWarmupSteps({ warmupRatio: 0.06 }, 1000), 60);
  assert.equal(resolveWarmupSteps({ warmupRatio: 0.1 }, 15), 2);
  assert.equal(resolveWarmupSteps({ warmupSteps: 7, warmupRatio: 0.5 }, 100), 7);
  assert.equal(resolveWarmupSteps({}, 100), 0);
});

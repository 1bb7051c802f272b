/**
 * ModernBERT: the sliding window, its config keys (transformers 5's too), and a ModernBertForMaskedLM checkpoint's
 * loading. Its parity with the plain-PyTorch reference (bench/reference/modernbert_torch.py; mean pooling without
 * biases, CLS pooling with every bias) is in parity.test.ts, with the other families'.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseBertConfig } from '../../../src/core/model/config';
import { loadModelDir } from '../../../src/core/model/load';
import { writeSafetensors } from '../../../src/core/model/safetensors';
import { createTrainEngine, type EngineOptions, type TrainEngine } from '../../../src/core/train/engine';
import { BatchJson, TrajectoryJson, readJson, toBatch } from '../../helpers/parity';
import { tempFolder } from '../../helpers/temp';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'parity-modernbert');

/** An engine on the parity fixture's weights and hyperparameters, with `raw` as its config.json. */
async function fixtureEngine(raw: Record<string, unknown>, options: Partial<EngineOptions> = {}): Promise<TrainEngine> {
  const { weights } = await loadModelDir(FIXTURE, 3, 0);
  return createTrainEngine({
    config: parseBertConfig(raw),
    numLabels: 3,
    weights,
    hyper: readJson<TrajectoryJson>(path.join(FIXTURE, 'trajectory.json')).hyper,
    device: 'cpu',
    dropout: false,
    seed: 0,
    threads: 1,
    ...options,
  });
}

test('modernbert: the sliding window matters (a global-only copy of the fixture gives other logits)', async () => {
  const { config } = await loadModelDir(FIXTURE, 3, 0);
  const batch = toBatch(readJson<BatchJson>(path.join(FIXTURE, 'batch.json')));
  const logitsOf = async (raw: Record<string, unknown>): Promise<Float32Array> => {
    const engine = await fixtureEngine(raw);
    try {
      return await engine.forward(batch);
    } finally {
      await engine.dispose();
    }
  };
  const windowed = await logitsOf(config.raw);
  const global = await logitsOf({ ...config.raw, global_attn_every_n_layers: 1 });
  const wide = await logitsOf({ ...config.raw, local_attention: 64 });
  const diff = (a: Float32Array, b: Float32Array): number => Math.max(...a.map((x, i) => Math.abs(x - b[i])));
  assert.ok(diff(windowed, global) > 1e-3, `window vs global: ${diff(windowed, global)}`);
  // A window wider than the sequence is global attention with local_rope_theta: only the rope base differs.
  assert.ok(diff(wide, global) > 1e-4, `wide local window vs global: ${diff(wide, global)}`);
});

test('modernbert: block attention (3 blocks of 5 queries over 12 tokens) trains like plain attention, in a K-step Loop too', async () => {
  const { config } = await loadModelDir(FIXTURE, 3, 0);
  const batch = toBatch(readJson<BatchJson>(path.join(FIXTURE, 'batch.json')));
  assert.equal(batch.seqLen, 12);
  const run = async (
    attentionBlock: number | null,
    stepsPerRun = 1,
  ): Promise<{ logits: Float32Array; losses: number[]; weights: Float32Array }> => {
    const engine = await fixtureEngine(config.raw, { attentionBlock, stepsPerRun, graphOptimizationLevel: 'basic' });
    try {
      const logits = await engine.forward(batch);
      const losses: number[] = [];
      if (stepsPerRun > 1)
        losses.push(...(await engine.trainSteps(Array<typeof batch>(5).fill(batch))).map((r) => r.loss));
      else for (let i = 0; i < 5; i++) losses.push((await engine.trainStep(batch)).loss);
      const trained = engine.getWeights();
      return { logits, losses, weights: Float32Array.from([...trained.values()].flatMap((w) => [...w.data])) };
    } finally {
      await engine.dispose();
    }
  };
  const [blocked, plain] = [await run(5), await run(null)];
  const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number =>
    Math.max(...Array.from(a, (x, i) => Math.abs(x - b[i])));
  assert.ok(maxDiff(blocked.logits, plain.logits) < 1e-5, `logits: ${maxDiff(blocked.logits, plain.logits)}`);
  assert.ok(maxDiff(blocked.losses, plain.losses) < 1e-5, `losses ${blocked.losses.join()} vs ${plain.losses.join()}`);
  assert.ok(plain.losses[4] < plain.losses[0], `it learns: ${plain.losses.join()}`);
  assert.ok(
    maxDiff(blocked.weights, plain.weights) < 1e-5,
    `weights after 5 steps: ${maxDiff(blocked.weights, plain.weights)}`,
  );
  // Its Loops nest inside the K-step Loop: 5 steps in one session run end at the same weights.
  const looped = await run(5, 5);
  assert.ok(
    maxDiff(looped.weights, plain.weights) < 1e-5,
    `5 steps in one run: ${maxDiff(looped.weights, plain.weights)}`,
  );
});

test('modernbert config: transformers 5 rope_parameters and layer_types are read; bad values name the key', () => {
  const base = readJson<Record<string, unknown>>(path.join(FIXTURE, 'config.json'));
  const cfg = parseBertConfig({
    ...base,
    layer_types: ['full_attention', 'sliding_attention', 'sliding_attention'],
    rope_parameters: { full_attention: { rope_theta: 5 }, sliding_attention: { rope_theta: 7 } },
  });
  assert.equal(cfg.modelType, 'modernbert');
  assert.equal(cfg.maxPositionEmbeddings, 64);
  assert.equal(parseBertConfig({ model_type: 'modernbert' }).maxPositionEmbeddings, 8192);
  assert.throws(() => parseBertConfig({ ...base, classifier_pooling: 'max' }), /classifier_pooling/);
  assert.throws(() => parseBertConfig({ ...base, hidden_activation: 'silu' }), /hidden_activation/);
  assert.throws(() => parseBertConfig({ ...base, layer_types: ['full_attention'] }), /layer_types/);
  assert.throws(() => parseBertConfig({ ...base, local_attention: 0 }), /local_attention/);
});

test('modernbert: a ModernBertForMaskedLM checkpoint loads with its head kept, decoder ignored, classifier new', async () => {
  const src = FIXTURE;
  const out = tempFolder('bertft-modernbert-mlm-');
  try {
    const { config, weights } = await loadModelDir(src, 3, 0);
    const mlm = new Map([...weights].filter(([n]) => !n.startsWith('classifier.')));
    mlm.set('decoder.bias', { shape: [config.vocabSize], data: new Float32Array(config.vocabSize) });
    await writeSafetensors(path.join(out, 'model.safetensors'), mlm, { format: 'pt' });
    const raw: Record<string, unknown> = { ...config.raw, architectures: ['ModernBertForMaskedLM'] };
    delete raw.id2label;
    delete raw.label2id;
    fs.writeFileSync(path.join(out, 'config.json'), JSON.stringify(raw));
    const loaded = await loadModelDir(out, 2, 7);
    assert.equal(loaded.addedHead, true);
    assert.deepEqual(loaded.weights.get('head.dense.weight')!.data, weights.get('head.dense.weight')!.data);
    assert.deepEqual(loaded.weights.get('classifier.weight')!.shape, [2, config.hiddenSize]);
    assert.equal(loaded.weights.has('decoder.bias'), false);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

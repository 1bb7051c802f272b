/**
 * ModernBERT's train step against the plain-PyTorch reference (bench/reference/modernbert_torch.py): the committed
 * fixtures of `make_modernbert_fixtures.py` (mean pooling without biases, 50 AdamW steps; CLS pooling with every bias,
 * 20 steps), and, where Debian's torch is installed, a model we train and save read back by the reference.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseBertConfig } from '../../../src/core/model/config';
import { loadModelDir, saveHfModel } from '../../../src/core/model/load';
import type { Tensor } from '../../../src/core/model/params';
import { readSafetensors, writeSafetensors } from '../../../src/core/model/safetensors';
import { createTrainEngine } from '../../../src/core/train/engine';
import {
  BatchJson,
  PYTHON,
  TOL,
  TrajectoryJson,
  readJson,
  replayTrajectory,
  toBatch,
  torchAvailable,
  worstRelative,
} from '../../helpers/parity';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const FIXTURES = ['parity-modernbert', 'parity-modernbert-cls'];

/**
 * The key third of a fused Wqkv bias has almost no gradient: a bias added to every key shifts each score row by a
 * constant, which softmax ignores, except for the rotation RoPE gives it per position, tiny in the slow-turning
 * dimensions (theta^(-2i/d) down to 1e-4 here). AdamW divides those tiny gradients by their own size, so float32
 * round-off moves them visibly (the reason the other families' parity tests skip key biases). It is compared on its
 * own, loosely; the query and value thirds are compared like every other tensor.
 */
const KEY_SLICE = '.bias[key]';
const KEY_BIAS_TOL = 1e-3;

function splitKeyBias(weights: Map<string, Tensor>, H: number): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [name, t] of weights) {
    if (!name.endsWith('attn.Wqkv.bias')) {
      out.set(name, t);
      continue;
    }
    const qv = new Float32Array(2 * H);
    qv.set(t.data.subarray(0, H), 0);
    qv.set(t.data.subarray(2 * H, 3 * H), H);
    out.set(name.replace(/\.bias$/, '.bias[query,value]'), { shape: [2 * H], data: qv });
    out.set(name.replace(/\.bias$/, KEY_SLICE), { shape: [H], data: t.data.slice(H, 2 * H) });
  }
  return out;
}

const withoutNames = (weights: Map<string, Tensor>, drop: (name: string) => boolean): Map<string, Tensor> =>
  new Map([...weights].filter(([n]) => !drop(n)));

for (const name of FIXTURES) {
  const dir = path.join(ROOT, 'test', 'fixtures', name);

  test(`${name}: engine matches the committed PyTorch fixture (logits, loss, gradients, AdamW trajectory)`, async (t) => {
    const expected = readJson<{ loss: number; logits: number[] }>(path.join(dir, 'expected.json'));
    const trajectory = readJson<TrajectoryJson>(path.join(dir, 'trajectory.json'));
    const batchJson = readJson<BatchJson>(path.join(dir, 'batch.json'));
    const numLabels = expected.logits.length / batchJson.batchSize;
    const initial = await loadModelDir(dir, numLabels, 0);
    assert.equal(initial.config.modelType, 'modernbert');
    assert.equal(initial.addedHead, false);
    const engineFor = () =>
      createTrainEngine({
        config: initial.config,
        numLabels,
        weights: initial.weights,
        hyper: trajectory.hyper,
        device: 'cpu',
        dropout: false,
        seed: 0,
        threads: 1,
        graphOptimizationLevel: 'basic',
      });

    const engine = await engineFor();
    const batch = toBatch(batchJson);
    const logits = await engine.forward(batch);
    const logitsErr = Math.max(...expected.logits.map((x, i) => Math.abs(x - logits[i])));
    const { loss, grads } = await engine.lossAndGradients(batch);
    const g = worstRelative(grads, await readSafetensors(path.join(dir, 'grads.safetensors')), 1e-30);
    await engine.dispose();
    t.diagnostic(
      `max |Δlogit| ${logitsErr.toExponential(2)}; |Δloss| ${Math.abs(loss - expected.loss).toExponential(2)}; worst gradient error ${g.err.toExponential(2)} (${g.name})`,
    );
    assert.ok(logitsErr <= TOL.logits, `logits differ by ${logitsErr}`);
    assert.ok(Math.abs(loss - expected.loss) <= TOL.loss, `loss ${loss} vs ${expected.loss}`);
    assert.ok(g.err <= TOL.grad, `gradient ${g.name} differs by ${g.err}`);

    const trainer = await engineFor();
    try {
      const { losses, lossErr } = await replayTrajectory(trainer, trajectory);
      const H = initial.config.hiddenSize;
      const ours = splitKeyBias(trainer.getWeights(), H);
      const ref = splitKeyBias(await readSafetensors(path.join(dir, 'final.safetensors')), H);
      const keyBias = (n: string): boolean => n.endsWith(KEY_SLICE);
      const final = worstRelative(
        withoutNames(ours, keyBias),
        withoutNames(ref, (n) => keyBias(n)),
        1e-12,
      );
      const key = worstRelative(
        withoutNames(ours, (n) => !keyBias(n)),
        withoutNames(ref, (n) => !keyBias(n)),
        1e-12,
      );
      t.diagnostic(
        `${losses.length} steps: max |Δloss| ${lossErr.toExponential(2)}, worst final weight error ${final.err.toExponential(2)} (${final.name}); key biases ${key.err.toExponential(2)}`,
      );
      assert.ok(lossErr <= TOL.trajectoryLoss, `loss trajectory differs by up to ${lossErr}`);
      assert.ok(final.err <= TOL.finalWeight, `final weight ${final.name} differs by ${final.err}`);
      assert.ok(key.err <= KEY_BIAS_TOL, `key bias ${key.name} differs by ${key.err}`);
    } finally {
      await trainer.dispose();
    }
  });
}

test('modernbert: the sliding window matters (a global-only copy of the fixture gives other logits)', async () => {
  const dir = path.join(ROOT, 'test', 'fixtures', 'parity-modernbert');
  const { config, weights } = await loadModelDir(dir, 3, 0);
  const batch = toBatch(readJson<BatchJson>(path.join(dir, 'batch.json')));
  const logitsOf = async (raw: Record<string, unknown>): Promise<Float32Array> => {
    const engine = await createTrainEngine({
      config: parseBertConfig(raw),
      numLabels: 3,
      weights,
      hyper: readJson<TrajectoryJson>(path.join(dir, 'trajectory.json')).hyper,
      device: 'cpu',
      dropout: false,
      seed: 0,
      threads: 1,
    });
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

test('modernbert config: transformers 5 rope_parameters and layer_types are read; bad values name the key', () => {
  const base = readJson<Record<string, unknown>>(
    path.join(ROOT, 'test', 'fixtures', 'parity-modernbert', 'config.json'),
  );
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
  const src = path.join(ROOT, 'test', 'fixtures', 'parity-modernbert');
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bertft-modernbert-mlm-'));
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

test('modernbert: a model we train and save is read by the PyTorch reference to the same logits', async (t) => {
  if (!torchAvailable()) {
    t.skip(`${PYTHON} cannot import torch (apt-get install python3-torch libopenblas0-pthread)`);
    return;
  }
  const dir = path.join(ROOT, 'test', 'fixtures', 'parity-modernbert');
  const trajectory = readJson<TrajectoryJson>(path.join(dir, 'trajectory.json'));
  const { config, weights } = await loadModelDir(dir, 3, 0);
  const engine = await createTrainEngine({
    config,
    numLabels: 3,
    weights,
    hyper: trajectory.hyper,
    device: 'cpu',
    dropout: false,
    seed: 0,
    threads: 1,
  });
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bertft-saved-modernbert-'));
  try {
    for (const b of trajectory.batches.slice(0, 5)) await engine.trainStep(toBatch(b));
    await saveHfModel(out, { config, weights: engine.getWeights(), id2label: ['neg', 'neu', 'pos'] });
    const saved = readJson<Record<string, unknown>>(path.join(out, 'config.json'));
    assert.deepEqual(saved.architectures, ['ModernBertForSequenceClassification']);
    assert.equal(saved.model_type, 'modernbert');
    const batchFile = path.join(dir, 'batch.json');
    const ours = await engine.forward(toBatch(readJson<BatchJson>(batchFile)));
    const stdout = execFileSync(
      PYTHON,
      [path.join(ROOT, 'bench', 'reference', 'modernbert_torch.py'), 'logits', out, batchFile],
      { encoding: 'utf8' },
    );
    const theirs = JSON.parse(stdout.trim().split('\n').pop() as string) as number[];
    const err = Math.max(...theirs.map((x, i) => Math.abs(x - ours[i])));
    t.diagnostic(`max |Δlogit| after save → PyTorch load: ${err.toExponential(2)}`);
    assert.equal(theirs.length, ours.length);
    assert.ok(err <= TOL.logits, `logits differ by ${err}`);
  } finally {
    await engine.dispose();
    fs.rmSync(out, { recursive: true, force: true });
  }
});

/**
 * DeBERTa-v2/v3's train step against the plain-PyTorch reference (bench/reference/deberta_v2_torch.py): the committed
 * fixture of `make_deberta_v2_fixture.py` (the deberta-v3 layout, 2 layers, position_buckets 8 on sequences of 12,
 * 50 AdamW steps), the log buckets against the reference's, and, where Debian's torch is installed, a model we train
 * and save read back by the reference.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseBertConfig } from '../../../src/core/model/config';
import { bucketPosition, debertaV2Settings } from '../../../src/core/model/deberta-v2-config';
import { loadModelDir, saveHfModel } from '../../../src/core/model/load';
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
const DIR = path.join(ROOT, 'test', 'fixtures', 'parity-deberta-v2');

const engineFor = async (dir: string, numLabels: number) => {
  const initial = await loadModelDir(dir, numLabels, 0);
  const trajectory = readJson<TrajectoryJson>(path.join(dir, 'trajectory.json'));
  return createTrainEngine({
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
};

test('parity-deberta-v2: engine matches the committed PyTorch fixture (logits, loss, gradients, AdamW trajectory)', async (t) => {
  const expected = readJson<{ loss: number; logits: number[] }>(path.join(DIR, 'expected.json'));
  const trajectory = readJson<TrajectoryJson>(path.join(DIR, 'trajectory.json'));
  const batchJson = readJson<BatchJson>(path.join(DIR, 'batch.json'));
  const numLabels = expected.logits.length / batchJson.batchSize;
  const initial = await loadModelDir(DIR, numLabels, 0);
  assert.equal(initial.config.modelType, 'deberta-v2');
  assert.equal(initial.addedHead, false);

  const engine = await engineFor(DIR, numLabels);
  const batch = toBatch(batchJson);
  const logits = await engine.forward(batch);
  const logitsErr = Math.max(...expected.logits.map((x, i) => Math.abs(x - logits[i])));
  const { loss, grads } = await engine.lossAndGradients(batch);
  const g = worstRelative(grads, await readSafetensors(path.join(DIR, 'grads.safetensors')), 1e-30);
  await engine.dispose();
  t.diagnostic(
    `max |Δlogit| ${logitsErr.toExponential(2)}; |Δloss| ${Math.abs(loss - expected.loss).toExponential(2)}; worst gradient error ${g.err.toExponential(2)} (${g.name})`,
  );
  assert.ok(logitsErr <= TOL.logits, `logits differ by ${logitsErr}`);
  assert.ok(Math.abs(loss - expected.loss) <= TOL.loss, `loss ${loss} vs ${expected.loss}`);
  assert.ok(g.err <= TOL.grad, `gradient ${g.name} differs by ${g.err}`);

  const trainer = await engineFor(DIR, numLabels);
  try {
    const { losses, lossErr } = await replayTrajectory(trainer, trajectory);
    const final = worstRelative(
      trainer.getWeights(),
      await readSafetensors(path.join(DIR, 'final.safetensors')),
      1e-12,
    );
    t.diagnostic(
      `${losses.length} steps: max |Δloss| ${lossErr.toExponential(2)}, worst final weight error ${final.err.toExponential(2)} (${final.name})`,
    );
    assert.ok(lossErr <= TOL.trajectoryLoss, `loss trajectory differs by up to ${lossErr}`);
    assert.ok(final.err <= TOL.finalWeight, `final weight ${final.name} differs by ${final.err}`);
  } finally {
    await trainer.dispose();
  }
});

test('deberta-v2: log-bucketed relative positions equal the reference (fixture) and matter to the logits', async () => {
  const expected = readJson<{ relativePositions: number[] }>(path.join(DIR, 'expected.json'));
  const { config, weights } = await loadModelDir(DIR, 3, 0);
  const s = debertaV2Settings(config.raw, config);
  const seq = Math.sqrt(expected.relativePositions.length);
  const ours = Array.from({ length: seq * seq }, (_, k) => bucketPosition(Math.floor(k / seq) - (k % seq), s));
  assert.deepEqual(ours, expected.relativePositions);
  assert.ok(new Set(ours).size < 2 * seq - 1, 'some distances share a bucket at this length');
  // The published configs (256 buckets over 512 positions): exact within 128, then logarithmic up to 256 buckets.
  const v3 = debertaV2Settings({ ...config.raw, position_buckets: 256 }, { ...config, maxPositionEmbeddings: 512 });
  assert.deepEqual([bucketPosition(127, v3), bucketPosition(-128, v3), bucketPosition(511, v3)], [127, -128, 255]);

  const batch = toBatch(readJson<BatchJson>(path.join(DIR, 'batch.json')));
  const logitsOf = async (raw: Record<string, unknown>): Promise<Float32Array> => {
    const engine = await createTrainEngine({
      config: parseBertConfig(raw),
      numLabels: 3,
      weights,
      hyper: readJson<TrajectoryJson>(path.join(DIR, 'trajectory.json')).hyper,
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
  const bucketed = await logitsOf(config.raw);
  const wider = await logitsOf({ ...config.raw, max_position_embeddings: 48 });
  const diff = Math.max(...bucketed.map((x, i) => Math.abs(x - wider[i])));
  assert.ok(diff > 1e-4, `buckets over 24 vs 48 positions: ${diff}`);
});

test('deberta-v2 config: the v3 layout is accepted (pos_att_type as a list or "p2c|c2p"); other layouts name the key', () => {
  const base = readJson<Record<string, unknown>>(path.join(DIR, 'config.json'));
  assert.equal(parseBertConfig({ ...base, pos_att_type: 'p2c|c2p' }).modelType, 'deberta-v2');
  const noType = { ...base };
  delete noType.model_type;
  assert.equal(parseBertConfig(noType).modelType, 'deberta-v2');
  assert.equal(parseBertConfig({ model_type: 'deberta-v2', ...V3_KEYS }).maxPositionEmbeddings, 512);
  assert.throws(() => parseBertConfig({ ...base, position_biased_input: true }), /position_biased_input/);
  assert.throws(() => parseBertConfig({ ...base, share_att_key: false }), /share_att_key/);
  assert.throws(() => parseBertConfig({ ...base, pos_att_type: ['c2p'] }), /pos_att_type/);
  assert.throws(() => parseBertConfig({ ...base, conv_kernel_size: 3 }), /conv_kernel_size/);
  assert.throws(() => parseBertConfig({ ...base, type_vocab_size: 2 }), /type_vocab_size/);
  assert.throws(() => parseBertConfig({ ...base, norm_rel_ebd: 'none' }), /norm_rel_ebd/);
  assert.throws(() => parseBertConfig({ ...base, hidden_act: 'relu' }), /hidden_act/);
});

/** The relative-attention keys of microsoft/deberta-v3-base's config.json. */
const V3_KEYS = {
  relative_attention: true,
  max_relative_positions: -1,
  position_buckets: 256,
  norm_rel_ebd: 'layer_norm',
  share_att_key: true,
  pos_att_type: 'p2c|c2p',
  position_biased_input: false,
  type_vocab_size: 0,
};

test('deberta-v2: a DebertaV2ForMaskedLM checkpoint loads with pooler and classifier new, LM head and unused positions ignored', async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bertft-deberta-mlm-'));
  try {
    const { config, weights } = await loadModelDir(DIR, 3, 0);
    const mlm = new Map([...weights].filter(([n]) => n.startsWith('deberta.')));
    const H = config.hiddenSize;
    mlm.set('lm_predictions.lm_head.dense.weight', { shape: [H, H], data: new Float32Array(H * H) });
    mlm.set('deberta.embeddings.position_embeddings.weight', { shape: [24, H], data: new Float32Array(24 * H) });
    await writeSafetensors(path.join(out, 'model.safetensors'), mlm, { format: 'pt' });
    const raw: Record<string, unknown> = { ...config.raw, architectures: ['DebertaV2ForMaskedLM'] };
    delete raw.id2label;
    delete raw.label2id;
    fs.writeFileSync(path.join(out, 'config.json'), JSON.stringify(raw));
    const loaded = await loadModelDir(out, 2, 7);
    assert.equal(loaded.addedHead, true);
    assert.deepEqual(
      loaded.weights.get('deberta.encoder.rel_embeddings.weight')!.data,
      weights.get('deberta.encoder.rel_embeddings.weight')!.data,
    );
    assert.deepEqual(loaded.weights.get('classifier.weight')!.shape, [2, H]);
    assert.deepEqual(loaded.weights.get('pooler.dense.weight')!.shape, [H, H]);
    assert.equal(loaded.weights.has('deberta.embeddings.position_embeddings.weight'), false);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test('deberta-v2: a model we train and save is read by the PyTorch reference to the same logits', async (t) => {
  if (!torchAvailable()) {
    t.skip(`${PYTHON} cannot import torch (apt-get install python3-torch libopenblas0-pthread)`);
    return;
  }
  const trajectory = readJson<TrajectoryJson>(path.join(DIR, 'trajectory.json'));
  const { config } = await loadModelDir(DIR, 3, 0);
  const engine = await engineFor(DIR, 3);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bertft-saved-deberta-'));
  try {
    for (const b of trajectory.batches.slice(0, 5)) await engine.trainStep(toBatch(b));
    await saveHfModel(out, { config, weights: engine.getWeights(), id2label: ['neg', 'neu', 'pos'] });
    const saved = readJson<Record<string, unknown>>(path.join(out, 'config.json'));
    assert.deepEqual(saved.architectures, ['DebertaV2ForSequenceClassification']);
    assert.equal(saved.model_type, 'deberta-v2');
    assert.equal(saved.position_buckets, 8);
    const batchFile = path.join(DIR, 'batch.json');
    const ours = await engine.forward(toBatch(readJson<BatchJson>(batchFile)));
    const stdout = execFileSync(
      PYTHON,
      [path.join(ROOT, 'bench', 'reference', 'deberta_v2_torch.py'), 'logits', out, batchFile],
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

/**
 * DeBERTa-v2/v3: the log buckets against the reference's (bench/reference/deberta_v2_torch.py, via the fixture of
 * `make_deberta_v2_fixture.py`: the deberta-v3 layout, 2 layers, position_buckets 8 on sequences of 12), its config
 * keys, and a DebertaV2ForMaskedLM checkpoint's loading. Its parity with the reference (logits, loss, gradients, 50
 * AdamW steps, a saved model read back) is in parity.test.ts, with the other families'.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseBertConfig } from '../../../src/core/model/config';
import { bucketPosition, debertaV2Settings } from '../../../src/core/model/deberta-v2-config';
import { loadModelDir } from '../../../src/core/model/load';
import { writeSafetensors } from '../../../src/core/model/safetensors';
import { createTrainEngine } from '../../../src/core/train/engine';
import { BatchJson, TrajectoryJson, readJson, toBatch } from '../../helpers/parity';
import { tempFolder } from '../../helpers/temp';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const DIR = path.join(ROOT, 'test', 'fixtures', 'parity-deberta-v2');

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
  const out = tempFolder('bertft-deberta-mlm-');
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

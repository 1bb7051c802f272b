/**
 * GPT-2 for sequence classification: the pooling of the last non-padding token, its config handling (pad_token_id
 * from eos, n_inner, activations) and loading of GPT-2 checkpoints as the Hub has them (no prefix, causal-mask
 * buffers, an LM head). Its parity with the plain-PyTorch reference (bench/reference/gpt2_torch.py) is in
 * parity.test.ts, with the other families'.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModelError } from '../../../src/core/errors';
import { checkPaddingMatchesModel, parseBertConfig } from '../../../src/core/model/config';
import { loadModelDir } from '../../../src/core/model/load';
import { Tensor } from '../../../src/core/model/params';
import { readSafetensors, writeSafetensors } from '../../../src/core/model/safetensors';
import { createTrainEngine } from '../../../src/core/train/engine';
import { BatchJson, TrajectoryJson, readJson, toBatch } from '../../helpers/parity';
import { tempFolder } from '../../helpers/temp';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const DIR = path.join(ROOT, 'test', 'fixtures', 'parity-gpt2');

async function engineFor(dir: string, hyper: TrajectoryJson['hyper']) {
  const { config, weights } = await loadModelDir(dir, 3, 0);
  return createTrainEngine({
    config,
    numLabels: 3,
    weights,
    hyper,
    device: 'cpu',
    dropout: false,
    seed: 0,
    threads: 1,
    graphOptimizationLevel: 'basic',
  });
}

test('gpt2: the pooled token is the last non-padding one: a padded row gives the logits of the row alone', async () => {
  const batchJson = readJson<BatchJson>(path.join(DIR, 'batch.json'));
  const engine = await engineFor(DIR, readJson<TrajectoryJson>(path.join(DIR, 'trajectory.json')).hyper);
  try {
    const S = batchJson.seqLen;
    const padded = await engine.forward(toBatch(batchJson));
    // Row 1 is at most S - 3 tokens long: alone and unpadded it must give the same logits.
    const n = batchJson.attentionMask.slice(S, 2 * S).reduce((a, b) => a + b, 0);
    assert.ok(n < S);
    const alone = await engine.forward(
      toBatch({
        ...batchJson,
        batchSize: 1,
        seqLen: n,
        inputIds: batchJson.inputIds.slice(S, S + n),
        attentionMask: batchJson.attentionMask.slice(S, S + n),
        tokenTypeIds: batchJson.tokenTypeIds.slice(S, S + n),
        labels: [batchJson.labels[1]],
      }),
    );
    const err = Math.max(...alone.map((x, i) => Math.abs(x - padded[3 + i])));
    assert.ok(err <= 1e-5, `row 1 alone differs from row 1 padded by ${err}`);
    // An earlier token reaches the pooled logits (attention is not restricted to the pooled token itself).
    const ids = [...batchJson.inputIds];
    ids[S + n - 2] = (ids[S + n - 2] + 1) % 63;
    const changed = await engine.forward(toBatch({ ...batchJson, inputIds: ids }));
    assert.ok(Math.abs(changed[3] - padded[3]) > 1e-4, 'an earlier token changes the logits');
    assert.deepEqual(changed.slice(0, 3), padded.slice(0, 3), 'other rows unchanged');
  } finally {
    await engine.dispose();
  }
});

test('gpt2 config: GPT-2 keys, n_inner null is 4 * n_embd, pad_token_id falls back to eos_token_id', () => {
  const base = {
    model_type: 'gpt2',
    n_embd: 64,
    n_layer: 2,
    n_head: 4,
    n_positions: 32,
    vocab_size: 100,
    eos_token_id: 99,
  };
  const cfg = parseBertConfig({ ...base, n_inner: null });
  assert.deepEqual(
    [cfg.modelType, cfg.hiddenSize, cfg.numHiddenLayers, cfg.intermediateSize, cfg.maxPositionEmbeddings],
    ['gpt2', 64, 2, 256, 32],
  );
  assert.equal(cfg.padTokenId, 99);
  assert.equal(cfg.layerNormEps, 1e-5);
  assert.equal(parseBertConfig({ ...base, pad_token_id: 7 }).padTokenId, 7);
  assert.equal(
    parseBertConfig({
      ...base,
      architectures: ['GPT2ForSequenceClassification'],
      vocab_size: 50257,
      eos_token_id: undefined,
    }).padTokenId,
    50256,
  );
  assert.equal(parseBertConfig({ ...base, activation_function: 'gelu' }).modelType, 'gpt2');
  assert.throws(
    () => parseBertConfig({ ...base, activation_function: 'relu' }),
    (e: unknown) => {
      assert.ok(e instanceof ModelError);
      assert.match(e.message, /activation_function 'relu' is not supported/);
      return true;
    },
  );
  assert.throws(() => parseBertConfig({ ...base, eos_token_id: 100 }), /pad_token_id 100 is not a token/);
  assert.throws(() => parseBertConfig({ ...base, scale_attn_by_inverse_layer_idx: true }), ModelError);
  // Batches must be padded with the id the pooling skips.
  checkPaddingMatchesModel(cfg, 99, '/m/config.json');
  assert.throws(
    () => checkPaddingMatchesModel(cfg, 0, '/m/config.json'),
    (e: unknown) => {
      assert.ok(e instanceof ModelError);
      assert.match(e.message, /pads with token 0, but the model's pad_token_id is 99/);
      assert.match(e.fix ?? '', /"pad_token_id": 0/);
      return true;
    },
  );
  checkPaddingMatchesModel(parseBertConfig({ model_type: 'bert' }), 5, '/m/config.json');
});

test('gpt2 loading: a bare GPT2Model checkpoint (no prefix, causal-mask buffers) gets a fresh score head; an LM head is ignored', async () => {
  const weights = await readSafetensors(path.join(DIR, 'model.safetensors'));
  const dir = tempFolder('bertft-gpt2-bare-');
  try {
    fs.copyFileSync(path.join(DIR, 'config.json'), path.join(dir, 'config.json'));
    const bare = new Map<string, Tensor>();
    for (const [name, tensor] of weights) {
      if (name.startsWith('transformer.')) bare.set(name.slice('transformer.'.length), tensor);
    }
    // Older transformers saved each block's causal mask as attn.bias [1, 1, P, P] and attn.masked_bias.
    const P = 16;
    for (const l of [0, 1]) {
      bare.set(`h.${l}.attn.bias`, { shape: [1, 1, P, P], data: new Float32Array(P * P).fill(1) });
      bare.set(`h.${l}.attn.masked_bias`, { shape: [], data: Float32Array.of(-1e4) });
    }
    await writeSafetensors(path.join(dir, 'model.safetensors'), bare, { format: 'pt' });
    const loaded = await loadModelDir(dir, 2, 3);
    assert.equal(loaded.addedHead, true);
    assert.deepEqual(loaded.weights.get('score.weight')?.shape, [2, 32]);
    assert.deepEqual(
      loaded.weights.get('transformer.h.0.attn.c_attn.bias')?.data,
      weights.get('transformer.h.0.attn.c_attn.bias')?.data,
    );

    // GPT2LMHeadModel: prefixed names and lm_head.weight, which a classifier ignores.
    const lm = new Map<string, Tensor>([...weights].filter(([n]) => n.startsWith('transformer.')));
    lm.set('lm_head.weight', weights.get('transformer.wte.weight')!);
    await writeSafetensors(path.join(dir, 'model.safetensors'), lm, { format: 'pt' });
    const fromLm = await loadModelDir(dir, 3, 3);
    assert.equal(fromLm.addedHead, true);
    assert.equal(fromLm.weights.has('lm_head.weight'), false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

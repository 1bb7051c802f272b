import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ModelError } from '../../../src/core/errors';
import { BertConfig, ModelFamily, parseBertConfig } from '../../../src/core/model/config';
import { buildInferenceModel } from '../../../src/core/model/export-onnx';
import { robertaPositionIds } from '../../../src/core/model/bert';
import { Graph } from '../../../src/core/graph/graph';
import { toModelBytes } from '../../../src/core/graph/serialize';
import { loadModelDir, saveHfModel } from '../../../src/core/model/load';
import { classifierParamSpecs, encoderParamSpecs, initWeights, Weights } from '../../../src/core/model/params';
import { readSafetensorsHeader, writeSafetensors } from '../../../src/core/model/safetensors';
import { Batch } from '../../../src/core/tokenize/batch';
import { loadTokenizer } from '../../../src/core/tokenize/tokenizer';
import { createTrainEngine } from '../../../src/core/train/engine';
import { HYPER } from '../engine/fixtures';
import {
  byteLevelBpeTokenizerJson,
  familyBatch,
  tinyConfigJson,
  tinyFamilyConfig,
  worstGradientError,
} from './tiny-models';
import { tempFolder } from '../../helpers/temp';

const FAMILIES = ['distilbert', 'roberta', 'electra', 'electra-projected'] as const;
const tempDir = (p: string) => tempFolder(`bertft-${p}-`);
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  Array.from(a).reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

test('the family comes from model_type, else from architectures; MiniLM-style and XLM-R configs map to bert and roberta', () => {
  assert.equal(
    parseBertConfig({ model_type: 'bert', architectures: ['BertModel'], hidden_size: 384, num_attention_heads: 12 })
      .modelType,
    'bert',
  );
  assert.equal(parseBertConfig({ architectures: ['DistilBertForMaskedLM'] }).modelType, 'distilbert');
  assert.equal(parseBertConfig({ architectures: ['XLMRobertaForMaskedLM'] }).modelType, 'roberta');
  assert.equal(parseBertConfig({ architectures: ['ElectraForPreTraining'] }).modelType, 'electra');
  assert.equal(parseBertConfig({}).modelType, 'bert');
  const xlmr = tinyFamilyConfig('xlm-roberta');
  assert.equal(xlmr.modelType, 'roberta');
  assert.equal(xlmr.padTokenId, 1);
});

test('an unsupported model is refused with a ModelError that lists the supported types', () => {
  for (const json of [
    { model_type: 't5' },
    { architectures: ['T5ForConditionalGeneration'] },
    { model_type: 'deberta' },
  ]) {
    assert.throws(
      () => parseBertConfig(json, '/m/config.json'),
      (e: unknown) => {
        assert.ok(e instanceof ModelError);
        assert.match(e.message, /is not supported; supported: bert, distilbert, roberta, xlm-roberta, electra/);
        return true;
      },
    );
  }
  assert.throws(
    () => parseBertConfig({ model_type: 'distilbert', activation: 'relu' }),
    /activation 'relu' is not supported/,
  );
  assert.throws(() => parseBertConfig({ model_type: 'distilbert', sinusoidal_pos_embds: true }), /sinusoidal/);
});

test('DistilBERT keys (dim, n_layers, n_heads, hidden_dim, dropout, attention_dropout) are read; defaults as in DistilBertConfig', () => {
  const c = parseBertConfig({
    model_type: 'distilbert',
    dim: 32,
    n_layers: 3,
    n_heads: 4,
    hidden_dim: 64,
    dropout: 0.2,
    attention_dropout: 0.3,
  });
  assert.deepEqual(
    [
      c.hiddenSize,
      c.numHiddenLayers,
      c.numAttentionHeads,
      c.intermediateSize,
      c.hiddenDropoutProb,
      c.attentionProbsDropoutProb,
    ],
    [32, 3, 4, 64, 0.2, 0.3],
  );
  assert.equal(parseBertConfig({ model_type: 'distilbert' }).numHiddenLayers, 6);
  assert.throws(
    () => parseBertConfig({ model_type: 'distilbert', dim: 'wide' }, '/m/config.json'),
    /"dim" in \/m\/config.json/,
  );
  const r = parseBertConfig({ model_type: 'roberta' });
  assert.deepEqual([r.vocabSize, r.padTokenId], [50265, 1]);
  const e = parseBertConfig({ model_type: 'electra' });
  assert.deepEqual([e.embeddingSize, e.hiddenSize, e.numAttentionHeads], [128, 256, 4]);
});

test('each family has its HF classifier tensor names', () => {
  const names = (f: Parameters<typeof tinyFamilyConfig>[0]) =>
    classifierParamSpecs(tinyFamilyConfig(f), 3).map((s) => s.name);
  const d = names('distilbert');
  for (const n of [
    'distilbert.embeddings.word_embeddings.weight',
    'distilbert.embeddings.position_embeddings.weight',
    'distilbert.embeddings.LayerNorm.weight',
    'distilbert.transformer.layer.1.attention.q_lin.weight',
    'distilbert.transformer.layer.1.attention.out_lin.bias',
    'distilbert.transformer.layer.0.sa_layer_norm.weight',
    'distilbert.transformer.layer.0.ffn.lin1.weight',
    'distilbert.transformer.layer.0.ffn.lin2.bias',
    'distilbert.transformer.layer.0.output_layer_norm.bias',
    'pre_classifier.weight',
    'classifier.weight',
  ])
    assert.ok(d.includes(n), n);
  assert.ok(!d.some((n) => n.includes('token_type') || n.includes('pooler')));
  const r = names('roberta');
  for (const n of [
    'roberta.embeddings.token_type_embeddings.weight',
    'roberta.encoder.layer.1.attention.self.query.weight',
    'classifier.dense.weight',
    'classifier.out_proj.bias',
  ])
    assert.ok(r.includes(n), n);
  assert.ok(!r.some((n) => n.includes('pooler')));
  assert.ok(names('electra').includes('electra.encoder.layer.0.output.LayerNorm.weight'));
  assert.ok(!names('electra').some((n) => n.includes('embeddings_project')));
  const p = classifierParamSpecs(tinyFamilyConfig('electra-projected'), 3);
  assert.deepEqual(p.find((s) => s.name === 'electra.embeddings_project.weight')?.shape, [16, 8]);
  assert.deepEqual(p.find((s) => s.name === 'electra.embeddings.word_embeddings.weight')?.shape, [50, 8]);
  assert.deepEqual(p.find((s) => s.name === 'classifier.out_proj.weight')?.shape, [3, 16]);
});

for (const family of FAMILIES) {
  test(`${family}: analytic gradients of the tiny model match finite differences (with padding)`, async () => {
    const cfg = tinyFamilyConfig(family);
    const weights = initWeights(classifierParamSpecs(cfg, 2), 7, 0.5);
    const { worst, at } = await worstGradientError(cfg, weights, familyBatch(cfg, 3, 4, 6));
    assert.ok(worst < 2e-2, `worst relative error ${worst} at ${at}`);
  });
}

async function engineFor(cfg: BertConfig, weights: Weights, lr = 1e-3) {
  return createTrainEngine({
    config: cfg,
    numLabels: 2,
    weights,
    hyper: { ...HYPER, lr },
    device: 'cpu',
    dropout: false,
    seed: 1,
    threads: 1,
  });
}

async function exportedLogits(cfg: BertConfig, weights: Weights, b: Batch): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(buildInferenceModel(cfg, 2, weights), { intraOpNumThreads: 1 });
  const shape = [b.batchSize, b.seqLen];
  const out = await session.run({
    input_ids: new ort.Tensor('int64', b.inputIds, shape),
    attention_mask: new ort.Tensor('int64', b.attentionMask, shape),
    token_type_ids: new ort.Tensor('int64', b.tokenTypeIds, shape),
  });
  await session.release();
  return out.logits.data as Float32Array;
}

for (const family of FAMILIES) {
  test(`${family}: trains (loss falls), saves with its own names and config keys, reloads equal, exported ONNX logits == engine forward`, async () => {
    const cfg = tinyFamilyConfig(family);
    const engine = await engineFor(cfg, initWeights(classifierParamSpecs(cfg, 2), 5, 0.02), 3e-3);
    const batch = familyBatch(cfg, 11, 16, 8);
    const first = (await engine.trainStep(batch)).loss;
    let last = first;
    for (let i = 0; i < 40; i++) last = (await engine.trainStep(batch)).loss;
    assert.ok(last < first * 0.7, `loss ${first} -> ${last}`);

    const dir = tempDir(`save-${family}`);
    const trained = engine.getWeights();
    await saveHfModel(dir, { config: cfg, weights: trained, id2label: ['no', 'yes'] });
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    const expectedArch = {
      distilbert: 'DistilBertForSequenceClassification',
      roberta: 'RobertaForSequenceClassification',
      electra: 'ElectraForSequenceClassification',
    }[cfg.modelType as Exclude<ModelFamily, 'bert' | 'gpt2' | 'modernbert' | 'deberta-v2'>];
    assert.deepEqual(json.architectures, [expectedArch]);
    assert.equal(json.model_type, cfg.modelType);
    if (family === 'distilbert')
      assert.deepEqual([json.dim, json.n_layers, json.hidden_dim, json.activation], [16, 2, 32, 'gelu']);
    if (family === 'electra-projected') assert.equal(json.embedding_size, 8);
    const saved = (await readSafetensorsHeader(path.join(dir, 'model.safetensors'))).entries.map((e) => e.name).sort();
    assert.deepEqual(
      saved,
      classifierParamSpecs(cfg, 2)
        .map((s) => s.name)
        .sort(),
    );

    const reloaded = await loadModelDir(dir, 2, 99);
    assert.equal(reloaded.addedHead, false);
    assert.deepEqual(reloaded.config.modelType, cfg.modelType);
    for (const [name, t] of trained) assert.deepEqual(reloaded.weights.get(name)!.data, t.data, name);

    const probe = familyBatch(cfg, 21, 5, 7);
    const fromEngine = await engine.forward(probe);
    const fromExport = await exportedLogits(reloaded.config, reloaded.weights, probe);
    assert.ok(maxAbsDiff(fromEngine, fromExport) < 1e-5, `max diff ${maxAbsDiff(fromEngine, fromExport)}`);
    await engine.dispose();
  });
}

test('RoBERTa position ids are HF create_position_ids_from_input_ids (pads at padding_idx, tokens from padding_idx + 1)', async () => {
  const g = new Graph();
  const ids = g.input('input_ids', 'int64', ['batch', 'seq']);
  g.output(robertaPositionIds(g, ids, 1), 'positions');
  const session = await ort.InferenceSession.create(toModelBytes(g));
  const rows = [
    [0, 9, 17, 2, 1, 1],
    [1, 1, 0, 9, 2, 1],
    [0, 5, 6, 7, 8, 2],
  ];
  const out = await session.run({
    input_ids: new ort.Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), [3, 6]),
  });
  // HF: mask = ids != pad; positions = cumsum(mask) * mask + pad.
  const expected = rows.flatMap((r) => {
    let count = 0;
    return r.map((id) => (id === 1 ? 1 : ++count + 1));
  });
  assert.deepEqual(Array.from(out.positions.data as BigInt64Array, Number), expected);
  await session.release();
});

test('RoBERTa: a right-padded row gives the same logits as the row alone (positions and attention ignore padding)', async () => {
  const cfg = tinyFamilyConfig('roberta');
  const weights = initWeights(classifierParamSpecs(cfg, 2), 4, 0.3);
  const ids = [0n, 9n, 17n, 23n, 2n];
  const row = (pad: number): Batch => ({
    batchSize: 1,
    seqLen: ids.length + pad,
    docIndex: Int32Array.of(0),
    inputIds: BigInt64Array.from([...ids, ...new Array<bigint>(pad).fill(1n)]),
    attentionMask: BigInt64Array.from([...ids.map(() => 1n), ...new Array<bigint>(pad).fill(0n)]),
    tokenTypeIds: new BigInt64Array(ids.length + pad),
  });
  const alone = await exportedLogits(cfg, weights, row(0));
  const padded = await exportedLogits(cfg, weights, row(3));
  assert.ok(maxAbsDiff(alone, padded) < 1e-5, `alone ${alone.join(',')} padded ${padded.join(',')}`);
});

test('loading a base or pre-training checkpoint: the head is fresh, lm_head / pooler / discriminator tensors are ignored', async () => {
  const cases: [Parameters<typeof tinyFamilyConfig>[0], string[]][] = [
    ['roberta', ['lm_head.dense.weight', 'lm_head.bias', 'roberta.pooler.dense.weight']],
    ['electra', ['discriminator_predictions.dense.weight']],
    ['distilbert', ['vocab_transform.weight', 'vocab_projector.bias']],
  ];
  for (const [family, extra] of cases) {
    const cfg = tinyFamilyConfig(family);
    const encoder = initWeights(encoderParamSpecs(cfg), 8, 0.1);
    const file: Weights = new Map(encoder);
    for (const n of extra) file.set(n, { shape: [4], data: new Float32Array(4).fill(0.5) });
    const dir = tempDir(`base-${family}`);
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(tinyConfigJson(family)));
    await writeSafetensors(path.join(dir, 'model.safetensors'), file, { format: 'pt' });
    const loaded = await loadModelDir(dir, 3, 1);
    assert.equal(loaded.addedHead, true, family);
    assert.deepEqual(
      [...loaded.weights.keys()].sort(),
      classifierParamSpecs(cfg, 3)
        .map((s) => s.name)
        .sort(),
      family,
    );
    for (const [name, t] of encoder) assert.deepEqual(loaded.weights.get(name)!.data, t.data, name);
  }
  // A bare (un-prefixed) RobertaModel checkpoint with its pooler loads too.
  const cfg = tinyFamilyConfig('roberta');
  const bare: Weights = new Map(
    [...initWeights(encoderParamSpecs(cfg), 8, 0.1)].map(([n, t]) => [n.replace(/^roberta\./, ''), t]),
  );
  bare.set('pooler.dense.bias', { shape: [16], data: new Float32Array(16) });
  const dir = tempDir('bare-roberta');
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(tinyConfigJson('roberta')));
  await writeSafetensors(path.join(dir, 'model.safetensors'), bare, { format: 'pt' });
  assert.equal((await loadModelDir(dir, 2, 1)).addedHead, true);
  // Weights of another family under this config are refused, naming the family.
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(tinyConfigJson('distilbert')));
  await assert.rejects(loadModelDir(dir, 2, 1), /distilbert classifier: missing/);
});

test('a byte-level BPE tokenizer.json (RoBERTa layout) loads: <s> … </s> around content, <pad> = 1', async () => {
  const dir = tempDir('bpe');
  fs.writeFileSync(
    path.join(dir, 'tokenizer.json'),
    JSON.stringify(byteLevelBpeTokenizerJson(['hello', 'world', 'spam'])),
  );
  const tok = await loadTokenizer(dir);
  assert.deepEqual(tok.prefixIds, [0]);
  assert.deepEqual(tok.suffixIds, [2]);
  assert.equal(tok.padId, 1);
  assert.deepEqual(tok.tokens('hello world'), ['<s>', 'hello', 'Ġworld', '</s>']);
  assert.equal(tok.tokenIds('hello spam!').length, 3);
  // Newer tokenizer.json files store merges as pairs instead of "a b" strings.
  const pairs = byteLevelBpeTokenizerJson(['hello', 'world']);
  const model = pairs.model as { merges: unknown[] };
  model.merges = (model.merges as string[]).map((m) => m.split(' '));
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(pairs));
  assert.deepEqual((await loadTokenizer(dir)).tokens('hello world'), ['<s>', 'hello', 'Ġworld', '</s>']);
});

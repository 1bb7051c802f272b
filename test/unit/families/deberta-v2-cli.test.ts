/**
 * `bertft train` on a tiny DeBERTa-v3 folder laid out as microsoft/deberta-v3-base ships: a DebertaV2ForMaskedLM
 * checkpoint (encoder with rel_embeddings, an LM head the classifier ignores, no pooler, no classifier) and a
 * SentencePiece spm.model without tokenizer.json (the DeBERTa-v3 fixture of test/fixtures/tokenizers). Trains a few
 * steps, exports best/model.onnx, and `bertft predict` reloads the run, classifies and explains.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { parseBertConfig } from '../../../src/core/model/config';
import { encoderParamSpecs, initWeights, Tensor } from '../../../src/core/model/params';
import { readSafetensorsHeader, writeSafetensors } from '../../../src/core/model/safetensors';
import { parseSentencePieceModel } from '../../../src/core/tokenize/sentencePiece';
import { assertPredictsSentiment, run, trainTinyFolder } from '../../helpers/bertft-cli';
import { tempDir, writeSentimentCsv } from '../runner/fixtures';

const SPM = path.resolve(__dirname, '../../../../test/fixtures/tokenizers/deberta-v3/spm.model');

/** A DebertaV2ForMaskedLM folder with random weights: 2 layers, 16 position buckets over 64 positions. */
async function writeTinyDeberta(dir: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  const spm = fs.readFileSync(SPM);
  fs.writeFileSync(path.join(dir, 'spm.model'), spm);
  // The [MASK] the tokenizer adds after the pieces is the last id.
  const vocabSize = parseSentencePieceModel(spm).pieces.length + 1;
  const config = {
    architectures: ['DebertaV2ForMaskedLM'],
    model_type: 'deberta-v2',
    vocab_size: vocabSize,
    hidden_size: 32,
    intermediate_size: 48,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    max_position_embeddings: 64,
    type_vocab_size: 0,
    initializer_range: 0.02,
    layer_norm_eps: 1e-7,
    relative_attention: true,
    max_relative_positions: -1,
    position_buckets: 16,
    pad_token_id: 0,
    position_biased_input: false,
    pos_att_type: ['p2c', 'c2p'],
    share_att_key: true,
    norm_rel_ebd: 'layer_norm',
  };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  const cfg = parseBertConfig(config);
  const weights = new Map<string, Tensor>(initWeights(encoderParamSpecs(cfg), 5, 0.02));
  const H = cfg.hiddenSize;
  weights.set('lm_predictions.lm_head.dense.weight', { shape: [H, H], data: new Float32Array(H * H) });
  weights.set('lm_predictions.lm_head.bias', { shape: [vocabSize], data: new Float32Array(vocabSize) });
  await writeSafetensors(path.join(dir, 'model.safetensors'), weights, { format: 'pt' });
}

test('bertft train on a tiny DeBERTa-v3 folder (MLM checkpoint, spm.model), export, reload, predict', async () => {
  const dir = tempDir('cli-deberta');
  const model = path.join(dir, 'deberta');
  await writeTinyDeberta(model);
  const data = writeSentimentCsv(dir, 48);
  const out = path.join(dir, 'run');
  trainTinyFolder(data, out, model, 32);

  const best = path.join(out, 'best');
  const config = JSON.parse(fs.readFileSync(path.join(best, 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(config.architectures, ['DebertaV2ForSequenceClassification']);
  assert.equal(config.model_type, 'deberta-v2');
  assert.equal(config.position_buckets, 16);
  assert.equal(config.type_vocab_size, 0);
  const names = (await readSafetensorsHeader(path.join(best, 'model.safetensors'))).entries.map((e) => e.name);
  assert.ok(names.includes('classifier.weight') && names.includes('pooler.dense.weight'), names.join(', '));
  assert.ok(names.includes('deberta.encoder.rel_embeddings.weight'), names.join(', '));
  assert.ok(
    names.every((n) => /^(deberta|pooler|classifier)\./.test(n)),
    names.join(', '),
  );
  assert.ok(fs.existsSync(path.join(best, 'tokenizer.json')), 'the converted tokenizer is saved with the model');

  // The exported ONNX model runs on its own at another length than training's: right padding leaves a row's logits
  // unchanged (padding is masked out of the keys; the relative positions depend only on the distance).
  const session = await ort.InferenceSession.create(path.join(best, 'model.onnx'));
  const row = [1, 300, 301, 302, 303, 304, 305, 2];
  const feed = (ids: number[], n: number) => ({
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
    attention_mask: new ort.Tensor(
      'int64',
      BigInt64Array.from(ids, (_, i) => BigInt(i < n ? 1 : 0)),
      [1, ids.length],
    ),
    token_type_ids: new ort.Tensor('int64', new BigInt64Array(ids.length), [1, ids.length]),
  });
  const alone = (await session.run(feed(row, row.length))).logits.data as Float32Array;
  const padded = (await session.run(feed([...row, 0, 0, 0], row.length))).logits.data as Float32Array;
  assert.ok(
    alone.every((v, i) => Math.abs(v - padded[i]) < 1e-5),
    `${alone.join(', ')} vs ${padded.join(', ')}`,
  );

  assertPredictsSentiment(out);

  // Integrated gradients differentiate with respect to deberta.embeddings.word_embeddings.
  const explained = run('predict', '--model', out, '--json', '--text', 'the movie was great', '--explain');
  assert.equal(explained.status, 0, explained.stderr);
  const { explanation } = JSON.parse(explained.stdout.trim()) as {
    explanation: { method: string; tokens: { token: string; score: number }[] };
  };
  assert.equal(explanation.method, 'integrated-gradients');
  assert.ok(explanation.tokens.length >= 4, JSON.stringify(explanation.tokens));
  assert.ok(explanation.tokens.every((t) => Number.isFinite(t.score)));
});

/**
 * `bertft train` on a tiny ModernBERT folder laid out as answerdotai/ModernBERT-base ships: a ModernBertForMaskedLM
 * checkpoint (encoder, head.dense / head.norm, decoder.bias; no classifier) and a byte-level BPE tokenizer.json with
 * [CLS] / [SEP] / [PAD] specials and a TemplateProcessing post-processor. Trains a few steps, exports
 * best/model.onnx, and `bertft predict` reloads the run, classifies and explains.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { parseBertConfig } from '../../../src/core/model/config';
import { modernBertSettings, modernbertHeadSpecs } from '../../../src/core/model/modernbert-config';
import { encoderParamSpecs, initWeights, Tensor } from '../../../src/core/model/params';
import { readSafetensorsHeader, writeSafetensors } from '../../../src/core/model/safetensors';
import { assertPredictsSentiment, bertft, run, trainTinyFolder } from '../../helpers/bertft-cli';
import { tempDir, writeSentimentCsv } from '../runner/fixtures';
import { modernbertTokenizerJson } from './tiny-models';

/** A ModernBertForMaskedLM folder with random weights: 3 layers (global, local, global), a window of 4 tokens. */
async function writeTinyModernBert(dir: string, positions = 64): Promise<{ pad: number }> {
  fs.mkdirSync(dir, { recursive: true });
  const tokenizer = modernbertTokenizerJson();
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
  const vocabSize = Object.keys((tokenizer.model as { vocab: Record<string, number> }).vocab).length;
  const config = {
    architectures: ['ModernBertForMaskedLM'],
    model_type: 'modernbert',
    vocab_size: vocabSize,
    hidden_size: 32,
    intermediate_size: 48,
    num_hidden_layers: 3,
    num_attention_heads: 2,
    hidden_activation: 'gelu',
    max_position_embeddings: positions,
    norm_eps: 1e-5,
    norm_bias: false,
    global_rope_theta: 160000,
    local_rope_theta: 10000,
    global_attn_every_n_layers: 2,
    local_attention: 4,
    classifier_pooling: 'mean',
    classifier_activation: 'gelu',
    pad_token_id: 1,
    cls_token_id: 0,
    sep_token_id: 2,
    bos_token_id: 0,
    eos_token_id: 2,
    position_embedding_type: 'absolute',
  };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  const cfg = parseBertConfig(config);
  const settings = modernBertSettings(cfg.raw, cfg.numHiddenLayers);
  const head = modernbertHeadSpecs(cfg, settings, 2).filter((s) => s.name.startsWith('head.'));
  const weights = new Map<string, Tensor>(initWeights([...encoderParamSpecs(cfg), ...head], 5, 0.02));
  weights.set('decoder.bias', { shape: [vocabSize], data: new Float32Array(vocabSize) });
  await writeSafetensors(path.join(dir, 'model.safetensors'), weights, { format: 'pt' });
  return { pad: 1 };
}

test('bertft train on a tiny ModernBERT folder (MLM checkpoint, [CLS]/[SEP] tokenizer), export, reload, predict', async () => {
  const dir = tempDir('cli-modernbert');
  const model = path.join(dir, 'modernbert');
  const { pad } = await writeTinyModernBert(model);
  const data = writeSentimentCsv(dir, 48);
  const out = path.join(dir, 'run');
  trainTinyFolder(data, out, model, 24);

  const best = path.join(out, 'best');
  const config = JSON.parse(fs.readFileSync(path.join(best, 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(config.architectures, ['ModernBertForSequenceClassification']);
  assert.equal(config.model_type, 'modernbert');
  assert.equal(config.classifier_pooling, 'mean');
  const names = (await readSafetensorsHeader(path.join(best, 'model.safetensors'))).entries.map((e) => e.name);
  assert.ok(names.includes('classifier.weight') && names.includes('head.norm.weight'), names.join(', '));
  assert.ok(!names.includes('decoder.bias'), names.join(', '));
  assert.ok(
    names.every((n) => /^(model|head|classifier)\./.test(n)),
    names.join(', '),
  );

  // The exported ONNX model runs on its own: right padding leaves a row's logits unchanged (padding is masked out of
  // the keys, global and local, and out of the mean pooling).
  const session = await ort.InferenceSession.create(path.join(best, 'model.onnx'));
  const row = [0, 300, 301, 302, 303, 304, 305, 2];
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
  const padded = (await session.run(feed([...row, pad, pad, pad], row.length))).logits.data as Float32Array;
  assert.ok(
    alone.every((v, i) => Math.abs(v - padded[i]) < 1e-5),
    `${alone.join(', ')} vs ${padded.join(', ')}`,
  );

  assertPredictsSentiment(out);

  // Integrated gradients differentiate with respect to the token embeddings (model.embeddings.tok_embeddings).
  const explained = run('predict', '--model', out, '--json', '--text', 'the movie was great', '--explain');
  assert.equal(explained.status, 0, explained.stderr);
  const { explanation } = JSON.parse(explained.stdout.trim()) as {
    explanation: { method: string; tokens: { token: string; score: number }[] };
  };
  assert.equal(explanation.method, 'integrated-gradients');
  assert.deepEqual(
    explanation.tokens.map((t) => t.token),
    ['the', 'Ġmovie', 'Ġwas', 'Ġgreat'],
  );
  assert.ok(explanation.tokens.every((t) => Number.isFinite(t.score)));
});

/**
 * Reviews whose sentiment comes only after 600 neutral tokens: a model reading the first 512 tokens sees the same text
 * for both labels, one reading 1,024 sees the sentiment.
 */
function writeLateSentimentCsv(dir: string, rows: number): string {
  const neutral = 'the film and the story and the plot and the cast and the music and the ending '.repeat(38);
  const lines = ['text,label'];
  for (let i = 0; i < rows; i++) {
    const pos = i % 2 === 0;
    const sentence = pos ? 'the movie was great and wonderful ' : 'the movie was awful and terrible ';
    lines.push(`${neutral}${sentence.repeat(40)}${i},${pos ? 'pos' : 'neg'}`);
  }
  const file = path.join(dir, 'late.csv');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

test('bertft train --max-length 1024 on a ModernBERT folder reads past 512 tokens (block attention in training)', async () => {
  const dir = tempDir('cli-modernbert-long');
  const model = path.join(dir, 'modernbert');
  await writeTinyModernBert(model, 2048);
  const data = writeLateSentimentCsv(dir, 32);
  const bestAccuracy = (maxLength: number): number => {
    const events = trainTinyFolder(data, path.join(dir, `run-${maxLength}`), model, maxLength, 16);
    return Math.max(...events.flatMap((e) => (e.event === 'eval' && e.accuracy !== undefined ? [e.accuracy] : [])));
  };
  // The check counts tokens with the model's tokenizer, and what would be cut against the model's own 2,048 positions.
  const check = bertft<{ tokenLengths?: { median: number; maxLength: number; truncatedShare: number } }>(
    'check',
    '--json',
    '--data',
    data,
    '--model',
    model,
  );
  assert.ok((check[0].tokenLengths?.median ?? 0) > 800, JSON.stringify(check[0].tokenLengths));
  assert.equal(check[0].tokenLengths?.maxLength, 2048);
  assert.equal(check[0].tokenLengths?.truncatedShare, 0);
  const long = bestAccuracy(1024);
  const head = bestAccuracy(512);
  assert.ok(long >= 0.75, `reading 1,024 tokens: best accuracy ${long}`);
  assert.equal(head, 0.5, 'the first 512 tokens are the same text for both labels');
});

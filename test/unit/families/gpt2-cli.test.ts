/**
 * `bertft train` on a tiny GPT-2 folder as GPT-2 ships (config.json without pad_token_id, a bare GPT2Model
 * checkpoint, vocab.json + merges.txt and no tokenizer.json): trains a few steps, exports best/model.onnx, and
 * `bertft predict` reloads the run and classifies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { parseBertConfig } from '../../../src/core/model/config';
import { encoderParamSpecs, initWeights, Tensor } from '../../../src/core/model/params';
import { readSafetensorsHeader, writeSafetensors } from '../../../src/core/model/safetensors';
import { assertPredictsSentiment, bertft, trainTinyFolder } from '../../helpers/bertft-cli';
import { tempDir, writeSentimentCsv } from '../runner/fixtures';
import { WORDS, bytesToUnicode } from './tiny-models';

/** A GPT-2 folder: byte-level BPE vocab.json + merges.txt building WORDS, <|endoftext|> last; random weights. */
async function writeTinyGpt2(dir: string): Promise<{ eos: number }> {
  fs.mkdirSync(dir, { recursive: true });
  const vocab = new Map<string, number>();
  for (const t of bytesToUnicode()) if (!vocab.has(t)) vocab.set(t, vocab.size);
  const merges: string[] = [];
  const merge = (a: string, b: string): void => {
    if (vocab.has(a + b)) return;
    merges.push(`${a} ${b}`);
    vocab.set(a + b, vocab.size);
  };
  for (const word of WORDS) {
    let acc = word[0];
    for (const ch of word.slice(1)) {
      merge(acc, ch);
      acc += ch;
    }
    merge('Ġ', word);
  }
  const eos = vocab.size;
  vocab.set('<|endoftext|>', eos);
  fs.writeFileSync(path.join(dir, 'vocab.json'), JSON.stringify(Object.fromEntries(vocab)));
  fs.writeFileSync(path.join(dir, 'merges.txt'), ['#version: 0.2', ...merges].join('\n') + '\n');
  const config = {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    activation_function: 'gelu_new',
    vocab_size: vocab.size,
    n_embd: 32,
    n_layer: 2,
    n_head: 2,
    n_inner: null,
    n_positions: 64,
    n_ctx: 64,
    resid_pdrop: 0.1,
    embd_pdrop: 0.1,
    attn_pdrop: 0.1,
    layer_norm_epsilon: 1e-5,
    initializer_range: 0.02,
    bos_token_id: eos,
    eos_token_id: eos,
  };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  const weights = new Map<string, Tensor>();
  for (const [name, t] of initWeights(encoderParamSpecs(parseBertConfig(config)), 5, 0.02))
    weights.set(name.slice('transformer.'.length), t);
  await writeSafetensors(path.join(dir, 'model.safetensors'), weights, { format: 'pt' });
  return { eos };
}

test('bertft train on a tiny GPT-2 folder (no pad_token_id, vocab.json + merges.txt), export, reload, predict', async () => {
  const dir = tempDir('cli-gpt2');
  const model = path.join(dir, 'gpt2');
  const { eos } = await writeTinyGpt2(model);
  const data = writeSentimentCsv(dir, 48);
  const out = path.join(dir, 'run');
  trainTinyFolder(data, out, model, 24);

  const best = path.join(out, 'best');
  const config = JSON.parse(fs.readFileSync(path.join(best, 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(config.architectures, ['GPT2ForSequenceClassification']);
  assert.equal(config.model_type, 'gpt2');
  assert.equal(config.pad_token_id, eos, 'the eos token we padded with is saved as pad_token_id');
  const names = (await readSafetensorsHeader(path.join(best, 'model.safetensors'))).entries.map((e) => e.name);
  assert.ok(names.includes('score.weight') && !names.includes('score.bias'), names.join(', '));
  assert.ok(
    names.every((n) => n.startsWith('transformer.') || n === 'score.weight'),
    names.join(', '),
  );

  // The exported ONNX model runs on its own: right padding with eos leaves a row's logits unchanged.
  const session = await ort.InferenceSession.create(path.join(best, 'model.onnx'));
  const row = [5, 6, 7, 8];
  const feed = (ids: number[], n: number) => ({
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
    attention_mask: new ort.Tensor(
      'int64',
      BigInt64Array.from(ids, (_, i) => BigInt(i < n ? 1 : 0)),
      [1, ids.length],
    ),
    token_type_ids: new ort.Tensor('int64', new BigInt64Array(ids.length), [1, ids.length]),
  });
  const alone = (await session.run(feed(row, 4))).logits.data as Float32Array;
  const padded = (await session.run(feed([...row, eos, eos, eos], 4))).logits.data as Float32Array;
  assert.ok(
    alone.every((v, i) => Math.abs(v - padded[i]) < 1e-5),
    `${alone.join(', ')} vs ${padded.join(', ')}`,
  );

  assertPredictsSentiment(out);

  // Token explanations: the baseline replaces the content tokens by eos (the pad token) and the graph still pools
  // the input's last token, so the attributions add up to the logit difference (completeness).
  const [explained] = bertft<{
    explanation: { logit: number; baselineLogit: number; tokens: { token: string; score: number }[] };
  }>('predict', '--model', out, '--json', '--text', 'the movie was great', '--explain', '--explain-steps', '50');
  const { tokens, logit, baselineLogit } = explained.explanation;
  assert.deepEqual(
    tokens.map((t) => t.token.replace(/^Ġ/, '')),
    ['the', 'movie', 'was', 'great'],
  );
  const sum = tokens.reduce((a, t) => a + t.score, 0);
  assert.ok(Math.abs(sum - (logit - baselineLogit)) <= 0.01 * Math.abs(logit - baselineLogit) + 1e-4, `${sum}`);
});

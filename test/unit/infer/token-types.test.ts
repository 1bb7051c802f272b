import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { presetConfig } from '../../../src/core/model/config';
import { bertClassifierParamSpecs, initWeights } from '../../../src/core/model/params';
import { buildInferenceModel } from '../../../src/core/model/export-onnx';
import { loadTokenizer } from '../../../src/core/tokenize/tokenizer';
import { encodePairDocuments } from '../../../src/core/tokenize/pairs';
import { collate } from '../../../src/core/tokenize/batching';

/** Logits of the exported classifier for one pair row, with the row's token types or with all types 0. */
async function logitsOf(weights: ReturnType<typeof initWeights>, withTypes: boolean): Promise<number[]> {
  const config = presetConfig('tiny');
  const session = await ort.InferenceSession.create(buildInferenceModel(config, 3, weights));
  const tok = await loadTokenizer();
  const rows = encodePairDocuments(tok, ['is the bank open today?'], ['the bank is closed on sundays'], 32, {
    tokenTypes: withTypes,
  });
  const b = collate(rows, [0], { padId: tok.padId });
  const shape = [b.batchSize, b.seqLen];
  const out = await session.run({
    input_ids: new ort.Tensor('int64', b.inputIds, shape),
    attention_mask: new ort.Tensor('int64', b.attentionMask, shape),
    token_type_ids: new ort.Tensor('int64', b.tokenTypeIds, shape),
  });
  await session.release();
  return [...(out.logits.data as Float32Array)];
}

test("a pair's token types reach the token-type embedding of model.onnx: other types, other logits", async () => {
  const config = presetConfig('tiny');
  assert.equal(config.typeVocabSize, 2);
  const weights = initWeights(bertClassifierParamSpecs(config, 3), 7, 0.5);
  const typed = await logitsOf(weights, true);
  const zeros = await logitsOf(weights, false);
  const diff = Math.max(...typed.map((v, i) => Math.abs(v - zeros[i])));
  assert.ok(diff > 1e-3, `logits with types 1 for the second text differ from all-zero types by only ${diff}`);
  // With type 1's embedding made equal to type 0's, the types no longer matter: the difference came from them.
  const table = weights.get('bert.embeddings.token_type_embeddings.weight');
  assert.ok(table);
  const hidden = config.hiddenSize;
  table.data.copyWithin(hidden, 0, hidden);
  const same = await logitsOf(weights, true);
  const sameZeros = await logitsOf(weights, false);
  same.forEach((v, i) => assert.ok(Math.abs(v - sameZeros[i]) < 1e-5, `logit ${i}: ${v} vs ${sameZeros[i]}`));
});

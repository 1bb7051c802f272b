/** Tiny models and batches shared by the engine tests (no tests in this file). */
import { Batch } from '../../../src/core/tokenize/batch';
import { BertConfig, parseBertConfig } from '../../../src/core/model/config';
import { Hyper } from '../../../src/core/train/engine';
import { seededRandom } from '../../../src/core/model/params';

export function tinyConfig(overrides: Record<string, unknown> = {}): BertConfig {
  return parseBertConfig({
    model_type: 'bert',
    vocab_size: 50,
    hidden_size: 16,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    intermediate_size: 32,
    max_position_embeddings: 16,
    type_vocab_size: 2,
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    layer_norm_eps: 1e-12,
    initializer_range: 0.02,
    pad_token_id: 0,
    ...overrides,
  });
}

export const HYPER: Hyper = {
  lr: 1e-3,
  weightDecay: 0.01,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  maxGradNorm: 1,
  warmupSteps: 0,
  totalSteps: 1000,
};

/**
 * A learnable task: label 1 when token 7 appears in the unpadded part of the row. Rows have random lengths, so padding
 * and the attention mask are exercised; position 0 holds [CLS] (id 1).
 */
export function makeBatch(seed: number, batchSize = 8, seqLen = 8, vocab = 50): Batch {
  const r = seededRandom(seed);
  const n = batchSize * seqLen;
  const inputIds = new BigInt64Array(n);
  const attentionMask = new BigInt64Array(n);
  const tokenTypeIds = new BigInt64Array(n);
  const labels = new BigInt64Array(batchSize);
  for (let b = 0; b < batchSize; b++) {
    const len = 3 + Math.floor(r() * (seqLen - 2));
    const positive = r() < 0.5;
    const at = 1 + Math.floor(r() * (len - 1));
    for (let s = 0; s < seqLen; s++) {
      const i = b * seqLen + s;
      if (s >= len) continue; // padding: id 0, mask 0
      attentionMask[i] = 1n;
      let tok = s === 0 ? 1 : 2 + Math.floor(r() * (vocab - 2));
      if (s > 0 && tok === 7) tok = 8;
      if (positive && s === at) tok = 7;
      inputIds[i] = BigInt(tok);
      tokenTypeIds[i] = s >= len - 1 ? 1n : 0n;
    }
    labels[b] = positive ? 1n : 0n;
  }
  return {
    batchSize,
    seqLen,
    inputIds,
    attentionMask,
    tokenTypeIds,
    labels,
    docIndex: Int32Array.from({ length: batchSize }, (_, i) => i),
  };
}

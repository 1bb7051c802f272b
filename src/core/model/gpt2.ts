/**
 * GPT2ForSequenceClassification as graph ops, with HF semantics: token + learned position embeddings (token types
 * ignored, as GPT-2's tokenizer gives none) -> dropout; pre-LN blocks: ln_1 -> causal self-attention (c_attn fuses
 * query, key and value; Conv1D weights stored [in, out]) -> c_proj -> dropout -> residual; ln_2 -> c_fc -> GELU (the
 * config's activation_function, tanh approximation by default) -> c_proj -> dropout -> residual; ln_f; then `score`
 * (no bias) on the last non-padding token of each row (transformers: the rightmost position whose id is not
 * pad_token_id; 0 when the row is all padding).
 */
import { Dim, dimProduct } from '../graph/dims';
import { Graph, Value } from '../graph/graph';
import { dropout } from '../graph/ops/dropout';
import { add, scale } from '../graph/ops/elementwise';
import { embedding } from '../graph/ops/embedding';
import { gelu, geluTanh } from '../graph/ops/gelu';
import { conv1d, linear, matmul } from '../graph/ops/linear';
import { gatherRows, reshape, split, transpose } from '../graph/ops/shape';
import { softmax } from '../graph/ops/softmax';
import { binary, broadcastShape, cast, reduce, reshapeTo } from '../graph/raw';
import {
  EncoderFamily,
  EncoderInputs,
  ForwardContext,
  MASK_MIN,
  extendedAttentionMask,
  norm,
  param,
  rangePositionIds,
} from './bert';
import { BertConfig, usesTanhGelu } from './config';
import { classifierParamSpecs, wordEmbeddingPaddingIdx, wordEmbeddingsName } from './params';

function conv(ctx: ForwardContext, x: Value, prefix: string): Value {
  return conv1d(ctx.g, x, param(ctx, `${prefix}.weight`), param(ctx, `${prefix}.bias`));
}

/** Range(0, n) as int64 [n] for a (possibly symbolic) dim. */
function range(g: Graph, n: Dim): Value {
  const count = reshapeTo(g, g.dimValue(n), []);
  return g.node1('Range', [g.constInt64([0], []), count, g.constInt64([1], [])], { dtype: 'int64', shape: [n] });
}

/**
 * The additive attention mask [batch, 1, seq, seq]: MASK_MIN where the key is padding or comes after the query
 * (causal), 0 elsewhere. Min, not a sum, so a position masked twice stays finite.
 */
export function causalAttentionMask(g: Graph, attentionMask: Value): Value {
  const S = attentionMask.shape[1];
  const positions = rangePositionIds(g, attentionMask);
  const future = g.node1('Greater', [reshapeTo(g, positions, [1, S]), reshapeTo(g, positions, [S, 1])], {
    dtype: 'bool',
    shape: [S, S],
  });
  const causal = reshapeTo(g, binary(g, 'Mul', cast(g, future, 'float32'), g.constFloat(MASK_MIN)), [1, 1, S, S]);
  const padding = extendedAttentionMask(g, attentionMask);
  return g.node1('Min', [causal, padding], {
    dtype: 'float32',
    shape: broadcastShape('Min', causal.shape, padding.shape),
  });
}

function causalSelfAttention(ctx: ForwardContext, cfg: BertConfig, x: Value, maskAdd: Value, prefix: string): Value {
  const { g } = ctx;
  const [B, S, H] = x.shape;
  const headCount = cfg.numAttentionHeads;
  const headSize = cfg.hiddenSize / headCount;
  const heads = (t: Value, perm: number[]): Value => transpose(g, reshape(g, t, [B, S, headCount, headSize]), perm);
  const [qx, kx, vx] = split(g, conv(ctx, x, `${prefix}.c_attn`), -1, [cfg.hiddenSize, cfg.hiddenSize, cfg.hiddenSize]);
  const q = heads(qx, [0, 2, 1, 3]); // [B, heads, S, d]
  const kT = heads(kx, [0, 2, 3, 1]); // [B, heads, d, S]
  const v = heads(vx, [0, 2, 1, 3]); // [B, heads, S, d]
  const scores = add(g, scale(g, matmul(g, q, kT), 1 / Math.sqrt(headSize)), maskAdd);
  const probs = dropout(g, softmax(g, scores), cfg.attentionProbsDropoutProb, ctx.dropout);
  const context = reshape(g, transpose(g, matmul(g, probs, v), [0, 2, 1, 3]), [B, S, H]);
  return dropout(g, conv(ctx, context, `${prefix}.c_proj`), cfg.hiddenDropoutProb, ctx.dropout);
}

/** The final hidden states [batch, seq, hidden] of GPT-2 (after ln_f). */
export function gpt2Encoder(ctx: ForwardContext, cfg: BertConfig, inputs: EncoderInputs): Value {
  const { g } = ctx;
  const embdDropout = typeof cfg.raw.embd_pdrop === 'number' ? cfg.raw.embd_pdrop : cfg.hiddenDropoutProb;
  const words =
    inputs.wordEmbeddings ??
    embedding(g, param(ctx, wordEmbeddingsName(cfg)), inputs.inputIds, wordEmbeddingPaddingIdx(cfg));
  const positions = embedding(g, param(ctx, 'transformer.wpe.weight'), rangePositionIds(g, inputs.inputIds));
  const maskAdd = causalAttentionMask(g, inputs.attentionMask);
  const activation = usesTanhGelu(cfg) ? geluTanh : gelu;
  let x = dropout(g, add(g, words, positions), embdDropout, ctx.dropout);
  for (let l = 0; l < cfg.numHiddenLayers; l++) {
    const p = `transformer.h.${l}`;
    x = add(g, causalSelfAttention(ctx, cfg, norm(ctx, cfg, x, `${p}.ln_1`), maskAdd, `${p}.attn`), x);
    const inner = activation(g, conv(ctx, norm(ctx, cfg, x, `${p}.ln_2`), `${p}.mlp.c_fc`));
    x = add(g, dropout(g, conv(ctx, inner, `${p}.mlp.c_proj`), cfg.hiddenDropoutProb, ctx.dropout), x);
  }
  return norm(ctx, cfg, x, 'transformer.ln_f');
}

/** Each row's hidden state [batch, hidden] at its last token whose id is not pad_token_id (0 for an all-pad row). */
export function lastNonPadToken(g: Graph, hidden: Value, inputIds: Value, padTokenId: number): Value {
  const [B, S, H] = hidden.shape;
  const notPad = cast(
    g,
    g.node1('Not', [g.node1('Equal', [inputIds, g.constInt64([padTokenId], [])], { dtype: 'bool', shape: [B, S] })], {
      dtype: 'bool',
      shape: [B, S],
    }),
    'int64',
  );
  // The largest position i with notPad[i] = 1 is the max of i * notPad[i] (transformers takes the argmax of it).
  const last = reduce(g, 'ReduceMax', binary(g, 'Mul', notPad, range(g, S)), [1], false);
  const rowStart = binary(g, 'Mul', range(g, B), reshapeTo(g, g.dimValue(S), []));
  return gatherRows(g, reshape(g, hidden, [dimProduct([B, S]), H]), binary(g, 'Add', last, rowStart));
}

export function gpt2Family(cfg: BertConfig): EncoderFamily {
  return {
    paramSpecs: (numLabels) => classifierParamSpecs(cfg, numLabels),
    logits(ctx, inputs) {
      const hidden = gpt2Encoder(ctx, cfg, inputs);
      const pooled = lastNonPadToken(ctx.g, hidden, inputs.inputIds, cfg.padTokenId);
      return linear(ctx.g, pooled, param(ctx, 'score.weight'), null);
    },
  };
}

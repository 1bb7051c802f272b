/**
 * DebertaV2ForSequenceClassification as graph ops, with HF semantics (transformers' modeling_deberta_v2.py) for the
 * DeBERTa-v3 layout: word embeddings -> LayerNorm -> times the attention mask -> dropout (no absolute positions, no
 * token types); post-LN layers with disentangled self-attention, whose scores are (q k^T + c2p + p2c) / sqrt(3 d):
 * c2p[i, j] = q_i . key_proj(rel)[c2p_pos(i - j)] and p2c[i, j] = k_j . query_proj(rel)[p2c_pos(i - j)], rel being
 * encoder.rel_embeddings through encoder.LayerNorm and the position tables log-bucketed (deberta-v2-config.ts); then
 * ContextPooler (first token -> dropout -> dense -> GELU) -> dropout -> classifier.
 * Padded keys get MASK_MIN; HF's XSoftmax also zeroes padded query rows, which never reach the first token.
 */
import { Graph, Value } from '../graph/graph';
import { dimProduct } from '../graph/dims';
import { dropout } from '../graph/ops/dropout';
import { add, mul, scale } from '../graph/ops/elementwise';
import { embedding } from '../graph/ops/embedding';
import { gelu } from '../graph/ops/gelu';
import { matmul } from '../graph/ops/linear';
import { gatherLastAxis, reshape, selectIndex, transpose } from '../graph/ops/shape';
import { softmax } from '../graph/ops/softmax';
import { binary, cast, reshapeTo } from '../graph/raw';
import {
  EncoderFamily,
  EncoderInputs,
  ForwardContext,
  dense,
  extendedAttentionMask,
  norm,
  param,
  rangePositionIds,
} from './bert';
import { BertConfig, maxSequenceLength } from './config';
import { classifierParamSpecs, wordEmbeddingPaddingIdx, wordEmbeddingsName } from './params';
import { DebertaV2Settings, debertaV2Settings, relativeIndexTables } from './deberta-v2-config';

export function settingsOf(cfg: BertConfig): DebertaV2Settings {
  return debertaV2Settings(cfg.raw, cfg);
}

/**
 * The c2p and p2c index tensors [1, 1, seq, seq] of this sequence length (broadcast over batch and heads): delta =
 * i - j looked up in the constant tables of every distance up to the model's maximum length.
 */
function relativeIndices(g: Graph, cfg: BertConfig, s: DebertaV2Settings, inputIds: Value): [Value, Value] {
  const maxLength = maxSequenceLength(cfg);
  const tables = relativeIndexTables(s, maxLength);
  const S = inputIds.shape[1];
  const positions = rangePositionIds(g, inputIds);
  const delta = binary(
    g,
    'Add',
    binary(g, 'Sub', reshapeTo(g, positions, [S, 1]), reshapeTo(g, positions, [1, S])),
    g.constInt64([maxLength - 1], []),
  );
  const lookup = (table: number[]): Value =>
    reshapeTo(g, g.node1('Gather', [g.constInt64(table), delta], { dtype: 'int64', shape: [S, S] }), [1, 1, S, S]);
  return [lookup(tables.c2p), lookup(tables.p2c)];
}

/**
 * x [B, heads, S, d] times the position projection pos [heads, 2 span, d] transposed: [B, heads, S, 2 span]. The
 * batch joins the rows so that both sides share their leading dim (heads), as matmul needs.
 */
function timesPositions(g: Graph, x: Value, pos: Value): Value {
  const [B, heads, S, d] = x.shape;
  const rows = dimProduct([B, S]);
  const flat = reshape(g, transpose(g, x, [1, 0, 2, 3]), [heads, rows, d]);
  const out = matmul(g, flat, transpose(g, pos, [0, 2, 1]));
  const width = pos.shape[1];
  return transpose(g, reshape(g, out, [heads, B, S, width]), [1, 0, 2, 3]);
}

/** One layer's disentangled self-attention: the context [B, S, H] before attention.output.dense. */
function disentangledAttention(
  ctx: ForwardContext,
  cfg: BertConfig,
  x: Value,
  rel: Value,
  maskAdd: Value,
  indices: [Value, Value],
  prefix: string,
): Value {
  const { g } = ctx;
  const [B, S] = x.shape;
  const H = cfg.hiddenSize;
  const heads = cfg.numAttentionHeads;
  const d = H / heads;
  const width = rel.shape[0];
  const toHeads = (t: Value, perm: number[]): Value => transpose(g, reshape(g, t, [B, S, heads, d]), perm);
  const q = toHeads(dense(ctx, x, `${prefix}.query_proj`), [0, 2, 1, 3]); // [B, heads, S, d]
  const k = toHeads(dense(ctx, x, `${prefix}.key_proj`), [0, 2, 1, 3]);
  const v = toHeads(dense(ctx, x, `${prefix}.value_proj`), [0, 2, 1, 3]);
  const relDropped = dropout(g, rel, cfg.hiddenDropoutProb, ctx.dropout);
  const posHeads = (proj: string): Value =>
    transpose(g, reshape(g, dense(ctx, relDropped, proj), [width, heads, d]), [1, 0, 2]); // [heads, 2 span, d]
  const posQ = posHeads(`${prefix}.query_proj`);
  const posK = posHeads(`${prefix}.key_proj`);
  const content = matmul(g, q, transpose(g, k, [0, 1, 3, 2])); // [B, heads, S, S]
  const [c2pIndex, p2cIndex] = indices;
  const c2p = gatherLastAxis(g, timesPositions(g, q, posK), c2pIndex);
  // p2c rows are keys: entry [j, i] reads key j against the position of query i, then is transposed to [i, j].
  const p2c = transpose(g, gatherLastAxis(g, timesPositions(g, k, posQ), p2cIndex), [0, 1, 3, 2]);
  const scores = add(g, scale(g, add(g, add(g, content, c2p), p2c), 1 / Math.sqrt(3 * d)), maskAdd);
  const probs = dropout(g, softmax(g, scores), cfg.attentionProbsDropoutProb, ctx.dropout);
  return reshape(g, transpose(g, matmul(g, probs, v), [0, 2, 1, 3]), [B, S, H]);
}

/** The final hidden states [batch, seq, hidden] of DebertaV2Model. Token types are ignored (type_vocab_size 0). */
export function debertaV2Encoder(ctx: ForwardContext, cfg: BertConfig, inputs: EncoderInputs): Value {
  const { g } = ctx;
  const s = settingsOf(cfg);
  const [B, S] = inputs.inputIds.shape;
  const words =
    inputs.wordEmbeddings ??
    embedding(g, param(ctx, wordEmbeddingsName(cfg)), inputs.inputIds, wordEmbeddingPaddingIdx(cfg));
  const mask = reshapeTo(g, cast(g, inputs.attentionMask, 'float32'), [B, S, 1]);
  const embedded = mul(g, norm(ctx, cfg, words, 'deberta.embeddings.LayerNorm'), mask);
  let x = dropout(g, embedded, cfg.hiddenDropoutProb, ctx.dropout);
  const maskAdd = extendedAttentionMask(g, inputs.attentionMask);
  const rel = norm(ctx, cfg, param(ctx, 'deberta.encoder.rel_embeddings.weight'), 'deberta.encoder.LayerNorm');
  const indices = relativeIndices(g, cfg, s, inputs.inputIds);
  for (let l = 0; l < cfg.numHiddenLayers; l++) {
    const p = `deberta.encoder.layer.${l}`;
    const context = disentangledAttention(ctx, cfg, x, rel, maskAdd, indices, `${p}.attention.self`);
    const attnOut = dropout(g, dense(ctx, context, `${p}.attention.output.dense`), cfg.hiddenDropoutProb, ctx.dropout);
    const h1 = norm(ctx, cfg, add(g, attnOut, x), `${p}.attention.output.LayerNorm`);
    const inter = gelu(g, dense(ctx, h1, `${p}.intermediate.dense`));
    const out = dropout(g, dense(ctx, inter, `${p}.output.dense`), cfg.hiddenDropoutProb, ctx.dropout);
    x = norm(ctx, cfg, add(g, out, h1), `${p}.output.LayerNorm`);
  }
  return x;
}

/** ContextPooler (first token -> dropout -> dense -> GELU) -> dropout -> classifier: logits [batch, labels]. */
export function debertaV2Logits(ctx: ForwardContext, cfg: BertConfig, inputs: EncoderInputs): Value {
  const { g } = ctx;
  const s = settingsOf(cfg);
  const hidden = debertaV2Encoder(ctx, cfg, inputs);
  const first = dropout(g, selectIndex(g, hidden, 1, 0), s.poolerDropout, ctx.dropout);
  const pooled = gelu(g, dense(ctx, first, 'pooler.dense'));
  return dense(ctx, dropout(g, pooled, s.clsDropout, ctx.dropout), 'classifier');
}

export function debertaV2Family(cfg: BertConfig): EncoderFamily {
  return {
    paramSpecs: (numLabels) => classifierParamSpecs(cfg, numLabels),
    logits: (ctx, inputs) => debertaV2Logits(ctx, cfg, inputs),
  };
}

/**
 * ModernBertForSequenceClassification as graph ops, with HF semantics (transformers' modeling_modernbert.py, eager
 * attention): token embeddings -> LayerNorm -> dropout (no position embeddings); pre-norm layers whose attention
 * rotates q and k (RoPE, global_rope_theta in global layers, local_rope_theta in local ones) and, in local layers,
 * attends only to keys within local_attention / 2 positions; GeGLU MLP; final norm; CLS or mean pooling; head (dense
 * -> GELU -> norm) -> dropout -> classifier. Biases and their absence follow the config (modernbert-config.ts).
 */
import { Graph, Value } from '../graph/graph';
import { blockAttention } from '../graph/ops/attention';
import { dropout } from '../graph/ops/dropout';
import { add, mul, scale } from '../graph/ops/elementwise';
import { embedding } from '../graph/ops/embedding';
import { gelu } from '../graph/ops/gelu';
import { layerNorm } from '../graph/ops/layernorm';
import { linear, matmul } from '../graph/ops/linear';
import { rope, ropeTables } from '../graph/ops/rope';
import { reshape, selectIndex, split, transpose } from '../graph/ops/shape';
import { softmax } from '../graph/ops/softmax';
import { binary, cast, reduce, reshapeTo, unary } from '../graph/raw';
import { EncoderFamily, EncoderInputs, ForwardContext, MASK_MIN, extendedAttentionMask, param } from './bert';
import { BertConfig } from './config';
import { wordEmbeddingPaddingIdx, wordEmbeddingsName } from './params';
import {
  ModernBertSettings,
  modernBertSettings,
  modernbertEncoderSpecs,
  modernbertHeadSpecs,
} from './modernbert-config';

export function settingsOf(cfg: BertConfig): ModernBertSettings {
  return modernBertSettings(cfg.raw, cfg.numHiddenLayers);
}

/** A Linear whose bias exists only when the config says so. */
function linearMaybeBias(ctx: ForwardContext, x: Value, prefix: string, bias: boolean): Value {
  return linear(ctx.g, x, param(ctx, `${prefix}.weight`), bias ? param(ctx, `${prefix}.bias`) : null);
}

/** A LayerNorm whose bias exists only when the config says so (a constant zero shift otherwise). */
function normMaybeBias(ctx: ForwardContext, cfg: BertConfig, s: ModernBertSettings, x: Value, prefix: string): Value {
  const H = cfg.hiddenSize;
  const beta = s.normBias ? param(ctx, `${prefix}.bias`) : ctx.g.constFloat(new Array<number>(H).fill(0), [H]);
  return layerNorm(ctx.g, x, param(ctx, `${prefix}.weight`), beta, cfg.layerNormEps);
}

/**
 * HF's sliding_window_mask: the additive padding mask [batch, 1, 1, seq] where |query - key| <= window / 2, and
 * MASK_MIN (replacing, not adding) elsewhere: [batch, 1, seq, seq].
 */
function slidingWindowMask(g: Graph, paddingMask: Value, seq: Value['shape'][number], window: number): Value {
  const seqLen = reshapeTo(g, g.dimValue(seq), []);
  const positions = g.node1('Range', [g.constInt64([0], []), seqLen, g.constInt64([1], [])], {
    dtype: 'int64',
    shape: [seq],
  });
  const distance = unary(
    g,
    'Abs',
    binary(g, 'Sub', reshapeTo(g, positions, [seq, 1]), reshapeTo(g, positions, [1, seq])),
  );
  const near = g.node1('LessOrEqual', [distance, g.constInt64([Math.floor(window / 2)], [])], {
    dtype: 'bool',
    shape: [seq, seq],
  });
  const [B] = paddingMask.shape;
  return g.node1('Where', [near, paddingMask, g.constFloat(MASK_MIN)], { dtype: 'float32', shape: [B, 1, seq, seq] });
}

/** The final hidden states [batch, seq, hidden] of ModernBertModel (after final_norm). Token types are ignored. */
export function modernbertEncoder(ctx: ForwardContext, cfg: BertConfig, inputs: EncoderInputs): Value {
  const { g } = ctx;
  const s = settingsOf(cfg);
  const [B, S] = inputs.inputIds.shape;
  const H = cfg.hiddenSize;
  const heads = cfg.numAttentionHeads;
  const headSize = H / heads;
  const I = cfg.intermediateSize;
  const words =
    inputs.wordEmbeddings ??
    embedding(g, param(ctx, wordEmbeddingsName(cfg)), inputs.inputIds, wordEmbeddingPaddingIdx(cfg));
  let x = dropout(g, normMaybeBias(ctx, cfg, s, words, 'model.embeddings.norm'), s.embeddingDropout, ctx.dropout);
  const globalMask = extendedAttentionMask(g, inputs.attentionMask);
  // Block attention (no [seq, seq] tensor) where the context asks for it; attention dropout needs the plain path.
  const block = ctx.attentionBlock !== undefined && (ctx.dropout === null || s.attentionDropout === 0);
  const localMask =
    block || s.globalLayers.every((isGlobal) => isGlobal)
      ? null
      : slidingWindowMask(g, globalMask, S, s.localAttention);
  const globalRope = ropeTables(g, S, headSize, s.globalRopeTheta);
  const localRope = ropeTables(g, S, headSize, s.localRopeTheta);
  const toHeads = (t: Value): Value => transpose(g, reshape(g, t, [B, S, heads, headSize]), [0, 2, 1, 3]);
  for (let l = 0; l < cfg.numHiddenLayers; l++) {
    const p = `model.layers.${l}`;
    const isGlobal = s.globalLayers[l];
    const { cos, sin } = isGlobal ? globalRope : localRope;
    const h = l === 0 ? x : normMaybeBias(ctx, cfg, s, x, `${p}.attn_norm`);
    const [qx, kx, vx] = split(g, linearMaybeBias(ctx, h, `${p}.attn.Wqkv`, s.attentionBias), -1, [H, H, H]);
    const q = rope(g, toHeads(qx), cos, sin); // [B, heads, S, d]
    const k = rope(g, toHeads(kx), cos, sin);
    const v = toHeads(vx);
    const attention = (): Value => {
      const scoreScale = 1 / Math.sqrt(headSize);
      if (block) {
        const window = isGlobal ? null : s.localAttention;
        return blockAttention(g, q, k, v, globalMask, { scale: scoreScale, window, block: ctx.attentionBlock! });
      }
      const kT = transpose(g, k, [0, 1, 3, 2]); // [B, heads, d, S]
      const scores = add(g, scale(g, matmul(g, q, kT), scoreScale), isGlobal ? globalMask : localMask!);
      return matmul(g, dropout(g, softmax(g, scores), s.attentionDropout, ctx.dropout), v);
    };
    const context = reshape(g, transpose(g, attention(), [0, 2, 1, 3]), [B, S, H]);
    const attnOut = linearMaybeBias(ctx, context, `${p}.attn.Wo`, s.attentionBias);
    x = add(g, x, dropout(g, attnOut, s.attentionDropout, ctx.dropout));
    const wi = linearMaybeBias(ctx, normMaybeBias(ctx, cfg, s, x, `${p}.mlp_norm`), `${p}.mlp.Wi`, s.mlpBias);
    const [input, gate] = split(g, wi, -1, [I, I]);
    const glu = dropout(g, mul(g, gelu(g, input), gate), s.mlpDropout, ctx.dropout);
    x = add(g, x, linearMaybeBias(ctx, glu, `${p}.mlp.Wo`, s.mlpBias));
  }
  return normMaybeBias(ctx, cfg, s, x, 'model.final_norm');
}

/** Mean over the non-padding tokens: [batch, seq, hidden] -> [batch, hidden], as a product with the mask's weights. */
function meanPool(g: Graph, hidden: Value, attentionMask: Value): Value {
  const [B, S, H] = hidden.shape;
  const m = cast(g, attentionMask, 'float32');
  const weights = binary(g, 'Div', m, reduce(g, 'ReduceSum', m, [1], true));
  return reshape(g, matmul(g, reshapeTo(g, weights, [B, 1, S]), hidden), [B, H]);
}

/** The pooled vector through the head (dense -> GELU -> norm) -> dropout -> classifier: logits [batch, labels]. */
export function modernbertLogits(ctx: ForwardContext, cfg: BertConfig, inputs: EncoderInputs): Value {
  const { g } = ctx;
  const s = settingsOf(cfg);
  const hidden = modernbertEncoder(ctx, cfg, inputs);
  const pooled = s.pooling === 'mean' ? meanPool(g, hidden, inputs.attentionMask) : selectIndex(g, hidden, 1, 0);
  const h = normMaybeBias(
    ctx,
    cfg,
    s,
    gelu(g, linearMaybeBias(ctx, pooled, 'head.dense', s.classifierBias)),
    'head.norm',
  );
  return linearMaybeBias(ctx, dropout(g, h, s.classifierDropout, ctx.dropout), 'classifier', true);
}

export function modernbertFamily(cfg: BertConfig, options: { attentionBlock?: number } = {}): EncoderFamily {
  return {
    paramSpecs: (numLabels) => {
      const s = settingsOf(cfg);
      return [...modernbertEncoderSpecs(cfg, s), ...modernbertHeadSpecs(cfg, s, numLabels)];
    },
    logits: (outer, inputs) =>
      modernbertLogits({ ...outer, attentionBlock: options.attentionBlock ?? outer.attentionBlock }, cfg, inputs),
  };
}

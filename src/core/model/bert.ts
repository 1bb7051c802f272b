/**
 * The BERT layout as graph ops, with HF semantics: embeddings (word + position + token type) -> LayerNorm -> dropout;
 * post-LN encoder layers; then a family's classification head on the first token. The same pieces, under another
 * tensor-name prefix, make RoBERTa (position ids offset past the padding index) and ELECTRA (embeddings projected to
 * the hidden size when narrower); DistilBERT's own layer is in distilbert.ts; families.ts picks one per config.
 */
import { GraphError } from '../errors';
import { Graph, Value } from '../graph/graph';
import { MASK_MIN } from '../graph/ops/attention';
import { DropoutKeys, dropout } from '../graph/ops/dropout';
import { add, scale, tanh } from '../graph/ops/elementwise';
import { embedding } from '../graph/ops/embedding';
import { gelu } from '../graph/ops/gelu';
import { layerNorm } from '../graph/ops/layernorm';
import { linear, matmul } from '../graph/ops/linear';
import { concat, reshape, selectIndex, split, transpose } from '../graph/ops/shape';
import { softmax } from '../graph/ops/softmax';
import { binary, cast, reshapeTo } from '../graph/raw';
import { BertConfig, classifierDropout } from './config';
import { BASE_PREFIX, ParamSpec, classifierParamSpecs, wordEmbeddingPaddingIdx, wordEmbeddingsName } from './params';

/** int64 [batch, seq] tensors, as the tokenizer produces them. */
export interface EncoderInputs {
  inputIds: Value;
  attentionMask: Value;
  tokenTypeIds: Value;
  /**
   * int64 [n]: the positions, flattened over batch x seq, at which a per-token head is evaluated (the masked-LM head:
   * the positions that carry a label). Sequence classifiers ignore it.
   */
  positions?: Value;
  /**
   * float32 [batch, seq, embedding]: word embeddings to use instead of looking up inputIds (HF's inputs_embeds), so
   * a graph can differentiate with respect to them (integrated gradients, core/infer/explain.ts). Position ids, token
   * types and the attention mask still come from inputIds and the other inputs.
   */
  wordEmbeddings?: Value;
}

export interface ForwardContext {
  g: Graph;
  /** Parameter values by HF name. */
  params: Map<string, Value>;
  /** Dropout keys when training with dropout; null for evaluation (dropout off). */
  dropout: DropoutKeys | null;
  /** Compute query, key and value with one Gemm on the concatenated weights. */
  fusedQkv?: boolean;
  /**
   * Queries per block of memory-efficient attention (graph/ops/attention.ts) in the families that have it (ModernBERT,
   * whose context is 8,192 tokens); undefined: plain attention, which holds [heads, seq, seq] probabilities.
   */
  attentionBlock?: number;
}

/** What the train-step compiler needs from a model family. */
export interface EncoderFamily {
  paramSpecs(numLabels: number): ParamSpec[];
  /** Logits [batch, numLabels]. */
  logits(ctx: ForwardContext, inputs: EncoderInputs): Value;
}

/** The model families read the mask value from here (it lives with the attention op). */
export { MASK_MIN };

export function param(ctx: ForwardContext, name: string): Value {
  const v = ctx.params.get(name);
  if (!v) throw new GraphError(`The model graph needs parameter '${name}', which was not provided.`);
  return v;
}

export function dense(ctx: ForwardContext, x: Value, prefix: string): Value {
  return linear(ctx.g, x, param(ctx, `${prefix}.weight`), param(ctx, `${prefix}.bias`));
}

export function norm(ctx: ForwardContext, cfg: BertConfig, x: Value, prefix: string): Value {
  return layerNorm(ctx.g, x, param(ctx, `${prefix}.weight`), param(ctx, `${prefix}.bias`), cfg.layerNormEps);
}

/** [batch, seq] 0/1 mask -> additive [batch, 1, 1, seq] mask: 0 where attended, MASK_MIN where padded. */
export function extendedAttentionMask(g: Graph, mask: Value): Value {
  const m = reshapeTo(g, cast(g, mask, 'float32'), [mask.shape[0], 1, 1, mask.shape[1]]);
  return binary(g, 'Mul', binary(g, 'Sub', g.constFloat(1), m), g.constFloat(MASK_MIN));
}

/** 0, 1, …, seq-1 ([seq], broadcast over the batch). */
export function rangePositionIds(g: Graph, inputIds: Value): Value {
  const seq = inputIds.shape[1];
  const seqLen = reshapeTo(g, g.dimValue(seq), []);
  return g.node1('Range', [g.constInt64([0], []), seqLen, g.constInt64([1], [])], { dtype: 'int64', shape: [seq] });
}

/**
 * RoBERTa's position ids (HF create_position_ids_from_input_ids): padding tokens get padding_idx, the others count
 * up from padding_idx + 1, so the first real token is at position pad + 1 whatever the padding side.
 */
export function robertaPositionIds(g: Graph, inputIds: Value, padTokenId: number): Value {
  const shape = inputIds.shape;
  const isPad = g.node1('Equal', [inputIds, g.constInt64([padTokenId], [])], { dtype: 'bool', shape });
  const notPad = cast(g, g.node1('Not', [isPad], { dtype: 'bool', shape }), 'int64');
  const counted = g.node1('CumSum', [notPad, g.constInt64([1], [])], { dtype: 'int64', shape });
  return binary(g, 'Add', binary(g, 'Mul', counted, notPad), g.constInt64([padTokenId], []));
}

/** Embeddings of the BERT layout under `base` (bert / roberta / electra), ELECTRA's projection included. */
export function bertEmbeddings(ctx: ForwardContext, cfg: BertConfig, inputs: EncoderInputs, base = 'bert'): Value {
  const { g } = ctx;
  const positionIds =
    cfg.modelType === 'roberta'
      ? robertaPositionIds(g, inputs.inputIds, cfg.padTokenId)
      : rangePositionIds(g, inputs.inputIds);
  const words =
    inputs.wordEmbeddings ??
    embedding(g, param(ctx, wordEmbeddingsName(cfg)), inputs.inputIds, wordEmbeddingPaddingIdx(cfg));
  const types = embedding(g, param(ctx, `${base}.embeddings.token_type_embeddings.weight`), inputs.tokenTypeIds);
  const positions = embedding(g, param(ctx, `${base}.embeddings.position_embeddings.weight`), positionIds);
  const x = norm(ctx, cfg, add(g, add(g, words, types), positions), `${base}.embeddings.LayerNorm`);
  const out = dropout(g, x, cfg.hiddenDropoutProb, ctx.dropout);
  return cfg.embeddingSize !== cfg.hiddenSize ? dense(ctx, out, `${base}.embeddings_project`) : out;
}

/** Multi-head self-attention; `qkv` are the prefixes of the query, key and value linears. */
export function selfAttention(
  ctx: ForwardContext,
  cfg: BertConfig,
  x: Value,
  maskAdd: Value,
  qkv: [string, string, string],
): Value {
  const { g } = ctx;
  const [B, S, H] = x.shape;
  const headCount = cfg.numAttentionHeads;
  const headSize = cfg.hiddenSize / headCount;
  const heads = (t: Value, perm: number[]): Value => transpose(g, reshape(g, t, [B, S, headCount, headSize]), perm);
  const [qx, kx, vx] = ctx.fusedQkv
    ? split(g, linear(g, x, concatQkv(ctx, qkv, 'weight'), concatQkv(ctx, qkv, 'bias')), -1, [
        cfg.hiddenSize,
        cfg.hiddenSize,
        cfg.hiddenSize,
      ])
    : qkv.map((p) => dense(ctx, x, p));
  const q = heads(qx, [0, 2, 1, 3]); // [B, heads, S, d]
  const kT = heads(kx, [0, 2, 3, 1]); // [B, heads, d, S]
  const v = heads(vx, [0, 2, 1, 3]); // [B, heads, S, d]
  const scores = add(g, scale(g, matmul(g, q, kT), 1 / Math.sqrt(headSize)), maskAdd);
  const probs = dropout(g, softmax(g, scores), cfg.attentionProbsDropoutProb, ctx.dropout);
  return reshape(g, transpose(g, matmul(g, probs, v), [0, 2, 1, 3]), [B, S, H]);
}

/** The query, key and value tensors joined into one [3H, ...] tensor, so one Gemm computes all three. */
function concatQkv(ctx: ForwardContext, qkv: [string, string, string], kind: 'weight' | 'bias'): Value {
  return concat(
    ctx.g,
    qkv.map((p) => param(ctx, `${p}.${kind}`)),
    0,
  );
}

/** One post-LN encoder layer of the BERT layout: attention -> add & norm -> GELU MLP -> add & norm. */
export function bertLayer(
  ctx: ForwardContext,
  cfg: BertConfig,
  x: Value,
  maskAdd: Value,
  layer: number,
  base = 'bert',
): Value {
  const { g } = ctx;
  const p = `${base}.encoder.layer.${layer}`;
  const a = `${p}.attention.self`;
  const context = selfAttention(ctx, cfg, x, maskAdd, [`${a}.query`, `${a}.key`, `${a}.value`]);
  const attnOut = dropout(g, dense(ctx, context, `${p}.attention.output.dense`), cfg.hiddenDropoutProb, ctx.dropout);
  const h1 = norm(ctx, cfg, add(g, attnOut, x), `${p}.attention.output.LayerNorm`);
  const inter = gelu(g, dense(ctx, h1, `${p}.intermediate.dense`));
  const out = dropout(g, dense(ctx, inter, `${p}.output.dense`), cfg.hiddenDropoutProb, ctx.dropout);
  return norm(ctx, cfg, add(g, out, h1), `${p}.output.LayerNorm`);
}

/** The final hidden states [batch, seq, hidden] of the BERT layout (bert / roberta / electra). */
export function bertEncoder(ctx: ForwardContext, cfg: BertConfig, inputs: EncoderInputs): Value {
  const base = BASE_PREFIX[cfg.modelType];
  const maskAdd = extendedAttentionMask(ctx.g, inputs.attentionMask);
  let x = bertEmbeddings(ctx, cfg, inputs, base);
  for (let l = 0; l < cfg.numHiddenLayers; l++) x = bertLayer(ctx, cfg, x, maskAdd, l, base);
  return x;
}

/** BERT: pooler (tanh dense on the first token) -> dropout -> classifier. */
export function bertClassifierHead(ctx: ForwardContext, cfg: BertConfig, hidden: Value): Value {
  const { g } = ctx;
  const pooled = tanh(g, dense(ctx, selectIndex(g, hidden, 1, 0), 'bert.pooler.dense'));
  return dense(ctx, dropout(g, pooled, classifierDropout(cfg), ctx.dropout), 'classifier');
}

/**
 * RoBERTa (tanh) and ELECTRA (GELU) heads: first token -> dropout -> classifier.dense -> activation -> dropout ->
 * classifier.out_proj.
 */
export function denseOutProjHead(
  ctx: ForwardContext,
  cfg: BertConfig,
  hidden: Value,
  activation: 'tanh' | 'gelu',
): Value {
  const { g } = ctx;
  const p = classifierDropout(cfg);
  const first = dropout(g, selectIndex(g, hidden, 1, 0), p, ctx.dropout);
  const h = dense(ctx, first, 'classifier.dense');
  const act = activation === 'tanh' ? tanh(g, h) : gelu(g, h);
  return dense(ctx, dropout(g, act, p, ctx.dropout), 'classifier.out_proj');
}

/** The *ForSequenceClassification of a BERT-layout family (bert, roberta, electra). */
export function bertFamily(cfg: BertConfig, options: { fusedQkv?: boolean } = {}): EncoderFamily {
  return {
    paramSpecs: (numLabels) => classifierParamSpecs(cfg, numLabels),
    logits(outer, inputs) {
      const ctx: ForwardContext = { ...outer, fusedQkv: options.fusedQkv ?? outer.fusedQkv };
      const hidden = bertEncoder(ctx, cfg, inputs);
      if (cfg.modelType === 'roberta') return denseOutProjHead(ctx, cfg, hidden, 'tanh');
      if (cfg.modelType === 'electra') return denseOutProjHead(ctx, cfg, hidden, 'gelu');
      return bertClassifierHead(ctx, cfg, hidden);
    },
  };
}

/**
 * BertForSequenceClassification as graph ops, with HF semantics: embeddings (word + position + token type) ->
 * LayerNorm -> dropout; post-LN encoder layers; tanh pooler on [CLS]; dropout; classifier.
 *
 * The model is split into the pieces an encoder family is made of (embeddings, layer, head), so DistilBERT or RoBERTa
 * can later be added as another `EncoderFamily` that reuses most of them.
 */
import { GraphError } from '../errors';
import { Graph, Value } from '../graph/graph';
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
import { ParamSpec, bertClassifierParamSpecs } from './params';

/** int64 [batch, seq] tensors, as the tokenizer produces them. */
export interface EncoderInputs {
  inputIds: Value;
  attentionMask: Value;
  tokenTypeIds: Value;
}

export interface ForwardContext {
  g: Graph;
  /** Parameter values by HF name. */
  params: Map<string, Value>;
  /** Dropout keys when training with dropout; null for evaluation (dropout off). */
  dropout: DropoutKeys | null;
  /** Compute query, key and value with one Gemm on the concatenated weights. */
  fusedQkv?: boolean;
}

/** What the train-step compiler needs from a model family. */
export interface EncoderFamily {
  paramSpecs(numLabels: number): ParamSpec[];
  /** Logits [batch, numLabels]. */
  logits(ctx: ForwardContext, inputs: EncoderInputs): Value;
}

/**
 * HF 4.x adds torch.finfo(float32).min at masked key positions (not the -10000 of older versions); softmax then
 * gives those positions exactly zero weight.
 */
export const MASK_MIN = -3.4028234663852886e38;

function param(ctx: ForwardContext, name: string): Value {
  const v = ctx.params.get(name);
  if (!v) throw new GraphError(`The model graph needs parameter '${name}', which was not provided.`);
  return v;
}

function dense(ctx: ForwardContext, x: Value, prefix: string): Value {
  return linear(ctx.g, x, param(ctx, `${prefix}.weight`), param(ctx, `${prefix}.bias`));
}

function norm(ctx: ForwardContext, cfg: BertConfig, x: Value, prefix: string): Value {
  return layerNorm(ctx.g, x, param(ctx, `${prefix}.weight`), param(ctx, `${prefix}.bias`), cfg.layerNormEps);
}

/** [batch, seq] 0/1 mask -> additive [batch, 1, 1, seq] mask: 0 where attended, MASK_MIN where padded. */
export function extendedAttentionMask(g: Graph, mask: Value): Value {
  const m = reshapeTo(g, cast(g, mask, 'float32'), [mask.shape[0], 1, 1, mask.shape[1]]);
  return binary(g, 'Mul', binary(g, 'Sub', g.constFloat(1), m), g.constFloat(MASK_MIN));
}

export function bertEmbeddings(ctx: ForwardContext, cfg: BertConfig, inputs: EncoderInputs): Value {
  const { g } = ctx;
  const seq = inputs.inputIds.shape[1];
  const seqLen = reshapeTo(g, g.dimValue(seq), []);
  const positionIds = g.node1('Range', [g.constInt64([0], []), seqLen, g.constInt64([1], [])], { dtype: 'int64', shape: [seq] });
  const words = embedding(g, param(ctx, 'bert.embeddings.word_embeddings.weight'), inputs.inputIds);
  const types = embedding(g, param(ctx, 'bert.embeddings.token_type_embeddings.weight'), inputs.tokenTypeIds);
  const positions = embedding(g, param(ctx, 'bert.embeddings.position_embeddings.weight'), positionIds);
  const x = norm(ctx, cfg, add(g, add(g, words, types), positions), 'bert.embeddings.LayerNorm');
  return dropout(g, x, cfg.hiddenDropoutProb, ctx.dropout);
}

export function bertSelfAttention(ctx: ForwardContext, cfg: BertConfig, x: Value, maskAdd: Value, prefix: string): Value {
  const { g } = ctx;
  const [B, S, H] = x.shape;
  const headCount = cfg.numAttentionHeads;
  const headSize = cfg.hiddenSize / headCount;
  const heads = (t: Value, perm: number[]): Value => transpose(g, reshape(g, t, [B, S, headCount, headSize]), perm);
  const [qx, kx, vx] = ctx.fusedQkv
    ? split(g, linear(g, x, concatQkv(ctx, prefix, 'weight'), concatQkv(ctx, prefix, 'bias')), -1, [cfg.hiddenSize, cfg.hiddenSize, cfg.hiddenSize])
    : [dense(ctx, x, `${prefix}.query`), dense(ctx, x, `${prefix}.key`), dense(ctx, x, `${prefix}.value`)];
  const q = heads(qx, [0, 2, 1, 3]); // [B, heads, S, d]
  const kT = heads(kx, [0, 2, 3, 1]); // [B, heads, d, S]
  const v = heads(vx, [0, 2, 1, 3]); // [B, heads, S, d]
  const scores = add(g, scale(g, matmul(g, q, kT), 1 / Math.sqrt(headSize)), maskAdd);
  const probs = dropout(g, softmax(g, scores), cfg.attentionProbsDropoutProb, ctx.dropout);
  return reshape(g, transpose(g, matmul(g, probs, v), [0, 2, 1, 3]), [B, S, H]);
}

/** The HF query, key and value tensors joined into one [3H, ...] tensor, so one Gemm computes all three. */
function concatQkv(ctx: ForwardContext, prefix: string, kind: 'weight' | 'bias'): Value {
  return concat(ctx.g, ['query', 'key', 'value'].map((n) => param(ctx, `${prefix}.${n}.${kind}`)), 0);
}

/** One post-LN encoder layer: attention -> add & norm -> GELU MLP -> add & norm. */
export function bertLayer(ctx: ForwardContext, cfg: BertConfig, x: Value, maskAdd: Value, layer: number): Value {
  const { g } = ctx;
  const p = `bert.encoder.layer.${layer}`;
  const context = bertSelfAttention(ctx, cfg, x, maskAdd, `${p}.attention.self`);
  const attnOut = dropout(g, dense(ctx, context, `${p}.attention.output.dense`), cfg.hiddenDropoutProb, ctx.dropout);
  const h1 = norm(ctx, cfg, add(g, attnOut, x), `${p}.attention.output.LayerNorm`);
  const inter = gelu(g, dense(ctx, h1, `${p}.intermediate.dense`));
  const out = dropout(g, dense(ctx, inter, `${p}.output.dense`), cfg.hiddenDropoutProb, ctx.dropout);
  return norm(ctx, cfg, add(g, out, h1), `${p}.output.LayerNorm`);
}

/** Pooler (tanh dense on the first token) -> dropout -> classifier. */
export function bertClassifierHead(ctx: ForwardContext, cfg: BertConfig, hidden: Value): Value {
  const { g } = ctx;
  const pooled = tanh(g, dense(ctx, selectIndex(g, hidden, 1, 0), 'bert.pooler.dense'));
  return dense(ctx, dropout(g, pooled, classifierDropout(cfg), ctx.dropout), 'classifier');
}

export function bertFamily(cfg: BertConfig, options: { fusedQkv?: boolean } = {}): EncoderFamily {
  return {
    paramSpecs: (numLabels) => bertClassifierParamSpecs(cfg, numLabels),
    logits(outer, inputs) {
      const ctx: ForwardContext = { ...outer, fusedQkv: options.fusedQkv ?? outer.fusedQkv };
      const maskAdd = extendedAttentionMask(ctx.g, inputs.attentionMask);
      let x = bertEmbeddings(ctx, cfg, inputs);
      for (let l = 0; l < cfg.numHiddenLayers; l++) x = bertLayer(ctx, cfg, x, maskAdd, l);
      return bertClassifierHead(ctx, cfg, x);
    },
  };
}

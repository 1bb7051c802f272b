/**
 * DistilBertForSequenceClassification as graph ops, with HF semantics: word + position embeddings (no token types)
 * -> LayerNorm -> dropout; layers of attention (q_lin/k_lin/v_lin/out_lin, no dropout after out_lin) -> sa_layer_norm
 * -> lin1 -> GELU -> lin2 -> dropout -> output_layer_norm; head: pre_classifier -> ReLU -> dropout -> classifier on
 * the first token (no pooler).
 */
import { Graph, Value } from '../graph/graph';
import { dropout } from '../graph/ops/dropout';
import { add } from '../graph/ops/elementwise';
import { embedding } from '../graph/ops/embedding';
import { gelu } from '../graph/ops/gelu';
import { selectIndex } from '../graph/ops/shape';
import { binary, cast, unary } from '../graph/raw';
import {
  EncoderFamily,
  EncoderInputs,
  ForwardContext,
  dense,
  extendedAttentionMask,
  norm,
  param,
  rangePositionIds,
  selfAttention,
} from './bert';
import { BertConfig, classifierDropout } from './config';
import { classifierParamSpecs, wordEmbeddingPaddingIdx, wordEmbeddingsName } from './params';

/** y = max(x, 0);  dx = dy where x > 0, else 0. */
export function relu(g: Graph, x: Value): Value {
  const y = unary(g, 'Relu', x);
  g.record([x], [y], ([dy]) => {
    const positive = g.node1('Greater', [x, g.constFloat(0)], { dtype: 'bool', shape: x.shape });
    return [binary(g, 'Mul', dy!, cast(g, positive, 'float32'))];
  });
  return y;
}

/** The final hidden states [batch, seq, dim] of DistilBERT. Token type ids are ignored, as DistilBERT has none. */
export function distilbertEncoder(ctx: ForwardContext, cfg: BertConfig, inputs: EncoderInputs): Value {
  const { g } = ctx;
  const maskAdd = extendedAttentionMask(g, inputs.attentionMask);
  const words =
    inputs.wordEmbeddings ??
    embedding(g, param(ctx, wordEmbeddingsName(cfg)), inputs.inputIds, wordEmbeddingPaddingIdx(cfg));
  const positions = embedding(
    g,
    param(ctx, 'distilbert.embeddings.position_embeddings.weight'),
    rangePositionIds(g, inputs.inputIds),
  );
  let x = dropout(
    g,
    norm(ctx, cfg, add(g, words, positions), 'distilbert.embeddings.LayerNorm'),
    cfg.hiddenDropoutProb,
    ctx.dropout,
  );
  for (let l = 0; l < cfg.numHiddenLayers; l++) {
    const p = `distilbert.transformer.layer.${l}`;
    const a = `${p}.attention`;
    const context = selfAttention(ctx, cfg, x, maskAdd, [`${a}.q_lin`, `${a}.k_lin`, `${a}.v_lin`]);
    const h1 = norm(ctx, cfg, add(g, dense(ctx, context, `${a}.out_lin`), x), `${p}.sa_layer_norm`);
    const ffn = dropout(
      g,
      dense(ctx, gelu(g, dense(ctx, h1, `${p}.ffn.lin1`)), `${p}.ffn.lin2`),
      cfg.hiddenDropoutProb,
      ctx.dropout,
    );
    x = norm(ctx, cfg, add(g, ffn, h1), `${p}.output_layer_norm`);
  }
  return x;
}

export function distilbertFamily(cfg: BertConfig, options: { fusedQkv?: boolean } = {}): EncoderFamily {
  return {
    paramSpecs: (numLabels) => classifierParamSpecs(cfg, numLabels),
    logits(outer, inputs) {
      const ctx: ForwardContext = { ...outer, fusedQkv: options.fusedQkv ?? outer.fusedQkv };
      const { g } = ctx;
      const hidden = distilbertEncoder(ctx, cfg, inputs);
      const pooled = relu(g, dense(ctx, selectIndex(g, hidden, 1, 0), 'pre_classifier'));
      return dense(ctx, dropout(g, pooled, classifierDropout(cfg), ctx.dropout), 'classifier');
    },
  };
}

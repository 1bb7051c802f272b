/**
 * BertForMaskedLM as graph ops, with HF semantics: the BERT encoder, then cls.predictions.transform (dense -> GELU ->
 * LayerNorm) and a decoder tied to the word embeddings with its own bias (cls.predictions.bias). Logits come for every
 * position ([batch*seq, vocab]); the loss counts only chosen positions (label != IGNORE_LABEL, torch's ignore_index).
 */
import { ModelError } from '../errors';
import { Graph, Value } from '../graph/graph';
import { gelu } from '../graph/ops/gelu';
import { linear } from '../graph/ops/linear';
import { reshape } from '../graph/ops/shape';
import { dimProduct } from '../graph/dims';
import { binary, cast, reduce, reshapeTo, unary } from '../graph/raw';
import { EncoderFamily, bertEncoder, dense, norm, param } from '../model/bert';
import { BertConfig } from '../model/config';
import { ParamSpec, encoderParamSpecs } from '../model/params';

/** Label of positions that are not predicted (torch CrossEntropyLoss ignore_index). */
export const IGNORE_LABEL = -100;

export const MLM_HEAD = {
  transformDense: 'cls.predictions.transform.dense',
  transformNorm: 'cls.predictions.transform.LayerNorm',
  bias: 'cls.predictions.bias',
} as const;

export function assertPretrainable(cfg: BertConfig): void {
  if (cfg.modelType !== 'bert') {
    throw new ModelError(`Masked-LM pre-training supports BERT-architecture models; this one is model_type '${cfg.modelType}'.`, {
      code: 'MODEL_MLM_FAMILY',
      fix: 'Pre-train a BERT model (e.g. bert-base-uncased, a MiniLM, or random:tiny); the other families can be fine-tuned.',
    });
  }
}

/** The parameters of BertForMaskedLM (HF names; the tied decoder weight is the word embedding table). */
export function mlmParamSpecs(cfg: BertConfig): ParamSpec[] {
  assertPretrainable(cfg);
  const H = cfg.hiddenSize;
  return [
    ...encoderParamSpecs(cfg),
    { name: `${MLM_HEAD.transformDense}.weight`, shape: [H, H], decay: true, init: 'normal' },
    { name: `${MLM_HEAD.transformDense}.bias`, shape: [H], decay: false, init: 'zeros' },
    { name: `${MLM_HEAD.transformNorm}.weight`, shape: [H], decay: false, init: 'ones' },
    { name: `${MLM_HEAD.transformNorm}.bias`, shape: [H], decay: false, init: 'zeros' },
    { name: MLM_HEAD.bias, shape: [cfg.vocabSize], decay: false, init: 'zeros' },
  ];
}

/** The MLM model as an EncoderFamily whose "logits" are the vocabulary scores of every position, [batch*seq, vocab]. */
export function mlmFamily(cfg: BertConfig): EncoderFamily {
  assertPretrainable(cfg);
  return {
    paramSpecs: () => mlmParamSpecs(cfg),
    logits(ctx, inputs) {
      const { g } = ctx;
      const hidden = bertEncoder(ctx, cfg, inputs);
      const h = norm(ctx, cfg, gelu(g, dense(ctx, hidden, MLM_HEAD.transformDense)), MLM_HEAD.transformNorm);
      const scores = linear(g, h, param(ctx, 'bert.embeddings.word_embeddings.weight'), param(ctx, MLM_HEAD.bias));
      const [B, S] = hidden.shape;
      return reshape(g, scores, [dimProduct([B, S]), cfg.vocabSize]);
    },
  };
}

/**
 * Mean cross-entropy over the positions whose label is not IGNORE_LABEL (torch: ignore_index=-100, reduction mean).
 * `labels` is [batch, seq]. Backward: (softmax - onehot) * valid / count(valid).
 */
export function maskedLmLoss(g: Graph, logits: Value, labels: Value): Value {
  const [N, C] = logits.shape;
  const flat = reshapeTo(g, labels, [N]);
  const [loss, logProb] = g.node('SoftmaxCrossEntropyLoss', [logits, flat], [{ dtype: 'float32', shape: [] }, { dtype: 'float32', shape: [N, C] }], {
    reduction: 'mean',
    ignore_index: IGNORE_LABEL,
  });
  g.record([logits, flat], [loss], ([dLoss]) => {
    const isIgnored = g.node1('Equal', [flat, g.constInt64([IGNORE_LABEL], [])], { dtype: 'bool', shape: [N] });
    const valid = g.node1('Not', [isIgnored], { dtype: 'bool', shape: [N] });
    const validF = cast(g, valid, 'float32');
    const safe = binary(g, 'Mul', flat, cast(g, valid, 'int64'));
    const onehot = g.node1('OneHot', [safe, g.constInt64([C as number], []), g.constFloat([0, 1])], { dtype: 'float32', shape: [N, C] }, { axis: -1 });
    const weight = reshapeTo(g, binary(g, 'Div', validF, reduce(g, 'ReduceSum', validF, [0], false)), [N, 1]);
    const dLogits = binary(g, 'Mul', binary(g, 'Sub', unary(g, 'Exp', logProb), onehot), weight);
    return [binary(g, 'Mul', dLogits, dLoss!), null];
  });
  return loss;
}

/**
 * <Family>ForMaskedLM as graph ops, with HF semantics: the family's encoder, then its MLM head: a dense layer (hidden
 * -> embedding width), GELU, LayerNorm, and a decoder tied to the word embeddings with its own bias. The heads differ
 * only in their tensor names (MLM_HEADS).
 *
 * The head runs only where it is needed: given the positions that carry a label (`EncoderInputs.positions`, flattened
 * over batch x seq), it gathers those rows of the final hidden states and scores them alone ([positions, vocab]), so the
 * transform and the 30k-wide tied decoder, forward and backward, cost ~15% of scoring every position. The loss over
 * those rows is torch's full-vocabulary MLM loss (cross-entropy with ignore_index -100, mean over the labelled tokens):
 * unlabelled positions contribute nothing to it, so leaving them out changes neither the loss nor any gradient.
 * Without positions every position is scored ([batch*seq, vocab]), and the loss skips label IGNORE_LABEL.
 */
import { ModelError } from '../errors';
import { Graph, Value } from '../graph/graph';
import { gelu } from '../graph/ops/gelu';
import { linear } from '../graph/ops/linear';
import { gatherRows, reshape } from '../graph/ops/shape';
import { dimProduct } from '../graph/dims';
import { binary, cast, reduce, reshapeTo, unary } from '../graph/raw';
import { EncoderFamily, dense, norm, param } from './bert';
import { BertConfig, hfClassifierIdentity } from './config';
import { encoderHiddenStates } from './families';
import { ParamSpec, encoderParamSpecs, wordEmbeddingsName } from './params';

/** Label of positions that are not predicted (torch CrossEntropyLoss ignore_index). */
export const IGNORE_LABEL = -100;

/** The tensor names of one family's masked-LM head (HF's), and the class a saved model declares. */
export interface MlmHead {
  /** config.json `architectures` of a saved model. */
  architecture: string;
  /** hidden -> embedding width linear (then GELU). */
  transformDense: string;
  /** LayerNorm over the embedding width (eps: layer_norm_eps; DistilBERT's fixed 1e-12). */
  transformNorm: string;
  /** The decoder's own bias [vocab]. */
  bias: string;
  /** The decoder's weight: tied to the word embeddings, so never a parameter and never written; ignored when a checkpoint has it. */
  tiedDecoder: string;
  /** Checkpoint names that hold one of our tensors under another name (RoBERTa's lm_head.decoder.bias is lm_head.bias). */
  aliases: Readonly<Record<string, string>>;
}

const ROBERTA_HEAD: MlmHead = {
  architecture: 'RobertaForMaskedLM',
  transformDense: 'lm_head.dense',
  transformNorm: 'lm_head.layer_norm',
  bias: 'lm_head.bias',
  tiedDecoder: 'lm_head.decoder.weight',
  aliases: { 'lm_head.decoder.bias': 'lm_head.bias' },
};

/** Keyed by HF model_type (xlm-roberta: the RoBERTa head under its own class name). */
export const MLM_HEADS: Readonly<Record<string, MlmHead>> = {
  bert: {
    architecture: 'BertForMaskedLM',
    transformDense: 'cls.predictions.transform.dense',
    transformNorm: 'cls.predictions.transform.LayerNorm',
    bias: 'cls.predictions.bias',
    tiedDecoder: 'cls.predictions.decoder.weight',
    aliases: { 'cls.predictions.decoder.bias': 'cls.predictions.bias' },
  },
  roberta: ROBERTA_HEAD,
  'xlm-roberta': { ...ROBERTA_HEAD, architecture: 'XLMRobertaForMaskedLM' },
  distilbert: {
    architecture: 'DistilBertForMaskedLM',
    transformDense: 'vocab_transform',
    transformNorm: 'vocab_layer_norm',
    bias: 'vocab_projector.bias',
    tiedDecoder: 'vocab_projector.weight',
    aliases: {},
  },
  // ElectraForMaskedLM is the generator: its head narrows hidden_size to embedding_size, the width of the tied table.
  electra: {
    architecture: 'ElectraForMaskedLM',
    transformDense: 'generator_predictions.dense',
    transformNorm: 'generator_predictions.LayerNorm',
    bias: 'generator_lm_head.bias',
    tiedDecoder: 'generator_lm_head.weight',
    aliases: {},
  },
};

/** The masked-LM head of the config's model type; a ModelError listing the supported ones for any other. */
export function mlmHead(cfg: BertConfig): MlmHead {
  const { modelType } = hfClassifierIdentity(cfg);
  const head = MLM_HEADS[modelType];
  if (!head) {
    throw new ModelError(
      `Masked-LM pre-training has no head for model_type '${modelType}'; supported: ${Object.keys(MLM_HEADS).join(', ')}.`,
      {
        code: 'MODEL_MLM_FAMILY',
        fix: 'Pre-train a model of a supported family (e.g. bert-base-uncased, distilbert-base-uncased, roberta-base, an ELECTRA, or random:tiny).',
      },
    );
  }
  return head;
}

/** The name of the family's word embedding table, which the decoder's weight is tied to. */
export { wordEmbeddingsName };

/** The head's parameters alone (HF names and order), as from_pretrained initialises them when a checkpoint lacks them. */
export function mlmHeadParamSpecs(cfg: BertConfig): ParamSpec[] {
  const head = mlmHead(cfg);
  const E = cfg.embeddingSize;
  return [
    { name: `${head.transformDense}.weight`, shape: [E, cfg.hiddenSize], decay: true, init: 'normal' },
    { name: `${head.transformDense}.bias`, shape: [E], decay: false, init: 'zeros' },
    { name: `${head.transformNorm}.weight`, shape: [E], decay: false, init: 'ones' },
    { name: `${head.transformNorm}.bias`, shape: [E], decay: false, init: 'zeros' },
    { name: head.bias, shape: [cfg.vocabSize], decay: false, init: 'zeros' },
  ];
}

/** The parameters of <Family>ForMaskedLM (HF names; the tied decoder weight is the word embedding table). */
export function mlmParamSpecs(cfg: BertConfig): ParamSpec[] {
  return [...encoderParamSpecs(cfg), ...mlmHeadParamSpecs(cfg)];
}

/**
 * The MLM model as an EncoderFamily whose "logits" are vocabulary scores: [n, vocab] for the n rows of
 * `inputs.positions` (the masked positions), else [batch*seq, vocab] for every position.
 */
export function mlmFamily(cfg: BertConfig): EncoderFamily {
  const head = mlmHead(cfg);
  return {
    paramSpecs: () => mlmParamSpecs(cfg),
    logits(ctx, inputs) {
      const { g } = ctx;
      const hidden = encoderHiddenStates(ctx, cfg, inputs);
      const [B, S, H] = hidden.shape;
      const rows = reshape(g, hidden, [dimProduct([B, S]), H]);
      const x = inputs.positions ? gatherRows(g, rows, inputs.positions) : rows;
      const h = norm(ctx, cfg, gelu(g, dense(ctx, x, head.transformDense)), head.transformNorm);
      return linear(g, h, param(ctx, wordEmbeddingsName(cfg)), param(ctx, head.bias));
    },
  };
}

/** Labels [batch, seq] at the flattened positions `positions` ([n]): the targets of the rows the head scored. */
export function labelsAt(g: Graph, labels: Value, positions: Value): Value {
  const flat = reshapeTo(g, labels, [dimProduct(labels.shape)]);
  return g.node1('Gather', [flat, positions], { dtype: 'int64', shape: positions.shape }, { axis: 0 });
}

/** The positions (flattened over batch x seq) whose label is not IGNORE_LABEL, in order: what the head is scored at. */
export function labelledPositions(labels: BigInt64Array): BigInt64Array {
  let n = 0;
  for (const y of labels) if (y !== BigInt(IGNORE_LABEL)) n++;
  const out = new BigInt64Array(n);
  let k = 0;
  labels.forEach((y, i) => {
    if (y !== BigInt(IGNORE_LABEL)) out[k++] = BigInt(i);
  });
  return out;
}

/**
 * Mean cross-entropy over the rows whose label is not IGNORE_LABEL (torch: ignore_index=-100, reduction mean).
 * `labels` has one label per row of `logits` ([batch, seq] for every position, [n] for gathered positions).
 * Backward: (softmax - onehot) * valid / count(valid) * dLoss, in three passes over [rows, vocab]: exp(log-softmax)
 * times the per-row factor, then the factor subtracted at each row's label (ScatterElements 'add', one element per
 * row) instead of building a one-hot matrix.
 */
export function maskedLmLoss(g: Graph, logits: Value, labels: Value): Value {
  const [N, C] = logits.shape;
  const flat = reshapeTo(g, labels, [N]);
  const [loss, logProb] = g.node(
    'SoftmaxCrossEntropyLoss',
    [logits, flat],
    [
      { dtype: 'float32', shape: [] },
      { dtype: 'float32', shape: [N, C] },
    ],
    {
      reduction: 'mean',
      ignore_index: IGNORE_LABEL,
    },
  );
  g.record([logits, flat], [loss], ([dLoss]) => {
    const isIgnored = g.node1('Equal', [flat, g.constInt64([IGNORE_LABEL], [])], { dtype: 'bool', shape: [N] });
    const valid = g.node1('Not', [isIgnored], { dtype: 'bool', shape: [N] });
    const validF = cast(g, valid, 'float32');
    // Ignored rows get factor 0 and "label" 0: their gradient row is 0 * softmax, minus 0 at column 0.
    const safe = reshapeTo(g, binary(g, 'Mul', flat, cast(g, valid, 'int64')), [N, 1]);
    const factor = reshapeTo(
      g,
      binary(g, 'Mul', binary(g, 'Div', validF, reduce(g, 'ReduceSum', validF, [0], false)), dLoss!),
      [N, 1],
    );
    const scaled = binary(g, 'Mul', unary(g, 'Exp', logProb), factor);
    const minusFactor = unary(g, 'Neg', factor);
    return [
      g.node1(
        'ScatterElements',
        [scaled, safe, minusFactor],
        { dtype: 'float32', shape: [N, C] },
        { axis: 1, reduction: 'add' },
      ),
      null,
    ];
  });
  return loss;
}

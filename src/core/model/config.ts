/** BERT hyper-parameters, read from a Hugging Face config.json (or a named preset for models trained from scratch). */
import { ModelError } from '../errors';

export interface BertConfig {
  modelType: 'bert';
  vocabSize: number;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  intermediateSize: number;
  maxPositionEmbeddings: number;
  typeVocabSize: number;
  hiddenDropoutProb: number;
  attentionProbsDropoutProb: number;
  layerNormEps: number;
  initializerRange: number;
  padTokenId: number;
  /** The whole config.json, kept so export can write it back with additions. */
  raw: Record<string, unknown>;
}

/** Defaults of transformers.BertConfig, used for keys a config.json leaves out (as HF does). */
const HF_DEFAULTS = {
  vocab_size: 30522,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  layer_norm_eps: 1e-12,
  initializer_range: 0.02,
  pad_token_id: 0,
} as const;

type NumericKey = keyof typeof HF_DEFAULTS;

export function parseBertConfig(json: unknown, file?: string): BertConfig {
  const where = file ?? 'config.json';
  const fail = (message: string, fix: string): never => {
    throw new ModelError(message, { file, fix, code: 'MODEL_BAD_CONFIG' });
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return fail(`${where} is not a JSON object.`, 'Point to the model folder that contains the config.json of a BERT model.');
  }
  const raw = json as Record<string, unknown>;
  const modelType = raw.model_type ?? 'bert';
  if (modelType !== 'bert') {
    fail(`model_type is '${String(modelType)}'; only 'bert' models are supported.`, 'Choose a BERT model (model_type "bert"), e.g. bert-base-uncased.');
  }
  const act = raw.hidden_act ?? 'gelu';
  if (act !== 'gelu') fail(`hidden_act '${String(act)}' is not supported (only exact 'gelu').`, 'Use a BERT model with hidden_act "gelu".');
  const pos = raw.position_embedding_type ?? 'absolute';
  if (pos !== 'absolute') fail(`position_embedding_type '${String(pos)}' is not supported.`, 'Use a BERT model with absolute position embeddings.');

  const num = (key: NumericKey, kind: 'count' | 'prob' | 'positive' | 'index'): number => {
    const v = raw[key] ?? HF_DEFAULTS[key];
    const ok =
      typeof v === 'number' &&
      Number.isFinite(v) &&
      (kind === 'count' ? Number.isInteger(v) && v > 0 : kind === 'index' ? Number.isInteger(v) && v >= 0 : kind === 'prob' ? v >= 0 && v < 1 : v > 0);
    if (!ok) {
      const want = { count: 'a positive integer', index: 'a non-negative integer', prob: 'a number in [0, 1)', positive: 'a positive number' }[kind];
      fail(`"${key}" in ${where} is ${JSON.stringify(v)}; it must be ${want}.`, `Fix "${key}" in ${where}.`);
    }
    return v as number;
  };
  const cfg: BertConfig = {
    modelType: 'bert',
    vocabSize: num('vocab_size', 'count'),
    hiddenSize: num('hidden_size', 'count'),
    numHiddenLayers: num('num_hidden_layers', 'count'),
    numAttentionHeads: num('num_attention_heads', 'count'),
    intermediateSize: num('intermediate_size', 'count'),
    maxPositionEmbeddings: num('max_position_embeddings', 'count'),
    typeVocabSize: num('type_vocab_size', 'count'),
    hiddenDropoutProb: num('hidden_dropout_prob', 'prob'),
    attentionProbsDropoutProb: num('attention_probs_dropout_prob', 'prob'),
    layerNormEps: num('layer_norm_eps', 'positive'),
    initializerRange: num('initializer_range', 'positive'),
    padTokenId: num('pad_token_id', 'index'),
    raw: { ...raw },
  };
  if (cfg.hiddenSize % cfg.numAttentionHeads !== 0) {
    fail(
      `hidden_size ${cfg.hiddenSize} is not a multiple of num_attention_heads ${cfg.numAttentionHeads}.`,
      `Fix "hidden_size" or "num_attention_heads" in ${where}.`,
    );
  }
  return cfg;
}

/** Dropout before the classifier: HF's classifier_dropout when set, else hidden_dropout_prob. */
export function classifierDropout(cfg: BertConfig): number {
  const v = cfg.raw.classifier_dropout;
  return typeof v === 'number' ? v : cfg.hiddenDropoutProb;
}

const PRESETS = {
  tiny: { num_hidden_layers: 2, hidden_size: 64, num_attention_heads: 2, intermediate_size: 256 },
  mini: { num_hidden_layers: 4, hidden_size: 256, num_attention_heads: 4, intermediate_size: 1024 },
  small: { num_hidden_layers: 4, hidden_size: 512, num_attention_heads: 8, intermediate_size: 2048 },
  base: { num_hidden_layers: 12, hidden_size: 768, num_attention_heads: 12, intermediate_size: 3072 },
} as const;

/** A randomly initialised model's config (vocab 30522, 512 positions, 2 token types: bert-base-uncased's tokenizer). */
export function presetConfig(size: 'tiny' | 'mini' | 'small' | 'base'): BertConfig {
  return parseBertConfig({
    architectures: ['BertForSequenceClassification'],
    model_type: 'bert',
    hidden_act: 'gelu',
    ...HF_DEFAULTS,
    ...PRESETS[size],
  });
}

/**
 * Encoder hyper-parameters read from a Hugging Face config.json (or a named preset for models trained from scratch).
 * The model family is chosen from `model_type` (else `architectures`); each family's own config keys (DistilBERT's
 * `dim`, `n_layers` …) are read into the one shape below, and written back under the same keys on export.
 */
import { ModelError } from '../errors';
import { catalogFamilyOf, supportedFamilyNames } from './catalog';
import { debertaV2Settings } from './deberta-v2-config';
import { modernBertSettings } from './modernbert-config';

/** The encoder families the graph code implements. xlm-roberta is the roberta family with another name. */
export type ModelFamily = 'bert' | 'distilbert' | 'roberta' | 'electra' | 'gpt2' | 'modernbert' | 'deberta-v2';

/** model_type → family and the HF class a saved classifier declares. */
const MODEL_TYPES: Record<string, { family: ModelFamily; architecture: string }> = {
  bert: { family: 'bert', architecture: 'BertForSequenceClassification' },
  distilbert: { family: 'distilbert', architecture: 'DistilBertForSequenceClassification' },
  roberta: { family: 'roberta', architecture: 'RobertaForSequenceClassification' },
  'xlm-roberta': { family: 'roberta', architecture: 'XLMRobertaForSequenceClassification' },
  electra: { family: 'electra', architecture: 'ElectraForSequenceClassification' },
  gpt2: { family: 'gpt2', architecture: 'GPT2ForSequenceClassification' },
  modernbert: { family: 'modernbert', architecture: 'ModernBertForSequenceClassification' },
  'deberta-v2': { family: 'deberta-v2', architecture: 'DebertaV2ForSequenceClassification' },
};

/** Architecture class-name prefixes, for configs without model_type (longest first: XLMRoberta before Roberta). */
const ARCHITECTURE_PREFIXES: [string, string][] = [
  ['XLMRoberta', 'xlm-roberta'],
  ['DistilBert', 'distilbert'],
  ['Roberta', 'roberta'],
  ['Electra', 'electra'],
  ['Bert', 'bert'],
  ['GPT2', 'gpt2'],
  ['ModernBert', 'modernbert'],
  ['DebertaV2', 'deberta-v2'],
];

export const SUPPORTED_MODEL_TYPES: readonly string[] = Object.keys(MODEL_TYPES);

export interface BertConfig {
  modelType: ModelFamily;
  vocabSize: number;
  /** Width of the token embeddings: hidden_size, except ELECTRA's embedding_size (then projected to hidden_size). */
  embeddingSize: number;
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

type Field = Exclude<keyof BertConfig, 'modelType' | 'raw'>;
type Kind = 'count' | 'prob' | 'positive' | 'index';

const KINDS: Record<Field, Kind> = {
  vocabSize: 'count',
  embeddingSize: 'count',
  hiddenSize: 'count',
  numHiddenLayers: 'count',
  numAttentionHeads: 'count',
  intermediateSize: 'count',
  maxPositionEmbeddings: 'count',
  typeVocabSize: 'count',
  hiddenDropoutProb: 'prob',
  attentionProbsDropoutProb: 'prob',
  layerNormEps: 'positive',
  initializerRange: 'positive',
  padTokenId: 'index',
};

const BERT_KEYS: Partial<Record<Field, string>> = {
  vocabSize: 'vocab_size',
  hiddenSize: 'hidden_size',
  numHiddenLayers: 'num_hidden_layers',
  numAttentionHeads: 'num_attention_heads',
  intermediateSize: 'intermediate_size',
  maxPositionEmbeddings: 'max_position_embeddings',
  typeVocabSize: 'type_vocab_size',
  hiddenDropoutProb: 'hidden_dropout_prob',
  attentionProbsDropoutProb: 'attention_probs_dropout_prob',
  layerNormEps: 'layer_norm_eps',
  initializerRange: 'initializer_range',
  padTokenId: 'pad_token_id',
};

/** Defaults of transformers.BertConfig, used for keys a config.json leaves out (as HF does). */
const BERT_DEFAULTS: Record<Field, number> = {
  vocabSize: 30522,
  embeddingSize: 768,
  hiddenSize: 768,
  numHiddenLayers: 12,
  numAttentionHeads: 12,
  intermediateSize: 3072,
  maxPositionEmbeddings: 512,
  typeVocabSize: 2,
  hiddenDropoutProb: 0.1,
  attentionProbsDropoutProb: 0.1,
  layerNormEps: 1e-12,
  initializerRange: 0.02,
  padTokenId: 0,
};

interface Schema {
  /** Config key per field; a field without a key is fixed at its default (or tied to hidden_size for embeddingSize). */
  keys: Partial<Record<Field, string>>;
  defaults: Record<Field, number>;
  /** The key naming the activation. */
  activationKey: string;
  /** The activations accepted under that key; the first is the default when the key is absent. */
  activations: readonly string[];
}

/** GPT-2's tanh approximations of GELU (transformers' gelu_new, gelu_pytorch_tanh and gelu_fast are one formula). */
const GELU_TANH = ['gelu_new', 'gelu_pytorch_tanh', 'gelu_fast'];

/** Per family: HF's config keys and the defaults of its config class. */
const SCHEMAS: Record<ModelFamily, Schema> = {
  bert: { keys: BERT_KEYS, defaults: BERT_DEFAULTS, activationKey: 'hidden_act', activations: ['gelu'] },
  roberta: {
    keys: BERT_KEYS,
    defaults: { ...BERT_DEFAULTS, vocabSize: 50265, padTokenId: 1 },
    activationKey: 'hidden_act',
    activations: ['gelu'],
  },
  electra: {
    keys: { ...BERT_KEYS, embeddingSize: 'embedding_size' },
    defaults: { ...BERT_DEFAULTS, embeddingSize: 128, hiddenSize: 256, numAttentionHeads: 4, intermediateSize: 1024 },
    activationKey: 'hidden_act',
    activations: ['gelu'],
  },
  distilbert: {
    // DistilBERT has no token types (fixed at 1 unused row, never a parameter) and a fixed LayerNorm eps of 1e-12.
    keys: {
      vocabSize: 'vocab_size',
      hiddenSize: 'dim',
      numHiddenLayers: 'n_layers',
      numAttentionHeads: 'n_heads',
      intermediateSize: 'hidden_dim',
      maxPositionEmbeddings: 'max_position_embeddings',
      hiddenDropoutProb: 'dropout',
      attentionProbsDropoutProb: 'attention_dropout',
      initializerRange: 'initializer_range',
      padTokenId: 'pad_token_id',
    },
    defaults: { ...BERT_DEFAULTS, numHiddenLayers: 6, typeVocabSize: 1 },
    activationKey: 'activation',
    activations: ['gelu'],
  },
  // GPT-2 has no token types (typeVocabSize fixed at 1, never a parameter); n_inner null means 4 * n_embd, and a
  // missing pad_token_id becomes eos_token_id (see gpt2PadTokenId).
  gpt2: {
    keys: {
      vocabSize: 'vocab_size',
      hiddenSize: 'n_embd',
      numHiddenLayers: 'n_layer',
      numAttentionHeads: 'n_head',
      intermediateSize: 'n_inner',
      maxPositionEmbeddings: 'n_positions',
      hiddenDropoutProb: 'resid_pdrop',
      attentionProbsDropoutProb: 'attn_pdrop',
      layerNormEps: 'layer_norm_epsilon',
      initializerRange: 'initializer_range',
      padTokenId: 'pad_token_id',
    },
    defaults: {
      ...BERT_DEFAULTS,
      vocabSize: 50257,
      maxPositionEmbeddings: 1024,
      typeVocabSize: 1,
      layerNormEps: 1e-5,
      padTokenId: 50256,
    },
    activationKey: 'activation_function',
    activations: [...GELU_TANH, 'gelu'],
  },
  // ModernBERT has no token types (typeVocabSize fixed at 1, never a parameter); its other keys (rope, attention
  // window, biases, pooling) are read by modernbert-config.ts.
  modernbert: {
    keys: {
      vocabSize: 'vocab_size',
      hiddenSize: 'hidden_size',
      numHiddenLayers: 'num_hidden_layers',
      numAttentionHeads: 'num_attention_heads',
      intermediateSize: 'intermediate_size',
      maxPositionEmbeddings: 'max_position_embeddings',
      hiddenDropoutProb: 'mlp_dropout',
      attentionProbsDropoutProb: 'attention_dropout',
      layerNormEps: 'norm_eps',
      initializerRange: 'initializer_range',
      padTokenId: 'pad_token_id',
    },
    defaults: {
      ...BERT_DEFAULTS,
      vocabSize: 50368,
      intermediateSize: 1152,
      numHiddenLayers: 22,
      maxPositionEmbeddings: 8192,
      typeVocabSize: 1,
      hiddenDropoutProb: 0,
      attentionProbsDropoutProb: 0,
      layerNormEps: 1e-5,
      padTokenId: 50283,
    },
    activationKey: 'hidden_activation',
    activations: ['gelu'],
  },
  // DeBERTa-v3 has no token types (type_vocab_size 0: typeVocabSize fixed at 1, never a parameter) and no absolute
  // positions; its relative-attention keys are read by deberta-v2-config.ts.
  'deberta-v2': {
    keys: Object.fromEntries(Object.entries(BERT_KEYS).filter(([field]) => field !== 'typeVocabSize')),
    defaults: { ...BERT_DEFAULTS, vocabSize: 128100, typeVocabSize: 1, layerNormEps: 1e-7 },
    activationKey: 'hidden_act',
    activations: ['gelu'],
  },
};

/**
 * GPT-2 configs ship without pad_token_id, and transformers' GPT2ForSequenceClassification then refuses batches of
 * more than one row. As the fine-tuning guides do (`model.config.pad_token_id = tokenizer.eos_token_id`), we pad with
 * eos_token_id (50256 in GPT-2's own config) and write it into the saved config.json, so transformers pools the same
 * last non-padding token we trained on.
 */
function gpt2PadTokenId(raw: Record<string, unknown>): unknown {
  return raw.pad_token_id ?? raw.eos_token_id ?? SCHEMAS.gpt2.defaults.padTokenId;
}

/**
 * GPT-2 pools the last token whose id is not pad_token_id, so its batches must be padded with exactly that id: a
 * ModelError when the tokenizer pads with another (`tokenizerPadId`), naming both and the fix.
 */
export function checkPaddingMatchesModel(cfg: BertConfig, tokenizerPadId: number, configFile: string): void {
  if (cfg.modelType !== 'gpt2' || tokenizerPadId === cfg.padTokenId) return;
  throw new ModelError(
    `The tokenizer pads with token ${tokenizerPadId}, but the model's pad_token_id is ${cfg.padTokenId}; GPT-2 classifies from the last token that is not padding, so they must agree.`,
    {
      file: configFile,
      code: 'MODEL_BAD_CONFIG',
      fix: `Set "pad_token_id": ${tokenizerPadId} in config.json (GPT-2 usually pads with its eos token), or give the tokenizer the model's pad token.`,
    },
  );
}

/** Whether the model's MLP uses GELU's tanh approximation (GPT-2's gelu_new) rather than exact GELU. */
export function usesTanhGelu(cfg: BertConfig): boolean {
  const act = cfg.raw[SCHEMAS[cfg.modelType].activationKey] ?? SCHEMAS[cfg.modelType].activations[0];
  return typeof act === 'string' && GELU_TANH.includes(act);
}

/** The model_type a config declares, or the one its architectures name; undefined when neither says. */
/** A config value as a message shows it: a string in single quotes, anything else as JSON. */
function quoted(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
}

function declaredModelType(raw: Record<string, unknown>): string | undefined {
  if (typeof raw.model_type === 'string') return raw.model_type;
  const arch: unknown = Array.isArray(raw.architectures) ? (raw.architectures as unknown[])[0] : undefined;
  if (typeof arch !== 'string') return undefined;
  return ARCHITECTURE_PREFIXES.find(([prefix]) => arch.startsWith(prefix))?.[1] ?? arch;
}

export function parseBertConfig(json: unknown, file?: string): BertConfig {
  const where = file ?? 'config.json';
  const fail = (message: string, fix: string): never => {
    throw new ModelError(message, { file, fix, code: 'MODEL_BAD_CONFIG' });
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return fail(
      `${where} is not a JSON object.`,
      'Point to the model folder that contains the config.json of a BERT-family model.',
    );
  }
  const raw = json as Record<string, unknown>;
  const modelType = declaredModelType(raw) ?? 'bert';
  const known = MODEL_TYPES[modelType];
  if (!known) {
    const family = catalogFamilyOf(modelType);
    const planned = family ? ` ${family.name} is not supported yet.` : '';
    return fail(
      `model_type '${modelType}' is not supported; supported: ${SUPPORTED_MODEL_TYPES.join(', ')} (the families ${supportedFamilyNames().join(', ')}; BERT-architecture checkpoints such as MiniLM declare model_type "bert").${planned}`,
      'Choose a model of a supported family (`bertft models` lists them with suggested Hub ids), e.g. bert-base-uncased, xlm-roberta-base or google/electra-small-discriminator.',
    );
  }
  const family = known.family;
  const schema = SCHEMAS[family];
  const act = raw[schema.activationKey] ?? schema.activations[0];
  if (typeof act !== 'string' || !schema.activations.includes(act))
    fail(
      `${schema.activationKey} ${quoted(act)} is not supported (only ${schema.activations.map((a) => `'${a}'`).join(', ')}).`,
      `Use a model with ${schema.activationKey} "${schema.activations[0]}".`,
    );
  if (family === 'gpt2') {
    if (raw.scale_attn_by_inverse_layer_idx === true || raw.scale_attn_weights === false) {
      fail(
        'scale_attn_by_inverse_layer_idx true or scale_attn_weights false is not supported (GPT-2 scales by 1/sqrt(head size)).',
        `Use a GPT-2 config with the standard attention scaling in ${where}.`,
      );
    }
  }
  // ModernBERT's rotary and DeBERTa's relative positions are not an embedding type; a config may still say 'absolute'.
  const pos =
    family === 'modernbert' || family === 'deberta-v2' ? 'absolute' : (raw.position_embedding_type ?? 'absolute');
  if (pos !== 'absolute')
    fail(`position_embedding_type ${quoted(pos)} is not supported.`, 'Use a model with absolute position embeddings.');
  if (family === 'distilbert' && raw.sinusoidal_pos_embds === true) {
    fail(
      'sinusoidal_pos_embds is true; only learned position embeddings are supported.',
      `Set "sinusoidal_pos_embds": false in ${where} or choose another model.`,
    );
  }

  const num = (field: Field): number => {
    const key = schema.keys[field];
    const fallback = field === 'embeddingSize' && key === undefined ? undefined : schema.defaults[field];
    if (key === undefined) return fallback as number;
    const v =
      field === 'padTokenId' && family === 'gpt2'
        ? gpt2PadTokenId(raw)
        : field === 'intermediateSize' && family === 'gpt2'
          ? (raw[key] ?? 4 * ((raw.n_embd as number | undefined) ?? schema.defaults.hiddenSize))
          : (raw[key] ?? fallback);
    const kind = KINDS[field];
    const ok =
      typeof v === 'number' &&
      Number.isFinite(v) &&
      (kind === 'count'
        ? Number.isInteger(v) && v > 0
        : kind === 'index'
          ? Number.isInteger(v) && v >= 0
          : kind === 'prob'
            ? v >= 0 && v < 1
            : v > 0);
    if (!ok) {
      const want = {
        count: 'a positive integer',
        index: 'a non-negative integer',
        prob: 'a number in [0, 1)',
        positive: 'a positive number',
      }[kind];
      fail(`"${key}" in ${where} is ${JSON.stringify(v)}; it must be ${want}.`, `Fix "${key}" in ${where}.`);
    }
    return v as number;
  };
  const hiddenSize = num('hiddenSize');
  const cfg: BertConfig = {
    modelType: family,
    vocabSize: num('vocabSize'),
    embeddingSize: schema.keys.embeddingSize ? num('embeddingSize') : hiddenSize,
    hiddenSize,
    numHiddenLayers: num('numHiddenLayers'),
    numAttentionHeads: num('numAttentionHeads'),
    intermediateSize: num('intermediateSize'),
    maxPositionEmbeddings: num('maxPositionEmbeddings'),
    typeVocabSize: num('typeVocabSize'),
    hiddenDropoutProb: num('hiddenDropoutProb'),
    attentionProbsDropoutProb: num('attentionProbsDropoutProb'),
    layerNormEps: num('layerNormEps'),
    initializerRange: num('initializerRange'),
    padTokenId: num('padTokenId'),
    raw: { ...raw },
  };
  if (cfg.hiddenSize % cfg.numAttentionHeads !== 0) {
    fail(
      `hidden size ${cfg.hiddenSize} is not a multiple of the attention head count ${cfg.numAttentionHeads}.`,
      `Fix the hidden size or head count in ${where}.`,
    );
  }
  if (family === 'gpt2' && cfg.padTokenId >= cfg.vocabSize) {
    fail(
      `pad_token_id ${cfg.padTokenId} is not a token of the vocabulary (vocab_size ${cfg.vocabSize}).`,
      `Set "pad_token_id" in ${where} to a token id below ${cfg.vocabSize}, e.g. eos_token_id.`,
    );
  }
  if (family === 'modernbert') modernBertSettings(raw, cfg.numHiddenLayers, file);
  if (family === 'deberta-v2') debertaV2Settings(raw, cfg, file);
  if (family === 'roberta' && cfg.maxPositionEmbeddings <= cfg.padTokenId + 1) {
    fail(
      `max_position_embeddings ${cfg.maxPositionEmbeddings} leaves no positions after the offset pad_token_id + 1.`,
      `Fix "max_position_embeddings" in ${where}.`,
    );
  }
  return cfg;
}

/** The config.json keys this config covers, under the family's HF names (they win over stale copies in `raw`). */
export function hfConfigValues(cfg: BertConfig): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [field, key] of Object.entries(SCHEMAS[cfg.modelType].keys) as [Field, string][]) out[key] = cfg[field];
  return out;
}

/** The HF sequence-classification class and model_type a saved classifier of this config declares. */
export function hfClassifierIdentity(cfg: BertConfig): {
  modelType: string;
  architecture: string;
  activationKey: string;
  activation: string;
} {
  const declared = declaredModelType(cfg.raw);
  const modelType =
    declared !== undefined && MODEL_TYPES[declared]?.family === cfg.modelType ? declared : cfg.modelType;
  return {
    modelType,
    architecture: MODEL_TYPES[modelType].architecture,
    activationKey: SCHEMAS[cfg.modelType].activationKey,
    activation: SCHEMAS[cfg.modelType].activations[0],
  };
}

/** Dropout before the classifier: DistilBERT's seq_classif_dropout; else HF's classifier_dropout when set, else hidden_dropout_prob. */
export function classifierDropout(cfg: BertConfig): number {
  if (cfg.modelType === 'gpt2') return 0; // GPT2ForSequenceClassification applies score to the hidden states directly
  const v = cfg.modelType === 'distilbert' ? (cfg.raw.seq_classif_dropout ?? 0.2) : cfg.raw.classifier_dropout;
  return typeof v === 'number' ? v : cfg.hiddenDropoutProb;
}

const PRESETS = {
  tiny: { num_hidden_layers: 2, hidden_size: 64, num_attention_heads: 2, intermediate_size: 256 },
  mini: { num_hidden_layers: 4, hidden_size: 256, num_attention_heads: 4, intermediate_size: 1024 },
  small: { num_hidden_layers: 4, hidden_size: 512, num_attention_heads: 8, intermediate_size: 2048 },
  base: { num_hidden_layers: 12, hidden_size: 768, num_attention_heads: 12, intermediate_size: 3072 },
} as const;

/**
 * The config of `random:<size>`, a randomly initialised model (vocab 30522, 512 positions, 2 token types:
 * bert-base-uncased's tokenizer); an unknown size is the user's to fix.
 */
export function presetConfig(size: string): BertConfig {
  if (!Object.hasOwn(PRESETS, size)) {
    throw new ModelError(`Unknown random model size "${size}".`, {
      code: 'MODEL_RANDOM_SIZE',
      fix: `Use random:${Object.keys(PRESETS).join(', random:')}.`,
    });
  }
  const defaults = Object.fromEntries(
    (Object.entries(BERT_KEYS) as [Field, string][]).map(([field, key]) => [key, BERT_DEFAULTS[field]]),
  );
  return parseBertConfig({
    architectures: ['BertForSequenceClassification'],
    model_type: 'bert',
    hidden_act: 'gelu',
    ...defaults,
    ...PRESETS[size as keyof typeof PRESETS],
  });
}

/** The longest input the position table allows: RoBERTa's positions start after padding_idx + 1. */
export function maxSequenceLength(cfg: BertConfig): number {
  return cfg.modelType === 'roberta' ? cfg.maxPositionEmbeddings - cfg.padTokenId - 1 : cfg.maxPositionEmbeddings;
}

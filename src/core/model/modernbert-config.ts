/**
 * ModernBERT's own config.json keys (beyond the sizes config.ts reads into BertConfig) and its parameter list, with
 * transformers' ModernBertConfig defaults. No graph code here, so config.ts and params.ts can use it.
 */
import { ModelError } from '../errors';
import type { ParamSpec } from './params';

export interface ModernBertSettings {
  /** Per layer: global attention (true) or sliding-window local attention. */
  globalLayers: boolean[];
  globalRopeTheta: number;
  localRopeTheta: number;
  /** A local layer's query attends to keys within localAttention / 2 positions (HF's sliding_window_mask). */
  localAttention: number;
  pooling: 'cls' | 'mean';
  normBias: boolean;
  attentionBias: boolean;
  mlpBias: boolean;
  classifierBias: boolean;
  embeddingDropout: number;
  attentionDropout: number;
  mlpDropout: number;
  classifierDropout: number;
}

/** transformers.ModernBertConfig's defaults for the keys read here. */
const DEFAULTS = {
  global_rope_theta: 160000,
  local_rope_theta: 10000,
  global_attn_every_n_layers: 3,
  local_attention: 128,
  classifier_pooling: 'cls',
  norm_bias: false,
  attention_bias: false,
  mlp_bias: false,
  classifier_bias: false,
  embedding_dropout: 0,
  attention_dropout: 0,
  mlp_dropout: 0,
  classifier_dropout: 0,
  hidden_activation: 'gelu',
  classifier_activation: 'gelu',
} as const;

/** transformers 5 keeps each layer type's rope theta under rope_parameters; 4.x has the flat *_rope_theta keys. */
function ropeTheta(raw: Record<string, unknown>, layerType: string, flatKey: keyof typeof DEFAULTS): unknown {
  const nested = raw.rope_parameters;
  if (typeof nested === 'object' && nested !== null) {
    const entry = (nested as Record<string, unknown>)[layerType];
    if (typeof entry === 'object' && entry !== null && 'rope_theta' in entry) {
      return (entry as Record<string, unknown>).rope_theta;
    }
  }
  return raw[flatKey] ?? DEFAULTS[flatKey];
}

/** The settings of a ModernBERT config.json (`raw`), or a ModelError naming the key and the file. */
export function modernBertSettings(raw: Record<string, unknown>, numLayers: number, file?: string): ModernBertSettings {
  const where = file ?? 'config.json';
  const fail = (key: string, value: unknown, want: string): never => {
    throw new ModelError(`"${key}" in ${where} is ${JSON.stringify(value)}; it must be ${want}.`, {
      file,
      code: 'MODEL_BAD_CONFIG',
      fix: `Fix "${key}" in ${where} (the config.json published with the model has a valid one).`,
    });
  };
  const value = (key: keyof typeof DEFAULTS): unknown => raw[key] ?? DEFAULTS[key];
  const positive = (key: keyof typeof DEFAULTS, v: unknown = value(key)): number =>
    typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : fail(key, v, 'a positive number');
  const count = (key: keyof typeof DEFAULTS): number => {
    const v = value(key);
    return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : fail(key, v, 'a positive integer');
  };
  const flag = (key: keyof typeof DEFAULTS): boolean => {
    const v = value(key);
    return typeof v === 'boolean' ? v : fail(key, v, 'true or false');
  };
  const prob = (key: keyof typeof DEFAULTS): number => {
    const v = value(key);
    return typeof v === 'number' && v >= 0 && v < 1 ? v : fail(key, v, 'a number in [0, 1)');
  };
  for (const key of ['hidden_activation', 'classifier_activation'] as const) {
    if (value(key) !== 'gelu') fail(key, value(key), '"gelu" (exact GELU, the only activation supported here)');
  }
  const pooling = value('classifier_pooling');
  if (pooling !== 'cls' && pooling !== 'mean') fail('classifier_pooling', pooling, '"cls" or "mean"');
  const every = count('global_attn_every_n_layers');
  const layerTypes = raw.layer_types;
  let globalLayers = Array.from({ length: numLayers }, (_, i) => i % every === 0);
  if (layerTypes !== undefined && layerTypes !== null) {
    const ok =
      Array.isArray(layerTypes) &&
      layerTypes.length === numLayers &&
      layerTypes.every((t) => t === 'full_attention' || t === 'sliding_attention');
    if (!ok) fail('layer_types', layerTypes, `${numLayers} entries of "full_attention" or "sliding_attention"`);
    globalLayers = (layerTypes as string[]).map((t) => t === 'full_attention');
  }
  return {
    globalLayers,
    globalRopeTheta: positive('global_rope_theta', ropeTheta(raw, 'full_attention', 'global_rope_theta')),
    localRopeTheta: positive('local_rope_theta', ropeTheta(raw, 'sliding_attention', 'local_rope_theta')),
    localAttention: count('local_attention'),
    pooling: pooling as 'cls' | 'mean',
    normBias: flag('norm_bias'),
    attentionBias: flag('attention_bias'),
    mlpBias: flag('mlp_bias'),
    classifierBias: flag('classifier_bias'),
    embeddingDropout: prob('embedding_dropout'),
    attentionDropout: prob('attention_dropout'),
    mlpDropout: prob('mlp_dropout'),
    classifierDropout: prob('classifier_dropout'),
  };
}

/** The sizes the parameter list needs (BertConfig's fields of the same names). */
interface Sizes {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
}

function linearSpecs(name: string, out: number, inp: number, bias: boolean): ParamSpec[] {
  const w: ParamSpec = { name: `${name}.weight`, shape: [out, inp], decay: true, init: 'normal' };
  return bias ? [w, { name: `${name}.bias`, shape: [out], decay: false, init: 'zeros' }] : [w];
}

/** LayerNorm weights get no weight decay, as in HF's Trainer (its LayerNorm modules are excluded by type). */
function normSpecs(name: string, n: number, bias: boolean): ParamSpec[] {
  const w: ParamSpec = { name: `${name}.weight`, shape: [n], decay: false, init: 'ones' };
  return bias ? [w, { name: `${name}.bias`, shape: [n], decay: false, init: 'zeros' }] : [w];
}

/** ModernBertModel's parameters in HF's order (layer 0 has no attn_norm: it is an Identity). */
export function modernbertEncoderSpecs(cfg: Sizes, s: ModernBertSettings): ParamSpec[] {
  const H = cfg.hiddenSize;
  const I = cfg.intermediateSize;
  const specs: ParamSpec[] = [
    { name: 'model.embeddings.tok_embeddings.weight', shape: [cfg.vocabSize, H], decay: true, init: 'normal' },
    ...normSpecs('model.embeddings.norm', H, s.normBias),
  ];
  for (let l = 0; l < cfg.numHiddenLayers; l++) {
    const p = `model.layers.${l}`;
    if (l > 0) specs.push(...normSpecs(`${p}.attn_norm`, H, s.normBias));
    specs.push(
      ...linearSpecs(`${p}.attn.Wqkv`, 3 * H, H, s.attentionBias),
      ...linearSpecs(`${p}.attn.Wo`, H, H, s.attentionBias),
      ...normSpecs(`${p}.mlp_norm`, H, s.normBias),
      ...linearSpecs(`${p}.mlp.Wi`, 2 * I, H, s.mlpBias),
      ...linearSpecs(`${p}.mlp.Wo`, H, I, s.mlpBias),
    );
  }
  specs.push(...normSpecs('model.final_norm', H, s.normBias));
  return specs;
}

/** ModernBertForSequenceClassification's head: head.dense, head.norm, then the classifier (always with a bias). */
export function modernbertHeadSpecs(cfg: Sizes, s: ModernBertSettings, numLabels: number): ParamSpec[] {
  const H = cfg.hiddenSize;
  return [
    ...linearSpecs('head.dense', H, H, s.classifierBias),
    ...normSpecs('head.norm', H, s.normBias),
    ...linearSpecs('classifier', numLabels, H, true),
  ];
}

/** The parameter lists of the encoder families' classifiers (HF tensor names and layouts) and seeded initialisation. */
import { ModelError } from '../errors';
import { BertConfig, ModelFamily } from './config';
import { debertaV2EncoderSpecs, debertaV2HeadSpecs, debertaV2Settings } from './deberta-v2-config';
import { modernBertSettings, modernbertEncoderSpecs, modernbertHeadSpecs } from './modernbert-config';

export interface Tensor {
  shape: number[];
  data: Float32Array;
}
/** Keyed by HF tensor names. */
export type Weights = Map<string, Tensor>;

export interface ParamSpec {
  name: string;
  shape: number[];
  /** Whether AdamW's weight decay applies (not to biases and LayerNorm weights, as in HF's Trainer). */
  decay: boolean;
  init: 'normal' | 'zeros' | 'ones';
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The tensor names a family's encoder lives under (HF's base_model_prefix). */
export const BASE_PREFIX: Record<ModelFamily, string> = {
  bert: 'bert',
  distilbert: 'distilbert',
  roberta: 'roberta',
  electra: 'electra',
  gpt2: 'transformer',
  modernbert: 'model',
  'deberta-v2': 'deberta',
};

/** The head's output layer (numLabels rows) of each family's sequence classifier. */
export const CLASSIFIER_OUTPUT: Record<ModelFamily, string> = {
  bert: 'classifier',
  distilbert: 'classifier',
  roberta: 'classifier.out_proj',
  electra: 'classifier.out_proj',
  gpt2: 'score',
  modernbert: 'classifier',
  'deberta-v2': 'classifier',
};

/** The word-embedding table of the family's encoder (HF name). */
export function wordEmbeddingsName(cfg: BertConfig): string {
  if (cfg.modelType === 'modernbert') return 'model.embeddings.tok_embeddings.weight';
  return cfg.modelType === 'gpt2'
    ? 'transformer.wte.weight'
    : `${BASE_PREFIX[cfg.modelType]}.embeddings.word_embeddings.weight`;
}

/** The padding_idx of the word-embedding lookup (its row gets no gradient): the pad token's, none for GPT-2 (HF's wte). */
export function wordEmbeddingPaddingIdx(cfg: BertConfig): number | undefined {
  return cfg.modelType === 'gpt2' ? undefined : cfg.padTokenId;
}

/** Builds a spec list in HF's order; linear weights are in torch layout [out, in]. */
class SpecList {
  readonly specs: ParamSpec[] = [];
  weight(name: string, shape: number[]): void {
    this.specs.push({ name, shape, decay: true, init: 'normal' });
  }
  bias(name: string, n: number): void {
    this.specs.push({ name, shape: [n], decay: false, init: 'zeros' });
  }
  layerNorm(prefix: string, n: number): void {
    this.specs.push({ name: `${prefix}.weight`, shape: [n], decay: false, init: 'ones' });
    this.bias(`${prefix}.bias`, n);
  }
  dense(prefix: string, out: number, inp: number): void {
    this.weight(`${prefix}.weight`, [out, inp]);
    this.bias(`${prefix}.bias`, out);
  }
  /** GPT-2's Conv1D: a linear layer whose weight is stored [in, out]. */
  conv1d(prefix: string, inp: number, out: number): void {
    this.weight(`${prefix}.weight`, [inp, out]);
    this.bias(`${prefix}.bias`, out);
  }
}

/** GPT-2: token and position tables, pre-LN blocks of Conv1D layers (c_attn fuses query, key and value), ln_f. */
function gpt2EncoderSpecs(list: SpecList, cfg: BertConfig): void {
  const H = cfg.hiddenSize;
  list.weight('transformer.wte.weight', [cfg.vocabSize, H]);
  list.weight('transformer.wpe.weight', [cfg.maxPositionEmbeddings, H]);
  for (let l = 0; l < cfg.numHiddenLayers; l++) {
    const p = `transformer.h.${l}`;
    list.layerNorm(`${p}.ln_1`, H);
    list.conv1d(`${p}.attn.c_attn`, H, 3 * H);
    list.conv1d(`${p}.attn.c_proj`, H, H);
    list.layerNorm(`${p}.ln_2`, H);
    list.conv1d(`${p}.mlp.c_fc`, H, cfg.intermediateSize);
    list.conv1d(`${p}.mlp.c_proj`, cfg.intermediateSize, H);
  }
  list.layerNorm('transformer.ln_f', H);
}

/** Embeddings and encoder layers of the BERT layout (bert, roberta, electra), under `base`. */
function bertEncoderSpecs(list: SpecList, cfg: BertConfig, base: string): void {
  const H = cfg.hiddenSize;
  const E = cfg.embeddingSize;
  list.weight(`${base}.embeddings.word_embeddings.weight`, [cfg.vocabSize, E]);
  list.weight(`${base}.embeddings.position_embeddings.weight`, [cfg.maxPositionEmbeddings, E]);
  list.weight(`${base}.embeddings.token_type_embeddings.weight`, [cfg.typeVocabSize, E]);
  list.layerNorm(`${base}.embeddings.LayerNorm`, E);
  if (E !== H) list.dense(`${base}.embeddings_project`, H, E);
  for (let l = 0; l < cfg.numHiddenLayers; l++) {
    const p = `${base}.encoder.layer.${l}`;
    list.dense(`${p}.attention.self.query`, H, H);
    list.dense(`${p}.attention.self.key`, H, H);
    list.dense(`${p}.attention.self.value`, H, H);
    list.dense(`${p}.attention.output.dense`, H, H);
    list.layerNorm(`${p}.attention.output.LayerNorm`, H);
    list.dense(`${p}.intermediate.dense`, cfg.intermediateSize, H);
    list.dense(`${p}.output.dense`, H, cfg.intermediateSize);
    list.layerNorm(`${p}.output.LayerNorm`, H);
  }
}

function distilbertEncoderSpecs(list: SpecList, cfg: BertConfig): void {
  const H = cfg.hiddenSize;
  list.weight('distilbert.embeddings.word_embeddings.weight', [cfg.vocabSize, H]);
  list.weight('distilbert.embeddings.position_embeddings.weight', [cfg.maxPositionEmbeddings, H]);
  list.layerNorm('distilbert.embeddings.LayerNorm', H);
  for (let l = 0; l < cfg.numHiddenLayers; l++) {
    const p = `distilbert.transformer.layer.${l}`;
    for (const n of ['q_lin', 'k_lin', 'v_lin', 'out_lin']) list.dense(`${p}.attention.${n}`, H, H);
    list.layerNorm(`${p}.sa_layer_norm`, H);
    list.dense(`${p}.ffn.lin1`, cfg.intermediateSize, H);
    list.dense(`${p}.ffn.lin2`, H, cfg.intermediateSize);
    list.layerNorm(`${p}.output_layer_norm`, H);
  }
}

/** The parameters of the family's encoder alone (HF names), as a base model or MLM checkpoint holds them. */
export function encoderParamSpecs(cfg: BertConfig): ParamSpec[] {
  const list = new SpecList();
  if (cfg.modelType === 'distilbert') distilbertEncoderSpecs(list, cfg);
  else if (cfg.modelType === 'gpt2') gpt2EncoderSpecs(list, cfg);
  else if (cfg.modelType === 'modernbert')
    return modernbertEncoderSpecs(cfg, modernBertSettings(cfg.raw, cfg.numHiddenLayers));
  else if (cfg.modelType === 'deberta-v2') return debertaV2EncoderSpecs(cfg, debertaV2Settings(cfg.raw, cfg));
  else bertEncoderSpecs(list, cfg, BASE_PREFIX[cfg.modelType]);
  return list.specs;
}

/** The parameter list of the family's *ForSequenceClassification (HF tensor names and layouts). */
export function classifierParamSpecs(cfg: BertConfig, numLabels: number): ParamSpec[] {
  if (cfg.modelType === 'modernbert') {
    const settings = modernBertSettings(cfg.raw, cfg.numHiddenLayers);
    return [...modernbertEncoderSpecs(cfg, settings), ...modernbertHeadSpecs(cfg, settings, numLabels)];
  }
  if (cfg.modelType === 'deberta-v2') return [...encoderParamSpecs(cfg), ...debertaV2HeadSpecs(cfg, numLabels)];
  const list = new SpecList();
  list.specs.push(...encoderParamSpecs(cfg));
  const H = cfg.hiddenSize;
  if (cfg.modelType === 'bert') list.dense('bert.pooler.dense', H, H);
  if (cfg.modelType === 'distilbert') list.dense('pre_classifier', H, H);
  if (cfg.modelType === 'roberta' || cfg.modelType === 'electra') list.dense('classifier.dense', H, H);
  // GPT-2's score is a linear layer without bias.
  if (cfg.modelType === 'gpt2') list.weight('score.weight', [numLabels, H]);
  else list.dense(CLASSIFIER_OUTPUT[cfg.modelType], numLabels, H);
  return list.specs;
}

/** The same list as classifierParamSpecs (kept under the name the BERT-only code used). */
export const bertClassifierParamSpecs = classifierParamSpecs;

/** mulberry32: small, fast, seeded. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Deterministic initialisation: normal(0, std) weights, zero biases, unit LayerNorm weights (HF's _init_weights). */
export function initWeights(specs: ParamSpec[], seed: number, std: number): Weights {
  const rand = seededRandom(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const out: Weights = new Map();
  for (const s of specs) {
    const data = new Float32Array(numel(s.shape));
    if (s.init === 'ones') data.fill(1);
    else if (s.init === 'normal') for (let i = 0; i < data.length; i++) data[i] = gauss() * std;
    out.set(s.name, { shape: [...s.shape], data });
  }
  return out;
}

/** The weights' arrays in spec order; ModelError naming the tensor when one is missing or has the wrong shape. */
export function checkWeightsMatch(specs: ParamSpec[], weights: Weights, what: string): Float32Array[] {
  return specs.map((s) => {
    const t = weights.get(s.name);
    if (!t) {
      throw new ModelError(`The ${what} has no tensor '${s.name}'.`, {
        fix: 'Load weights that match this config (the HF *ForSequenceClassification tensor names of its model_type).',
      });
    }
    if (
      t.shape.length !== s.shape.length ||
      t.shape.some((d, i) => d !== s.shape[i]) ||
      t.data.length !== numel(s.shape)
    ) {
      throw new ModelError(
        `Tensor '${s.name}' in the ${what} has shape [${t.shape.join(', ')}]; the config needs [${s.shape.join(', ')}].`,
        {
          fix: 'Use the config.json that belongs to these weights.',
        },
      );
    }
    return t.data;
  });
}

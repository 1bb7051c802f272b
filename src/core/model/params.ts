/** The parameter list of BertForSequenceClassification (HF tensor names and layouts) and seeded initialisation. */
import { ModelError } from '../errors';
import { BertConfig } from './config';

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

/** Linear weights are in torch layout [out, in]. */
export function bertClassifierParamSpecs(cfg: BertConfig, numLabels: number): ParamSpec[] {
  const H = cfg.hiddenSize;
  const specs: ParamSpec[] = [];
  const weight = (name: string, shape: number[]): void => void specs.push({ name, shape, decay: true, init: 'normal' });
  const bias = (name: string, n: number): void => void specs.push({ name, shape: [n], decay: false, init: 'zeros' });
  const layerNorm = (prefix: string): void => {
    specs.push({ name: `${prefix}.weight`, shape: [H], decay: false, init: 'ones' });
    bias(`${prefix}.bias`, H);
  };
  const dense = (prefix: string, out: number, inp: number): void => {
    weight(`${prefix}.weight`, [out, inp]);
    bias(`${prefix}.bias`, out);
  };
  weight('bert.embeddings.word_embeddings.weight', [cfg.vocabSize, H]);
  weight('bert.embeddings.position_embeddings.weight', [cfg.maxPositionEmbeddings, H]);
  weight('bert.embeddings.token_type_embeddings.weight', [cfg.typeVocabSize, H]);
  layerNorm('bert.embeddings.LayerNorm');
  for (let l = 0; l < cfg.numHiddenLayers; l++) {
    const p = `bert.encoder.layer.${l}`;
    dense(`${p}.attention.self.query`, H, H);
    dense(`${p}.attention.self.key`, H, H);
    dense(`${p}.attention.self.value`, H, H);
    dense(`${p}.attention.output.dense`, H, H);
    layerNorm(`${p}.attention.output.LayerNorm`);
    dense(`${p}.intermediate.dense`, cfg.intermediateSize, H);
    dense(`${p}.output.dense`, H, cfg.intermediateSize);
    layerNorm(`${p}.output.LayerNorm`);
  }
  dense('bert.pooler.dense', H, H);
  dense('classifier', numLabels, H);
  return specs;
}

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
      throw new ModelError(`The ${what} has no tensor '${s.name}'.`, { fix: 'Load weights that match this BERT config (HF BertForSequenceClassification names).' });
    }
    if (t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i]) || t.data.length !== numel(s.shape)) {
      throw new ModelError(`Tensor '${s.name}' in the ${what} has shape [${t.shape.join(', ')}]; the config needs [${s.shape.join(', ')}].`, {
        fix: 'Use the config.json that belongs to these weights.',
      });
    }
    return t.data;
  });
}

/**
 * DeBERTa-v2/v3's own config.json keys (beyond the sizes config.ts reads into BertConfig), its relative-position
 * buckets and its parameter list, with transformers' DebertaV2Config defaults. No graph code here, so config.ts and
 * params.ts can use it. Only the layout every published v3 checkpoint has is accepted (relative attention with shared
 * position projections, p2c and c2p, LayerNorm on the relative embeddings, no absolute positions, no token types, no
 * convolution layer); other settings get a ModelError naming the key.
 */
import { ModelError } from '../errors';
import type { ParamSpec } from './params';

export interface DebertaV2Settings {
  /** pos_ebd_size: position_buckets when > 0, else max_relative_positions; rel_embeddings has 2 * span rows. */
  span: number;
  /** position_buckets (log bucketing beyond buckets / 2) or 0 for plain clamped distances. */
  buckets: number;
  /** max_relative_positions, max_position_embeddings when < 1: the distance the log buckets reach. */
  maxRelative: number;
  /** ContextPooler's dropout before its dense layer. */
  poolerDropout: number;
  /** The dropout before the classifier: cls_dropout, else hidden_dropout_prob. */
  clsDropout: number;
}

/** The settings of a DeBERTa-v2 config.json (`raw`), or a ModelError naming the key and the file. */
export function debertaV2Settings(
  raw: Record<string, unknown>,
  sizes: { maxPositionEmbeddings: number; hiddenSize: number; hiddenDropoutProb: number },
  file?: string,
): DebertaV2Settings {
  const where = file ?? 'config.json';
  const fail = (key: string, value: unknown, want: string): never => {
    throw new ModelError(
      `"${key}" in ${where} is ${JSON.stringify(value)}; this DeBERTa-v2/v3 support needs ${want} (the layout of microsoft/deberta-v3-*).`,
      {
        file,
        code: 'MODEL_BAD_CONFIG',
        fix: `Use a DeBERTa-v3 model (e.g. microsoft/deberta-v3-base), or fix "${key}" in ${where}.`,
      },
    );
  };
  const expect = (key: string, fallback: unknown, want: unknown): void => {
    const v = raw[key] ?? fallback;
    if (v !== want) fail(key, v, JSON.stringify(want));
  };
  expect('relative_attention', false, true);
  expect('share_att_key', false, true);
  expect('position_biased_input', true, false);
  expect('type_vocab_size', 0, 0);
  expect('conv_kernel_size', 0, 0);
  expect('pooler_hidden_act', 'gelu', 'gelu');
  for (const key of ['embedding_size', 'pooler_hidden_size']) {
    if (raw[key] !== undefined && raw[key] !== null) expect(key, undefined, sizes.hiddenSize);
  }
  const posAtt = raw.pos_att_type;
  const types =
    typeof posAtt === 'string'
      ? posAtt
          .toLowerCase()
          .split('|')
          .map((t) => t.trim())
      : Array.isArray(posAtt)
        ? posAtt
        : [];
  if (types.length !== 2 || !types.includes('p2c') || !types.includes('c2p'))
    fail('pos_att_type', posAtt, '["p2c", "c2p"]');
  const normRel = raw.norm_rel_ebd ?? 'none';
  if (
    typeof normRel !== 'string' ||
    !normRel
      .toLowerCase()
      .split('|')
      .map((t) => t.trim())
      .includes('layer_norm')
  )
    fail('norm_rel_ebd', normRel, '"layer_norm"');
  const integer = (key: string, fallback: number): number => {
    const v = raw[key] ?? fallback;
    return typeof v === 'number' && Number.isInteger(v) ? v : fail(key, v, 'an integer');
  };
  const prob = (key: string, fallback: number): number => {
    const v = raw[key] ?? fallback;
    return typeof v === 'number' && v >= 0 && v < 1 ? v : fail(key, v, 'a number in [0, 1)');
  };
  const maxRelativeRaw = integer('max_relative_positions', -1);
  const maxRelative = maxRelativeRaw < 1 ? sizes.maxPositionEmbeddings : maxRelativeRaw;
  const bucketsRaw = integer('position_buckets', -1);
  const buckets = bucketsRaw > 0 ? bucketsRaw : 0;
  if (buckets > 0 && (buckets < 4 || buckets / 2 >= maxRelative))
    fail('position_buckets', bucketsRaw, `at least 4 and less than twice max_relative_positions (${maxRelative})`);
  return {
    span: buckets > 0 ? buckets : maxRelative,
    buckets,
    maxRelative,
    poolerDropout: prob('pooler_dropout', 0),
    clsDropout:
      raw.cls_dropout === undefined || raw.cls_dropout === null ? sizes.hiddenDropoutProb : prob('cls_dropout', 0),
  };
}

/**
 * transformers' make_log_bucket_position for one distance: |delta| < buckets / 2 stays, larger distances go to
 * ceil(log(|delta| / mid) / log((maxRelative - 1) / mid) * (mid - 1)) + mid with delta's sign. transformers computes
 * this in float32; in float64 the buckets are the same for every distance of the published configs (256 buckets,
 * 512 positions) and of the test fixture, checked against torch.
 */
export function bucketPosition(delta: number, s: DebertaV2Settings): number {
  if (s.buckets === 0) return delta;
  const mid = Math.floor(s.buckets / 2);
  const abs = delta < mid && delta > -mid ? mid - 1 : Math.abs(delta);
  if (abs <= mid) return delta;
  const log = Math.ceil((Math.log(abs / mid) / Math.log((s.maxRelative - 1) / mid)) * (mid - 1)) + mid;
  return Math.sign(delta) * log;
}

/**
 * Per distance delta = query - key in [-(maxLength - 1), maxLength - 1] (entry delta + maxLength - 1): the row of the
 * position-projected relative embeddings that c2p reads (clamp(bucket(delta) + span)) and the one p2c reads
 * (clamp(-bucket(delta) + span), the key's view of the same pair), as HF's c2p_pos / p2c_pos.
 */
export function relativeIndexTables(s: DebertaV2Settings, maxLength: number): { c2p: number[]; p2c: number[] } {
  const clamp = (i: number): number => Math.min(Math.max(i, 0), 2 * s.span - 1);
  const c2p: number[] = [];
  const p2c: number[] = [];
  for (let delta = -(maxLength - 1); delta <= maxLength - 1; delta++) {
    const b = bucketPosition(delta, s);
    c2p.push(clamp(b + s.span));
    p2c.push(clamp(-b + s.span));
  }
  return { c2p, p2c };
}

/** The sizes the parameter list needs (BertConfig's fields of the same names). */
interface Sizes {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
}

function linearSpecs(name: string, out: number, inp: number): ParamSpec[] {
  return [
    { name: `${name}.weight`, shape: [out, inp], decay: true, init: 'normal' },
    { name: `${name}.bias`, shape: [out], decay: false, init: 'zeros' },
  ];
}

/** LayerNorm weights get no weight decay, as in HF's Trainer (its LayerNorm modules are excluded by type). */
function normSpecs(name: string, n: number): ParamSpec[] {
  return [
    { name: `${name}.weight`, shape: [n], decay: false, init: 'ones' },
    { name: `${name}.bias`, shape: [n], decay: false, init: 'zeros' },
  ];
}

/** DebertaV2Model's parameters in HF's order. */
export function debertaV2EncoderSpecs(cfg: Sizes, s: DebertaV2Settings): ParamSpec[] {
  const H = cfg.hiddenSize;
  const I = cfg.intermediateSize;
  const specs: ParamSpec[] = [
    { name: 'deberta.embeddings.word_embeddings.weight', shape: [cfg.vocabSize, H], decay: true, init: 'normal' },
    ...normSpecs('deberta.embeddings.LayerNorm', H),
  ];
  for (let l = 0; l < cfg.numHiddenLayers; l++) {
    const p = `deberta.encoder.layer.${l}`;
    specs.push(
      ...linearSpecs(`${p}.attention.self.query_proj`, H, H),
      ...linearSpecs(`${p}.attention.self.key_proj`, H, H),
      ...linearSpecs(`${p}.attention.self.value_proj`, H, H),
      ...linearSpecs(`${p}.attention.output.dense`, H, H),
      ...normSpecs(`${p}.attention.output.LayerNorm`, H),
      ...linearSpecs(`${p}.intermediate.dense`, I, H),
      ...linearSpecs(`${p}.output.dense`, H, I),
      ...normSpecs(`${p}.output.LayerNorm`, H),
    );
  }
  specs.push(
    { name: 'deberta.encoder.rel_embeddings.weight', shape: [2 * s.span, H], decay: true, init: 'normal' },
    ...normSpecs('deberta.encoder.LayerNorm', H),
  );
  return specs;
}

/** DebertaV2ForSequenceClassification's head: the ContextPooler's dense layer, then the classifier. */
export function debertaV2HeadSpecs(cfg: Sizes, numLabels: number): ParamSpec[] {
  const H = cfg.hiddenSize;
  return [...linearSpecs('pooler.dense', H, H), ...linearSpecs('classifier', numLabels, H)];
}

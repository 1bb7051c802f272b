/**
 * Token explanations by integrated gradients (Sundararajan et al. 2017), on the word embeddings.
 *
 * What is attributed: the word embeddings alone (Captum's LayerIntegratedGradients on
 * `bert.embeddings.word_embeddings`). Position and token-type embeddings are the same for the input and the baseline,
 * so the path of the word embeddings is also the path of the word + position + type sums: attributing to the sum
 * would give the same numbers. The word embeddings are what a token *is*, and RoBERTa's position ids (which depend on
 * where padding is) stay those of the input.
 *
 * Baseline: the input with every content token replaced by the padding token ([PAD], <pad>), special tokens ([CLS],
 * [SEP], <s>, </s>) kept, as Captum's BERT tutorial builds its reference; same attention mask and token types. Special
 * tokens are therefore equal in input and baseline and get exactly zero attribution.
 *
 * Path and rule: STEPS (50) intervals, alpha_k = k / steps for k = 0..steps, trapezoid weights (1/2 at both ends), so
 * steps + 1 forward and backward passes run as batches of one graph; the two end rows are the baseline and the input
 * themselves, whose logits give the completeness check for free. attribution(token) = sum over the embedding axis of
 * (x - x0) * the weighted mean gradient. The error of the trapezoid rule falls as 1/steps^2 for a smooth model.
 *
 * The graph is built from the training ops with their own backward (Graph.gradients): forward logits, then the
 * gradient of the chosen label's logit, summed over the batch, with respect to the word-embedding input. Weights are
 * the folder's model.safetensors, as initializers; it runs on the CPU. A seed ensemble (best/members/N/ beside it) is
 * explained as its model.onnx predicts: the "logit" is the log of the members' mean probability, and every member's
 * word embeddings move along the path together.
 */
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ModelError } from '../errors';
import { Graph, type Value } from '../graph/graph';
import { add, log, mul, scale } from '../graph/ops/elementwise';
import { softmax } from '../graph/ops/softmax';
import { ATTENTION_BLOCK } from '../graph/ops/attention';
import { sumAll } from '../graph/ops/reduce';
import { toModelBytes } from '../graph/serialize';
import type { BertConfig } from '../model/config';
import { encoderFamily } from '../model/families';
import { loadMemberWeights, loadModelDir } from '../model/load';
import { checkWeightsMatch, wordEmbeddingsName, type Weights } from '../model/params';
import { isQuantizedCopy } from '../run/paths';
import { tokenOffsets } from '../tokenize/offsets';
import { encodePair } from '../tokenize/pairs';
import {
  contentBudget,
  defaultWindowStride,
  headTokenCount,
  windowStarts,
  type TruncationStrategy,
} from '../tokenize/truncation';
import { openModelFolder } from './predictor';

/** Path intervals of integrated gradients unless asked otherwise (Captum's default n_steps). */
export const DEFAULT_IG_STEPS = 50;
/** Path rows per onnxruntime run: bounds the memory of the backward pass (BERT-base: about 60 MB of it per row). */
const DEFAULT_ROWS_PER_RUN = 13;

/** Graph input and output names. */
export const ATTRIBUTION_IO = {
  inputIds: 'input_ids',
  attentionMask: 'attention_mask',
  tokenTypeIds: 'token_type_ids',
  wordEmbeddings: 'word_embeddings',
  /** float32 [numLabels]: weights of the logits whose sum is differentiated (one-hot: one label's logit). */
  target: 'target',
  logits: 'logits',
  gradient: 'word_embeddings_grad',
} as const;

/** Member i's name of an attribution input or output: member 1's is the name itself (a single model's graph). */
export function memberIo(name: string, member: number): string {
  return member === 0 ? name : `${name}.${member}`;
}

/**
 * The attribution graph: inputs input_ids / attention_mask / token_type_ids (int64 [batch, seq]), word_embeddings
 * (float32 [batch, seq, embedding]) and target; outputs logits [batch, numLabels] and d (sum over rows of
 * logits . target) / d word_embeddings, which for independent rows is each row's own gradient. A seed ensemble's
 * graph (several `members`) takes each member's word embeddings (`word_embeddings.1`, … beside `word_embeddings`),
 * outputs what its model.onnx outputs, log(mean of the members' probabilities), and its gradient for each member's
 * word embeddings.
 */
export function buildAttributionGraph(cfg: BertConfig, numLabels: number, members: Weights[]): Uint8Array {
  const family = encoderFamily(cfg, { attentionBlock: ATTENTION_BLOCK });
  const specs = family.paramSpecs(numLabels);
  const g = new Graph();
  const table = wordEmbeddingsName(cfg);
  const io = ATTRIBUTION_IO;
  const axes = ['batch', 'seq'];
  const inputs = {
    inputIds: g.input(io.inputIds, 'int64', axes),
    attentionMask: g.input(io.attentionMask, 'int64', axes),
    tokenTypeIds: g.input(io.tokenTypeIds, 'int64', axes),
  };
  const words: Value[] = [];
  const memberLogits = members.map((weights, m) => {
    const arrays = checkWeightsMatch(specs, weights, 'model weights');
    const prefix = m === 0 ? '' : `member${m}.`;
    // The word-embedding table is read in JS (AttributionModel.embed); the graph takes its rows as an input.
    const params = new Map(
      specs.flatMap((s, i) =>
        s.name === table ? [] : [[s.name, g.initializer(`${prefix}${s.name}`, 'float32', s.shape, arrays[i])]],
      ),
    );
    const own = g.input(memberIo(io.wordEmbeddings, m), 'float32', [...axes, wordTable(cfg, weights).shape[1]], true);
    words.push(own);
    return family.logits({ g, params, dropout: null }, { ...inputs, wordEmbeddings: own });
  });
  const logits =
    memberLogits.length === 1
      ? memberLogits[0]
      : log(
          g,
          scale(
            g,
            memberLogits.map((l) => softmax(g, l)).reduce((sum, p) => add(g, sum, p)),
            1 / members.length,
          ),
        );
  const target = g.input(io.target, 'float32', [numLabels]);
  const gradients = g.gradients(sumAll(g, mul(g, logits, target)), words);
  g.output(logits, io.logits);
  gradients.forEach((gradient, m) => g.output(gradient, memberIo(io.gradient, m)));
  return toModelBytes(g, 'bertft explain');
}

function wordTable(cfg: BertConfig, weights: Weights): { shape: number[]; data: Float32Array } {
  const name = wordEmbeddingsName(cfg);
  const t = weights.get(name);
  if (!t) throw new ModelError(`The model weights have no ${name}.`, { code: 'MODEL_TENSOR_NAMES' });
  return t;
}

/** One model row to explain: ids with special tokens, their token types, and the baseline's ids. */
export interface AttributionRow {
  ids: ArrayLike<number>;
  typeIds?: ArrayLike<number>;
  baselineIds: ArrayLike<number>;
}

export interface Attribution {
  /** Per position of the row (special tokens included): the integrated gradient summed over the embedding axis. */
  scores: Float64Array;
  /** The input's logits, every label. */
  logits: Float32Array;
  /** The target label's logit at the input and at the baseline. */
  logit: number;
  baselineLogit: number;
  steps: number;
}

/**
 * An attribution graph in an onnxruntime session, with the word-embedding tables it reads rows from (one per member of
 * a seed ensemble).
 */
export class AttributionModel {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly tables: { shape: number[]; data: Float32Array }[],
    readonly numLabels: number,
    private readonly rowsPerRun: number,
  ) {}

  /** The model of `weights`, or of a seed ensemble's members (its model.onnx's output, log of the mean probability). */
  static async create(
    cfg: BertConfig,
    numLabels: number,
    weights: Weights | Weights[],
    options: { threads?: number; rowsPerRun?: number } = {},
  ): Promise<AttributionModel> {
    const members = Array.isArray(weights) ? weights : [weights];
    const session = await ort.InferenceSession.create(buildAttributionGraph(cfg, numLabels, members), {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
    });
    return new AttributionModel(
      session,
      members.map((w) => wordTable(cfg, w)),
      numLabels,
      options.rowsPerRun ?? DEFAULT_ROWS_PER_RUN,
    );
  }

  /** The logits of one row (no gradient needed: the target is zero). */
  async logits(row: Pick<AttributionRow, 'ids' | 'typeIds'>): Promise<Float32Array> {
    const out = await this.run(row, [this.embed(row.ids)], new Float32Array(this.numLabels));
    return out.logits.slice(0, this.numLabels);
  }

  /**
   * Integrated gradients of label `target`'s logit along the straight path from the baseline to the row. An
   * ensemble's path moves every member's word embeddings at once, so a token's score is the sum of its members' shares.
   */
  async attribute(row: AttributionRow, target: number, steps = DEFAULT_IG_STEPS): Promise<Attribution> {
    if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`steps must be a positive integer, got ${steps}`);
    if (!Number.isInteger(target) || target < 0 || target >= this.numLabels) {
      throw new RangeError(`target ${target} is not a label index below ${this.numLabels}`);
    }
    const S = row.ids.length;
    const x = this.embed(row.ids);
    const x0 = this.embed(row.baselineIds);
    const oneHot = new Float32Array(this.numLabels);
    oneHot[target] = 1;
    const meanGrads = x.map((member) => new Float64Array(member.length));
    const K = this.numLabels;
    let logits = new Float32Array(K);
    let baselineLogit = NaN;
    for (let first = 0; first <= steps; first += this.rowsPerRun) {
      const ks = Array.from({ length: Math.min(this.rowsPerRun, steps + 1 - first) }, (_, i) => first + i);
      const path = ks.map((k) =>
        k === 0 ? x0 : k === steps ? x : x.map((xm, m) => interpolate(x0[m], xm, k / steps)),
      );
      const out = await this.run(row, path, oneHot);
      ks.forEach((k, r) => {
        const w = (k === 0 || k === steps ? 0.5 : 1) / steps;
        meanGrads.forEach((meanGrad, m) => {
          const size = meanGrad.length;
          const grad = out.gradients[m].subarray(r * size, (r + 1) * size);
          for (let i = 0; i < size; i++) meanGrad[i] += w * grad[i];
        });
        if (k === 0) baselineLogit = out.logits[r * K + target];
        if (k === steps) logits = out.logits.slice(r * K, (r + 1) * K);
      });
    }
    const scores = new Float64Array(S);
    meanGrads.forEach((meanGrad, m) => {
      const E = this.tables[m].shape[1];
      for (let s = 0; s < S; s++) {
        let sum = 0;
        for (let h = s * E; h < (s + 1) * E; h++) sum += (x[m][h] - x0[m][h]) * meanGrad[h];
        scores[s] += sum;
      }
    });
    return { scores, logits, logit: logits[target], baselineLogit, steps };
  }

  /** One onnxruntime run over `path`: per row, every member's word embeddings. */
  private async run(
    row: Pick<AttributionRow, 'ids' | 'typeIds'>,
    path: Float32Array[][],
    target: Float32Array,
  ): Promise<{ logits: Float32Array; gradients: Float32Array[] }> {
    const S = row.ids.length;
    const B = path.length;
    const ids = new BigInt64Array(B * S);
    const types = new BigInt64Array(B * S);
    for (let b = 0; b < B; b++) {
      for (let s = 0; s < S; s++) {
        ids[b * S + s] = BigInt(row.ids[s]);
        types[b * S + s] = BigInt(row.typeIds?.[s] ?? 0);
      }
    }
    const io = ATTRIBUTION_IO;
    const feeds: Record<string, ort.Tensor> = {
      [io.inputIds]: new ort.Tensor('int64', ids, [B, S]),
      [io.attentionMask]: new ort.Tensor('int64', new BigInt64Array(B * S).fill(1n), [B, S]),
      [io.tokenTypeIds]: new ort.Tensor('int64', types, [B, S]),
      [io.target]: new ort.Tensor('float32', target, [this.numLabels]),
    };
    this.tables.forEach((table, m) => {
      const E = table.shape[1];
      const words = new Float32Array(B * S * E);
      path.forEach((p, b) => words.set(p[m], b * S * E));
      feeds[memberIo(io.wordEmbeddings, m)] = new ort.Tensor('float32', words, [B, S, E]);
    });
    const out = await this.session.run(feeds);
    return {
      logits: out[io.logits].data as Float32Array,
      gradients: this.tables.map((_, m) => out[memberIo(io.gradient, m)].data as Float32Array),
    };
  }

  /** Each member's word-embedding rows of `ids`, [seq, embedding]. */
  private embed(ids: ArrayLike<number>): Float32Array[] {
    return this.tables.map((table) => {
      const [V, E] = table.shape;
      const out = new Float32Array(ids.length * E);
      for (let s = 0; s < ids.length; s++) {
        const id = ids[s];
        if (!(id >= 0 && id < V)) throw new RangeError(`token id ${id} is outside the vocabulary of ${V}`);
        out.set(table.data.subarray(id * E, (id + 1) * E), s * E);
      }
      return out;
    });
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

function interpolate(x0: Float32Array, x: Float32Array, alpha: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x0[i] + alpha * (x[i] - x0[i]);
  return out;
}

export interface TokenAttribution {
  /** The vocabulary entry (WordPiece's ## pieces, byte-level BPE's Ġ as they are in the vocabulary). */
  token: string;
  id: number;
  /** Character offsets [start, end) into the explained text (UTF-16 code units); null where no span was found. */
  start: number | null;
  end: number | null;
  /** Integrated gradient toward the label's logit: positive pushes toward the label, negative away from it. */
  score: number;
  /** A text pair's: which text the token and its offsets belong to (0 the first text, 1 the second). */
  segment?: 0 | 1;
}

export interface Explanation {
  label: string;
  labelIndex: number;
  /** Path intervals (trapezoid rule, steps + 1 passes). */
  steps: number;
  /** What the baseline was. */
  baseline: 'pad';
  /** The label's logit at the input and at the baseline; sum of scores ≈ logit − baselineLogit (completeness). */
  logit: number;
  baselineLogit: number;
  /**
   * The content tokens the model saw, in order (special tokens have zero attribution and are left out); a pair's
   * first text's tokens, then its second's (`segment`).
   */
  tokens: TokenAttribution[];
  /** Whether the model reads only part of the text (head or head+tail truncation): the other tokens are not here. */
  truncated: boolean;
}

export interface ExplainOptions {
  /** The label to explain, by name; default the predicted one (for regression, the single output). */
  label?: string;
  steps?: number;
  /**
   * The second text of a pair (a text-pair model): the pair is one row as prediction reads it (the tokenizer's pair
   * template, longest_first truncation), and both texts' tokens are attributed.
   */
  textPair?: string;
}

export interface Explainer {
  readonly labels: string[];
  explain(text: string, options?: ExplainOptions): Promise<Explanation>;
  dispose(): Promise<void>;
}

/**
 * Explanations with a trained folder: its best/ weights (model.safetensors), tokenizer and saved truncation. A text
 * is explained over what the model reads: its one row for 'head' and 'head+tail' (`truncated` when that cut the
 * text), every window for 'window' (whose prediction is the mean of the windows' logits).
 */
export async function loadExplainer(
  modelDir: string,
  options: { threads?: number; rowsPerRun?: number } = {},
): Promise<Explainer> {
  const folder = await openModelFolder(modelDir);
  const { labels, pre, settings } = folder;
  if (isQuantizedCopy(folder.dir)) {
    throw new ModelError(`${folder.dir} is an int8 copy: explanations need the float32 weights it was made from.`, {
      file: folder.dir,
      code: 'MODEL_INT8_NO_EXPLAIN',
      fix: `Explain with the float32 model it was made from: ${path.dirname(folder.dir)}.`,
    });
  }
  const { config, weights, addedHead } = await loadModelDir(folder.dir, labels.length, 0);
  if (addedHead) {
    throw new ModelError(`${folder.dir} has no trained classifier head for its ${labels.length} label(s).`, {
      file: folder.dir,
      code: 'MODEL_NO_HEAD',
      fix: 'Explain with the best/ folder of a bertft run (or a model fine-tuned for these labels).',
    });
  }
  // A seed ensemble's other members (best/members/N/): the explanation is of the ensemble's prediction.
  const others = await loadMemberWeights(folder.dir, labels.length);
  const model = await AttributionModel.create(config, labels.length, [weights, ...others], options);
  const tokenizer = pre.tokenizer;
  const specials = tokenizer.prefixIds.length;
  const budget = contentBudget(tokenizer, settings.maxLength);

  /** A single text's rows (several windows with 'window'), each content position with its place among the tokens. */
  const singleRows = (text: string): ExplainedRows => {
    const rows = pre.encode([text], settings);
    const fullIds = tokenizer.tokenIds(text);
    // Where each window starts among the text's tokens, as truncation.ts's encodeText places them.
    const starts = windowStarts(fullIds.length, budget, defaultWindowStride(budget));
    const parts = rows.map((r, w) => {
      const ids = Array.from(r.ids);
      const content = ids.length - specials - tokenizer.suffixIds.length;
      const at =
        settings.truncation === 'window'
          ? Array.from({ length: content }, (_, i) => starts[w] + i)
          : contentPositions(fullIds.length, content, settings.truncation);
      const positions = at.map((index, i) => ({ row: specials + i, segment: 0 as const, index }));
      return { ids, typeIds: r.typeIds, positions };
    });
    return { parts, segments: [{ text, ids: fullIds }] };
  };

  /** A pair's one row (as prediction encodes it), its content positions in the first text's tokens, then the second's. */
  const pairRows = (text: string, textPair: string): ExplainedRows => {
    const [r] = pre.encode([text], { ...settings, truncation: 'head' }, undefined, [textPair]);
    const { first, second, kept } = encodePair(tokenizer, text, textPair, settings.maxLength);
    const t = tokenizer.pairTemplate;
    const secondAt = t.prefix.length + kept[0] + t.middle.length;
    const positions = [
      ...Array.from({ length: kept[0] }, (_, i) => ({ row: t.prefix.length + i, segment: 0 as const, index: i })),
      ...Array.from({ length: kept[1] }, (_, i) => ({ row: secondAt + i, segment: 1 as const, index: i })),
    ];
    const parts = [{ ids: Array.from(r.ids), typeIds: r.typeIds, positions }];
    return {
      parts,
      segments: [
        { text, ids: first },
        { text: textPair, ids: second },
      ],
    };
  };

  return {
    labels,
    async explain(text, explainOptions = {}) {
      const { parts: encoded, segments } =
        explainOptions.textPair === undefined ? singleRows(text) : pairRows(text, explainOptions.textPair);
      // The baseline: every content token the padding token, the special tokens kept.
      const parts = encoded.map((p) => {
        const baselineIds = [...p.ids];
        for (const { row } of p.positions) baselineIds[row] = tokenizer.padId;
        return { row: { ids: p.ids, typeIds: p.typeIds, baselineIds }, positions: p.positions };
      });
      let labelIndex: number;
      if (explainOptions.label !== undefined) {
        labelIndex = labels.indexOf(explainOptions.label);
        if (labelIndex < 0) {
          throw new ModelError(`The model has no label "${explainOptions.label}".`, {
            file: folder.dir,
            code: 'MODEL_UNKNOWN_LABEL',
            fix: `Use one of its labels: ${labels.join(', ')}.`,
          });
        }
      } else {
        // The prediction's label: the largest of the rows' mean logits (poolLogits).
        const mean = new Float64Array(labels.length);
        for (const p of parts) (await model.logits(p.row)).forEach((l, k) => (mean[k] += l / parts.length));
        labelIndex = argmax(mean);
      }
      // A window model's logit is the mean of its windows' logits, so its integrated gradients are the mean of theirs:
      // a token in two overlapping windows gets both shares.
      const steps = explainOptions.steps ?? DEFAULT_IG_STEPS;
      const scores = segments.map(() => new Map<number, { id: number; score: number }>());
      let logit = 0;
      let baselineLogit = 0;
      for (const p of parts) {
        const a = await model.attribute(p.row, labelIndex, steps);
        logit += a.logit / parts.length;
        baselineLogit += a.baselineLogit / parts.length;
        for (const { row, segment, index } of p.positions) {
          const prev = scores[segment].get(index);
          scores[segment].set(index, { id: p.row.ids[row], score: (prev?.score ?? 0) + a.scores[row] / parts.length });
        }
      }
      const tokens = segments.flatMap((seg, segment) => {
        const offsets = tokenOffsets(tokenizer, seg.text, seg.ids);
        const order = [...scores[segment].keys()].sort((x, y) => x - y);
        return order.map((at): TokenAttribution => {
          const { id, score } = scores[segment].get(at)!;
          return {
            token: tokenizer.tokenText(id),
            id,
            start: offsets[at]?.start ?? null,
            end: offsets[at]?.end ?? null,
            score,
            ...(segments.length > 1 ? { segment: segment as 0 | 1 } : {}),
          };
        });
      });
      return {
        label: labels[labelIndex],
        labelIndex,
        steps,
        baseline: 'pad',
        logit,
        baselineLogit,
        tokens,
        truncated: segments.some((seg, segment) => scores[segment].size < seg.ids.length),
      };
    },
    async dispose() {
      await model.dispose();
    },
  };
}

/** What a text (or a pair) is explained over: the model's rows, and the texts their content positions point into. */
interface ExplainedRows {
  parts: {
    ids: number[];
    typeIds: ArrayLike<number> | undefined;
    /** Each content position of the row: which text's token it is (segment) and which of its tokens (index). */
    positions: { row: number; segment: 0 | 1; index: number }[];
  }[];
  segments: { text: string; ids: number[] }[];
}

/**
 * Where each of the first row's `seen` content tokens sits among the text's `total` tokens: in order, except for a
 * cut 'head+tail' row, whose head is followed by the text's last tokens (as truncation.ts cuts it).
 */
function contentPositions(total: number, seen: number, strategy: TruncationStrategy): number[] {
  const head = strategy === 'head+tail' && seen < total ? headTokenCount(seen) : seen;
  return Array.from({ length: seen }, (_, i) => (i < head ? i : total - seen + i));
}

function argmax(xs: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

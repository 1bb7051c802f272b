/**
 * Text → model rows, with the one truncation policy used identically by training, evaluation and inference:
 *  - 'head' (default): the first maxLength − specials tokens.
 *  - 'head+tail': the first `headShare` of the budget and the rest from the end (Sun et al. 2019, "How to
 *    Fine-Tune BERT for Text Classification": head 128 + tail 382 did best on long reviews).
 *  - 'window': overlapping chunks of the budget, `stride` tokens shared between neighbours; every chunk is a row with
 *    the same docIndex, and predictions are pooled per document by the mean of logits (pool.ts).
 */
import type { TextTokenizer } from './tokenizer';

export type TruncationStrategy = 'head' | 'head+tail' | 'window';
export const TRUNCATION_STRATEGIES: readonly TruncationStrategy[] = ['head', 'head+tail', 'window'];

export interface TruncationOptions {
  /** Longest row in tokens, special tokens included (e.g. 128, 512). */
  maxLength: number;
  strategy?: TruncationStrategy;
  /** 'head+tail': share of the content budget taken from the start, default 0.25. */
  headShare?: number;
  /** 'window': tokens shared by neighbouring chunks, default a quarter of the content budget. */
  stride?: number;
  /** 'window': at most this many chunks per document (the rest is dropped), default unlimited. */
  maxChunks?: number;
}

/** One model row: a token sequence with its special tokens, the document it belongs to, and its class id. */
export interface EncodedRow {
  ids: Int32Array;
  /** Token type of each id (text pairs: 0 for the first text, 1 for the second); absent means all 0. */
  typeIds?: Uint8Array;
  docIndex: number;
  /** Class id, or -1 for unlabelled (prediction) rows. */
  label: number;
}

function withSpecials(tokenizer: TextTokenizer, content: ArrayLike<number>): Int32Array {
  const out = new Int32Array(tokenizer.prefixIds.length + content.length + tokenizer.suffixIds.length);
  out.set(tokenizer.prefixIds, 0);
  out.set(content, tokenizer.prefixIds.length);
  out.set(tokenizer.suffixIds, tokenizer.prefixIds.length + content.length);
  return out;
}

/** Content tokens that fit in one row of `maxLength`. */
export function contentBudget(tokenizer: TextTokenizer, maxLength: number): number {
  const budget = maxLength - tokenizer.specialCount;
  if (!Number.isInteger(maxLength) || budget < 1) {
    throw new RangeError(`maxLength must be an integer above ${tokenizer.specialCount}, got ${maxLength}`);
  }
  return budget;
}

/** Start offsets of the windows over `n` content tokens. */
export function windowStarts(n: number, budget: number, stride: number, maxChunks = Infinity): number[] {
  const step = budget - stride;
  if (step < 1) throw new RangeError(`stride (${stride}) must be smaller than the content budget (${budget})`);
  const starts = [0];
  while (starts[starts.length - 1] + budget < n && starts.length < maxChunks)
    starts.push(starts[starts.length - 1] + step);
  return starts;
}

/** 'window': tokens shared by neighbouring windows unless given: a quarter of the content budget. */
export function defaultWindowStride(budget: number): number {
  return Math.floor(budget / 4);
}

/** 'head+tail': how many of a full row's `budget` content tokens come from the start of the text. */
export function headTokenCount(budget: number, headShare = 0.25): number {
  return Math.round(budget * headShare);
}

/** The rows (one, or several for 'window') for one text, special tokens included. */
export function encodeText(tokenizer: TextTokenizer, text: string, options: TruncationOptions): Int32Array[] {
  const budget = contentBudget(tokenizer, options.maxLength);
  const strategy = options.strategy ?? 'head';
  if (strategy === 'head') return [withSpecials(tokenizer, tokenizer.headIds(text, budget))];
  if (strategy === 'head+tail') {
    const probe = tokenizer.headIds(text, budget + 1);
    if (probe.length <= budget) return [withSpecials(tokenizer, probe)];
    const head = headTokenCount(budget, options.headShare);
    const ids = probe.slice(0, head).concat(tokenizer.tailIds(text, budget - head));
    return [withSpecials(tokenizer, ids)];
  }
  const ids = tokenizer.tokenIds(text);
  const stride = options.stride ?? defaultWindowStride(budget);
  return windowStarts(ids.length, budget, stride, options.maxChunks).map((s) =>
    withSpecials(tokenizer, ids.slice(s, s + budget)),
  );
}

/**
 * Rows for a list of documents, in document order (a document's chunks are consecutive). `labels[i]` is the class
 * id of text i; leave it out for prediction.
 */
export function encodeDocuments(
  tokenizer: TextTokenizer,
  texts: readonly string[],
  options: TruncationOptions,
  labels?: ArrayLike<number>,
): EncodedRow[] {
  if (labels !== undefined && labels.length !== texts.length) {
    throw new RangeError(`${texts.length} texts but ${labels.length} labels`);
  }
  const rows: EncodedRow[] = [];
  texts.forEach((text, docIndex) => {
    const label = labels === undefined ? -1 : labels[docIndex];
    for (const ids of encodeText(tokenizer, text, options)) rows.push({ ids, docIndex, label });
  });
  return rows;
}

/** Token count of `text` with special tokens, counting at most up to `cap` (enough to tell "longer than cap"). */
export function tokenLength(tokenizer: TextTokenizer, text: string, cap = Infinity): number {
  const content = Number.isFinite(cap)
    ? tokenizer.headIds(text, Math.max(0, cap - tokenizer.specialCount) + 1).length
    : tokenizer.tokenIds(text).length;
  return content + tokenizer.specialCount;
}

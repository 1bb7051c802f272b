/**
 * Text pairs → model rows: the tokenizer's pair template (BERT `[CLS] a [SEP] b [SEP]` with token types 0 then 1,
 * RoBERTa `<s> a </s></s> b </s>`) and HF tokenizers' `longest_first` truncation, used identically by training,
 * evaluation and prediction.
 */
import type { TextTokenizer } from './tokenizer';
import type { EncodedRow } from './truncation';

/**
 * Content lengths of a pair cut to `budget` tokens as HF's Rust tokenizers (0.23, `TruncationStrategy::LongestFirst`)
 * cuts it: if the shorter text fits in half the budget, only the longer loses tokens; otherwise the shorter keeps
 * half the budget (rounded down) and the longer the rest, the first text counting as the shorter on a tie. Which is
 * "shorter" is decided on `compared` lengths: Rust first cuts each text at the row's max length, to the end of the
 * word there (rustComparedLength), so two long texts compare by where their words end. The Rust reference tests
 * pin this, tie-breaking included: it is not quite one token at a time ((5, 4) in 7 gives (4, 3)).
 */
export function longestFirstLengths(
  first: number,
  second: number,
  budget: number,
  compared: [number, number] = [first, second],
): [number, number] {
  if (first + second <= budget) return [first, second];
  const firstIsShorter = compared[0] <= compared[1];
  const short = firstIsShorter ? first : second;
  const half = Math.floor(budget / 2);
  const keptShort = Math.min(short, half);
  const keptLong = budget - keptShort;
  return firstIsShorter ? [keptShort, keptLong] : [keptLong, keptShort];
}

/** The length Rust compares a text by: its first `maxLength` tokens, extended to the end of the word they cut. */
export function rustComparedLength(tokenizer: TextTokenizer, ids: readonly number[], maxLength: number): number {
  let n = Math.min(ids.length, maxLength);
  while (n < ids.length && tokenizer.continuesWord(ids[n])) n++;
  return n;
}

/** Content tokens of a pair that fit in one row of `maxLength` (with the pair's special tokens). */
export function pairContentBudget(tokenizer: TextTokenizer, maxLength: number): number {
  const budget = maxLength - tokenizer.pairSpecialCount;
  if (!Number.isInteger(maxLength) || budget < 2) {
    throw new RangeError(`maxLength must be an integer above ${tokenizer.pairSpecialCount + 1}, got ${maxLength}`);
  }
  return budget;
}

/**
 * One row for a pair: ids with the pair's special tokens, and each token's type; with each text's tokens (`first`,
 * `second`) and how many of each the row keeps (`kept`), so a caller can map the row's positions back to the texts.
 */
export function encodePair(
  tokenizer: TextTokenizer,
  first: string,
  second: string,
  maxLength: number,
): { ids: Int32Array; typeIds: Uint8Array; first: number[]; second: number[]; kept: [number, number] } {
  const budget = pairContentBudget(tokenizer, maxLength);
  const a = tokenizer.tokenIds(first);
  const b = tokenizer.tokenIds(second);
  const [na, nb] = longestFirstLengths(a.length, b.length, budget, [
    rustComparedLength(tokenizer, a, maxLength),
    rustComparedLength(tokenizer, b, maxLength),
  ]);
  const t = tokenizer.pairTemplate;
  const ids = [...t.prefix, ...a.slice(0, na), ...t.middle, ...b.slice(0, nb), ...t.suffix];
  const types = [
    ...t.prefixTypes,
    ...new Array<number>(na).fill(t.firstType),
    ...t.middleTypes,
    ...new Array<number>(nb).fill(t.secondType),
    ...t.suffixTypes,
  ];
  return { ids: Int32Array.from(ids), typeIds: Uint8Array.from(types), first: a, second: b, kept: [na, nb] };
}

/**
 * Rows for pairs of texts, one per pair, in order. `labels[i]` is the class id of pair i (omit it for prediction).
 * With `tokenTypes` false every type is 0: a model with one token type (RoBERTa, DistilBERT) takes no types, as HF
 * feeds it none.
 */
export function encodePairDocuments(
  tokenizer: TextTokenizer,
  firsts: readonly string[],
  seconds: readonly string[],
  maxLength: number,
  options: { labels?: ArrayLike<number>; tokenTypes?: boolean } = {},
): EncodedRow[] {
  const { labels, tokenTypes = true } = options;
  if (seconds.length !== firsts.length)
    throw new RangeError(`${firsts.length} texts but ${seconds.length} second texts`);
  if (labels !== undefined && labels.length !== firsts.length) {
    throw new RangeError(`${firsts.length} texts but ${labels.length} labels`);
  }
  return firsts.map((first, docIndex) => {
    const { ids, typeIds } = encodePair(tokenizer, first, seconds[docIndex], maxLength);
    return {
      ids,
      typeIds: tokenTypes ? typeIds : new Uint8Array(ids.length),
      docIndex,
      label: labels === undefined ? -1 : labels[docIndex],
    };
  });
}

/** Token count of a pair with its special tokens, before truncation. */
export function pairTokenLength(tokenizer: TextTokenizer, first: string, second: string): number {
  return tokenizer.tokenIds(first).length + tokenizer.tokenIds(second).length + tokenizer.pairSpecialCount;
}

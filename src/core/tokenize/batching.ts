/**
 * Rows → padded Batches. Training order: seeded shuffle, then length grouping (HF LengthGroupedSampler style: sort
 * within mega-batches of 50 batches, cut, shuffle the batches, longest batch first so memory trouble shows at step
 * 1), so padding is small but order still random. Evaluation order: rows as given, so a document's window rows stay
 * together. Padding goes to the longest row in the batch, optionally rounded up to a multiple (8 suits tensor cores).
 */
import { epochRng, shuffleInPlace } from '../util/random';
import type { Batch } from './batch';
import type { EncodedRow } from './truncation';

/** Mega-batch size, in batches, within which training rows are sorted by length. */
export const LENGTH_GROUP_BATCHES = 50;

export interface BatchPlanOptions {
  batchSize: number;
  /** 'train': shuffled (seed, epoch), length-grouped unless lengthGrouped is false; 'eval': in order. */
  mode: 'train' | 'eval';
  seed?: number;
  epoch?: number;
  lengthGrouped?: boolean;
}

export interface CollateOptions {
  padId: number;
  /** Round the padded length up to a multiple of this (e.g. 8). */
  padToMultipleOf?: number;
  /** The rounding never pads beyond this (the model's max length: position ids past it do not exist). */
  maxPaddedLength?: number;
}

export type BatchOptions = BatchPlanOptions & CollateOptions;

/** Row indices of every batch of one epoch; deterministic in (lengths, options). */
export function planBatches(lengths: ArrayLike<number>, options: BatchPlanOptions): number[][] {
  const { batchSize } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const order = Array.from({ length: lengths.length }, (_, i) => i);
  const cut = (indices: number[]) => {
    const batches: number[][] = [];
    for (let i = 0; i < indices.length; i += batchSize) batches.push(indices.slice(i, i + batchSize));
    return batches;
  };
  if (options.mode === 'eval') return cut(order);
  const rng = epochRng(options.seed ?? 42, options.epoch ?? 0);
  shuffleInPlace(order, rng);
  if (options.lengthGrouped === false) return cut(order);
  const mega = batchSize * LENGTH_GROUP_BATCHES;
  const batches: number[][] = [];
  for (let i = 0; i < order.length; i += mega) {
    const group = order.slice(i, i + mega).sort((a, b) => lengths[b] - lengths[a]);
    batches.push(...cut(group));
  }
  shuffleInPlace(batches, rng);
  let longest = 0;
  batches.forEach((b, i) => {
    if (lengths[b[0]] > lengths[batches[longest][0]]) longest = i;
  });
  [batches[0], batches[longest]] = [batches[longest], batches[0]];
  return batches;
}

/** The padded length of a batch whose longest row has `longest` tokens. */
export function paddedLength(
  longest: number,
  options: Pick<CollateOptions, 'padToMultipleOf' | 'maxPaddedLength'>,
): number {
  const multiple = options.padToMultipleOf ?? 1;
  return Math.max(longest, Math.min(Math.ceil(longest / multiple) * multiple, options.maxPaddedLength ?? Infinity));
}

/** The [batchSize, seqLen] of every batch of one epoch, without building the tensors (as makeBatches would pad them). */
export function batchShapes(
  lengths: ArrayLike<number>,
  options: BatchOptions,
): { batchSize: number; seqLen: number }[] {
  return planBatches(lengths, options).map((indices) => {
    let longest = 0;
    for (const i of indices) longest = Math.max(longest, lengths[i]);
    return { batchSize: indices.length, seqLen: paddedLength(longest, options) };
  });
}

/** One padded Batch from the rows at `indices`. Labels are included when every row has one. */
export function collate(rows: readonly EncodedRow[], indices: readonly number[], options: CollateOptions): Batch {
  let longest = 0;
  for (const i of indices) longest = Math.max(longest, rows[i].ids.length);
  const seqLen = paddedLength(longest, options);
  const batchSize = indices.length;
  const inputIds = new BigInt64Array(batchSize * seqLen).fill(BigInt(options.padId));
  const attentionMask = new BigInt64Array(batchSize * seqLen);
  const tokenTypeIds = new BigInt64Array(batchSize * seqLen);
  const docIndex = new Int32Array(batchSize);
  const labeled = indices.every((i) => rows[i].label >= 0);
  const labels = labeled ? new BigInt64Array(batchSize) : undefined;
  indices.forEach((rowIndex, b) => {
    const row = rows[rowIndex];
    const base = b * seqLen;
    for (let t = 0; t < row.ids.length; t++) {
      inputIds[base + t] = BigInt(row.ids[t]);
      attentionMask[base + t] = 1n;
    }
    if (row.typeIds) for (let t = 0; t < row.typeIds.length; t++) tokenTypeIds[base + t] = BigInt(row.typeIds[t]);
    docIndex[b] = row.docIndex;
    if (labels) labels[b] = BigInt(row.label);
  });
  return { batchSize, seqLen, inputIds, attentionMask, tokenTypeIds, labels, docIndex };
}

/** The batches of one epoch, collated lazily (only one batch of tensors alive at a time). */
export function* makeBatches(rows: readonly EncodedRow[], options: BatchOptions): Generator<Batch> {
  const plan = planBatches(
    rows.map((r) => r.ids.length),
    options,
  );
  for (const indices of plan) yield collate(rows, indices, options);
}

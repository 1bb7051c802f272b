/**
 * BERT's masked-LM corruption (DataCollatorForLanguageModeling): 15% of the real tokens are chosen (never special
 * tokens or padding); of those 80% become [MASK], 10% a random token, 10% stay; only chosen positions are predicted.
 * With whole-word masking, words (a token and its "##" continuations) are chosen together. Masks come from a seeded
 * RNG keyed by (seed, step), so a resumed run draws exactly the masks it would have drawn.
 */
import { seededRandom } from '../model/params';
import { Batch } from '../tokenize/batch';
import { IGNORE_LABEL } from './mlm-model';

export interface MaskingOptions {
  maskTokenId: number;
  vocabSize: number;
  /** Ids never chosen ([CLS], [SEP], [PAD] …). */
  specialIds: ReadonlySet<number>;
  /** Share of real tokens chosen (default 0.15). */
  probability?: number;
  /** When set, choose whole words: this says whether a token continues the previous one (WordPiece "##"). */
  isContinuation?: (id: number) => boolean;
}

/** A seed for the masks of one step (both inputs are integers; the mix keeps neighbouring steps unrelated). */
export function maskSeed(seed: number, step: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(step + 1, 0xc2b2ae35)) >>> 0;
}

/** The batch with corrupted input ids and per-token labels ([batch*seq], IGNORE_LABEL where not chosen). */
export function maskBatch(batch: Batch, options: MaskingOptions, seed: number): Batch {
  const rand = seededRandom(seed);
  const p = options.probability ?? 0.15;
  const n = batch.batchSize * batch.seqLen;
  const inputIds = BigInt64Array.from(batch.inputIds);
  const labels = new BigInt64Array(n).fill(BigInt(IGNORE_LABEL));
  const eligible = (i: number): boolean => batch.attentionMask[i] !== 0n && !options.specialIds.has(Number(batch.inputIds[i]));
  const chosen = new Uint8Array(n);
  let any = -1;
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (!eligible(i)) continue;
    if (any < 0) any = i;
    const continues = options.isContinuation !== undefined && i % batch.seqLen > 0 && eligible(i - 1) && options.isContinuation(Number(batch.inputIds[i]));
    chosen[i] = continues ? chosen[i - 1] : rand() < p ? 1 : 0;
    count += chosen[i];
  }
  // A batch with nothing chosen would have no loss; predict its first real token instead.
  if (count === 0 && any >= 0) chosen[any] = 1;
  for (let i = 0; i < n; i++) {
    if (!chosen[i]) continue;
    labels[i] = batch.inputIds[i];
    const r = rand();
    if (r < 0.8) inputIds[i] = BigInt(options.maskTokenId);
    else if (r < 0.9) inputIds[i] = BigInt(Math.floor(rand() * options.vocabSize));
  }
  return { ...batch, inputIds, labels };
}

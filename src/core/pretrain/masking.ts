/**
 * BERT's masked-LM corruption (DataCollatorForLanguageModeling): 15% of the real tokens are chosen (never special
 * tokens or padding); of those 80% become the mask token ([MASK] / <mask>), 10% a random token, 10% stay; only chosen
 * positions are predicted. With whole-word masking, words are chosen together: a WordPiece token and its "##"
 * continuations, a byte-level BPE token starting with "Ġ" (SentencePiece: "▁") and the tokens up to the next such
 * start. Masks come from a seeded RNG keyed by (seed, step), so a resumed run draws exactly the masks it would have drawn.
 */
import { seededRandom } from '../model/params';
import { Batch } from '../tokenize/batch';
import { IGNORE_LABEL } from '../model/mlm-head';

export interface MaskingOptions {
  maskTokenId: number;
  vocabSize: number;
  /** Ids never chosen ([CLS], [SEP], [PAD] …). */
  specialIds: ReadonlySet<number>;
  /** Share of real tokens chosen (default 0.15). */
  probability?: number;
  /** When set, choose whole words: this says whether a token continues the previous one (see wordContinuationIds). */
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
  const eligible = (i: number): boolean =>
    batch.attentionMask[i] !== 0n && !options.specialIds.has(Number(batch.inputIds[i]));
  const chosen = new Uint8Array(n);
  let any = -1;
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (!eligible(i)) continue;
    if (any < 0) any = i;
    const continues =
      options.isContinuation !== undefined &&
      i % batch.seqLen > 0 &&
      eligible(i - 1) &&
      options.isContinuation(Number(batch.inputIds[i]));
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

interface AddedToken {
  id: number;
  content: string;
  special?: boolean;
}

/** token → id of a tokenizer.json: its model's vocabulary (an object, or Unigram's [piece, score] list) and added tokens. */
export function vocabularyOf(tokenizerJson: Record<string, unknown>): Map<string, number> {
  const vocab =
    (tokenizerJson.model as { vocab?: Record<string, number> | [string, number][] } | undefined)?.vocab ?? {};
  const out = new Map<string, number>(
    Array.isArray(vocab) ? vocab.map(([t], id) => [t, id] as [string, number]) : Object.entries(vocab),
  );
  for (const t of (tokenizerJson.added_tokens as AddedToken[] | undefined) ?? []) out.set(t.content, t.id);
  return out;
}

/** Ids of the tokenizer's special tokens ([CLS], [SEP], [PAD], [UNK], [MASK], <s>, </s>, <pad> …), which are never chosen. */
export function specialTokenIds(tokenizerJson: Record<string, unknown>): Set<number> {
  return new Set(
    ((tokenizerJson.added_tokens as AddedToken[] | undefined) ?? []).filter((t) => t.special).map((t) => t.id),
  );
}

/** The id of the mask token ([MASK], else <mask>), or undefined. */
export function maskTokenId(tokenizerJson: Record<string, unknown>): number | undefined {
  const vocab = vocabularyOf(tokenizerJson);
  return vocab.get('[MASK]') ?? vocab.get('<mask>');
}

/** The `type`s of a pre-tokenizer or decoder, Sequence members included. */
function componentTypes(component: unknown): string[] {
  if (typeof component !== 'object' || component === null) return [];
  const c = component as { type?: string; pretokenizers?: unknown[]; decoders?: unknown[] };
  return [c.type ?? '', ...[...(c.pretokenizers ?? []), ...(c.decoders ?? [])].flatMap(componentTypes)];
}

/**
 * The ids of tokens that continue the previous token's word, for whole-word masking: WordPiece pieces with the
 * continuing prefix ("##"); in byte-level BPE (RoBERTa) every token not starting with "Ġ" (a leading space), in
 * SentencePiece vocabularies (XLM-R) every token not starting with "▁". Special tokens never continue a word.
 * Undefined when the vocabulary is of none of these kinds.
 */
export function wordContinuationIds(tokenizerJson: Record<string, unknown>): Set<number> | undefined {
  const model = tokenizerJson.model as { type?: string; continuing_subword_prefix?: string | null } | undefined;
  const types = [...componentTypes(tokenizerJson.pre_tokenizer), ...componentTypes(tokenizerJson.decoder)];
  let continues: (token: string) => boolean;
  if (model?.type === 'WordPiece') {
    const prefix = model.continuing_subword_prefix ?? '##';
    continues = (t) => t.startsWith(prefix);
  } else if (types.includes('ByteLevel')) continues = (t) => !t.startsWith('\u0120');
  else if (types.includes('Metaspace')) continues = (t) => !t.startsWith('\u2581');
  else return undefined;
  const special = specialTokenIds(tokenizerJson);
  const out = new Set<number>();
  for (const [t, id] of vocabularyOf(tokenizerJson)) if (!special.has(id) && continues(t)) out.add(id);
  return out;
}

/**
 * Text → Batch, the one way training, evaluation and prediction all go: the model folder's tokenizer (or the
 * bundled bert-base-uncased one), the truncation strategy, padding and batching of core/tokenize. Keeping the
 * three callers on this one object is what makes prediction see exactly what training saw.
 */
import type { Batch } from '../tokenize/batch';
import {
  encodeDocuments,
  loadTokenizer,
  makeBatches,
  poolLogits,
  saveTokenizer,
  tokenLength,
  type BatchOptions,
  type EncodedRow,
  type TextTokenizer,
  type TruncationStrategy,
} from '../tokenize';
import { batchShapes, planBatches } from '../tokenize/batching';
import { encodePairDocuments, pairTokenLength } from '../tokenize/pairs';

export interface PreprocessSettings {
  /** Tokens per row, special tokens included. */
  maxLength: number;
  truncation: TruncationStrategy;
}

export interface TrainBatchSettings extends PreprocessSettings {
  batchSize: number;
  seed: number;
  groupByLength: boolean;
  /** Pad to the longest row of each batch (rounded up to 8) rather than to maxLength. */
  dynamicPadding: boolean;
}

export interface EvalBatchSettings extends PreprocessSettings {
  evalBatchSize: number;
}

const PAD_MULTIPLE = 8;

export interface PreprocessorOptions {
  /** The model's token types (config type_vocab_size); with one, pairs get all-zero types as HF feeds them. */
  typeVocabSize?: number;
}

export class Preprocessor {
  constructor(
    readonly tokenizer: TextTokenizer,
    private readonly options: PreprocessorOptions = {},
  ) {}

  /** Token counts (special tokens included, counted up to `cap`), for choosing max length; `pairs` for pair tasks. */
  tokenLengths(texts: readonly string[], cap = 512, pairs?: readonly string[]): number[] {
    if (pairs !== undefined) return texts.map((t, i) => Math.min(cap, pairTokenLength(this.tokenizer, t, pairs[i])));
    return texts.map((t) => tokenLength(this.tokenizer, t, cap));
  }

  /**
   * Rows (several per text with 'window') with each text's class id, or -1 without labels. With `pairs` (the second
   * texts), one row per pair, cut by HF's longest_first (only with the 'head' strategy: a pair has no head+tail or
   * windows).
   */
  encode(
    texts: readonly string[],
    settings: PreprocessSettings,
    labelIds?: ArrayLike<number>,
    pairs?: readonly string[],
  ): EncodedRow[] {
    if (pairs !== undefined) {
      if (settings.truncation !== 'head') {
        throw new RangeError(`text pairs are truncated longest_first, not with the '${settings.truncation}' strategy`);
      }
      return encodePairDocuments(this.tokenizer, texts, pairs, settings.maxLength, {
        labels: labelIds,
        tokenTypes: (this.options.typeVocabSize ?? 2) >= 2,
      });
    }
    return encodeDocuments(
      this.tokenizer,
      texts,
      { maxLength: settings.maxLength, strategy: settings.truncation },
      labelIds,
    );
  }

  /** The training batches of `epoch`, shuffled by (seed, epoch): the same call always gives the same order. */
  trainBatches(rows: readonly EncodedRow[], settings: TrainBatchSettings, epoch: number): Batch[] {
    return [...makeBatches(rows, this.trainBatchOptions(settings, epoch))];
  }

  /** The [batchSize, seqLen] of each of trainBatches(rows, settings, epoch), without building them (for the run estimate). */
  trainBatchShapes(
    rows: readonly EncodedRow[],
    settings: TrainBatchSettings,
    epoch: number,
  ): { batchSize: number; seqLen: number }[] {
    return batchShapes(
      rows.map((r) => r.ids.length),
      this.trainBatchOptions(settings, epoch),
    );
  }

  /** The row indices of each of trainBatches(rows, settings, epoch), in its order (a reference trainer replays them). */
  trainBatchIndices(rows: readonly EncodedRow[], settings: TrainBatchSettings, epoch: number): number[][] {
    return planBatches(
      rows.map((r) => r.ids.length),
      this.trainBatchOptions(settings, epoch),
    );
  }

  private trainBatchOptions(settings: TrainBatchSettings, epoch: number): BatchOptions {
    return {
      mode: 'train',
      batchSize: settings.batchSize,
      seed: settings.seed,
      epoch,
      lengthGrouped: settings.groupByLength,
      padId: this.tokenizer.padId,
      padToMultipleOf: settings.dynamicPadding ? PAD_MULTIPLE : settings.maxLength,
      maxPaddedLength: settings.maxLength,
    };
  }

  /** Batches in row order (rows of a document stay together), padded to the longest row of each batch. */
  evalBatches(rows: readonly EncodedRow[], settings: EvalBatchSettings): Batch[] {
    return [
      ...makeBatches(rows, {
        mode: 'eval',
        batchSize: settings.evalBatchSize,
        padId: this.tokenizer.padId,
        padToMultipleOf: PAD_MULTIPLE,
        maxPaddedLength: settings.maxLength,
      }),
    ];
  }

  readonly poolLogits = poolLogits;

  /** Write the tokenizer files next to a saved model. */
  async save(dir: string): Promise<void> {
    await saveTokenizer(this.tokenizer, dir);
  }
}

/** The tokenizer of a model folder, or the bundled bert-base-uncased one when `dir` is undefined. */
export async function loadPreprocessor(dir?: string, options: PreprocessorOptions = {}): Promise<Preprocessor> {
  return new Preprocessor(await loadTokenizer(dir), options);
}

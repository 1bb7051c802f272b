/** Tokenization: tokenizer loading, the truncation policy, batching and logit pooling. */
export type { Batch } from './batch';
export { bertTokenizerJson, parseVocabTxt, vocabFromSentencePieceSpelling } from './bertTokenizerJson';
export { loadTokenizer, saveTokenizer, assetsDir, TextTokenizer, type PairTemplate } from './tokenizer';
export {
  encodeText,
  encodeDocuments,
  tokenLength,
  contentBudget,
  windowStarts,
  TRUNCATION_STRATEGIES,
  type TruncationOptions,
  type TruncationStrategy,
  type EncodedRow,
} from './truncation';
export {
  planBatches,
  collate,
  makeBatches,
  LENGTH_GROUP_BATCHES,
  type BatchOptions,
  type BatchPlanOptions,
  type CollateOptions,
} from './batching';
export { poolLogits } from './pool';
export { encodePair, encodePairDocuments, longestFirstLengths, pairContentBudget, pairTokenLength } from './pairs';

/**
 * The unit of work that crosses from data/tokenize into the engine: a padded batch of token ids.
 * All id tensors are int64 (ONNX `input_ids`, `attention_mask`, `token_type_ids` as HF exports them),
 * laid out row-major as [batchSize, seqLen].
 */
export interface Batch {
  batchSize: number;
  seqLen: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds: BigInt64Array;
  /** Class ids, length batchSize; absent for unlabelled prediction batches. */
  labels?: BigInt64Array;
  /**
   * For each row, the index of the document (example) it came from. Several rows share a document when a long
   * text is split into sliding-window chunks; evaluation and prediction pool their logits per document.
   */
  docIndex: Int32Array;
}

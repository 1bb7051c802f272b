/** Pooling of per-row logits into per-document logits, for documents split into several 'window' rows. */

/**
 * Mean of the logits of each document's rows. `logits` is row-major [rows, numLabels], `docIndex[r]` the document of
 * row r (0 ≤ docIndex < numDocs). Returns row-major [numDocs, numLabels]. A document without rows is an error.
 */
export function poolLogits(
  logits: Float32Array,
  docIndex: Int32Array,
  numDocs: number,
  numLabels: number,
): Float32Array {
  const rows = docIndex.length;
  if (logits.length !== rows * numLabels) {
    throw new RangeError(`logits has ${logits.length} values, expected ${rows} rows × ${numLabels} labels`);
  }
  const sums = new Float64Array(numDocs * numLabels);
  const counts = new Int32Array(numDocs);
  for (let r = 0; r < rows; r++) {
    const d = docIndex[r];
    if (d < 0 || d >= numDocs) throw new RangeError(`row ${r} has docIndex ${d}, outside 0..${numDocs - 1}`);
    counts[d]++;
    for (let k = 0; k < numLabels; k++) sums[d * numLabels + k] += logits[r * numLabels + k];
  }
  const pooled = new Float32Array(numDocs * numLabels);
  for (let d = 0; d < numDocs; d++) {
    if (counts[d] === 0) throw new RangeError(`document ${d} has no rows`);
    for (let k = 0; k < numLabels; k++) pooled[d * numLabels + k] = sums[d * numLabels + k] / counts[d];
  }
  return pooled;
}

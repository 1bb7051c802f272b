/**
 * Confident learning (Northcutt et al. 2021, as cleanlab's `find_label_issues(filter_by='confident_learning')`):
 * from each row's out-of-fold class probabilities and its given label, the rows whose label is likely wrong.
 *
 *  - Per-class threshold t_j: the mean predicted probability of class j over the rows labelled j (how sure the
 *    models are, on average, of a row that really is j).
 *  - A row is confidently of class j when p_j ≥ t_j; when several classes pass, the one with the highest p wins (the
 *    confident joint's rule). A row confidently of a class other than its given label is a suspect, with that class as
 *    the suggested label. (cleanlab takes the plain argmax when two or more pass, which is the same class unless a class
 *    below its threshold has the highest p; we keep to the classes that passed.)
 *  - Suspects are ranked by self-confidence (p of the given label, lowest first) or by normalized margin
 *    (p_given − max over the other classes, lowest first), as cleanlab's `return_indices_ranked_by`.
 */

/** Row-major probabilities [rows × classes] and each row's given class. */
export interface ProbabilityTable {
  probabilities: ArrayLike<number>;
  given: ArrayLike<number>;
  numClasses: number;
}

export const RANKINGS = ['self-confidence', 'margin'] as const;
export type Ranking = (typeof RANKINGS)[number];

export interface LabelIssue {
  /** The row's index in the table. */
  row: number;
  given: number;
  suggested: number;
  /** p of the given label. */
  selfConfidence: number;
  /** p of the given label − the highest p of any other label (negative: another label is more likely). */
  margin: number;
}

/** cleanlab compares p ≥ t − 1e-6, so that a row exactly at the threshold passes despite float rounding. */
const THRESHOLD_TOLERANCE = 1e-6;

function checkTable({ probabilities, given, numClasses }: ProbabilityTable): number {
  const rows = given.length;
  if (probabilities.length !== rows * numClasses) {
    throw new RangeError(`${probabilities.length} probabilities for ${rows} rows × ${numClasses} classes`);
  }
  for (let i = 0; i < rows; i++) {
    if (!(given[i] >= 0 && given[i] < numClasses && Number.isInteger(given[i]))) {
      throw new RangeError(`row ${i}: given class ${given[i]} is not in 0..${numClasses - 1}`);
    }
  }
  return rows;
}

/** t_j = mean p_j over the rows given label j; NaN for a class no row is given (no row can be confident of it). */
export function perClassThresholds(table: ProbabilityTable): Float64Array {
  const rows = checkTable(table);
  const { probabilities, given, numClasses } = table;
  const sums = new Float64Array(numClasses);
  const counts = new Float64Array(numClasses);
  for (let i = 0; i < rows; i++) {
    sums[given[i]] += probabilities[i * numClasses + given[i]];
    counts[given[i]]++;
  }
  return sums.map((s, j) => (counts[j] > 0 ? s / counts[j] : NaN));
}

/** The class row `i` is confidently of (the highest p among those at or above their threshold), or -1 for none. */
export function confidentClass(table: ProbabilityTable, thresholds: ArrayLike<number>, i: number): number {
  const { probabilities, numClasses } = table;
  let best = -1;
  for (let j = 0; j < numClasses; j++) {
    const p = probabilities[i * numClasses + j];
    if (!(p >= thresholds[j] - THRESHOLD_TOLERANCE)) continue;
    if (best === -1 || p > probabilities[i * numClasses + best]) best = j;
  }
  return best;
}

/** The confident joint C[given][confident] (counts), as cleanlab's compute_confident_joint before calibration. */
export function confidentJoint(table: ProbabilityTable, thresholds = perClassThresholds(table)): number[][] {
  const rows = checkTable(table);
  const joint = Array.from({ length: table.numClasses }, () => new Array<number>(table.numClasses).fill(0));
  for (let i = 0; i < rows; i++) {
    const j = confidentClass(table, thresholds, i);
    if (j >= 0) joint[table.given[i]][j]++;
  }
  return joint;
}

/** The likely label errors, ranked (most likely wrong first; ties keep row order). */
export function findLabelIssues(table: ProbabilityTable, ranking: Ranking = 'self-confidence'): LabelIssue[] {
  const rows = checkTable(table);
  const { probabilities, given, numClasses } = table;
  const thresholds = perClassThresholds(table);
  const issues: LabelIssue[] = [];
  for (let i = 0; i < rows; i++) {
    const suggested = confidentClass(table, thresholds, i);
    if (suggested === -1 || suggested === given[i]) continue;
    const selfConfidence = probabilities[i * numClasses + given[i]];
    let otherMax = -Infinity;
    for (let j = 0; j < numClasses; j++) {
      if (j !== given[i]) otherMax = Math.max(otherMax, probabilities[i * numClasses + j]);
    }
    issues.push({ row: i, given: given[i], suggested, selfConfidence, margin: selfConfidence - otherMax });
  }
  const key = (issue: LabelIssue) => (ranking === 'margin' ? issue.margin : issue.selfConfidence);
  return issues.sort((a, b) => key(a) - key(b) || a.row - b.row);
}

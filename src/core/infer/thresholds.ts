/**
 * A multi-label model's decision thresholds, `thresholds.json` beside config.json in best/:
 * `{"format": 1, "thresholds": {"<label>": 0.42, …}}`, one per label of id2label: a label is predicted when its
 * sigmoid probability is at least its threshold. Training tunes each on the validation data (the best F1 for that
 * label). A folder without the file (e.g. one trained by transformers) uses 0.5 for every label.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModelError } from '../errors';
import { writeJsonAtomic } from '../util/files';
import { ownValue, recordOf } from '../util/records';
import { withoutBom } from '../util/text-file';

export const THRESHOLDS_FILE = 'thresholds.json';
export const DEFAULT_THRESHOLD = 0.5;

export async function writeThresholds(dir: string, labels: readonly string[], thresholds: ArrayLike<number>) {
  await writeJsonAtomic(path.join(dir, THRESHOLDS_FILE), {
    format: 1,
    thresholds: recordOf(labels.map((l, i) => [l, thresholds[i]])),
  });
}

/** The threshold of each of `labels` (id order) from `dir`'s thresholds.json, 0.5 where the folder has none. */
export function readThresholds(dir: string, labels: readonly string[]): Float32Array {
  const file = path.join(dir, THRESHOLDS_FILE);
  if (!fs.existsSync(file)) return new Float32Array(labels.length).fill(DEFAULT_THRESHOLD);
  const bad = (why: string, cause?: unknown) =>
    new ModelError(`${THRESHOLDS_FILE} ${why}.`, {
      file,
      code: 'MODEL_BAD_THRESHOLDS',
      cause,
      fix: `Restore ${THRESHOLDS_FILE} as training wrote it, or delete it to use 0.5 for every label.`,
    });
  let parsed: unknown;
  try {
    parsed = JSON.parse(withoutBom(fs.readFileSync(file, 'utf8')));
  } catch (e) {
    throw bad(`cannot be read: ${(e as Error).message}`, e);
  }
  const record = (parsed as { thresholds?: unknown } | null)?.thresholds;
  if (typeof record !== 'object' || record === null || Array.isArray(record))
    throw bad('has no "thresholds" object of label → threshold');
  return Float32Array.from(labels, (label) => {
    const t = ownValue(record as Record<string, unknown>, label);
    if (typeof t !== 'number' || !(t >= 0 && t <= 1))
      throw bad(`has no threshold in [0, 1] for the label ${JSON.stringify(label)}`);
    return t;
  });
}

/**
 * The thresholds of a multi-label model folder (config.json's problem_type "multi_label_classification", as HF
 * transformers marks it), or undefined for any other model.
 */
export function multiLabelThresholdsOf(dir: string, labels: readonly string[]): Float32Array | undefined {
  let config: unknown;
  try {
    config = JSON.parse(withoutBom(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')));
  } catch {
    return undefined; // the predictor reads config.json first and reports what is wrong with it
  }
  const problemType = (config as { problem_type?: unknown } | null)?.problem_type;
  return problemType === 'multi_label_classification' ? readThresholds(dir, labels) : undefined;
}

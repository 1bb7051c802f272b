/**
 * Which kind of fine-tuning a dataset asks for, from its data alone: one label per row, several labels (JSON lists
 * and separated cells are detected while reading, see rows.ts; one 0/1 column per label here), or a number
 * (regression). The dataset check reports it (CheckReport.task) and the extension's Fine-tune flow trains with it;
 * text pairs are detected by their column names (columns.ts).
 */
import { findColumn, LABEL_COLUMN_NAMES } from './columns';
import { binaryLabelValue } from './multi-label';
import { detectFormat, readRows } from './read';
import { statInput } from './source';

/** What a model trained on the data predicts for a text: one label, a set of labels, or a number. */
export type DataTask = 'single-label' | 'multi-label' | 'regression';

/** A number as a label cell may write it: optional sign, digits with an optional fraction, optional exponent. */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * Labels that all read as numbers, at least one with a fraction (2.5, 0.75), look like a score to predict rather than
 * classes: regression. Whole numbers alone (star ratings, class ids) stay classes.
 */
export function looksLikeRegression(labels: Iterable<string>): boolean {
  let fraction = false;
  let any = false;
  for (const label of labels) {
    const l = label.trim();
    if (!NUMBER.test(l) || !Number.isFinite(Number(l))) return false;
    any = true;
    if (!Number.isInteger(Number(l))) fraction = true;
  }
  return any && fraction;
}

/**
 * The columns of a CSV/TSV/JSONL/JSON file whose every value is 0 or 1 (binaryLabelValue), when the file has no label
 * column of a common name and at least two such columns: multi-label data with one 0/1 column per label (what
 * `--label-columns` names). Undefined otherwise, and for a folder or a file that cannot be read (reading it for
 * training reports why).
 */
export async function detectLabelColumns(file: string): Promise<string[] | undefined> {
  try {
    if ((await statInput(file)).isDirectory()) return undefined;
    const header = { columns: [] as string[] };
    let candidates: Set<string> | undefined;
    let rows = 0;
    for await (const row of readRows(file, await detectFormat(file), header)) {
      if (candidates === undefined) {
        if (LABEL_COLUMN_NAMES.some((name) => findColumn(header.columns, name) !== undefined)) return undefined;
        candidates = new Set(header.columns);
      }
      for (const column of candidates) {
        const value = Object.hasOwn(row.fields, column) ? row.fields[column] : undefined;
        if (binaryLabelValue(value) === undefined) candidates.delete(column);
      }
      if (candidates.size < 2) return undefined;
      rows++;
    }
    return rows > 0 && candidates !== undefined ? header.columns.filter((c) => candidates.has(c)) : undefined;
  } catch {
    return undefined;
  }
}

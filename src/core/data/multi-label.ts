/**
 * Multi-label data: a set of labels per text, given as a JSON list (JSONL/JSON), as a delimited cell (CSV/TSV, with
 * `--label-separator` or a separator detected when unambiguous), or as one 0/1 column per label (`--label-columns`).
 * Here: how each of those becomes a row's labels, and the separator detection. Rows may have no label at all.
 */
import { DataError } from '../errors';

/** How a dataset's label sets were written (Dataset.multiLabel). */
export interface MultiLabelFormat {
  /** 'list': JSON arrays; 'separator': delimited cells; 'columns': one 0/1 column per label. */
  source: 'list' | 'separator' | 'columns';
  separator?: string;
  labelColumns?: string[];
}

/** Separators detected in a label cell when none is given: a cell holding one of them holds several labels. */
export const DETECTED_SEPARATORS = ['|', ';'] as const;

/** The labels of one delimited cell: split at `separator`, trimmed, empty pieces and repeats dropped. */
export function splitLabelCell(cell: string, separator: string): string[] {
  return [
    ...new Set(
      cell
        .split(separator)
        .map((l) => l.trim())
        .filter((l) => l !== ''),
    ),
  ];
}

/**
 * The separator of delimited label cells: the one of DETECTED_SEPARATORS that occurs in some cell, when exactly one
 * does (undefined when none does: every row has one label). Two in use make it ambiguous: the user must choose.
 */
export function detectLabelSeparator(
  cells: Iterable<{ cell: string; line: number }>,
  file: string,
): string | undefined {
  const first = new Map<string, number>();
  for (const { cell, line } of cells) {
    for (const s of DETECTED_SEPARATORS) if (!first.has(s) && cell.includes(s)) first.set(s, line);
  }
  if (first.size <= 1) return [...first.keys()][0];
  const seen = [...first].map(([s, line]) => `"${s}" (first on line ${line})`).join(' and ');
  throw new DataError(`The label cells use both ${seen}, so it is not clear which separates labels.`, {
    file,
    line: Math.max(...first.values()),
    code: 'DATA_AMBIGUOUS_LABEL_SEPARATOR',
    fix: 'Give the separator with --label-separator (e.g. --label-separator "|"); a label may then contain the other character.',
  });
}

/** A 0/1 cell of a label column: 1/0 (number or text), true/false; anything else is not an answer. */
export function binaryLabelValue(value: unknown): boolean | undefined {
  if (value === 1 || value === true) return true;
  if (value === 0 || value === false) return false;
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (v === '1' || v === 'true' || v === '1.0') return true;
    if (v === '0' || v === 'false' || v === '0.0') return false;
  }
  return undefined;
}

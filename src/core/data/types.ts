/** Shapes shared by the readers, the split and the dataset check. */
import type { MultiLabelFormat } from './multi-label';

/** One labelled text, with where it came from so every later message can point at it. */
export interface Example {
  text: string;
  /** The second text of a pair (text-pair tasks: NLI, paraphrase, question/answer); absent for single texts. */
  textPair?: string;
  /**
   * Canonical label string: integers are written in decimal without leading zeros or '+' ("3", "-1"). For a
   * multi-label row, the key of its label set (labelSetKey: the sorted labels as JSON), so that equal sets compare equal.
   */
  label: string;
  /** Multi-label data: the row's labels (a set, possibly empty), in the order written. */
  labels?: string[];
  /** The file the example came from (for folder-per-class data, the document's own file). */
  file: string;
  /** 1-based line where the row starts (JSON arrays: line of the element's '{'; documents: 1). */
  line: number;
}

export type DataFormat = 'csv' | 'tsv' | 'jsonl' | 'json' | 'folder';

/** Whether labels were all integers (sorted numerically) or strings (sorted by code point). */
export type LabelKind = 'integer' | 'string';

export type Severity = 'error' | 'warning' | 'info';

export interface DataProblem {
  severity: Severity;
  message: string;
  file: string;
  /** 1-based line, or null when the problem is about the whole file or dataset. */
  line: number | null;
  /** What to do about it, when there is something to do. */
  fix?: string;
  /** Stable machine-readable code, e.g. 'DATA_MISSING_LABEL'. */
  code?: string;
}

export interface Dataset {
  /** The path that was read (file or folder). */
  path: string;
  format: DataFormat;
  examples: Example[];
  labelKind: LabelKind;
  /** Column (or JSON key) names used; undefined for folder-per-class data. */
  textColumn?: string;
  labelColumn?: string;
  /** The second text's column, for text-pair data. */
  textPairColumn?: string;
  /** Set when each row has a set of labels (multi-label data): how the sets are written. */
  multiLabel?: MultiLabelFormat;
  /** Every column / key found, in file order. */
  columns: string[];
  /** Problems found while reading that did not stop it (skipped files, and in lenient mode skipped rows). */
  problems: DataProblem[];
}

/** Shapes shared by the readers, the split and the dataset check. */

/** One labelled text, with where it came from so every later message can point at it. */
export interface Example {
  text: string;
  /** The second text of a pair (text-pair tasks: NLI, paraphrase, question/answer); absent for single texts. */
  textPair?: string;
  /** Canonical label string: integers are written in decimal without leading zeros or '+' ("3", "-1"). */
  label: string;
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
  /** Every column / key found, in file order. */
  columns: string[];
  /** Problems found while reading that did not stop it (skipped files, and in lenient mode skipped rows). */
  problems: DataProblem[];
}

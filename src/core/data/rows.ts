/**
 * Turning parsed rows (CSV records, JSON objects) into Examples: one place that decides what a missing text or label
 * is, which label types are allowed, and whether a bad row stops reading (strict) or is recorded and skipped
 * (lenient, used by the dataset check so that it can list every bad row at once).
 */
import { DataError } from '../errors';
import { ownValue } from '../util/records';
import type { ColumnChoice } from './columns';
import { canonicalLabel, labelKindOf } from './labels';
import { binaryLabelValue, detectLabelSeparator, splitLabelCell, type MultiLabelFormat } from './multi-label';
import type { DataProblem, Example, LabelKind } from './types';

export interface RawRow {
  /** Column (or JSON key) → value; keys are data: read with ownValue. */
  fields: Record<string, unknown>;
  line: number;
}

/** Lenient mode keeps at most this many row problems of one kind, then one summary line. */
const MAX_PROBLEMS_PER_CODE = 50;

/** How labels are read: one per row, or a set per row (multi-label), and how a set is written. */
export interface LabelReading {
  /** 'auto': one label per row, unless the first row's label is a JSON list. 'multi': a set of labels per row. */
  mode: 'auto' | 'multi';
  /** A delimited cell's separator (--label-separator); detected in CSV/TSV cells when absent. */
  separator?: string;
  /** JSON rows: without a separator, a multi-label row's labels must be a list. */
  lists: boolean;
  /** Regression: a JSON label may be any finite number (a class must be a string or an integer). */
  numbers?: boolean;
}

/** The key of a label set where one string stands for it (duplicate texts with different labels): sorted, as JSON. */
export function labelSetKey(labels: readonly string[]): string {
  return JSON.stringify([...labels].sort());
}

export class ExampleCollector {
  readonly examples: Example[] = [];
  readonly problems: DataProblem[] = [];
  private readonly problemCounts = new Map<string, number>();
  private firstLabelType: { type: 'number' | 'string' | 'list'; line: number } | undefined;
  /** CSV/TSV multi-label cells read before the separator is known (detected in finish()). */
  private readonly undelimited: { example: Example; cell: string }[] = [];
  /** Set once the data is known to be multi-label: how its label sets are written. */
  multiLabel: MultiLabelFormat | undefined;

  constructor(
    private readonly file: string,
    private readonly columns: ColumnChoice,
    private readonly lenient: boolean,
    private readonly reading: LabelReading = { mode: 'auto', lists: true },
  ) {
    if (columns.labelColumns) this.multiLabel = { source: 'columns', labelColumns: columns.labelColumns };
    else if (reading.mode === 'multi' && reading.separator !== undefined)
      this.multiLabel = { source: 'separator', separator: reading.separator };
    else if (reading.mode === 'multi') this.multiLabel = { source: reading.lists ? 'list' : 'separator' };
  }

  /** Report a row-level error: throw when strict, record and go on when lenient. */
  rowError(message: string, line: number, code: string, fix: string): void {
    if (!this.lenient) throw new DataError(message, { file: this.file, line, code, fix });
    const count = (this.problemCounts.get(code) ?? 0) + 1;
    this.problemCounts.set(code, count);
    if (count <= MAX_PROBLEMS_PER_CODE)
      this.problems.push({ severity: 'error', message, file: this.file, line, fix, code });
  }

  add(row: RawRow): void {
    const { text: textKey, label: labelKey } = this.columns;
    const rawText = ownValue(row.fields, textKey);
    const rawLabel = ownValue(row.fields, labelKey);
    let text: string;
    if (rawText === undefined || rawText === null || rawText === '') {
      return this.rowError(
        `Row has no text (column "${textKey}" is empty or missing).`,
        row.line,
        'DATA_MISSING_TEXT',
        'Fill in the text or delete the row.',
      );
    } else if (typeof rawText === 'string') {
      text = rawText;
    } else if (typeof rawText === 'number') {
      text = String(rawText);
    } else {
      return this.rowError(
        `The text ("${textKey}") must be a string, found ${describeType(rawText)}.`,
        row.line,
        'DATA_BAD_TEXT',
        'Make the text a JSON string.',
      );
    }
    let textPair: string | undefined;
    if (this.columns.textPair !== undefined) {
      const pairKey = this.columns.textPair;
      const rawPair = ownValue(row.fields, pairKey);
      if (rawPair === undefined || rawPair === null || rawPair === '') {
        return this.rowError(
          `Row has no second text (column "${pairKey}" is empty or missing).`,
          row.line,
          'DATA_MISSING_TEXT_PAIR',
          `Fill in the second text ("${pairKey}") or delete the row; every row of a text-pair dataset needs both texts.`,
        );
      } else if (typeof rawPair === 'string') {
        textPair = rawPair;
      } else if (typeof rawPair === 'number') {
        textPair = String(rawPair);
      } else {
        return this.rowError(
          `The second text ("${pairKey}") must be a string, found ${describeType(rawPair)}.`,
          row.line,
          'DATA_BAD_TEXT',
          'Make the second text a JSON string.',
        );
      }
    }
    const pair = textPair === undefined ? {} : { textPair };
    if (this.multiLabel !== undefined || Array.isArray(rawLabel)) {
      const labels = this.readLabelSet(row, rawLabel);
      if (labels === undefined) return;
      const example: Example = { text, ...pair, label: '', labels: [], file: this.file, line: row.line };
      if (typeof labels === 'string') this.undelimited.push({ example, cell: labels });
      else Object.assign(example, { labels, label: labelSetKey(labels) });
      this.examples.push(example);
      return;
    }
    let label: string;
    if (rawLabel === undefined || rawLabel === null || (typeof rawLabel === 'string' && rawLabel.trim() === '')) {
      return this.rowError(
        `Row has no label (column "${labelKey}" is empty or missing).`,
        row.line,
        'DATA_MISSING_LABEL',
        'Give every row a label, or delete unlabelled rows.',
      );
    } else if (
      typeof rawLabel === 'number' &&
      (Number.isInteger(rawLabel) || (this.reading.numbers === true && Number.isFinite(rawLabel)))
    ) {
      label = String(rawLabel);
    } else if (typeof rawLabel === 'string') {
      // A newline, tab or NUL in a label is almost always a broken export, and it would show as something else.
      // eslint-disable-next-line no-control-regex -- finding control characters is the point
      const control = /[\u0000-\u001f\u007f-\u009f]/.exec(rawLabel);
      if (control) {
        return this.rowError(
          `The label ${quoteForMessage(rawLabel)} contains a control character (U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}).`,
          row.line,
          'DATA_LABEL_CONTROL_CHARACTER',
          'Remove line breaks, tabs and other control characters from the label.',
        );
      }
      label = rawLabel;
    } else {
      return this.rowError(
        `The label ("${labelKey}") must be a string or an integer, found ${describeType(rawLabel)}.`,
        row.line,
        'DATA_BAD_LABEL',
        'Use class names (strings) or class numbers (integers) as labels; for a number per text, train with --task regression.',
      );
    }
    const type = typeof rawLabel === 'number' ? 'number' : 'string';
    if (this.firstLabelType === undefined) {
      this.firstLabelType = { type, line: row.line };
    } else if (this.firstLabelType.type !== type) {
      return this.rowError(
        `Mixed label types: this label is a ${type} (${quoteForMessage(JSON.stringify(rawLabel))}) but the label on line ` +
          `${this.firstLabelType.line} is a ${this.firstLabelType.type}.`,
        row.line,
        'DATA_MIXED_LABEL_TYPES',
        'Write all labels the same way: all as strings ("spam") or all as integers (1).',
      );
    }
    this.examples.push({ text, ...pair, label, file: this.file, line: row.line });
  }

  /**
   * A multi-label row's labels: a list, a delimited cell, or the 0/1 label columns; a CSV cell read before its
   * separator is known comes back as it is (split in finish()). Undefined after a row error.
   */
  private readLabelSet(row: RawRow, rawLabel: unknown): string[] | string | undefined {
    const labelColumns = this.columns.labelColumns;
    if (labelColumns) {
      const labels: string[] = [];
      for (const column of labelColumns) {
        const value = ownValue(row.fields, column);
        const on = binaryLabelValue(value);
        if (on === undefined) {
          const shown = typeof value === 'string' ? quoteForMessage(value) : (JSON.stringify(value) ?? 'nothing');
          return void this.rowError(
            `The label column "${column}" holds ${shown}, not 0 or 1.`,
            row.line,
            'DATA_BAD_LABEL_COLUMN_VALUE',
            `Write 1 in "${column}" where the label applies and 0 where it does not.`,
          );
        }
        if (on) labels.push(column);
      }
      return labels;
    }
    const labelKey = this.columns.label;
    if (Array.isArray(rawLabel)) {
      if (this.firstLabelType !== undefined && this.firstLabelType.type !== 'list') {
        return void this.rowError(
          `This label is a list, but the label on line ${this.firstLabelType.line} is not.`,
          row.line,
          'DATA_MIXED_LABEL_TYPES',
          'For multi-label data write every row\'s labels as a list (["billing"] for one label, [] for none).',
        );
      }
      this.firstLabelType ??= { type: 'list', line: row.line };
      this.multiLabel ??= { source: 'list' };
      const labels = new Set<string>();
      for (const [i, item] of (rawLabel as unknown[]).entries()) {
        const name: unknown = typeof item === 'number' && Number.isInteger(item) ? String(item) : item;
        // eslint-disable-next-line no-control-regex -- finding control characters is the point
        if (typeof name !== 'string' || name.trim() === '' || /[\u0000-\u001f\u007f-\u009f]/.test(name)) {
          return void this.rowError(
            `Item ${i + 1} of the label list ("${labelKey}") is ${typeof name === 'string' ? quoteForMessage(name) : describeType(item)}, not a label.`,
            row.line,
            'DATA_BAD_LABEL',
            'Make every item of the list a label name (a string without line breaks) or a class number.',
          );
        }
        labels.add(name);
      }
      return [...labels];
    }
    const separator = this.multiLabel?.separator;
    if (rawLabel === undefined || rawLabel === null || (typeof rawLabel === 'string' && rawLabel.trim() === '')) {
      if (!this.reading.lists || separator !== undefined) return [];
      return void this.rowError(
        `Row has no labels (key "${labelKey}" is missing or null).`,
        row.line,
        'DATA_MISSING_LABEL',
        `Give every row its labels as a list, [] for a text with none.`,
      );
    }
    if (typeof rawLabel === 'string' && separator !== undefined) return splitLabelCell(rawLabel, separator);
    if (typeof rawLabel === 'string' && !this.reading.lists) return rawLabel;
    return void this.rowError(
      `The labels ("${labelKey}") must be a list, found ${typeof rawLabel === 'string' ? quoteForMessage(rawLabel) : describeType(rawLabel)}.`,
      row.line,
      'DATA_LABEL_NOT_A_LIST',
      'Write each row\'s labels as a JSON list (["billing", "urgent"]; [] for none), or give --label-separator when ' +
        'they are one delimited string.',
    );
  }

  /** The label kind, after turning integer labels into their one canonical spelling. */
  finish(): LabelKind {
    if (this.undelimited.length > 0) this.splitUndelimited();
    for (const [code, count] of this.problemCounts) {
      if (count > MAX_PROBLEMS_PER_CODE) {
        this.problems.push({
          severity: 'error',
          message: `…and ${count - MAX_PROBLEMS_PER_CODE} more rows with the same problem (${code}).`,
          file: this.file,
          line: null,
          code,
        });
      }
    }
    if (this.multiLabel) {
      const kind = labelKindOf(new Set(this.examples.flatMap((e) => e.labels ?? [])));
      if (kind === 'integer') {
        for (const e of this.examples) {
          e.labels = [...new Set((e.labels ?? []).map(canonicalLabel))];
          e.label = labelSetKey(e.labels);
        }
      }
      return kind;
    }
    const kind = labelKindOf(new Set(this.examples.map((e) => e.label)));
    if (kind === 'integer') for (const e of this.examples) e.label = canonicalLabel(e.label);
    return kind;
  }

  /** CSV/TSV label cells without a given separator: split at the one detected (detectLabelSeparator). */
  private splitUndelimited(): void {
    let separator: string | undefined;
    try {
      separator = detectLabelSeparator(
        this.undelimited.map(({ example, cell }) => ({ cell, line: example.line })),
        this.file,
      );
    } catch (e) {
      if (!this.lenient) throw e;
      const error = e as DataError;
      this.rowError(error.message, error.line ?? 1, error.code ?? 'DATA_AMBIGUOUS_LABEL_SEPARATOR', error.fix ?? '');
    }
    if (separator !== undefined) this.multiLabel = { source: 'separator', separator };
    for (const { example, cell } of this.undelimited) {
      example.labels = separator === undefined ? splitLabelCell(cell, '\u0000') : splitLabelCell(cell, separator);
      example.label = labelSetKey(example.labels);
    }
  }
}

/** A value quoted in a message: JSON-quoted, and cut (a data file's field can be megabytes long). */
export function quoteForMessage(value: string, max = 80): string {
  const quoted = JSON.stringify(value);
  return quoted.length <= max ? quoted : `${quoted.slice(0, max - 2)}…" (${value.length} characters)`;
}

function describeType(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'number') return `the number ${v}`;
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

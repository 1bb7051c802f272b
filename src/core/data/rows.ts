/**
 * Turning parsed rows (CSV records, JSON objects) into Examples: one place that decides what a missing text or label
 * is, which label types are allowed, and whether a bad row stops reading (strict) or is recorded and skipped
 * (lenient, used by the dataset check so that it can list every bad row at once).
 */
import { DataError } from '../errors';
import { ownValue } from '../util/records';
import type { ColumnChoice } from './columns';
import { canonicalLabel, labelKindOf } from './labels';
import type { DataProblem, Example, LabelKind } from './types';

export interface RawRow {
  /** Column (or JSON key) → value; keys are data: read with ownValue. */
  fields: Record<string, unknown>;
  line: number;
}

/** Lenient mode keeps at most this many row problems of one kind, then one summary line. */
const MAX_PROBLEMS_PER_CODE = 50;

export class ExampleCollector {
  readonly examples: Example[] = [];
  readonly problems: DataProblem[] = [];
  private readonly problemCounts = new Map<string, number>();
  private firstLabelType: { type: 'number' | 'string'; line: number } | undefined;

  constructor(
    private readonly file: string,
    private readonly columns: ColumnChoice,
    private readonly lenient: boolean,
  ) {}

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
    let label: string;
    if (rawLabel === undefined || rawLabel === null || (typeof rawLabel === 'string' && rawLabel.trim() === '')) {
      return this.rowError(
        `Row has no label (column "${labelKey}" is empty or missing).`,
        row.line,
        'DATA_MISSING_LABEL',
        'Give every row a label, or delete unlabelled rows.',
      );
    } else if (typeof rawLabel === 'number' && Number.isInteger(rawLabel)) {
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
        'Use class names (strings) or class numbers (integers) as labels.',
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
    this.examples.push(
      textPair === undefined
        ? { text, label, file: this.file, line: row.line }
        : { text, textPair, label, file: this.file, line: row.line },
    );
  }

  /** The label kind, after turning integer labels into their one canonical spelling. */
  finish(): LabelKind {
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
    const kind = labelKindOf(new Set(this.examples.map((e) => e.label)));
    if (kind === 'integer') for (const e of this.examples) e.label = canonicalLabel(e.label);
    return kind;
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

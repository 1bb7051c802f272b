/**
 * The dataset check behind `bertft check` and the extension's pre-flight: reads the data leniently (so every bad row
 * is listed), then reports size, classes, imbalance, blank texts, duplicates, train/validation leakage, label
 * spelling variants and token lengths. A report is `fatal` exactly when it has an 'error' problem: the same
 * conditions under which training would stop (see read.ts for which those are).
 */
import { isUserError } from '../errors';
import { loadTokenizer, type TextTokenizer } from '../tokenize/tokenizer';
import { tokenLength } from '../tokenize/truncation';
import { pairTokenLength } from '../tokenize/pairs';
import { mapOfRecord, ownValue, recordOf } from '../util/records';
import { buildLabelMap } from './labels';
import { readDataset, type ReadOptions } from './read';
import { quoteForMessage } from './rows';
import { detectLabelSeparator, type MultiLabelFormat } from './multi-label';
import { detectLabelColumns, looksLikeRegression, type DataTask } from './detect-task';
import type { DataFormat, DataProblem, Dataset, Example } from './types';

export interface CheckOptions extends ReadOptions {
  /** A separate validation file (read with the same column choices). */
  validationFile?: string;
  /** Max sequence length training will use, for the truncation share. Default 128. */
  maxLength?: number;
  /** A loaded tokenizer, a tokenizer source for loadTokenizer, or null to skip token lengths. Default: shipped BERT. */
  tokenizer?: TextTokenizer | string | null;
}

export interface TokenLengthStats {
  maxLength: number;
  /** Bins of token length (special tokens included): `upTo` inclusive; the last bin has upTo null (longer). */
  histogram: Array<{ upTo: number | null; count: number }>;
  median: number;
  p90: number;
  /** Share of texts longer than maxLength, in [0, 1]. */
  truncatedShare: number;
}

export interface CheckReport {
  path: string;
  validationPath?: string;
  format?: DataFormat;
  textColumn?: string;
  labelColumn?: string;
  /** The second text's column of a text-pair dataset (given or detected); token lengths then count both texts. */
  textPairColumn?: string;
  /** Readable rows of the main file. */
  rows: number;
  /**
   * Label → count in the main file, in label-id order (read it with ownValue / mapOfRecord: labels are data);
   * multi-label: the rows that have each label.
   */
  labels: Record<string, number>;
  validationRows?: number;
  validationLabels?: Record<string, number>;
  /** Largest class count / smallest class count; null with fewer than two classes. */
  imbalanceRatio: number | null;
  blankTexts: number;
  /** Rows whose exact text occurred earlier in the same file. */
  duplicateRows: number;
  /** Validation rows whose exact text is also in the training file. */
  leakedRows: number;
  tokenLengths?: TokenLengthStats;
  /** Multi-label data: rows without a label, labels per row, the labels that go together most. */
  multiLabel?: MultiLabelCheck;
  /**
   * What the data asks to train (detect-task.ts): one label per row, a set (multiLabel says how it is written), or a
   * number. Regression data is not checked for classes (no class counts, imbalance or single-example labels).
   */
  task: DataTask;
  problems: DataProblem[];
  fatal: boolean;
}

/** At most this many individual rows are listed per kind of finding; the rest are counted. */
const MAX_LISTED = 10;

/** Label → count, in label-id order (multi-label: rows that have the label, its positives). */
function countLabels(examples: Example[]): Map<string, number> {
  const labelsOf = (e: Example) => e.labels ?? [e.label];
  const counts = new Map(buildLabelMap(examples.flatMap(labelsOf)).labels.map((l) => [l, 0]));
  for (const e of examples) for (const l of labelsOf(e)) counts.set(l, (counts.get(l) ?? 0) + 1);
  return counts;
}

/** What the check adds for multi-label data. */
export interface MultiLabelCheck {
  format: MultiLabelFormat;
  /** Rows without any label. */
  rowsWithoutLabel: number;
  /** Mean number of labels per row. */
  labelsPerRow: number;
  /** The pairs of labels that occur together most often (at most 10), with how many rows have both. */
  cooccurrence: { labels: [string, string]; rows: number }[];
}

const MAX_PAIRS = 10;

/** The multi-label summary of `examples` (rows with no label, labels per row, the most frequent label pairs). */
function multiLabelCheck(examples: Example[], format: MultiLabelFormat): MultiLabelCheck {
  const pairs = new Map<string, { labels: [string, string]; rows: number }>();
  let none = 0;
  let total = 0;
  for (const e of examples) {
    const labels = [...(e.labels ?? [])].sort();
    total += labels.length;
    if (labels.length === 0) none++;
    for (let i = 0; i < labels.length; i++) {
      for (let j = i + 1; j < labels.length; j++) {
        const key = JSON.stringify([labels[i], labels[j]]);
        const entry = pairs.get(key) ?? { labels: [labels[i], labels[j]], rows: 0 };
        entry.rows++;
        pairs.set(key, entry);
      }
    }
  }
  return {
    format,
    rowsWithoutLabel: none,
    labelsPerRow: examples.length === 0 ? 0 : total / examples.length,
    cooccurrence: [...pairs.values()].sort((a, b) => b.rows - a.rows).slice(0, MAX_PAIRS),
  };
}

/** What makes two rows the same: the text, and for a pair both texts. */
function rowKey(e: Example): string {
  return e.textPair === undefined ? e.text : JSON.stringify([e.text, e.textPair]);
}

function where(e: Example): string {
  return `${e.file}:${e.line}`;
}

async function readForCheck(
  file: string,
  options: CheckOptions,
  problems: DataProblem[],
): Promise<Dataset | undefined> {
  try {
    const data = await readDataset(file, { ...options, lenient: true });
    problems.push(...data.problems);
    return data;
  } catch (e) {
    if (!isUserError(e)) throw e;
    problems.push({
      severity: 'error',
      message: e.message,
      file: e.file ?? file,
      line: e.line ?? null,
      fix: e.fix,
      code: e.code,
    });
    return undefined;
  }
}

/** The separator of a CSV/TSV file's label cells read as single labels (detectLabelSeparator), if one is used alone. */
function separatorOf(data: Dataset): string | undefined {
  if (data.format !== 'csv' && data.format !== 'tsv') return undefined;
  try {
    return detectLabelSeparator(
      data.examples.map((e) => ({ cell: e.label, line: e.line })),
      data.path,
    );
  } catch {
    return undefined; // both separators in use: the labels stay as written, one per row
  }
}

function percentile(sorted: number[], q: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Token lengths of `texts` (with `pairs`, of each pair with its special tokens), binned. */
export function tokenLengthStats(
  tokenizer: TextTokenizer,
  texts: string[],
  maxLength: number,
  pairs?: string[],
): TokenLengthStats {
  const cap = Math.max(1024, 2 * maxLength);
  const lengths = texts
    .map((t, i) => (pairs ? pairTokenLength(tokenizer, t, pairs[i]) : tokenLength(tokenizer, t, cap + 1)))
    .sort((a, b) => a - b);
  const edges: number[] = [];
  for (let e = 16; e <= cap; e *= 2) edges.push(e);
  const histogram: TokenLengthStats['histogram'] = edges.map((upTo) => ({ upTo, count: 0 }));
  histogram.push({ upTo: null, count: 0 });
  for (const n of lengths) {
    const bin = edges.findIndex((e) => n <= e);
    histogram[bin === -1 ? histogram.length - 1 : bin].count++;
  }
  const truncated = lengths.filter((n) => n > maxLength).length;
  return {
    maxLength,
    histogram,
    median: percentile(lengths, 0.5),
    p90: percentile(lengths, 0.9),
    truncatedShare: lengths.length === 0 ? 0 : truncated / lengths.length,
  };
}

export async function checkDataset(file: string, options: CheckOptions = {}): Promise<CheckReport> {
  const problems: DataProblem[] = [];
  const add = (
    severity: DataProblem['severity'],
    message: string,
    at: { file: string; line: number | null },
    fix?: string,
    code?: string,
  ) =>
    problems.push({
      severity,
      message,
      file: at.file,
      line: at.line,
      ...(fix ? { fix } : {}),
      ...(code ? { code } : {}),
    });
  // No label column but 0/1 columns: one label each (what --label-columns says).
  const labelColumns =
    options.labelColumn === undefined && options.labelColumns === undefined && options.labelSeparator === undefined
      ? await detectLabelColumns(file)
      : undefined;
  let readOptions: CheckOptions = labelColumns ? { ...options, labelColumns } : options;
  let readProblems: DataProblem[] = [];
  let data = await readForCheck(file, readOptions, readProblems);
  // Label cells that hold one of the detected separators: label sets (what --label-separator says), read again so.
  const separator =
    data && data.multiLabel === undefined && options.labelSeparator === undefined && options.multiLabel !== false
      ? separatorOf(data)
      : undefined;
  if (separator !== undefined) {
    readOptions = { ...readOptions, multiLabel: true, labelSeparator: separator };
    readProblems = [];
    data = await readForCheck(file, readOptions, readProblems);
  }
  problems.push(...readProblems);
  const validation = options.validationFile
    ? await readForCheck(options.validationFile, readOptions, problems)
    : undefined;
  const examples = data?.examples ?? [];
  const labels = countLabels(examples);
  const whole = { file, line: null };
  const multi = data?.multiLabel !== undefined;
  const regression = !multi && looksLikeRegression(labels.keys());
  const task: DataTask = multi ? 'multi-label' : regression ? 'regression' : 'single-label';
  // A regression target is no class: nothing below counts classes.
  const classCounts = regression ? [] : [...labels.values()];
  if (labelColumns && data) {
    add(
      'info',
      `No label column: the 0/1 columns ${labelColumns.map(quoteForMessage).join(', ')} are read as one label each (multi-label).`,
      whole,
      `Train with --label-columns ${labelColumns.join(',')} (the Fine-tune flow does).`,
      'DATA_LABEL_COLUMNS_DETECTED',
    );
  }
  if (separator !== undefined && data) {
    add(
      'info',
      `Label cells hold labels separated by "${separator}": several labels per row (multi-label).`,
      whole,
      `Train with --label-separator "${separator}" (the Fine-tune flow does); a label containing "${separator}" needs another separator.`,
      'DATA_LABEL_SEPARATOR_DETECTED',
    );
  }
  if (regression) {
    add(
      'info',
      'The labels are numbers with fractions: a regression task (the model predicts the number).',
      whole,
      'Train with --task regression (the Fine-tune flow does), or round the numbers into classes to classify.',
      'DATA_REGRESSION_DETECTED',
    );
  }

  if (data && examples.length === 0) {
    add('error', 'No usable rows: every row has a problem.', whole, 'Fix the rows listed above.', 'DATA_NO_ROWS');
  }
  if (classCounts.length === 1 && !multi) {
    add(
      'error',
      `Only one class was found (${quoteForMessage([...labels.keys()][0] ?? '')}); a classifier needs at least two.`,
      whole,
      'Add examples of the other class(es), or check that the right column was used as the label.',
      'DATA_ONE_CLASS',
    );
  }
  const imbalanceRatio = classCounts.length >= 2 ? Math.max(...classCounts) / Math.min(...classCounts) : null;
  if (imbalanceRatio !== null && imbalanceRatio >= 3) {
    add(
      imbalanceRatio >= 10 ? 'warning' : 'info',
      `Classes are imbalanced: the largest is ${imbalanceRatio.toFixed(1)}× the smallest.`,
      whole,
      'Collect more examples of the small classes, and judge the model by macro-F1 rather than accuracy.',
      'DATA_IMBALANCE',
    );
  }
  // A multi-label split is random, not stratified: a label with one positive is only "too few" (below).
  if (!options.validationFile && !multi && !regression) {
    for (const [label, n] of labels) {
      if (n === 1) {
        const only = examples.find((e) => e.label === label) as Example;
        add(
          'error',
          `The label ${quoteForMessage(label)} has a single example, so the stratified split cannot put it in both training and validation.`,
          only,
          'Add more examples of this label, remove it, or give a separate validation file.',
          'DATA_SINGLE_EXAMPLE_LABEL',
        );
      }
    }
  }
  for (const [label, n] of regression ? [] : labels) {
    if ((multi || n > 1) && n < 10)
      add(
        'warning',
        multi
          ? `The label ${quoteForMessage(label)} has only ${n} positive ${n === 1 ? 'row' : 'rows'}.`
          : `The label ${quoteForMessage(label)} has only ${n} examples.`,
        whole,
        multi
          ? 'Aim for at least a few dozen rows with each label, or drop the label.'
          : 'Aim for at least a few dozen examples per class.',
        'DATA_FEW_EXAMPLES',
      );
  }
  const multiLabel = data?.multiLabel ? multiLabelCheck(examples, data.multiLabel) : undefined;
  if (multiLabel && multiLabel.rowsWithoutLabel > 0) {
    const share = multiLabel.rowsWithoutLabel / examples.length;
    add(
      share > 0.5 ? 'warning' : 'info',
      `${multiLabel.rowsWithoutLabel} rows (${(100 * share).toFixed(1)}%) have no label.`,
      whole,
      'Rows without a label teach the model to predict none; check that they are meant to have none.',
      'DATA_ROWS_WITHOUT_LABEL',
    );
  }

  // Label spellings that differ only in case or spaces are almost always one class typed two ways.
  const variants = new Map<string, string[]>();
  for (const l of regression ? [] : labels.keys()) {
    const key = l.trim().replace(/\s+/g, ' ').toLowerCase();
    variants.set(key, [...(variants.get(key) ?? []), l]);
  }
  for (const spellings of variants.values()) {
    if (spellings.length > 1) {
      add(
        'warning',
        `Labels ${spellings.map((s) => `${quoteForMessage(s)} (${labels.get(s)})`).join(', ')} differ only in case or spaces and are treated as different classes.`,
        whole,
        'Spell each label one way.',
        'DATA_LABEL_VARIANTS',
      );
    }
  }

  let blankTexts = 0;
  let duplicateRows = 0;
  const firstSeen = new Map<string, Example>();
  for (const e of examples) {
    if (e.text.trim() === '') {
      if (++blankTexts <= MAX_LISTED)
        add('warning', 'The text is only whitespace.', e, 'Delete the row or give it text.', 'DATA_BLANK_TEXT');
      continue;
    }
    const earlier = firstSeen.get(rowKey(e));
    if (earlier === undefined) {
      firstSeen.set(rowKey(e), e);
    } else {
      duplicateRows++;
      if (earlier.label !== e.label) {
        add(
          'warning',
          `Same text as ${where(earlier)} but a different label (${quoteForMessage(e.label)} vs ${quoteForMessage(earlier.label)}).`,
          e,
          'Decide on one label and delete the other row.',
          'DATA_CONFLICTING_DUPLICATE',
        );
      } else if (duplicateRows <= MAX_LISTED) {
        add(
          'info',
          `Exact duplicate of ${where(earlier)}.`,
          e,
          'Remove duplicates: they weigh those texts twice and can leak into validation.',
          'DATA_DUPLICATE',
        );
      }
    }
  }
  if (blankTexts > MAX_LISTED)
    add('warning', `…${blankTexts - MAX_LISTED} more whitespace-only texts.`, whole, undefined, 'DATA_BLANK_TEXT');
  if (duplicateRows > MAX_LISTED)
    add('info', `${duplicateRows} duplicate rows in all.`, whole, undefined, 'DATA_DUPLICATE');

  let leakedRows = 0;
  let validationLabels: Map<string, number> | undefined;
  if (validation) {
    validationLabels = countLabels(validation.examples);
    for (const e of validation.examples) {
      const inTrain = firstSeen.get(rowKey(e));
      if (inTrain !== undefined && ++leakedRows <= MAX_LISTED) {
        add(
          'warning',
          `This validation text is also in the training data (${where(inTrain)}).`,
          e,
          'Remove it from one of the two files, or validation scores will be too optimistic.',
          'DATA_LEAKAGE',
        );
      }
    }
    if (leakedRows > MAX_LISTED)
      add(
        'warning',
        `${leakedRows} validation rows in all also occur in training.`,
        { file: validation.path, line: null },
        undefined,
        'DATA_LEAKAGE',
      );
    for (const label of regression ? [] : validationLabels.keys()) {
      if (!labels.has(label) && examples.length > 0) {
        const first = validation.examples.find((e) => (e.labels ?? [e.label]).includes(label)) as Example;
        add(
          'error',
          `The label ${quoteForMessage(label)} occurs in the validation data but not in the training data.`,
          first,
          'Add training examples with this label, or fix its spelling.',
          'DATA_LABEL_ONLY_IN_VALIDATION',
        );
      }
    }
  }

  let tokenLengths: TokenLengthStats | undefined;
  if (options.tokenizer !== null && examples.length > 0) {
    const tokenizer =
      typeof options.tokenizer === 'object' ? options.tokenizer : await loadTokenizer(options.tokenizer);
    tokenLengths = tokenLengthStats(
      tokenizer,
      examples.map((e) => e.text),
      options.maxLength ?? 128,
      data?.textPairColumn === undefined ? undefined : examples.map((e) => e.textPair ?? ''),
    );
    if (tokenLengths.truncatedShare > 0) {
      add(
        tokenLengths.truncatedShare > 0.2 ? 'warning' : 'info',
        data?.textPairColumn === undefined
          ? `${(tokenLengths.truncatedShare * 100).toFixed(1)}% of texts are longer than ${tokenLengths.maxLength} tokens and will be truncated.`
          : `${(tokenLengths.truncatedShare * 100).toFixed(1)}% of pairs are longer than ${tokenLengths.maxLength} tokens together and will be truncated (the longer text first).`,
        whole,
        data?.textPairColumn === undefined
          ? 'Raise the max length, or use the head+tail or window truncation strategy for long documents.'
          : 'Raise the max length if the cut parts matter.',
        'DATA_TRUNCATION',
      );
    }
  }

  return {
    path: file,
    ...(options.validationFile ? { validationPath: options.validationFile } : {}),
    format: data?.format,
    textColumn: data?.textColumn,
    labelColumn: data?.labelColumn,
    ...(data?.textPairColumn !== undefined ? { textPairColumn: data.textPairColumn } : {}),
    rows: examples.length,
    labels: recordOf(labels),
    ...(validation && validationLabels
      ? { validationRows: validation.examples.length, validationLabels: recordOf(validationLabels) }
      : {}),
    imbalanceRatio,
    blankTexts,
    duplicateRows,
    leakedRows,
    tokenLengths,
    ...(multiLabel ? { multiLabel } : {}),
    task,
    problems,
    fatal: problems.some((p) => p.severity === 'error'),
  };
}

/** The report for people: summary first, then problems, errors first. */
export function formatCheckReport(report: CheckReport): string {
  const out: string[] = [];
  const pair = report.textPairColumn !== undefined ? `, second text: "${report.textPairColumn}"` : '';
  const columns = report.textColumn ? ` (text: "${report.textColumn}"${pair}, label: "${report.labelColumn}")` : '';
  out.push(`${report.path}: ${report.rows} rows${report.format ? `, ${report.format}` : ''}${columns}`);
  if (report.validationPath) out.push(`${report.validationPath}: ${report.validationRows ?? 0} validation rows`);
  const labels = mapOfRecord(report.labels);
  if (report.task === 'regression') {
    const values = [...labels.keys()].map(Number);
    out.push(`Regression: numeric targets from ${Math.min(...values)} to ${Math.max(...values)}`);
  } else if (labels.size > 0) {
    const width = Math.max(...[...labels.keys()].map((l) => l.length));
    out.push(report.multiLabel ? `Labels (${labels.size}), rows with each:` : `Classes (${labels.size}):`);
    for (const [l, n] of labels) {
      const share = report.rows === 0 ? 0 : (100 * n) / report.rows;
      const v = report.validationLabels ? `  validation ${ownValue(report.validationLabels, l) ?? 0}` : '';
      out.push(`  ${l.padEnd(width)}  ${String(n).padStart(7)}  ${share.toFixed(1).padStart(5)}%${v}`);
    }
  }
  const m = report.multiLabel;
  if (m) {
    const how =
      m.format.source === 'columns'
        ? `one 0/1 column per label`
        : m.format.source === 'list'
          ? 'label lists'
          : m.format.separator !== undefined
            ? `labels separated by "${m.format.separator}"`
            : 'one label per cell';
    out.push(
      `Multi-label (${how}): ${m.labelsPerRow.toFixed(2)} labels per row, ${m.rowsWithoutLabel} rows without a label`,
    );
    if (m.cooccurrence.length > 0) {
      out.push('Labels that occur together most:');
      for (const c of m.cooccurrence) out.push(`  ${String(c.rows).padStart(7)}  ${c.labels[0]} + ${c.labels[1]}`);
    }
  }
  if (report.imbalanceRatio !== null) out.push(`Imbalance (largest / smallest): ${report.imbalanceRatio.toFixed(2)}`);
  out.push(
    `Whitespace-only texts: ${report.blankTexts}   Duplicate rows: ${report.duplicateRows}${report.validationPath ? `   In both train and validation: ${report.leakedRows}` : ''}`,
  );
  if (report.textPairColumn !== undefined) {
    out.push(
      `Text pairs: each row is "${report.textColumn}" with "${report.textPairColumn}" ([CLS] first [SEP] second [SEP], cut longest_first)`,
    );
  }
  const t = report.tokenLengths;
  if (t) {
    out.push(
      `${report.textPairColumn !== undefined ? 'Pair token lengths' : 'Token lengths'}: median ${t.median}, p90 ${t.p90}; ${(t.truncatedShare * 100).toFixed(1)}% longer than ${t.maxLength}`,
    );
    const most = Math.max(1, ...t.histogram.map((b) => b.count));
    let from = 1;
    for (const b of t.histogram) {
      const range = b.upTo === null ? `> ${from - 1}` : `${from}–${b.upTo}`;
      out.push(
        `  ${range.padStart(11)}  ${String(b.count).padStart(7)}  ${'█'.repeat(Math.round((30 * b.count) / most))}`,
      );
      if (b.upTo !== null) from = b.upTo + 1;
    }
  }
  const order = { error: 0, warning: 1, info: 2 } as const;
  const problems = [...report.problems].sort((a, b) => order[a.severity] - order[b.severity]);
  if (problems.length > 0) {
    out.push(`Problems (${problems.length}):`);
    for (const p of problems) {
      const at = p.line === null ? p.file : `${p.file}:${p.line}`;
      out.push(
        `  ${p.severity.toUpperCase().padEnd(7)} ${at}: ${p.message}${p.fix ? `\n          Fix: ${p.fix}` : ''}`,
      );
    }
  }
  out.push(
    report.fatal
      ? 'Result: NOT usable for training (fix the errors above).'
      : problems.some((p) => p.severity === 'warning')
        ? 'Result: usable, with warnings.'
        : 'Result: OK.',
  );
  return out.join('\n');
}

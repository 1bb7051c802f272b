/** Which column holds the text and which the label: detected from common names, or chosen by the user. */
import { DataError } from '../errors';

/** Accepted names, most likely first; compared case-insensitively, ignoring surrounding spaces. */
export const TEXT_COLUMN_NAMES = ['text', 'sentence', 'content', 'body', 'review', 'message', 'document', 'tweet'];
export const LABEL_COLUMN_NAMES = ['label', 'labels', 'category', 'class', 'target', 'y'];
/** Column pairs that hold two texts to classify together (GLUE, NLI, QA), detected when no text column is found. */
export const TEXT_PAIR_COLUMN_NAMES: ReadonlyArray<readonly [string, string]> = [
  ['sentence1', 'sentence2'],
  ['question', 'answer'],
  ['premise', 'hypothesis'],
  ['text_a', 'text_b'],
];

export interface ColumnChoice {
  text: string;
  /** The label column; '' when labels are given as one 0/1 column per label (labelColumns). */
  label: string;
  /** Multi-label data with one 0/1 column per label: those columns, in the order given (the labels' order). */
  labelColumns?: string[];
  /** The second text of a pair task ([CLS] text [SEP] textPair [SEP]); undefined for single texts. */
  textPair?: string;
}

export interface ColumnOverrides {
  textColumn?: string;
  labelColumn?: string;
  textPairColumn?: string;
  /** Multi-label data as one 0/1 column per label (`--label-columns a,b,c`): the columns, each a label. */
  labelColumns?: string[];
}

/**
 * The pair of text columns among `columns` by common names (TEXT_PAIR_COLUMN_NAMES), when no single text column
 * is chosen or found: the first whose both names are present (with `pairColumn` given, the one whose second it is).
 */
export function detectTextPairColumns(
  columns: string[],
  overrides: ColumnOverrides = {},
): { text: string; textPair: string } | undefined {
  if (overrides.textColumn !== undefined) return undefined;
  if (overrides.textPairColumn === undefined && TEXT_COLUMN_NAMES.some((n) => findColumn(columns, n) !== undefined))
    return undefined;
  for (const [first, second] of TEXT_PAIR_COLUMN_NAMES) {
    const text = findColumn(columns, first);
    const textPair = findColumn(columns, second);
    if (text === undefined || textPair === undefined) continue;
    if (overrides.textPairColumn !== undefined && findColumn(columns, overrides.textPairColumn) !== textPair) continue;
    return { text, textPair };
  }
  return undefined;
}

/** The column named `wanted`: an exact match first, else one equal ignoring case and surrounding spaces. */
export function findColumn(columns: string[], wanted: string): string | undefined {
  const key = wanted.trim().toLowerCase();
  return columns.find((c) => c === wanted) ?? columns.find((c) => c.trim().toLowerCase() === key);
}

function listColumns(columns: string[]): string {
  return columns.length === 0 ? '(none)' : columns.map((c) => JSON.stringify(c)).join(', ');
}

/**
 * Pick the text and label columns among `columns`. An override must name an existing column (case-insensitive);
 * otherwise the first common name found wins. Throws a DataError listing the columns found when either is missing.
 */
export function detectColumns(columns: string[], overrides: ColumnOverrides = {}, file = ''): ColumnChoice {
  const detectedPair = detectTextPairColumns(columns, overrides);
  const pick = (role: 'text' | 'label' | 'second text', override: string | undefined, names: string[]): string => {
    if (override !== undefined) {
      const found = findColumn(columns, override);
      if (found === undefined) {
        throw new DataError(`There is no ${role} column named "${override}". Columns found: ${listColumns(columns)}.`, {
          file,
          line: 1,
          code: 'DATA_UNKNOWN_COLUMN',
          fix: `Choose one of the columns found as the ${role} column.`,
        });
      }
      return found;
    }
    for (const name of names) {
      const found = findColumn(columns, name);
      if (found !== undefined) return found;
    }
    throw new DataError(
      `Cannot tell which column holds the ${role}. Columns found: ${listColumns(columns)}; ` +
        `expected one of: ${names.join(', ')}.`,
      {
        file,
        line: 1,
        code: role === 'text' ? 'DATA_NO_TEXT_COLUMN' : 'DATA_NO_LABEL_COLUMN',
        fix: `Rename the ${role} column to "${names[0]}", or choose it explicitly (${role}Column setting / --${role}-column).`,
      },
    );
  };
  const text = detectedPair?.text ?? pick('text', overrides.textColumn, TEXT_COLUMN_NAMES);
  const labelColumns = overrides.labelColumns?.map((c) => pick('label', c, []));
  const label = labelColumns ? '' : pick('label', overrides.labelColumn, LABEL_COLUMN_NAMES);
  const textPair =
    detectedPair?.textPair ??
    (overrides.textPairColumn === undefined ? undefined : pick('second text', overrides.textPairColumn, []));
  for (const [role, name] of [
    ['text', text],
    ['label', label],
    ...(textPair === undefined ? [] : [['second text', textPair] as const]),
    ...(labelColumns ?? []).map((c) => ['label', c] as const),
  ] as const) {
    const at = columns.flatMap((c, i) => (c === name ? [i + 1] : []));
    if (at.length > 1) {
      throw new DataError(
        `The header names the ${role} column "${name}" ${at.length} times (columns ${at.join(', ')}), so it is not clear which one holds the ${role}.`,
        {
          file,
          line: 1,
          code: 'DATA_DUPLICATE_COLUMN',
          fix: 'Rename the columns so that each name is used once.',
        },
      );
    }
  }
  if (text === label) {
    throw new DataError(`The text and the label cannot both be the column "${text}".`, {
      file,
      line: 1,
      code: 'DATA_SAME_COLUMN',
      fix: 'Choose two different columns for the text and the label.',
    });
  }
  if (textPair !== undefined && (textPair === text || textPair === label)) {
    throw new DataError(
      `The second text cannot be the column "${textPair}", which already holds the ${textPair === text ? 'text' : 'label'}.`,
      {
        file,
        line: 1,
        code: 'DATA_SAME_COLUMN',
        fix: 'Choose a third column as the second text (--text-pair-column).',
      },
    );
  }
  if (labelColumns) {
    const clash = labelColumns.find((c, i) => c === text || c === textPair || labelColumns.indexOf(c) !== i);
    if (clash !== undefined) {
      throw new DataError(`The label columns name "${clash}" twice, or as a text column as well.`, {
        file,
        line: 1,
        code: 'DATA_SAME_COLUMN',
        fix: 'List each 0/1 label column once in --label-columns, and none of the text columns.',
      });
    }
  }
  return {
    text,
    label,
    ...(textPair === undefined ? {} : { textPair }),
    ...(labelColumns ? { labelColumns } : {}),
  };
}

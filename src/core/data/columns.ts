/** Which column holds the text and which the label: detected from common names, or chosen by the user. */
import { DataError } from '../errors';

/** Accepted names, most likely first; compared case-insensitively, ignoring surrounding spaces. */
export const TEXT_COLUMN_NAMES = ['text', 'sentence', 'content', 'body', 'review', 'message', 'document', 'tweet'];
export const LABEL_COLUMN_NAMES = ['label', 'labels', 'category', 'class', 'target', 'y'];

export interface ColumnChoice {
  text: string;
  label: string;
}

export interface ColumnOverrides {
  textColumn?: string;
  labelColumn?: string;
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
  const pick = (role: 'text' | 'label', override: string | undefined, names: string[]): string => {
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
  const text = pick('text', overrides.textColumn, TEXT_COLUMN_NAMES);
  const label = pick('label', overrides.labelColumn, LABEL_COLUMN_NAMES);
  for (const [role, name] of [
    ['text', text],
    ['label', label],
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
  return { text, label };
}

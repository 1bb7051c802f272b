/**
 * `bertft` help text: the command list and each command's flags, in two columns wrapped to HELP_WIDTH. A flag whose
 * name and value list do not fit its column gets a line of its own and its description starts on the next line (as
 * git and npm do), so a flag never runs into its description.
 */
import type { FlagSpec } from './args';
import { COMMANDS } from './commands';

/** Help lines are at most this wide: a classic terminal. */
export const HELP_WIDTH = 80;
/** Where a flag's description starts. */
const FLAG_COLUMN = 34;
/** Where a command's summary starts in the command list. */
const COMMAND_COLUMN = 12;
/** The least space between a left column and its description. */
const GAP = 2;

/** `text` split into lines of at most `width` characters at spaces (a single longer word stays whole). */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line === '') line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** Two columns: each left cell, then its description wrapped from `column` on (below the cell when it is too wide). */
function columns(rows: readonly (readonly [string, string])[], column: number): string {
  const indent = ' '.repeat(column);
  const out: string[] = [];
  for (const [left, description] of rows) {
    const [first = '', ...rest] = wrapText(description, HELP_WIDTH - column);
    if (left.length + GAP <= column) out.push(left.padEnd(column) + first);
    else out.push(left, indent + first);
    for (const line of rest) out.push(indent + line);
  }
  return out.join('\n');
}

/** A flag as the help shows it: `--name <value>`, with the choices or the kind of value. */
function flagUsage(spec: FlagSpec): string {
  const value =
    spec.kind === 'boolean'
      ? ''
      : spec.choices
        ? ` <${spec.choices.join('|')}>`
        : spec.kind === 'int' || spec.kind === 'number'
          ? ' <n>'
          : ' <value>';
  return `--${spec.name}${value}`;
}

export function formatFlagHelp(specs: readonly FlagSpec[]): string {
  return columns(
    specs.map((s) => [`  ${flagUsage(s)}`, s.help]),
    FLAG_COLUMN,
  );
}

/** `bertft help`: the commands with their summaries. */
export function usage(): string {
  const commands = columns(
    Object.entries(COMMANDS).map(([name, c]) => [`  ${name}`, c.summary]),
    COMMAND_COLUMN,
  );
  const footer = 'Run `bertft <command> --help` for its flags, `bertft --version` for the version.';
  return ['Usage: bertft <command> [flags]', '', 'Commands:', commands, '', footer].join('\n') + '\n';
}

/** `bertft <command> --help`: its usage line, summary and flags. */
export function commandHelp(command: string): string {
  const spec = COMMANDS[command];
  const summary = wrapText(spec.summary, HELP_WIDTH).join('\n');
  return `Usage: bertft ${command} [flags]\n${summary}\n\n${formatFlagHelp(spec.flags)}\n`;
}

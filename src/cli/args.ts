/**
 * Command-line flag parsing for `bertft`: `--name value`, `--name=value`, boolean switches and repeatable flags.
 * Every mistake (unknown flag, missing value, bad number, value not among the choices) is a UsageError that
 * names the flag, so the CLI exits 1 with a message saying what to fix.
 */
import { UserError } from '../core/errors';

export class UsageError extends UserError {
  constructor(message: string, fix?: string) {
    super(message, { code: 'CLI_USAGE', fix: fix ?? 'Run `bertft help` to see the commands and their flags.' });
    this.name = 'UsageError';
  }
}

export type FlagKind = 'string' | 'int' | 'number' | 'boolean' | 'repeat';

export interface FlagSpec {
  name: string;
  kind: FlagKind;
  help: string;
  /** Allowed values for a string flag. */
  choices?: readonly string[];
  /** Inclusive lower bound for numbers. */
  min?: number;
  /** Lower bound that the value must exceed (e.g. a learning rate > 0). */
  above?: number;
  max?: number;
}

export type FlagValue = string | number | boolean | string[];

export interface ParsedArgs {
  flags: Map<string, FlagValue>;
  positionals: string[];
}

export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[], command: string): ParsedArgs {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const flags = new Map<string, FlagValue>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '--') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const spec = byName.get(name);
    if (!spec) {
      throw new UsageError(
        `Unknown flag --${name} for \`bertft ${command}\`.`,
        `Use one of: ${specs.map((s) => `--${s.name}`).join(', ')}.`,
      );
    }
    let raw: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    if (spec.kind === 'boolean') {
      if (raw === undefined || raw === 'true') flags.set(name, true);
      else if (raw === 'false') flags.set(name, false);
      else
        throw new UsageError(
          `--${name} is a switch; it takes no value (got "${raw}").`,
          `Write --${name} alone, or --${name}=false.`,
        );
      continue;
    }
    if (raw === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) {
        throw new UsageError(
          `--${name} needs a value.`,
          `Write --${name} <${spec.kind === 'int' || spec.kind === 'number' ? 'number' : 'value'}>.`,
        );
      }
      raw = next;
      i++;
    }
    flags.set(name, convert(spec, raw, flags.get(name)));
  }
  return { flags, positionals };
}

function convert(spec: FlagSpec, raw: string, previous: FlagValue | undefined): FlagValue {
  const name = `--${spec.name}`;
  switch (spec.kind) {
    case 'repeat':
      return [...((previous as string[] | undefined) ?? []), raw];
    case 'string':
      if (spec.choices && !spec.choices.includes(raw)) {
        throw new UsageError(
          `${name} must be one of ${spec.choices.join(', ')} (got "${raw}").`,
          `Write ${name} ${spec.choices[0]}.`,
        );
      }
      if (raw === '') throw new UsageError(`${name} needs a non-empty value.`);
      return raw;
    case 'int':
    case 'number': {
      const value = raw.trim() === '' ? NaN : Number(raw);
      const wantInt = spec.kind === 'int';
      if (!Number.isFinite(value) || (wantInt && !Number.isInteger(value))) {
        throw new UsageError(
          `${name} must be ${wantInt ? 'a whole number' : 'a number'} (got "${raw}").`,
          `Write ${name} ${spec.min ?? 1}${wantInt ? '' : ' or a decimal such as 5e-5'}.`,
        );
      }
      if (spec.min !== undefined && value < spec.min)
        throw new UsageError(`${name} must be at least ${spec.min} (got ${raw}).`);
      if (spec.above !== undefined && value <= spec.above)
        throw new UsageError(`${name} must be greater than ${spec.above} (got ${raw}).`);
      if (spec.max !== undefined && value > spec.max)
        throw new UsageError(`${name} must be at most ${spec.max} (got ${raw}).`);
      return value;
    }
    case 'boolean':
      return true;
  }
}

export function getString(args: ParsedArgs, name: string): string | undefined {
  return args.flags.get(name) as string | undefined;
}

export function getNumber(args: ParsedArgs, name: string): number | undefined {
  return args.flags.get(name) as number | undefined;
}

export function getBool(args: ParsedArgs, name: string): boolean {
  return args.flags.get(name) === true;
}

export function getList(args: ParsedArgs, name: string): string[] {
  return (args.flags.get(name) as string[] | undefined) ?? [];
}

export function requireString(args: ParsedArgs, name: string, command: string, example: string): string {
  const value = getString(args, name);
  if (value === undefined) throw new UsageError(`\`bertft ${command}\` needs --${name}.`, `Add --${name} ${example}.`);
  return value;
}

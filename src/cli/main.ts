/**
 * `bertft` without VS Code: parse the command line, run the command, map the outcome to an exit code
 * (0 ok, 1 bad input — the message says what to fix, 2 internal error, 130 cancelled).
 */
import { asUserFacing, isUserError } from '../core/errors';
import { formatFlagHelp, parseArgs, UsageError, type ParsedArgs } from './args';
import { COMMANDS } from './commands';

export const EXIT_OK = 0;
export const EXIT_BAD_INPUT = 1;
export const EXIT_INTERNAL = 2;
export const EXIT_CANCELLED = 130;

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Draw a progress bar (only for a human at a terminal). */
  stderrIsTTY: boolean;
}

export const processIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  stderrIsTTY: process.stderr.isTTY === true,
};

export function usage(): string {
  const lines = ['Usage: bertft <command> [flags]', '', 'Commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)}${c.summary}`);
  lines.push('', 'Run `bertft <command> --help` for its flags.');
  return lines.join('\n') + '\n';
}

export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    io.stdout(usage());
    return command === undefined ? EXIT_BAD_INPUT : EXIT_OK;
  }
  const spec = COMMANDS[command];
  try {
    if (!spec) throw new UsageError(`Unknown command "${command}".`, `Use one of: ${Object.keys(COMMANDS).join(', ')}.`);
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout(`Usage: bertft ${command} [flags]\n${spec.summary}\n\n${formatFlagHelp(spec.flags)}\n`);
      return EXIT_OK;
    }
    const args = parseArgs(rest, spec.flags, command);
    if (args.positionals.length > 0) {
      throw new UsageError(`Unexpected argument "${args.positionals[0]}" for \`bertft ${command}\`.`,
        'Every value goes after its flag, e.g. --data file.csv; quote texts that contain spaces.');
    }
    return await dispatch(command, args, io);
  } catch (e) {
    return reportError(e, io);
  }
}

async function dispatch(command: string, args: ParsedArgs, io: CliIo): Promise<number> {
  // Imported on demand so that usage errors never pay for loading onnxruntime.
  switch (command) {
    case 'check': return (await import('./check')).checkCommand(args, io);
    case 'train': return (await import('./train')).trainCommand(args, io);
    case 'eval': return (await import('./eval')).evalCommand(args, io);
    case 'predict': return (await import('./predict')).predictCommand(args, io);
    case 'pretrain': return (await import('./pretrain')).pretrainCommand(args, io);
    case 'gpu': return (await import('./gpu')).gpuCommand(args, io);
    default: throw new UsageError(`Unknown command "${command}".`);
  }
}

export function reportError(error: unknown, io: CliIo): number {
  const e = asUserFacing(error);
  if (isUserError(e)) {
    io.stderr(`bertft: ${e.describe()}\n`);
    return EXIT_BAD_INPUT;
  }
  const detail = e instanceof Error ? (e.stack ?? e.message) : String(e);
  io.stderr(`bertft: internal error: ${detail}\nThis is a bug in bertft; please report it with the command you ran.\n`);
  return EXIT_INTERNAL;
}

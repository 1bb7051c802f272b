/**
 * `bertft` without VS Code: parse the command line, run the command, map the outcome to an exit code (output.ts).
 * Each command lives in its own module, loaded on demand; none imports this one.
 */
import { nativeRuntimeError } from '../core/runtime/devices';
import { packageVersion } from '../core/util/package-version';
import { parseArgs, UsageError, type ParsedArgs } from './args';
import { COMMANDS } from './commands';
import { commandHelp, usage } from './help';
import { EXIT_BAD_INPUT, EXIT_OK, processIo, reportError, type CliIo } from './output';

export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    io.stdout(usage());
    return command === undefined ? EXIT_BAD_INPUT : EXIT_OK;
  }
  if (command === '--version' || command === '-v' || command === 'version') {
    io.stdout(`${packageVersion()}\n`);
    return EXIT_OK;
  }
  const spec = COMMANDS[command];
  try {
    if (!spec)
      throw new UsageError(`Unknown command "${command}".`, `Use one of: ${Object.keys(COMMANDS).join(', ')}.`);
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout(commandHelp(command));
      return EXIT_OK;
    }
    const args = parseArgs(rest, spec.flags, command);
    // A command's one lone argument stands for its positional flag, unless that flag is given too.
    if (spec.positional && args.positionals.length === 1 && !args.flags.has(spec.positional)) {
      args.flags.set(spec.positional, args.positionals.shift()!);
    }
    if (args.positionals.length > 0) {
      throw new UsageError(
        `Unexpected argument "${args.positionals[0]}" for \`bertft ${command}\`.`,
        'Every value goes after its flag, e.g. --data file.csv; quote texts that contain spaces.',
      );
    }
    return await dispatch(command, args, io);
  } catch (e) {
    return reportError(e, io);
  }
}

async function dispatch(command: string, args: ParsedArgs, io: CliIo): Promise<number> {
  // Imported on demand so that usage errors never pay for loading onnxruntime.
  if (command === 'check') return (await import('./check')).checkCommand(args, io);
  // The scheduler commands run no model: they work where onnxruntime has no native library too (a login node).
  if (command === 'submit') return (await import('./submit')).submitCommand(args, io);
  if (command === 'jobs') return (await import('./jobs')).jobsCommand(args, io);
  if (command === 'cancel') return (await import('./jobs')).cancelCommand(args, io);
  // A sweep loads onnxruntime only to train here (not for --show or --slurm).
  if (command === 'sweep') return (await import('./sweep')).sweepCommand(args, io);
  // The model table is text: no onnxruntime either.
  if (command === 'models') return (await import('./models')).modelsCommand(args, io);
  // A push only reads files and talks HTTP: no onnxruntime either.
  if (command === 'push') return (await import('./push')).pushCommand(args, io);
  // Every other command loads onnxruntime-node: where it has no native library, say so instead of a require() failure.
  const unsupported = nativeRuntimeError();
  if (unsupported) throw unsupported;
  switch (command) {
    case 'train':
      return (await import('./train')).trainCommand(args, io);
    case 'eval':
      return (await import('./eval')).evalCommand(args, io);
    case 'predict':
      return (await import('./predict')).predictCommand(args, io);
    case 'pretrain':
      return (await import('./pretrain')).pretrainCommand(args, io);
    case 'gpu':
      return (await import('./gpu')).gpuCommand(args, io);
    default:
      throw new UsageError(`Unknown command "${command}".`);
  }
}

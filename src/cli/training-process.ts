/**
 * `bertft train` and `bertft pretrain` train in a child process started with the malloc settings of
 * core/train/allocator.ts (they only take effect at process start). The parent relays SIGINT / SIGTERM to it and exits
 * with its exit code; the child shares stdin, stdout and stderr, so output and exit codes are those of the command.
 * The child runs in its own process group, so that a Ctrl-C at a terminal reaches it once (relayed), not twice (the
 * second would mean "quit at once"); and it exits at once when the parent dies (kill -9), as the parent did.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { needsTrainingEnv, trainingProcessEnv, type Machine } from '../core/train/allocator';

const TRAINING_COMMANDS = new Set(['train', 'pretrain']);
/** Set in the child, so that it does not restart itself again. */
const CHILD_MARK = 'BERTFT_TRAINING_CHILD';
/** Set in the child: when the parent process started (ms since the epoch), so that the child knows the command's start. */
const STARTED_MARK = 'BERTFT_COMMAND_STARTED';

/** When the command started, in ms since the epoch: the parent's start in a restarted training child, else this process's. */
export function commandStartedAt(env: NodeJS.ProcessEnv = process.env): number {
  const parent = Number(env[STARTED_MARK]);
  return env[CHILD_MARK] === '1' && Number.isFinite(parent) && parent > 0 ? parent : performance.timeOrigin;
}

/** In the parent: run the command in a child with the training environment; resolves with its exit code. Undefined when no restart is needed. */
export function runInTrainingProcess(argv: readonly string[], script: string): Promise<number> | undefined {
  const trains = TRAINING_COMMANDS.has(argv[0] ?? '') || (argv[0] === 'check' && argv.includes('--suspects'));
  if (!trains || argv.includes('--help') || argv.includes('-h')) return undefined;
  return restartInTrainingProcess(script, argv);
}

/**
 * Runs `node <script> <argv>` again in a child with the training environment (for any script that trains in its own
 * process: the CLI's training commands, the benchmarks); resolves with its exit code. Undefined when this process
 * already has that environment (or is such a child), and wherever the settings mean nothing (Windows, macOS): the
 * relay of POSIX signals below is for Linux only. `env` and `machine` are this process's unless given (tests).
 */
export function restartInTrainingProcess(
  script: string,
  argv: readonly string[],
  { env = process.env, machine }: { env?: NodeJS.ProcessEnv; machine?: Machine } = {},
): Promise<number> | undefined {
  if (env[CHILD_MARK] === '1' || !needsTrainingEnv(env, machine)) return undefined;
  const child = spawn(process.execPath, [...process.execArgv, script, ...argv], {
    env: { ...trainingProcessEnv(env, machine), [CHILD_MARK]: '1', [STARTED_MARK]: String(performance.timeOrigin) },
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    detached: true,
  });
  const relay = (signal: NodeJS.Signals) => (): void => {
    child.kill(signal);
  };
  process.on('SIGINT', relay('SIGINT'));
  process.on('SIGTERM', relay('SIGTERM'));
  return new Promise((resolve) => {
    child.on('error', (e) => {
      process.stderr.write(`bertft: cannot start the training process: ${e.message}\n`);
      resolve(2);
    });
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
}

/** In the child (call it first thing in a script that restarts itself): end at once when the parent is gone (its IPC channel closes); the channel itself keeps nothing alive. */
export function watchTrainingParent(): void {
  if (process.env[CHILD_MARK] !== '1' || !process.channel) return;
  process.channel.unref();
  process.on('disconnect', () => process.exit(137));
}

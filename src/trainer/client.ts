/**
 * The parent side of the trainer child process (used by the extension; the CLI trains in-process). The child is
 * src/trainer/main.ts (compiled or bundled), forked with an IPC channel: it sends TrainerEvents, the parent sends `stop`.
 * stop() asks for a graceful stop (finish the step, checkpoint, `done` with stopped: true) and kills the child if
 * it has not exited within `stopTimeoutMs`; kill() ends it at once (the run stays resumable from its last checkpoint).
 *
 * With `keepAliveWithoutParent` the child is detached (its own process group) and its stderr goes to a log file, so
 * it keeps training when the parent goes away (a VS Code window reload restarts the extension host); a new window
 * reattaches from `<run>/metrics.jsonl` and stops it by pid with SIGTERM.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { trainingProcessEnv } from '../core/train/allocator';
import { isTrainerEvent, type TrainerCommand, type TrainerEvent, type TrainerRequest } from './protocol';

export interface StartTrainerOptions {
  /** The training request: what `bertft train` flags would say, or `bertft pretrain` flags with `task: 'mlm'`. */
  options: TrainerRequest;
  /** The child's entry script; default main.js next to this file. */
  entry?: string;
  env?: NodeJS.ProcessEnv;
  /** How long stop() waits for a graceful exit before killing; default 60 s. */
  stopTimeoutMs?: number;
  /** Receives the child's stderr (native warnings, crashes). Not used with `keepAliveWithoutParent`. */
  onStderr?: (text: string) => void;
  /**
   * Keep training when this process exits: the child is detached and ignores the loss of its IPC channel. Its stderr
   * is appended to this file instead of a pipe, which would break when the parent goes.
   */
  keepAliveWithoutParent?: { stderrFile: string };
}

/** The child's flag for `keepAliveWithoutParent`. */
export const KEEP_ALIVE_FLAG = '--keep-alive-without-parent';

export interface TrainerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface TrainerHandle {
  readonly pid: number;
  /** 'event' (TrainerEvent) and 'exit' (TrainerExit); also iterable with for await. */
  readonly events: EventEmitter & AsyncIterable<TrainerEvent>;
  readonly exited: Promise<TrainerExit>;
  stop(): void;
  kill(): void;
}

/** main.js next to this file when compiled by tsc (out/), trainer.js when bundled by esbuild (dist/). */
export const TRAINER_ENTRY = fs.existsSync(path.join(__dirname, 'main.js')) ? path.join(__dirname, 'main.js') : path.join(__dirname, 'trainer.js');

export function startTrainer(opts: StartTrainerOptions): TrainerHandle {
  const keepAlive = opts.keepAliveWithoutParent;
  const stderrFd = keepAlive ? fs.openSync(keepAlive.stderrFile, 'a') : undefined;
  const args = ['--options', JSON.stringify(opts.options), ...(keepAlive ? [KEEP_ALIVE_FLAG] : [])];
  const child: ChildProcess = fork(opts.entry ?? TRAINER_ENTRY, args, {
    // The malloc settings of a training process (core/train/allocator.ts) take effect only at its start.
    env: trainingProcessEnv(opts.env ?? process.env),
    stdio: ['ignore', 'ignore', stderrFd ?? 'pipe', 'ipc'],
    serialization: 'json',
    detached: keepAlive !== undefined,
  });
  if (stderrFd !== undefined) fs.closeSync(stderrFd);
  const emitter = new EventEmitter();
  const queue: TrainerEvent[] = [];
  const waiters: ((r: IteratorResult<TrainerEvent>) => void)[] = [];
  let finished = false;

  child.stderr?.on('data', (chunk: Buffer) => opts.onStderr?.(chunk.toString('utf8')));
  child.on('message', (message: unknown) => {
    if (!isTrainerEvent(message)) return;
    emitter.emit('event', message);
    const waiter = waiters.shift();
    if (waiter) waiter({ value: message, done: false });
    else queue.push(message);
  });
  const exited = new Promise<TrainerExit>((resolve) => {
    child.once('exit', (code, signal) => {
      finished = true;
      clearTimeout(killTimer);
      for (const w of waiters.splice(0)) w({ value: undefined, done: true });
      const exit = { code, signal };
      emitter.emit('exit', exit);
      resolve(exit);
    });
  });
  let killTimer: NodeJS.Timeout | undefined;

  const events = Object.assign(emitter, {
    [Symbol.asyncIterator](): AsyncIterator<TrainerEvent> {
      return {
        next: () => {
          const value = queue.shift();
          if (value) return Promise.resolve({ value, done: false });
          if (finished) return Promise.resolve({ value: undefined, done: true });
          return new Promise((resolve) => waiters.push(resolve));
        },
      };
    },
  });

  const kill = (): void => {
    if (!finished) child.kill('SIGKILL');
  };
  return {
    pid: child.pid ?? -1,
    events,
    exited,
    stop: () => {
      if (finished) return;
      const command: TrainerCommand = { command: 'stop' };
      if (child.connected) child.send(command);
      else child.kill('SIGTERM');
      killTimer ??= setTimeout(kill, opts.stopTimeoutMs ?? 60_000);
    },
    kill,
  };
}

/**
 * The parent side of the trainer child process (used by the extension; the CLI trains in-process). The child is
 * src/trainer/main.ts (compiled or bundled), forked with an IPC channel: it sends TrainerEvents, the parent sends `stop`.
 * estimateInChild() asks a child for a run's estimate instead (the model and its warm-up steps never run in the parent),
 * suspectsInChild() for a dataset's likely mislabeled rows (its k fold runs).
 * stop() asks for a graceful stop (finish the step, checkpoint, `done` with stopped: true) and kills the child if
 * it has not exited within `stopTimeoutMs`; kill() ends it at once (the run stays resumable from its last checkpoint).
 *
 * With `keepAliveWithoutParent` the child is detached (its own process group) and its stderr goes to a log file, so
 * it keeps training when the parent goes away (a VS Code window reload restarts the extension host); a new window
 * reattaches from `<run>/metrics.jsonl` and stops it with the run's stop request file (core/run/stop-request.ts).
 * No signal is sent but the last-resort kill: on Windows a signal ends a process at once, without a checkpoint.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { requestRunStop } from '../core/run/stop-request';
import { trainingProcessEnv } from '../core/train/allocator';
import { EstimateCancelled, type EstimateEvent } from '../core/train/estimate';
import {
  isEstimateEvent,
  isSuspectsProgress,
  isSuspectsReport,
  isTrainerEvent,
  type ChildRequest,
  type LogEvent,
  type SuspectsProgressEvent,
  type SuspectsReport,
  type TrainerCommand,
  type TrainerEvent,
  type TrainerRequest,
} from './protocol';
import type { EstimateOptions } from '../core/finetune/session';
import { SuspectsCancelled, type SuspectsOptions } from '../core/finetune/suspects-report';

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
export const TRAINER_ENTRY = fs.existsSync(path.join(__dirname, 'main.js'))
  ? path.join(__dirname, 'main.js')
  : path.join(__dirname, 'trainer.js');

/** Forks the trainer child for `request`; its stderr goes to `stderrFd` (a file) or a pipe. */
function forkTrainer(
  request: ChildRequest,
  entry: string | undefined,
  env: NodeJS.ProcessEnv | undefined,
  keepAlive?: { stderrFd: number },
): ChildProcess {
  const args = ['--options', JSON.stringify(request), ...(keepAlive ? [KEEP_ALIVE_FLAG] : [])];
  return fork(entry ?? TRAINER_ENTRY, args, {
    // The malloc settings of a training process (core/train/allocator.ts) take effect only at its start.
    env: trainingProcessEnv(env ?? process.env),
    stdio: ['ignore', 'ignore', keepAlive?.stderrFd ?? 'pipe', 'ipc'],
    serialization: 'json',
    detached: keepAlive !== undefined,
  });
}

export function startTrainer(opts: StartTrainerOptions): TrainerHandle {
  const keepAlive = opts.keepAliveWithoutParent;
  const stderrFd = keepAlive ? fs.openSync(keepAlive.stderrFile, 'a') : undefined;
  const child = forkTrainer(opts.options, opts.entry, opts.env, stderrFd !== undefined ? { stderrFd } : undefined);
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
      else void requestRunStop(path.resolve(opts.options.out)).catch(() => undefined); // the kill below remains
      killTimer ??= setTimeout(kill, opts.stopTimeoutMs ?? 60_000);
    },
    kill,
  };
}

export interface EstimateInChildOptions {
  /** The run to estimate: what `bertft train --estimate` flags would say. */
  options: EstimateOptions;
  /** The child's entry script; default main.js next to this file. */
  entry?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * Cancels: the promise rejects with EstimateCancelled at once; the child is asked to stop (it ends at its next
   * warm-up step and deletes its scratch folder) and killed if it has not exited within `stopTimeoutMs`.
   */
  signal?: AbortSignal;
  /** Default 10 s. */
  stopTimeoutMs?: number;
  /** The child's `log` events (device choice, warnings) as they come. */
  onLog?: (event: LogEvent) => void;
}

/** A child's `error` answer: `message` is for the user (a UserError's message and fix), `detail` for the log. */
export class ChildFailed extends Error {
  constructor(
    message: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'ChildFailed';
  }
}

/** The estimate child's `error` answer, or its end without an answer. */
export class EstimateFailed extends ChildFailed {
  constructor(message: string, detail?: string) {
    super(message, detail);
    this.name = 'EstimateFailed';
  }
}

/** The finder child's `error` answer, or its end without an answer. */
export class SuspectsFailed extends ChildFailed {
  constructor(message: string, detail?: string) {
    super(message, detail);
    this.name = 'SuspectsFailed';
  }
}

interface AskChild<A> {
  request: ChildRequest;
  entry?: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  stopTimeoutMs: number;
  isAnswer: (message: unknown) => message is A;
  /** Every other message but an `error` event. */
  onMessage?: (message: unknown) => void;
  cancelled: () => Error;
  failed: (message: string, detail?: string) => ChildFailed;
  /** What the process is called when it ends without an answer ("estimate"). */
  what: string;
}

/**
 * A trainer child that answers once (an estimate, the likely mislabeled rows): resolves with its answer, rejects with
 * `failed` on its `error` event or an end without an answer, and with `cancelled` at once when `signal` aborts (the
 * child is then asked to stop, and killed after `stopTimeoutMs`).
 */
function askChild<A>(opts: AskChild<A>): Promise<A> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(opts.cancelled());
    const child = forkTrainer(opts.request, opts.entry, opts.env);
    let answer: A | undefined;
    let failure: { message: string; detail?: string } | undefined;
    let stderr = '';
    let killTimer: NodeJS.Timeout | undefined;
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4000);
    });
    child.on('message', (message: unknown) => {
      if (opts.isAnswer(message)) answer = message;
      else if (isTrainerEvent(message) && message.event === 'error') failure = message;
      else opts.onMessage?.(message);
    });
    const cancel = (): void => {
      reject(opts.cancelled());
      const command: TrainerCommand = { command: 'stop' };
      if (child.connected) child.send(command);
      killTimer = setTimeout(() => child.kill('SIGKILL'), opts.stopTimeoutMs);
    };
    opts.signal?.addEventListener('abort', cancel, { once: true });
    child.once('error', (error) => reject(error));
    child.once('exit', (code, signal) => {
      clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', cancel);
      if (answer !== undefined) resolve(answer);
      else if (failure) reject(opts.failed(failure.message, failure.detail));
      else {
        const why = `The ${opts.what} process exited (code ${code}, signal ${signal}) without an answer.`;
        reject(opts.failed(why, stderr.trim() || undefined));
      }
    });
  });
}

/**
 * The expected time and peak memory of a fine-tuning run, measured in a trainer child with the same environment as
 * the run's (startTrainer's): it prepares the run, times a few warm-up steps, answers once and exits. Rejects with
 * EstimateFailed when the child answers with an error (bad data, no model) or ends without an answer.
 */
export function estimateInChild(opts: EstimateInChildOptions): Promise<EstimateEvent> {
  return askChild({
    request: { ...opts.options, task: 'estimate' },
    entry: opts.entry,
    env: opts.env,
    signal: opts.signal,
    stopTimeoutMs: opts.stopTimeoutMs ?? 10_000,
    isAnswer: isEstimateEvent,
    onMessage: (message) => {
      if (isTrainerEvent(message) && message.event === 'log') opts.onLog?.(message);
    },
    cancelled: () => new EstimateCancelled(),
    failed: (message, detail) => new EstimateFailed(message, detail),
    what: 'estimate',
  });
}

export interface SuspectsInChildOptions {
  /** What `bertft check --suspects` flags would say. */
  options: SuspectsOptions;
  entry?: string;
  env?: NodeJS.ProcessEnv;
  /** Cancels: rejects with SuspectsCancelled at once; the child stops after its current step. */
  signal?: AbortSignal;
  /** Default 30 s (a fold's run writes a checkpoint when it stops). */
  stopTimeoutMs?: number;
  /** Which fold the finder is at, and that fold's training events (steps, evaluations, logs). */
  onProgress?: (event: SuspectsProgressEvent | TrainerEvent) => void;
}

/** The likely mislabeled rows of a dataset, found in a trainer child (k fold runs); rejects with SuspectsFailed. */
export function suspectsInChild(opts: SuspectsInChildOptions): Promise<SuspectsReport> {
  return askChild({
    request: { ...opts.options, task: 'suspects' },
    entry: opts.entry,
    env: opts.env,
    signal: opts.signal,
    stopTimeoutMs: opts.stopTimeoutMs ?? 30_000,
    isAnswer: isSuspectsReport,
    onMessage: (message) => {
      if (isSuspectsProgress(message) || isTrainerEvent(message)) opts.onProgress?.(message);
    },
    cancelled: () => new SuspectsCancelled(),
    failed: (message, detail) => new SuspectsFailed(message, detail),
    what: 'finder',
  });
}

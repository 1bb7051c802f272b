/**
 * How every `bertft` command talks: exit codes (0 ok, 1 bad input — the message says what to fix, 2 internal
 * error, 130 cancelled), results on stdout (one JSON value per line with --json, text for a person otherwise),
 * notes and progress on stderr for a person only, errors on stderr, and Ctrl-C / SIGTERM as a request to stop.
 */
import { asUserFacing, isUserError } from '../core/errors';
import { sessionErrorEvent } from '../core/run/events';

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

/** A command's output: machine-readable with --json, for a person without. */
export class Output {
  constructor(
    readonly io: CliIo,
    readonly json: boolean,
  ) {}

  /** A result: its JSON form with --json (one line), else the text `human` gives. */
  result(value: unknown, human: () => string): void {
    this.io.stdout(this.json ? JSON.stringify(value) + '\n' : human());
  }

  /** A note for a person on stderr (progress, what is happening); nothing with --json. */
  note(text: string): void {
    if (!this.json) this.io.stderr(text);
  }

  warn(message: string): void {
    this.note(`warning: ${message}\n`);
  }

  /** With --json a failure is also an `error` event on stdout, after the events before it; stderr says it for people. */
  failed(error: unknown): void {
    if (this.json) this.io.stdout(JSON.stringify(sessionErrorEvent(error).event) + '\n');
  }
}

/** The exit code and stderr message of an error: a user error says what to fix; anything else is a bug. */
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

export interface StopRequests {
  /** True once Ctrl-C or SIGTERM arrived. */
  requested: () => boolean;
  dispose: () => void;
}

/**
 * Ctrl-C or SIGTERM asks the command to stop at its next safe point (`message` tells the person so). A second Ctrl-C
 * exits at once with 130; a second SIGTERM does not: a batch scheduler sends it to every process of a job (and the
 * job script and the training-process parent relay it), so several may arrive for one stop, which must still write its
 * checkpoint. Node maps Ctrl-C and Ctrl-Break to these names on Windows too.
 */
export function stopOnSignal(output: Output, message?: string): StopRequests {
  let signals = 0;
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signal === 'SIGINT' && ++interrupts > 1) process.exit(EXIT_CANCELLED);
    if (++signals === 1 && message) output.note(message);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    requested: () => signals > 0,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

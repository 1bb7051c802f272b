/**
 * Errors a user can act on. Every layer (data, model, engine, trainer, CLI, extension) throws these for bad input
 * so that the CLI can print `message` + `fix` and exit 1, and the extension can show them in a notification,
 * instead of a stack trace. Anything that is not a UserError is an internal error (CLI exit code 2).
 */
export interface UserErrorDetails {
  /** What the user should do about it, as one sentence. */
  fix?: string;
  /** The file the problem is in, when there is one. */
  file?: string;
  /** 1-based line (or row) number in `file`, when known. */
  line?: number;
  /** Machine-readable code, stable across releases, e.g. 'DATA_EMPTY_FILE'. */
  code?: string;
  /** The underlying error, kept for the log. */
  cause?: unknown;
}

const MAX_MESSAGE = 2000;

export class UserError extends Error {
  readonly fix?: string;
  readonly file?: string;
  readonly line?: number;
  readonly code: string;

  constructor(message: string, details: UserErrorDetails = {}) {
    // A message quoting data (a field, a parser's excerpt) must stay readable: megabytes of it help nobody.
    super(
      message.length > MAX_MESSAGE
        ? `${message.slice(0, MAX_MESSAGE)}… (${message.length - MAX_MESSAGE} more characters)`
        : message,
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    this.name = 'UserError';
    this.fix = details.fix;
    this.file = details.file;
    this.line = details.line;
    this.code = details.code ?? 'USER_ERROR';
  }

  /** One human-readable paragraph: where, what, and what to do. */
  describe(): string {
    // A message that already names its file (e.g. one quoting a parser's error) is not prefixed with it again.
    const named = this.file !== undefined && this.line === undefined && this.message.includes(this.file);
    const where = this.file && !named ? `${this.file}${this.line !== undefined ? `:${this.line}` : ''}: ` : '';
    return `${where}${this.message}${this.fix ? `\nFix: ${this.fix}` : ''}`;
  }
}

/** Bad dataset content or layout (reader, validation, split). */
export class DataError extends UserError {
  constructor(message: string, details: UserErrorDetails = {}) {
    super(message, { code: 'DATA_ERROR', ...details });
    this.name = 'DataError';
  }
}

/** A model folder, config.json, safetensors or tokenizer file that cannot be used. */
export class ModelError extends UserError {
  constructor(message: string, details: UserErrorDetails = {}) {
    super(message, { code: 'MODEL_ERROR', ...details });
    this.name = 'ModelError';
  }
}

/** Misuse of the graph builder (shape mismatch, unknown op input): a programming error with a precise message. */
export class GraphError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GraphError';
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

/** What the machine said (errno codes) and what the user can do about it. */
const ENVIRONMENT_FIXES: Readonly<Record<string, [what: string, fix: string]>> = {
  EACCES: ['Permission denied', 'Choose a folder you can write to, or change its permissions.'],
  EPERM: ['Operation not permitted', 'Choose a folder you can write to, or change its permissions.'],
  EROFS: ['The file system is read-only', 'Choose a folder on a writable disk.'],
  ENOSPC: [
    'The disk is full',
    'Free some space (checkpoints of large models take gigabytes), then resume the run with --resume.',
  ],
  EDQUOT: ['The disk quota is used up', 'Free some space, then resume the run with --resume.'],
  ENOTDIR: ['A file stands where a folder is needed', 'Choose another path, or move that file away.'],
  EISDIR: ['A folder stands where a file is needed', 'Choose another path, or move that folder away.'],
  EEXIST: ['Something already exists there', 'Choose another path, or move it away.'],
  EMFILE: ['Too many open files', 'Raise the open-file limit (ulimit -n) or close other programs, then try again.'],
  ENFILE: ['Too many open files on the system', 'Close other programs, then try again.'],
};

/**
 * An error of the machine's environment (a read-only or full disk, a file where a folder should be, missing
 * permissions) as a UserError naming the path and the fix; undefined for anything else, which stays a bug.
 */
export function environmentError(e: unknown): UserError | undefined {
  if (!(e instanceof Error)) return undefined;
  const err = e as NodeJS.ErrnoException;
  const known = err.code !== undefined ? ENVIRONMENT_FIXES[err.code] : undefined;
  if (!known) return undefined;
  const [what, fix] = known;
  const where = err.path ?? (err as { dest?: string }).dest;
  return new UserError(`${what}${where ? `: ${where}` : ''} (${err.code}${err.syscall ? ` in ${err.syscall}` : ''}).`, {
    code: `ENV_${err.code}`,
    file: where,
    fix,
    cause: e,
  });
}

/**
 * `e` with `file` as its path when it is an errno error without one: Node reports a failed write to an open file (a
 * full disk) with no path, and the user needs to know which file, or at least which folder, to make room for.
 */
export function namingFile(e: unknown, file: string): unknown {
  const err = e as NodeJS.ErrnoException;
  if (e instanceof Error && typeof err.code === 'string' && err.path === undefined) err.path = file;
  return e;
}

/** The error a user should see: a UserError as it is, an environment error as one, anything else unchanged. */
export function asUserFacing(e: unknown): unknown {
  return isUserError(e) ? e : (environmentError(e) ?? e);
}

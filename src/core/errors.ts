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

export class UserError extends Error {
  readonly fix?: string;
  readonly file?: string;
  readonly line?: number;
  readonly code: string;

  constructor(message: string, details: UserErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
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

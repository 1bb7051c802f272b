/**
 * The Fine-tune flow's dataset check, run as `bertft check --json` in a child process: tokenizing every text to
 * report lengths takes seconds on a large file, and the extension host must stay responsive meanwhile.
 * No VS Code here, so it is unit-tested with the real CLI.
 */
import { fork } from 'node:child_process';
import type { CheckReport } from '../../core/data';

export interface CheckRequest {
  /** The CLI entry: dist/cli.js in the extension (out/src/cli.js in tests). */
  cli: string;
  data: string;
  textColumn?: string;
  labelColumn?: string;
  maxLength?: number;
  /** Kills the check when it fires. */
  signal?: AbortSignal;
}

export class CheckFailedError extends Error {
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(message);
    this.name = 'CheckFailedError';
  }
}

export function checkArgs(request: Omit<CheckRequest, 'cli' | 'signal'>): string[] {
  const args = ['check', '--data', request.data, '--json'];
  if (request.textColumn !== undefined) args.push('--text-column', request.textColumn);
  if (request.labelColumn !== undefined) args.push('--label-column', request.labelColumn);
  if (request.maxLength !== undefined) args.push('--max-length', String(request.maxLength));
  return args;
}

/** The report is the last line that parses as a JSON object with `problems` (anything else is ignored). */
export function parseCheckOutput(stdout: string): CheckReport | undefined {
  const lines = stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('{'));
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const value = JSON.parse(lines[i]) as Partial<CheckReport>;
      if (Array.isArray(value.problems) && typeof value.fatal === 'boolean') return value as CheckReport;
    } catch {
      // not the report line
    }
  }
  return undefined;
}

/** Exit code 1 only means "fatal problems" (still a report); anything without a report is a failure. */
export function runCheck(request: CheckRequest): Promise<CheckReport> {
  return new Promise((resolve, reject) => {
    const child = fork(request.cli, checkArgs(request), { silent: true, signal: request.signal });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', (error) => reject(error));
    child.on('exit', (code, signal) => {
      const report = parseCheckOutput(stdout);
      if (report) resolve(report);
      else
        reject(
          new CheckFailedError(
            `The dataset check stopped (exit code ${code}, signal ${signal}) without a report.`,
            `${stderr}${stdout}`.slice(-4000),
          ),
        );
    });
  });
}

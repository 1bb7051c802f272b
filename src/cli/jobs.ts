/**
 * `bertft jobs [FOLDER]`: the submitted runs under a folder (those with a job.json, up to two levels down) with
 * their scheduler state, which is also kept in each job.json (restarts, last state seen).
 * `bertft cancel RUN`: cancels the run's job; its script stops the trainer with a checkpoint first.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../core/errors';
import { JOB_JSON, readJobRecord, writeJobRecord, type JobRecord, type JobState } from '../core/scheduler/scheduler';
import { Slurm } from '../core/scheduler/slurm';
import { packageVersion } from '../core/util/package-version';
import { getBool, getString, requireString, type ParsedArgs } from './args';
import { EXIT_OK, Output, type CliIo } from './output';

/** Folders under `dir` (itself included, `depth` levels down) that hold a job.json; hidden folders skipped. */
export function submittedRuns(dir: string, depth = 2): string[] {
  const found: string[] = [];
  const walk = (d: string, level: number): void => {
    if (fs.existsSync(path.join(d, JOB_JSON))) found.push(d);
    if (level >= depth) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules')
        walk(path.join(d, e.name), level + 1);
    }
  };
  walk(dir, 0);
  return found;
}

export async function jobsCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const output = new Output(io, getBool(args, 'json'));
  const dir = getString(args, 'dir') ?? '.';
  if (!fs.existsSync(dir)) {
    throw new UserError(`${dir} does not exist.`, {
      file: dir,
      code: 'JOBS_NO_FOLDER',
      fix: 'Give the folder your runs are in.',
    });
  }
  const slurm = new Slurm(packageVersion());
  const rows: { run: string; record: JobRecord; state: JobState }[] = [];
  for (const run of submittedRuns(dir)) {
    const record = readJobRecord(run)!;
    const state = await slurm.state(record.jobId);
    const restarts = Math.max(record.restarts, state.restarts ?? 0);
    await writeJobRecord(run, { ...record, restarts, lastState: state, checked: new Date().toISOString() });
    rows.push({ run, record: { ...record, restarts }, state });
    output.result(
      {
        run,
        scheduler: record.scheduler,
        jobId: record.jobId,
        phase: state.phase,
        state: state.state,
        reason: state.reason,
        node: state.node,
        restarts,
        exitCode: state.exitCode,
      },
      () => '',
    );
  }
  if (!output.json) io.stdout(formatJobs(rows, dir));
  return EXIT_OK;
}

/** A run's folder as typed from here: relative below the current folder, absolute elsewhere. */
function shownPath(run: string): string {
  const relative = path.relative('.', run);
  return relative === '' ? '.' : relative.startsWith('..') || path.isAbsolute(relative) ? path.resolve(run) : relative;
}

function formatJobs(rows: readonly { run: string; record: JobRecord; state: JobState }[], dir: string): string {
  if (rows.length === 0) return `No submitted runs under ${dir} (none has a ${JOB_JSON}).\n`;
  const table = [
    ['RUN', 'JOB', 'STATE', 'RESTARTS', 'DETAIL'],
    ...rows.map(({ run, record, state }) => [
      shownPath(run),
      record.jobId,
      `${state.phase} (${state.state})`,
      String(record.restarts),
      state.phase === 'queued'
        ? (state.reason ?? '')
        : state.phase === 'running'
          ? `on ${state.node ?? '?'}`
          : state.exitCode
            ? `exit ${state.exitCode}`
            : '',
    ]),
  ];
  const widths = table[0].map((_, c) => Math.max(...table.map((r) => r[c].length)));
  return (
    table
      .map((r) =>
        r
          .map((cell, c) => cell.padEnd(widths[c]))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

export async function cancelCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const output = new Output(io, getBool(args, 'json'));
  const out = requireString(args, 'out', 'cancel', 'runs/my-run');
  const runDir = path.resolve(out);
  const record = readJobRecord(runDir);
  if (!record) {
    throw new UserError(`${runDir} has no ${JOB_JSON}: it was not submitted with \`bertft submit\`.`, {
      file: runDir,
      code: 'CANCEL_NOT_SUBMITTED',
      fix: 'Give the --out folder of a submitted run (`bertft jobs` lists them); a local run stops with Ctrl-C.',
    });
  }
  const slurm = new Slurm(packageVersion());
  const before = await slurm.state(record.jobId);
  if (before.phase !== 'queued' && before.phase !== 'running' && before.phase !== 'unknown') {
    output.result(
      { event: 'cancel', jobId: record.jobId, run: runDir, phase: before.phase, cancelled: false },
      () => `Job ${record.jobId} already ended (${before.state}); nothing to cancel.\n`,
    );
    return EXIT_OK;
  }
  await slurm.cancel(record.jobId);
  output.result({ event: 'cancel', jobId: record.jobId, run: runDir, phase: before.phase, cancelled: true }, () =>
    [
      `Cancelled job ${record.jobId}. A running trainer writes a checkpoint before it ends; continue the run with`,
      `  bertft submit --slurm --resume --out ${out}     (on the cluster)`,
      `  bertft train --resume --out ${out}              (here)`,
      '',
    ].join('\n'),
  );
  return EXIT_OK;
}

/**
 * Asking a run's trainer to stop from a process that has no channel to it: a VS Code window that did not start it
 * (the trainer outlives a window reload), or any other tool. The request is a file, `<run>/.stop-request`; the
 * training session looks for it after every step and stops exactly as for a `stop` message over IPC (checkpoint,
 * `done` with stopped: true). A file works the same everywhere, while a signal does not: on Windows
 * process.kill(pid, 'SIGTERM') ends the process at once, without a checkpoint.
 *
 * The session deletes the request when it starts (one left from an earlier session, e.g. written just as that one
 * ended, must not stop the next) and when it ends.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomic } from '../util/files';
import { hasRun, RUN_MARKER, runPaths } from './paths';

/**
 * Asks the trainer of the run in `root` to stop at its next step. False (nothing written) when `root` is not a run
 * folder of ours (its marker or run.json).
 */
export async function requestRunStop(root: string): Promise<boolean> {
  if (!fs.existsSync(path.join(root, RUN_MARKER)) && !hasRun(root)) return false;
  await writeJsonAtomic(runPaths(root).stopRequest, { pid: process.pid, time: new Date().toISOString() });
  return true;
}

/** Whether a stop of the run in `root` has been asked for. */
export function runStopRequested(root: string): boolean {
  return fs.existsSync(runPaths(root).stopRequest);
}

export function clearRunStopRequest(root: string): void {
  fs.rmSync(runPaths(root).stopRequest, { force: true });
}

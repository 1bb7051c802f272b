/**
 * The Runs view's commands for cluster jobs: Cancel Job (`scancel` for Slurm; the job script stops the trainer with a
 * checkpoint first, so Resume or `bertft submit --slurm --resume` continues the run) and Open Job Log (the job's
 * newest slurm-<id>.out, also the dashboard's button).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readJobRecord } from '../../core/scheduler/scheduler';
import type { Ctx } from '../context';
import { error as showError, info, long, notify, say } from '../display/ui';
import { jobLogFile, schedulerTitle } from './clusterStatus';
import { requireTrust } from '../trust';
import type { RunInfo } from './runStore';
import type { RunsTreeProvider } from './view';

export function registerJobCommands(ctx: Ctx, runs: RunsTreeProvider): void {
  ctx.command('bert.runs.cancelJob', async (arg?: RunInfo | string) => {
    if (!requireTrust('Cancelling a cluster job')) return false;
    const runDir = typeof arg === 'string' ? arg : arg?.dir;
    if (runDir === undefined) return false;
    runs.list();
    const found = runs.jobOf(runDir);
    if (!found) {
      void info(say`BERT: ${path.basename(runDir)} was not submitted to a cluster (it has no job.json).`);
      return false;
    }
    const { record } = found;
    const answer = await notify(
      'warning',
      say`Cancel cluster job ${record.jobId} of "${path.basename(runDir)}"?`,
      {
        modal: true,
        detail: say`The trainer writes a checkpoint before the job ends; Resume continues ${long(runDir)} from it.`,
      },
      'Cancel Job',
    );
    if (answer !== 'Cancel Job') return false;
    await runs.scheduler.cancel(record.jobId);
    ctx.log.info(`Cancelled cluster job ${record.jobId} of ${runDir}`);
    runs.refreshAll();
    return true;
  });

  ctx.command('bert.runs.openJobLog', async (arg?: RunInfo | string) => {
    const runDir = typeof arg === 'string' ? arg : arg?.dir;
    if (runDir === undefined) return undefined;
    const name = path.basename(runDir);
    let record;
    try {
      record = readJobRecord(runDir);
    } catch (error) {
      void showError(say`BERT: ${long((error as Error).message)}`);
      return undefined;
    }
    if (!record) {
      void info(say`BERT: ${name} was not submitted to a cluster (it has no job.json).`);
      return undefined;
    }
    const file = jobLogFile(runDir, record);
    if (!file) {
      void info(
        say`BERT: ${schedulerTitle(record.scheduler)} job ${record.jobId} of "${name}" has written no log yet; it does once the job starts.`,
      );
      return undefined;
    }
    // The newest lines are at the end: the cursor goes there.
    const document = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
    const end = document.lineAt(Math.max(0, document.lineCount - 1)).range.end;
    await vscode.window.showTextDocument(document, { preview: true, selection: new vscode.Range(end, end) });
    return file;
  });
}

/**
 * The Runs view's command for cluster jobs: Cancel Job (`scancel` for Slurm). The job script stops the trainer with a
 * checkpoint first, so Resume (or `bertft submit --slurm --resume`) continues the run.
 */
import * as path from 'node:path';
import type { Ctx } from '../context';
import { info, long, notify, say } from '../display/ui';
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
}

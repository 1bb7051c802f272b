/**
 * Submitting a run to a cluster: what `bertft submit --slurm` and the extension's Fine-tune flow both do. A new run's
 * folder is checked and claimed, its job script written (atomically) and submitted, and job.json written once the
 * scheduler took it. A refused submission leaves nothing of what it wrote: a folder it created is removed again.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';
import { checkRunDir, claimRunDir } from '../run/folder';
import { hasRun, RUN_MARKER } from '../run/paths';
import { writeFileAtomic } from '../util/files';
import { readJobRecord, writeJobRecord, type JobRecord, type Scheduler, type TrainingJob } from './scheduler';

export interface Submitted {
  record: JobRecord;
  /** The job script's absolute path. */
  scriptFile: string;
}

/**
 * Renders `job`'s script (its values checked before anything is written), refuses a folder that already holds a run
 * or a submitted job, then writes `<run>/<script>` and submits it. `renderedScript` is the script from
 * `scheduler.render(job)` when the caller has it already.
 */
export async function submitNewRun(
  scheduler: Scheduler,
  job: TrainingJob,
  renderedScript = scheduler.render(job),
): Promise<Submitted> {
  const { runDir } = job;
  const entries = checkRunDir(runDir);
  const record = readJobRecord(runDir);
  if (hasRun(runDir) || record) {
    throw new UserError(`${runDir} already holds a ${record ? `submitted job (${record.jobId})` : 'training run'}.`, {
      file: runDir,
      code: 'SUBMIT_RUN_EXISTS',
      fix: `Continue it with \`bertft submit --slurm --resume --out ${runDir}\`, or choose another run folder.`,
    });
  }
  claimRunDir(runDir);
  const scriptFile = path.join(runDir, scheduler.scriptName);
  try {
    await writeFileAtomic(scriptFile, renderedScript);
    return await submitJobScript(scheduler, scriptFile, runDir, []);
  } catch (error) {
    // Only what this call wrote: the script, the marker it added, the folder it created (when nothing else is in it).
    fs.rmSync(scriptFile, { force: true });
    if (!entries?.includes(RUN_MARKER)) fs.rmSync(path.join(runDir, RUN_MARKER), { force: true });
    if (entries === undefined) removeEmptyFolder(runDir);
    throw error;
  }
}

/** Submits the run's job script as it is and writes job.json (a resubmission names the run's earlier job ids). */
export async function submitJobScript(
  scheduler: Scheduler,
  scriptFile: string,
  runDir: string,
  previousJobIds: string[],
): Promise<Submitted> {
  const jobId = await scheduler.submit(scriptFile, runDir);
  const record: JobRecord = {
    scheduler: scheduler.name,
    jobId,
    arrayIndex: null,
    submitted: new Date().toISOString(),
    restarts: 0,
    script: path.basename(scriptFile),
    previousJobIds,
  };
  await writeJobRecord(runDir, record);
  return { record, scriptFile };
}

/**
 * Submits a job array's script and writes its job.json into `dir` (the folder above its tasks) and one into each
 * task's run folder, whose job id is `<array id>_<index>` (`bertft jobs` lists them).
 */
export async function submitArrayScript(
  scheduler: Scheduler,
  scriptFile: string,
  dir: string,
  tasks: readonly { runDir: string; index: number }[],
  previousJobIds: string[],
): Promise<JobRecord> {
  const jobId = await scheduler.submit(scriptFile, dir);
  const submitted = new Date().toISOString();
  const base = { scheduler: scheduler.name, submitted, restarts: 0, script: path.basename(scriptFile) };
  const record: JobRecord = { ...base, jobId, arrayIndex: null, previousJobIds };
  await writeJobRecord(dir, record);
  for (const t of tasks) {
    await writeJobRecord(t.runDir, {
      ...base,
      script: path.relative(t.runDir, scriptFile),
      jobId: `${jobId}_${t.index}`,
      arrayIndex: t.index,
      previousJobIds: previousJobIds.map((id) => `${id}_${t.index}`),
    });
  }
  return record;
}

function removeEmptyFolder(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch {
    // Not empty (someone else wrote into it) or already gone: left as it is.
  }
}

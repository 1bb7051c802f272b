/**
 * Cluster jobs in the Runs view, with an injected scheduler: each Slurm state reads as the scheduler's own word with
 * its reason, node, exit code and requeues; a live job corrects the phase the files alone give; the scheduler is
 * asked on refresh no more often than every 10 s and only while a job is live; a machine without Slurm is said in the
 * rows (and reported once), never thrown. Run folders with a job.json are real folders read by listRuns.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../../../src/core/errors';
import { writeJobRecord, type JobRecord, type JobState } from '../../../src/core/scheduler/scheduler';
import { asPlain } from '../../../src/extension/display/text';
import {
  describeJob,
  describeJobTooltip,
  jobBusy,
  jobIcon,
  JobStates,
  type JobQuery,
} from '../../../src/extension/runs/jobs';
import { listRuns, type RunInfo } from '../../../src/extension/runs/runStore';
import { started, step, toJsonl } from './sampleRun';
import { tempFolder } from '../../helpers/temp';

const record = (over: Partial<JobRecord> = {}): JobRecord => ({
  scheduler: 'slurm',
  jobId: '42',
  arrayIndex: null,
  submitted: '2026-12-06T10:00:00.000Z',
  restarts: 0,
  script: 'job.sbatch',
  previousJobIds: [],
  ...over,
});

/** A scheduler that answers from a table (or throws `failure`), counting the questions. */
class TableScheduler implements JobQuery {
  asked: string[] = [];
  failure: Error | undefined;
  constructor(public states: Map<string, JobState>) {}
  state(jobId: string): Promise<JobState> {
    this.asked.push(jobId);
    if (this.failure) return Promise.reject(this.failure);
    const s = this.states.get(jobId);
    return s ? Promise.resolve(s) : Promise.reject(new Error(`no job ${jobId}`));
  }
}

async function runsRoot(): Promise<string> {
  const root = tempFolder('bert-jobs-');
  // Queued: submitted, nothing written by the trainer yet.
  fs.mkdirSync(path.join(root, 'queued'));
  await writeJobRecord(path.join(root, 'queued'), record({ jobId: '41' }));
  // Running on a node: its trainer's pid is not a process here.
  fs.mkdirSync(path.join(root, 'running'));
  fs.writeFileSync(
    path.join(root, 'running', 'metrics.jsonl'),
    toJsonl([started({ pid: 999_999, time: '2026-12-06T10:01:00.000Z' }), step(5)]),
  );
  await writeJobRecord(path.join(root, 'running'), record({ jobId: '42' }));
  return root;
}

const state = (jobId: string, s: string, phase: JobState['phase'], over: Partial<JobState> = {}): JobState => ({
  jobId,
  state: s,
  phase,
  ...over,
});

test('each scheduler state reads as its own word, with reason, node, exit code and requeues', () => {
  const job = (s: JobState | undefined, over: Partial<JobRecord> = {}) => ({ record: record(over), state: s });
  const read = (s: JobState | undefined, over: Partial<JobRecord> = {}) => asPlain(describeJob(job(s, over)));
  assert.equal(read(state('42', 'PENDING', 'queued', { reason: 'Priority' })), 'Slurm PENDING (Priority)');
  assert.equal(read(state('42', 'RUNNING', 'running', { node: 'node1' })), 'Slurm RUNNING on node1');
  assert.equal(
    read(state('42', 'RUNNING', 'running', { node: 'node1', restarts: 2 })),
    'Slurm RUNNING on node1 · requeued 2×',
  );
  assert.equal(
    read(state('42', 'PENDING', 'queued', { reason: 'BeginTime' }), { restarts: 1 }),
    'Slurm PENDING (BeginTime) · requeued 1×',
  );
  assert.equal(read(state('42', 'PREEMPTED', 'cancelled')), 'Slurm PREEMPTED');
  assert.equal(read(state('42', 'COMPLETED', 'done', { exitCode: '0:0' })), 'Slurm COMPLETED');
  assert.equal(read(state('42', 'FAILED', 'failed', { exitCode: '1:0' })), 'Slurm FAILED (exit 1:0)');
  assert.equal(read(state('42', 'CANCELLED by 1000', 'cancelled')), 'Slurm CANCELLED by 1000');
  assert.equal(read(undefined), 'Slurm job 42 · asking…');
  // Text from the scheduler is data: link syntax in a reason is never a link.
  assert.equal(
    read(state('42', 'PENDING', 'queued', { reason: '[x](command:workbench.action.quit)' })),
    'Slurm PENDING ([x] (command:workbench.action.quit))',
  );
  assert.deepEqual(
    [
      jobIcon(job(state('42', 'PENDING', 'queued'))),
      jobIcon(job(state('42', 'RUNNING', 'running'))),
      jobIcon(job(state('42', 'FAILED', 'failed'))),
      jobIcon(job(state('42', 'PREEMPTED', 'cancelled'))),
      jobIcon(job(state('42', 'COMPLETED', 'done'))),
    ],
    ['watch', 'sync~spin', 'error', 'circle-slash', undefined],
  );
  assert.equal(jobBusy(job(state('42', 'PENDING', 'queued'))), true);
  assert.equal(jobBusy(job(state('42', 'RUNNING', 'running'))), true);
  assert.equal(jobBusy(job(state('42', 'COMPLETED', 'done'))), false);
  const tip = describeJobTooltip(
    job(state('42', 'FAILED', 'failed', { exitCode: '1:0', node: 'n1', reason: 'NonZeroExitCode' })),
  );
  assert.deepEqual(tip.map(asPlain), [
    'Slurm job 42, submitted 2026-12-06 10:00',
    'Scheduler state: FAILED',
    'Reason: NonZeroExitCode',
    'Node: n1',
    'Exit code: 1:0',
  ]);
});

test('refresh asks the scheduler; a live job corrects the phase its files give', async () => {
  const root = await runsRoot();
  const runs = listRuns(root, () => false);
  assert.deepEqual(
    runs.map((r) => [r.name, r.phase, r.job?.record?.jobId]),
    [
      ['running', 'interrupted', '42'],
      ['queued', 'waiting', '41'],
    ],
    'a queued job with no training files yet is a run too',
  );
  const scheduler = new TableScheduler(
    new Map([
      ['41', state('41', 'PENDING', 'queued', { reason: 'Resources' })],
      ['42', state('42', 'RUNNING', 'running', { node: 'node1' })],
    ]),
  );
  let now = 0;
  const jobs = new JobStates(scheduler, { now: () => now });
  assert.equal(await jobs.poll(runs), true);
  assert.deepEqual(scheduler.asked.sort(), ['41', '42']);
  const shown = runs.map((r) => jobs.apply(r));
  assert.deepEqual(
    shown.map((r) => [r.name, r.phase, asPlain(describeJob(r.job!))]),
    [
      ['running', 'training', 'Slurm RUNNING on node1'],
      ['queued', 'waiting', 'Slurm PENDING (Resources)'],
    ],
  );
  assert.equal(jobs.anyActive(shown), true);

  // Within 10 s nothing is asked again; after, the live jobs are.
  now = 9_999;
  assert.equal(await jobs.poll(runs), false);
  assert.equal(scheduler.asked.length, 2);
  now = 10_000;
  scheduler.states.set('42', state('42', 'COMPLETED', 'done', { exitCode: '0:0' }));
  assert.equal(await jobs.poll(runs), true);
  assert.equal(scheduler.asked.length, 4);
  const after = runs.map((r) => jobs.apply(r));
  assert.equal(asPlain(describeJob(after[0].job!)), 'Slurm COMPLETED');
  assert.equal(after[0].phase, 'interrupted', 'an ended job: the files say what became of the run');

  // An ended job is not asked again, unless the user refreshes.
  now = 30_000;
  await jobs.poll(runs);
  assert.deepEqual(scheduler.asked.slice(4), ['41']);
  await jobs.poll(runs, true);
  assert.deepEqual(scheduler.asked.slice(5).sort(), ['41', '42']);
});

test('no Slurm on this machine: the rows say so, reported once, no more questions until Refresh', async () => {
  const root = await runsRoot();
  const runs = listRuns(root, () => false);
  const scheduler = new TableScheduler(new Map());
  scheduler.failure = new UserError("scontrol was not found on this machine's PATH.", {
    code: 'SCHEDULER_TOOL_MISSING',
    fix: "Run bertft on the cluster's login node.",
  });
  const reported: string[] = [];
  let now = 0;
  const jobs = new JobStates(scheduler, { now: () => now, onUnavailable: (r) => reported.push(r) });
  assert.equal(await jobs.poll(runs), true);
  assert.equal(scheduler.asked.length, 1, 'the first failure stops the round');
  for (now = 10_000; now < 100_000; now += 10_000) assert.equal(await jobs.poll(runs), false);
  assert.equal(scheduler.asked.length, 1, 'no question a poll while Slurm is unavailable');
  assert.equal(reported.length, 1);
  const shown = runs.map((r) => jobs.apply(r));
  assert.equal(asPlain(describeJob(shown[1].job!)), 'Slurm job 41 · Slurm not reachable here');
  assert.equal(jobs.anyActive(shown), false, 'no polling loop');
  assert.equal(jobBusy(shown[0].job), false, 'Resume and Delete stay offered');
  assert.equal(shown[0].phase, 'interrupted');
  assert.match(
    describeJobTooltip(shown[1].job!).map(asPlain).join('\n'),
    /Slurm could not be asked from this machine: scontrol was not found on this machine's PATH\. Run bertft/,
  );

  // A state job.json kept from `bertft jobs` is shown as last seen.
  const withLast: RunInfo = {
    ...shown[1],
    job: { ...shown[1].job!, state: state('41', 'PENDING', 'queued', { reason: 'Priority' }) },
  };
  assert.equal(asPlain(describeJob(withLast.job!)), 'Slurm PENDING (last seen; Slurm not reachable here)');

  // Refresh asks again; Slurm is back.
  scheduler.failure = undefined;
  scheduler.states.set('41', state('41', 'RUNNING', 'running', { node: 'n2' }));
  scheduler.states.set('42', state('42', 'RUNNING', 'running', { node: 'n2' }));
  assert.equal(await jobs.poll(runs, true), true);
  assert.equal(asPlain(describeJob(jobs.apply(runs[1]).job!)), 'Slurm RUNNING on n2');
});

test('a damaged job.json is shown, not thrown', async () => {
  const root = await runsRoot();
  fs.writeFileSync(path.join(root, 'queued', 'job.json'), '{"scheduler": "pbs"}');
  const runs = listRuns(root, () => false);
  const queued = runs.find((r) => r.name === 'queued')!;
  assert.match(queued.job?.recordError ?? '', /job\.json is not a job record of bertft/);
  assert.equal(asPlain(describeJob(queued.job!)), 'job.json unreadable');
  const scheduler = new TableScheduler(new Map([['42', state('42', 'RUNNING', 'running')]]));
  await new JobStates(scheduler).poll(runs);
  assert.deepEqual(scheduler.asked, ['42'], 'only the readable record is asked about');
});

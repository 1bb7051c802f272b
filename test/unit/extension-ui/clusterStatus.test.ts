/**
 * What the dashboard and the status bar show of a run on a cluster, derived from the scheduler's states and the job
 * script's events. The event lines and the states below are real: recorded on this machine's one-node Slurm cluster
 * (scripts/slurm/setup.sh) from `bertft submit --slurm` runs — one held, released, preempted by the urgent partition,
 * requeued and resumed to the end; one cancelled with scancel — and `scontrol show job -o` polled every second.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { JOB_EVENTS, writeJobRecord, type JobRecord, type JobState } from '../../../src/core/scheduler/scheduler';
import { asLabel, asPlain } from '../../../src/extension/display/text';
import { formatStatus } from '../../../src/extension/dashboard/statusText';
import { applyEvents, emptyDashboardState, type DashboardState } from '../../../src/extension/protocol/dashboardState';
import { clusterActive, type ClusterStatus } from '../../../src/extension/protocol/cluster';
import {
  currentJobEvents,
  deriveClusterStatus,
  jobLogFile,
  parseJobEvents,
  type JobEvent,
} from '../../../src/extension/runs/clusterStatus';
import { JobStates, type JobQuery } from '../../../src/extension/runs/jobs';
import { RunWatcher } from '../../../src/extension/runs/runWatcher';
import { done, started, step, toJsonl } from './sampleRun';
import { tempFolder } from '../../helpers/temp';

/** slurm-events.jsonl of job 1: started, preempted at step 33 (USR1), requeued, resumed from step 36, done. */
const PREEMPTED_LINES = [
  '{"event":"start","time":"2026-12-06T15:51:31Z","job":"1","restart":0,"node":"vm","mode":"new"}',
  '{"event":"signal","time":"2026-12-06T15:52:00Z","job":"1","restart":0,"node":"vm","signal":"USR1"}',
  '{"event":"requeue","time":"2026-12-06T15:52:02Z","job":"1","restart":0,"node":"vm","trainer_exit":130}',
  '{"event":"start","time":"2026-12-06T15:52:32Z","job":"1","restart":1,"node":"vm","mode":"resume"}',
  '{"event":"exit","time":"2026-12-06T15:52:48Z","job":"1","restart":1,"node":"vm","trainer_exit":0}',
];
/** slurm-events.jsonl of job 3, cancelled with scancel (`bertft cancel`) at step 3. */
const CANCELLED_LINES = [
  '{"event":"start","time":"2026-12-06T15:53:06Z","job":"3","restart":0,"node":"vm","mode":"new"}',
  '{"event":"signal","time":"2026-12-06T15:53:15Z","job":"3","restart":0,"node":"vm","signal":"TERM"}',
  '{"event":"exit","time":"2026-12-06T15:53:16Z","job":"3","restart":0,"node":"vm","trainer_exit":130}',
];

/** The states scontrol gave job 1, in order (JobState, Reason, Restarts, BatchHost as stateFromScontrol reads them). */
const slurm = (state: string, over: Partial<JobState> = {}): JobState => ({
  jobId: '1',
  phase:
    state === 'PENDING' ? 'queued' : state === 'RUNNING' ? 'running' : state === 'COMPLETED' ? 'done' : 'cancelled',
  state,
  restarts: 0,
  ...over,
});

const record = (over: Partial<JobRecord> = {}): JobRecord => ({
  scheduler: 'slurm',
  jobId: '1',
  arrayIndex: null,
  submitted: '2026-12-06T15:51:30.891Z',
  restarts: 0,
  script: 'job.sbatch',
  previousJobIds: [],
  ...over,
});

const events = (lines: readonly string[], count = lines.length): JobEvent[] =>
  parseJobEvents(lines.slice(0, count).join('\n') + '\n');

/** The run's dashboard state after `steps` steps (resumed from `resumedFrom` when given). */
function run(steps: number, resumedFrom?: number): DashboardState {
  const state = emptyDashboardState('/runs/spam-on-slurm');
  applyEvents(state, [started(), ...Array.from({ length: steps }, (_, i) => step(i + 1))]);
  if (resumedFrom !== undefined) applyEvents(state, [started({ resumed_from_step: resumedFrom })]);
  return state;
}

/** What the status bar shows: its kind and text as drawn. */
function bar(state: DashboardState, cluster: ClusterStatus): string {
  const shown = formatStatus(state, cluster);
  return shown.kind === 'idle' ? 'idle' : `${shown.kind}: ${asLabel(shown.text)}`;
}

test('a preempted run, state by state: queued (held) → running on vm → preempted → requeued → resumed → done', () => {
  const steps: [string, ClusterStatus, string][] = [];
  const at = (label: string, state: JobState | undefined, eventCount: number, dash: DashboardState): void => {
    const status = deriveClusterStatus({
      record: record(),
      state,
      events: events(PREEMPTED_LINES, eventCount),
      resumedFromStep: dash.resumedFromStep,
    });
    steps.push([label, status, bar(dash, status)]);
  };
  const waiting = emptyDashboardState('/runs/spam-on-slurm');
  at('submitted, not asked yet', undefined, 0, waiting);
  at('held', slurm('PENDING', { reason: 'JobHeldUser' }), 0, waiting);
  at('released, starting', slurm('RUNNING', { node: 'vm' }), 1, waiting);
  at('training', slurm('RUNNING', { node: 'vm' }), 1, run(20));
  at('USR1: checkpointing', slurm('RUNNING', { node: 'vm' }), 2, run(33));
  // The script requeued itself before the next poll: the scheduler's last word is still RUNNING.
  at('requeued, not polled yet', slurm('RUNNING', { node: 'vm' }), 3, run(36));
  at('requeued', slurm('PENDING', { reason: 'BeginTime', restarts: 1 }), 3, run(36));
  at('waiting for the urgent job', slurm('PENDING', { reason: 'Resources', restarts: 1 }), 3, run(36));
  at('resumed', slurm('RUNNING', { node: 'vm', restarts: 1 }), 4, run(40, 36));
  const finished = run(40, 36);
  applyEvents(finished, [step(100), done()]);
  at('done', slurm('COMPLETED', { node: 'vm', restarts: 1 }), 5, finished);

  assert.deepEqual(
    steps.map(([label, s]) => [label, s.stage, s.reason, s.node, s.requeues, s.resumedAtStep]),
    [
      ['submitted, not asked yet', 'queued', undefined, undefined, 0, undefined],
      ['held', 'queued', 'JobHeldUser', undefined, 0, undefined],
      ['released, starting', 'running', undefined, 'vm', 0, undefined],
      ['training', 'running', undefined, 'vm', 0, undefined],
      ['USR1: checkpointing', 'preempted', undefined, 'vm', 0, undefined],
      ['requeued, not polled yet', 'requeued', undefined, undefined, 1, undefined],
      ['requeued', 'requeued', 'BeginTime', undefined, 1, undefined],
      ['waiting for the urgent job', 'requeued', 'Resources', undefined, 1, undefined],
      ['resumed', 'running', undefined, 'vm', 1, 36],
      ['done', 'done', undefined, 'vm', 1, 36],
    ],
  );
  assert.deepEqual(
    steps.map(([label, , shown]) => `${label} | ${shown}`),
    [
      'submitted, not asked yet | busy: queued on Slurm',
      'held | busy: queued on Slurm (JobHeldUser)',
      'released, starting | busy: starting on vm…',
      'training | busy: 20% · loss 0.05 · ETA 2m 40s · on vm',
      'USR1: checkpointing | busy: preempted, writing a checkpoint',
      'requeued, not polled yet | busy: preempted, requeued on Slurm',
      'requeued | busy: preempted, requeued on Slurm (BeginTime)',
      'waiting for the urgent job | busy: preempted, requeued on Slurm (Resources)',
      'resumed | busy: 36% · loss 0.03 · ETA 2m · on vm · resumed at step 36',
      'done | done: done',
    ],
  );
  // Polled (and Stop cancels the job) while queued, running, preempted or requeued; not once done.
  assert.deepEqual(
    steps.map(([, s]) => clusterActive(s)),
    [true, true, true, true, true, true, true, true, true, false],
  );
});

test('the tooltip names the job and its history', () => {
  const status = deriveClusterStatus({
    record: record(),
    state: slurm('RUNNING', { node: 'vm', restarts: 1 }),
    events: events(PREEMPTED_LINES, 4),
    resumedFromStep: 36,
  });
  const shown = formatStatus(run(40, 36), status);
  assert.ok(shown.kind !== 'idle' && shown.tooltip);
  assert.match(
    asPlain(shown.tooltip),
    /^Run: spam-on-slurm\nSlurm job 1: running on vm, requeued 1×, resumed at step 36\n/,
  );
});

test('scancel: the TERM lines and CANCELLED (exit 130:0) read as cancelled, with the best metric kept', () => {
  const state: JobState = { jobId: '3', phase: 'cancelled', state: 'CANCELLED', exitCode: '130:0', node: 'vm' };
  const status = deriveClusterStatus({ record: record({ jobId: '3' }), state, events: events(CANCELLED_LINES) });
  assert.equal(status.stage, 'cancelled');
  assert.equal(clusterActive(status), false);
  const dash = run(3);
  applyEvents(dash, [done({ stopped: true, final_step: 3 })]);
  assert.equal(bar(dash, status), 'done: cancelled');
  // The TERM signal line alone: the trainer is still writing its checkpoint, the job still runs.
  const stopping = deriveClusterStatus({
    record: record({ jobId: '3' }),
    state: { jobId: '3', phase: 'running', state: 'RUNNING', node: 'vm' },
    events: events(CANCELLED_LINES, 2),
  });
  assert.equal(stopping.stage, 'running');
});

test('a job the scheduler has forgotten (no accounting) ends as its events say', () => {
  const gone: JobState = { jobId: '1', phase: 'unknown', state: 'UNKNOWN', reason: 'Slurm no longer lists this job' };
  const derive = (lines: string[], jobId = '1') =>
    deriveClusterStatus({ record: record({ jobId }), state: { ...gone, jobId }, events: events(lines) }).stage;
  assert.equal(derive(PREEMPTED_LINES), 'done');
  assert.equal(derive(CANCELLED_LINES, '3'), 'cancelled');
  const failedLine =
    '{"event":"exit","time":"2026-12-06T15:52:48Z","job":"1","restart":0,"node":"vm","trainer_exit":1}';
  assert.equal(derive([PREEMPTED_LINES[0], failedLine]), 'failed');
  assert.equal(derive([]), 'unknown');
});

test('a FAILED job shows its exit code; PREEMPTED while the script requeues itself is not the end', () => {
  const failed = deriveClusterStatus({
    record: record(),
    state: { jobId: '1', phase: 'failed', state: 'FAILED', exitCode: '1:0', node: 'vm' },
    events: events(PREEMPTED_LINES, 1),
  });
  assert.deepEqual([failed.stage, failed.exitCode], ['failed', '1:0']);
  assert.equal(bar(run(5), failed), 'error: Slurm job failed (exit 1:0)');
  const preempted = deriveClusterStatus({
    record: record(),
    state: slurm('PREEMPTED', { node: 'vm' }),
    events: events(PREEMPTED_LINES, 2),
  });
  assert.equal(preempted.stage, 'preempted');
  assert.equal(clusterActive(preempted), true);
});

test('only the current job counts: earlier job ids are skipped, an array task is read from its first start', () => {
  const resubmitted = [
    ...CANCELLED_LINES,
    '{"event":"start","time":"2026-12-06T16:00:00Z","job":"7","restart":0,"node":"vm","mode":"resume"}',
  ];
  const current = currentJobEvents(events(resubmitted), record({ jobId: '7', previousJobIds: ['3'] }));
  assert.deepEqual(
    current.map((e) => [e.event, e.job]),
    [['start', '7']],
  );
  // An array task's lines carry its own job id (not 40_1): the lines from its last first start on are its own.
  const trial = currentJobEvents(
    events([...CANCELLED_LINES, ...PREEMPTED_LINES]),
    record({ jobId: '40_1', arrayIndex: 1 }),
  );
  assert.equal(trial.length, PREEMPTED_LINES.length);
});

test('the scheduler not reachable here: the events say what they can, marked as such', () => {
  const status = deriveClusterStatus({
    record: record({ lastState: slurm('RUNNING', { node: 'vm' }) }),
    state: slurm('RUNNING', { node: 'vm' }),
    events: events(PREEMPTED_LINES, 3),
    unreachable: true,
  });
  assert.deepEqual([status.stage, status.unreachable], ['requeued', true]);
  const shown = formatStatus(run(36), status);
  assert.ok(shown.kind !== 'idle' && shown.tooltip);
  assert.match(asPlain(shown.tooltip), /last seen; Slurm not reachable/);
});

test('a line cut short while written, or not an event, is skipped', () => {
  const parsed = parseJobEvents(`${PREEMPTED_LINES[0]}\n{"event":"sig\n[1,2]\n{"time":"x"}\n\n${PREEMPTED_LINES[1]}`);
  assert.deepEqual(
    parsed.map((e) => e.event),
    ['start', 'signal'],
  );
  assert.deepEqual(parsed[0], {
    event: 'start',
    time: '2026-12-06T15:51:31Z',
    job: '1',
    restart: 0,
    node: 'vm',
    mode: 'new',
    signal: undefined,
    trainerExit: undefined,
  });
});

test("Open Job Log's file: the run's newest slurm-<id>.out, or a trial's slurm-<array>_<index>.out above it", () => {
  const root = tempFolder('bert-joblog-');
  const dir = path.join(root, 'run');
  fs.mkdirSync(dir);
  assert.equal(jobLogFile(dir, record()), undefined, 'none before the job starts');
  fs.writeFileSync(path.join(dir, 'slurm-3.out'), 'old');
  fs.writeFileSync(path.join(dir, 'slurm-7.out'), 'new');
  fs.writeFileSync(path.join(dir, 'notes.out'), 'not a log');
  fs.utimesSync(path.join(dir, 'slurm-3.out'), new Date(1_000_000), new Date(1_000_000));
  assert.equal(jobLogFile(dir, record({ jobId: '7', previousJobIds: ['3'] })), path.join(dir, 'slurm-7.out'));
  const trial = path.join(root, 'trial-001');
  fs.mkdirSync(trial);
  fs.writeFileSync(path.join(root, 'slurm-40_1.out'), 'trial');
  fs.writeFileSync(path.join(root, 'slurm-40_0.out'), 'another trial');
  assert.equal(jobLogFile(trial, record({ jobId: '40_1', arrayIndex: 1 })), path.join(root, 'slurm-40_1.out'));
  fs.rmSync(root, { recursive: true, force: true });
});

/** A scheduler answering from a script of states, counting the questions. */
class ScriptedScheduler implements JobQuery {
  asked = 0;
  constructor(public current: JobState) {}
  state(): Promise<JobState> {
    this.asked++;
    return Promise.resolve(this.current);
  }
}

test('the watcher follows the job through the shared poller: once per 10 s while live, never when ended', async () => {
  const dir = tempFolder('bert-cluster-watch-');
  await writeJobRecord(dir, record());
  // The trainer's pid is a node's: dead here. While the job runs, the run is training all the same.
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), toJsonl([started({ pid: 999_999, total_steps: 46 }), step(5)]));
  fs.writeFileSync(path.join(dir, JOB_EVENTS), PREEMPTED_LINES[0] + '\n');
  const scheduler = new ScriptedScheduler(slurm('RUNNING', { node: 'vm' }));
  let now = 0;
  const jobs = new JobStates(scheduler, { now: () => now });
  const watcher = new RunWatcher(dir, { jobs, isAlive: () => false });
  const seen: string[] = [];
  watcher.subscribe({ cluster: (c) => seen.push(`${c.stage}${c.reason ? ` ${c.reason}` : ''}`) });

  await watcher.checkCluster();
  assert.equal(scheduler.asked, 1);
  assert.equal(watcher.checkLiveness(), 'training', 'not interrupted: the job runs on a node');
  now = 5_000;
  await watcher.checkCluster();
  assert.equal(scheduler.asked, 1, 'not again within 10 s');
  // The view asks through the same poller: no second question either.
  now = 9_000;
  assert.equal(await jobs.pollJob(dir, record()), false);
  assert.equal(scheduler.asked, 1);

  // Preempted: the script's lines arrive before the scheduler is asked again.
  fs.appendFileSync(path.join(dir, JOB_EVENTS), PREEMPTED_LINES.slice(1, 3).join('\n') + '\n');
  fs.appendFileSync(path.join(dir, 'metrics.jsonl'), toJsonl([done({ stopped: true, final_step: 5 })]));
  watcher.poll();
  await watcher.checkCluster();
  assert.equal(watcher.cluster?.stage, 'requeued');
  now = 10_000;
  scheduler.current = slurm('PENDING', { reason: 'BeginTime', restarts: 1 });
  await watcher.checkCluster();
  assert.equal(scheduler.asked, 2);
  assert.equal(watcher.cluster?.reason, 'BeginTime');

  fs.appendFileSync(path.join(dir, JOB_EVENTS), PREEMPTED_LINES.slice(3).join('\n') + '\n');
  fs.appendFileSync(
    path.join(dir, 'metrics.jsonl'),
    toJsonl([started({ pid: 999_998, resumed_from_step: 5 }), done()]),
  );
  watcher.poll();
  now = 20_000;
  scheduler.current = slurm('COMPLETED', { node: 'vm', restarts: 1 });
  await watcher.checkCluster();
  assert.equal(scheduler.asked, 3);
  assert.equal(watcher.cluster?.stage, 'done');
  now = 60_000;
  await watcher.checkCluster();
  assert.equal(scheduler.asked, 3, 'an ended job is not asked again');
  assert.deepEqual(seen, ['running', 'requeued', 'requeued BeginTime', 'done']);
  watcher.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a run without job.json has no cluster state and asks nothing', async () => {
  const dir = tempFolder('bert-local-watch-');
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), toJsonl([started({ pid: 999_999 }), step(1)]));
  const scheduler = new ScriptedScheduler(slurm('RUNNING'));
  const watcher = new RunWatcher(dir, { jobs: new JobStates(scheduler), isAlive: () => false });
  await watcher.checkCluster(true);
  assert.equal(watcher.cluster, undefined);
  assert.equal(scheduler.asked, 0);
  assert.equal(watcher.checkLiveness(), 'interrupted');
  watcher.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

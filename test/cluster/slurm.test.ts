/**
 * `npm run test:cluster` (and `npm test`'s cluster layer): a real one-node Slurm cluster (scripts/slurm/setup.sh:
 * Debian's slurm-wlm + munge, as root) is started before and always taken down after, with no daemon left. Every job
 * is submitted with `bertft submit --slurm` and followed with `bertft jobs`; every run, however often it was
 * interrupted, ends with best/model.safetensors byte-identical to an uninterrupted local run with the same seed, and
 * every step's loss equal:
 *   - a run on the cluster, uninterrupted;
 *   - a job preempted by the higher-priority partition checkpoints, requeues itself and resumes;
 *   - a wall-time chain: under `--time=1` the job is signalled before its limit again and again, checkpoints, requeues
 *     itself and resumes until the run is done;
 *   - `bertft cancel` leaves a stop checkpoint, which `bertft submit --slurm --resume` continues on the cluster and,
 *     cancelled again, `bertft train --resume` here;
 *   - a 3-trial sweep as one job array, throttled to 2 at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  DATA,
  events,
  resumedFrom,
  sameModel,
  sameStepLosses,
  slurmEvents,
  stopCheckpoint,
  useSlurmCluster,
} from '../helpers/slurm-cluster';

const cluster = useSlurmCluster('bertft-cluster-');
const { env } = cluster;
const RUNS = path.join(cluster.work, 'runs');
// One model (--ensemble 1): the segment timings below are a single model's.
const TRAIN = ['--data', DATA, '--model', 'random:tiny', '--epochs', '2', '--seed', '7', '--ensemble', '1'];
/** The uninterrupted run every job of TRAIN is compared with, trained here by the first test. */
const LOCAL = path.join(RUNS, 'local');

/** The run's model and every step's loss equal those of the uninterrupted run. */
function sameTraining(run: string, reference: string): void {
  sameModel(run, reference);
  sameStepLosses(run, reference);
}

test('a run on the cluster ends with the model of a local run with the same seed, byte for byte', async () => {
  await cluster.trainHere([...TRAIN, '--out', LOCAL]);

  const run = path.join(RUNS, 'plain');
  const dry = await cluster.bertft(['submit', '--slurm', ...TRAIN, '--out', run, '--time', '30', '--dry-run']);
  assert.equal(dry.code, 0, dry.err);
  const scriptFile = path.join(cluster.work, 'dry.sbatch');
  fs.writeFileSync(scriptFile, dry.out);
  const testOnly = spawnSync('sbatch', ['--test-only', scriptFile], { env, encoding: 'utf8' });
  assert.equal(testOnly.status, 0, testOnly.stderr);

  const submit = await cluster.bertft(['submit', '--slurm', ...TRAIN, '--out', run, '--partition', 'batch', '--json']);
  assert.equal(submit.code, 0, submit.err);
  const submitted = JSON.parse(submit.out) as { jobId: string; script: string };
  assert.equal(submitted.script, path.join(run, 'job.sbatch'));
  const record = JSON.parse(fs.readFileSync(path.join(run, 'job.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(record.scheduler, 'slurm');
  assert.equal(record.jobId, submitted.jobId);
  assert.equal(record.arrayIndex, null);
  assert.equal(record.restarts, 0);

  const end = await cluster.waitForEnd(run);
  assert.equal(end.phase, 'done', cluster.describe(run));
  assert.deepEqual(slurmEvents(run), ['start', 'exit']);
  sameTraining(run, LOCAL);
  const text = await cluster.bertft(['jobs', path.dirname(run)]);
  assert.match(text.out, new RegExp(`${submitted.jobId}\\s+done \\(COMPLETED\\)\\s+0`));
});

test('preempted by the urgent partition: checkpoint, requeue, resume, the same model and step losses', async () => {
  const run = path.join(RUNS, 'preempted');
  // The node has 2 CPUs: a job that asks for both is preempted by any job of the urgent partition.
  const submit = await cluster.bertft([
    'submit',
    '--slurm',
    ...TRAIN,
    '--out',
    run,
    '--partition',
    'batch',
    '--cpus',
    '2',
  ]);
  assert.equal(submit.code, 0, submit.err);
  await cluster.waitForStep(run, 5);
  const urgent = ['--parsable', '-p', 'urgent', '-c', '2', '-o', '/dev/null', '--wrap', 'sleep 2'];
  const preempting = spawnSync('sbatch', urgent, { env, encoding: 'utf8' });
  assert.equal(preempting.status, 0, preempting.stderr);
  const end = await cluster.waitForEnd(run);
  assert.equal(end.phase, 'done', cluster.describe(run));
  assert.ok(end.restarts >= 1, `requeued (restarts ${end.restarts})\n${cluster.describe(run)}`);
  assert.deepEqual(slurmEvents(run).slice(0, 3), ['start', 'signal', 'requeue'], cluster.describe(run));
  const resumed = resumedFrom(run);
  assert.ok(resumed.length >= 2, 'the trainer started again');
  assert.ok((resumed[1] ?? 0) >= 5, `resumed from its checkpoint (${String(resumed[1])})`);
  sameTraining(run, LOCAL);
});

test('a wall-time chain under --time=1: checkpoint, requeue, resume until done, the same training', async (t) => {
  // The job is signalled 30 s before its 1-minute limit (signalLeadSeconds), and Slurm sends that signal on its
  // 30-s cycle, early rather than late: a segment trains at most about 30 s. 12 epochs (276 steps) need 2 segments or
  // more on a machine up to about twice as fast as this quiet 2-core one (8 epochs took 2 segments here at load 1;
  // 5 epochs could fit in one).
  const train = ['--data', DATA, '--model', 'random:tiny', '--epochs', '12', '--seed', '7', '--ensemble', '1'];
  const run = path.join(RUNS, 'wall-time');
  const submit = await cluster.bertft(['submit', '--slurm', ...train, '--out', run, '--time', '1']);
  assert.equal(submit.code, 0, submit.err);
  assert.match(fs.readFileSync(path.join(run, 'job.sbatch'), 'utf8'), /^#SBATCH --signal=B:USR1@30$/m);
  // The uninterrupted reference trains here meanwhile.
  const reference = path.join(RUNS, 'wall-time-local');
  const [end] = await Promise.all([
    cluster.waitForEnd(run, 600_000),
    cluster.trainHere([...train, '--out', reference]),
  ]);
  assert.equal(end.phase, 'done', cluster.describe(run));
  // The job script's events, one line per segment: every segment but the last ended by the time-limit signal with a
  // requeue; the last one trained to the end (a signal may still have come after the trainer's last step).
  const segments = slurmEvents(run)
    .join(' ')
    .split(/ (?=start)/);
  assert.ok(segments.length >= 2, `several segments (${segments.length})\n${cluster.describe(run)}`);
  for (const segment of segments.slice(0, -1)) assert.equal(segment, 'start signal requeue', cluster.describe(run));
  assert.match(segments.at(-1)!, /^start (signal )?exit$/, cluster.describe(run));
  assert.equal(end.restarts, segments.length - 1);
  t.diagnostic(`${segments.length} segments`);
  sameTraining(run, reference);
});

test('bertft cancel leaves a stop checkpoint: submit --resume continues it there, train --resume here', async () => {
  const run = path.join(RUNS, 'cancelled');
  const submit = await cluster.bertft(['submit', '--slurm', ...TRAIN, '--out', run, '--json']);
  assert.equal(submit.code, 0, submit.err);
  const first = (JSON.parse(submit.out) as { jobId: string }).jobId;
  await cluster.waitForStep(run, 5);
  const cancel = await cluster.bertft(['cancel', run]);
  assert.equal(cancel.code, 0, cancel.err);
  assert.match(cancel.out, /Cancelled job \d+/);
  assert.equal((await cluster.waitForEnd(run)).phase, 'cancelled', cluster.describe(run));
  const stopped = stopCheckpoint(run);
  assert.deepEqual(slurmEvents(run), ['start', 'signal', 'exit'], cluster.describe(run));
  const again = await cluster.bertft(['cancel', run]);
  assert.equal(again.code, 0, again.err);
  assert.match(again.out, /already ended/);

  // Continued on the cluster by its own job script, a new job that resumes from the stop checkpoint...
  const resubmit = await cluster.bertft(['submit', '--slurm', '--resume', '--out', run, '--json']);
  assert.equal(resubmit.code, 0, resubmit.err);
  const record = JSON.parse(fs.readFileSync(path.join(run, 'job.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(record.jobId, (JSON.parse(resubmit.out) as { jobId: string }).jobId);
  assert.deepEqual(record.previousJobIds, [first]);
  await cluster.waitForStep(run, stopped + 5);
  // ... cancelled again, and finished here.
  assert.equal((await cluster.bertft(['cancel', run])).code, 0);
  assert.equal((await cluster.waitForEnd(run)).phase, 'cancelled', cluster.describe(run));
  const stoppedAgain = stopCheckpoint(run);
  await cluster.trainHere(['--out', run, '--resume']);

  assert.deepEqual(resumedFrom(run), [undefined, stopped, stoppedAgain]);
  assert.equal(events(run).at(-1)?.stopped, false, 'trained to the end');
  sameTraining(run, LOCAL);
});

test('a 3-trial sweep as one job array, at most 2 at once, trains every trial and makes its leaderboard', async () => {
  const sweep = path.join(cluster.work, 'sweeps', 'lr');
  const grid = ['--grid', 'lr=1e-3,2e-3,5e-3', '--max-parallel', '2', '--partition', 'batch'];
  const submit = await cluster.bertft(['sweep', '--slurm', ...TRAIN, ...grid, '--out', sweep, '--json']);
  assert.equal(submit.code, 0, submit.err);
  const { jobId } = JSON.parse(submit.out) as { jobId: string };
  assert.match(fs.readFileSync(path.join(sweep, 'job.sbatch'), 'utf8'), /^#SBATCH --array=0-2%2$/m);
  const trials = ['trial-000', 'trial-001', 'trial-002'].map((t) => path.join(sweep, t));
  for (const [i, trial] of trials.entries()) {
    const record = JSON.parse(fs.readFileSync(path.join(trial, 'job.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(record.jobId, `${jobId}_${i}`);
    assert.equal(record.arrayIndex, i);
  }
  for (const trial of trials) assert.equal((await cluster.waitForEnd(trial)).phase, 'done', cluster.describe(trial));
  // The throttle: no moment had three trials between their start and exit.
  const spans = trials.map((t) => {
    const lines = fs.readFileSync(path.join(t, 'slurm-events.jsonl'), 'utf8').trim().split('\n');
    const times = lines.map((l) => Date.parse((JSON.parse(l) as { time: string }).time));
    return [Math.min(...times), Math.max(...times)];
  });
  for (const [start] of spans) {
    assert.ok(spans.filter(([s, e]) => s <= start && start < e).length <= 2, JSON.stringify(spans));
  }
  const shown = await cluster.bertft(['sweep', '--show', sweep, '--json']);
  assert.equal(shown.code, 0, shown.err);
  const board = JSON.parse(shown.out) as { rows: { dir: string; status: string; best_metric: number }[] };
  assert.deepEqual(
    board.rows.map((r) => r.status),
    ['done', 'done', 'done'],
  );
  assert.deepEqual(board.rows.map((r) => r.dir).sort(), ['trial-000', 'trial-001', 'trial-002']);
  assert.ok(fs.existsSync(path.join(sweep, 'leaderboard.json')));
});

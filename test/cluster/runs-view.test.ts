/**
 * The Runs view's scheduler query on a real one-node Slurm cluster (scripts/slurm/setup.sh, on its own ports and
 * sandbox): a run submitted with `bertft submit --slurm` and held in the queue is listed as a run, the view's state
 * query (JobStates over core/scheduler's Slurm) reads it as `Slurm PENDING (JobHeldUser)` with Cancel Job offered;
 * after the scheduler's cancel (what Cancel Cluster Job calls) a forced refresh reads CANCELLED and offers it no more.
 * A job id the controller does not know is a state of its own, not the "not reachable" of a machine without Slurm.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { Slurm } from '../../src/core/scheduler/slurm';
import { packageVersion } from '../../src/core/util/package-version';
import { asPlain } from '../../src/extension/display/text';
import { describeJob, jobBusy, JobStates } from '../../src/extension/runs/jobs';
import { listRuns } from '../../src/extension/runs/runStore';
import { DATA, useSlurmCluster } from '../helpers/slurm-cluster';

// Ports of its own: test/cluster/slurm.test.ts's cluster may be up at the same time.
const cluster = useSlurmCluster('bertft-cluster-view-', { slurmctld: 6847, slurmd: 6848 });

test("the Runs view's state query reads a real job: held in the queue, then cancelled", async () => {
  const runs = path.join(cluster.work, 'runs');
  const run = path.join(runs, 'held');
  const train = ['--data', DATA, '--model', 'random:tiny', '--epochs', '1', '--seed', '7'];
  const submit = await cluster.bertft(['submit', '--slurm', ...train, '--out', run, '--sbatch-arg=--hold', '--json']);
  assert.equal(submit.code, 0, submit.err);
  const { jobId } = JSON.parse(submit.out) as { jobId: string };

  const slurm = new Slurm(packageVersion(), cluster.env);
  const jobs = new JobStates(slurm);
  const listed = listRuns(runs, () => false);
  assert.deepEqual(
    listed.map((r) => [r.name, r.job?.record?.jobId]),
    [['held', jobId]],
  );
  assert.equal(await jobs.poll(listed), true);
  const held = jobs.apply(listed[0]);
  assert.equal(held.job?.unavailable, undefined);
  assert.equal(held.job?.state?.state, 'PENDING');
  assert.equal(asPlain(describeJob(held.job)), 'Slurm PENDING (JobHeldUser)');
  assert.equal(held.phase, 'waiting');
  assert.equal(jobBusy(held.job), true, 'Cancel Cluster Job is offered');

  await slurm.cancel(jobId);
  assert.equal(
    await jobs.poll(
      listRuns(runs, () => false),
      true,
    ),
    true,
  );
  const cancelled = jobs.apply(listRuns(runs, () => false)[0]);
  assert.match(asPlain(describeJob(cancelled.job!)), /^Slurm CANCELLED/);
  assert.equal(jobBusy(cancelled.job), false, 'no Cancel Job for an ended job');

  // A job id the controller does not know is a state (gone), not "Slurm not reachable".
  const gone = await slurm.state('999999');
  assert.equal(gone.phase, 'unknown');
});

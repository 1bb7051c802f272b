/**
 * The Fine-tune flow's "Slurm cluster" choice without VS Code, on a real one-node Slurm cluster (scripts/slurm/setup.sh,
 * on its own ports and sandbox, always taken down): the partition step from the real sinfo, then the run the flow
 * builds (sessionOptions, the request a run on this machine gets) submitted through core/scheduler's submitNewRun, as
 * `bertft submit --slurm` submits: job.sbatch and job.json in the run folder, the Runs view lists it, the job trains it
 * to the end with the same settings. A submission sbatch refuses (a partition the cluster does not have) is a user
 * error that leaves no run folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../../src/core/errors';
import { readJobRecord } from '../../src/core/scheduler/scheduler';
import { Slurm } from '../../src/core/scheduler/slurm';
import { submitNewRun } from '../../src/core/scheduler/submit';
import { packageVersion } from '../../src/core/util/package-version';
import { asPlain } from '../../src/extension/display/text';
import { listRuns } from '../../src/extension/runs/runStore';
import { clusterJob, gpuChoices, partitionStep, trainArgv } from '../../src/extension/training/cluster';
import { sessionOptions, type FineTuneChoices } from '../../src/extension/training/options';
import { CLI, DATA, REPO, useSlurmCluster } from '../helpers/slurm-cluster';

// Ports of its own: the other cluster tests' clusters may be up at the same time.
const { env, work: WORK } = useSlurmCluster('bertft-cluster-flow-', { slurmctld: 6857, slurmd: 6858 });

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What the flow returns for the bundled example with a short run chosen in its Advanced step. */
const choices: FineTuneChoices = {
  data: DATA,
  model: 'random:tiny',
  preset: 'fast',
  device: 'auto',
  textColumn: 'text',
  labelColumn: 'label',
  advanced: { epochs: 1, lr: 0.002, seed: 7 },
};

test("the flow's partition step reads the real sinfo; its run is submitted, listed and trained on the cluster", async () => {
  const slurm = new Slurm(packageVersion(), env);
  const items = await partitionStep(slurm);
  assert.deepEqual(
    items.map((i) => [asPlain(i.label), asPlain(i.description!)]),
    [
      ['batch', 'default · up · no time limit · gpu:1'],
      ['urgent', 'up · no time limit · gpu:1'],
    ],
  );
  const batch = items[0].value;
  assert.deepEqual(
    gpuChoices(batch).map((c) => [asPlain(c.label), c.value]),
    [
      ['1 GPU', ''],
      ['No GPU', undefined],
    ],
  );

  // The cluster's GPU is a stand-in (File=/dev/null): the run trains on the node's CPUs.
  const runs = path.join(WORK, 'runs');
  const run = path.join(runs, 'from-flow');
  const options = sessionOptions(choices, run);
  const job = clusterJob(
    options,
    { partition: batch.name, gpuType: undefined, time: '15' },
    {
      command: [process.execPath, CLI],
      workDir: REPO,
    },
  );
  const { record, scriptFile } = await submitNewRun(slurm, job);
  assert.equal(scriptFile, path.join(run, 'job.sbatch'));
  const script = fs.readFileSync(scriptFile, 'utf8');
  for (const line of ['#SBATCH --partition=batch', '#SBATCH --time=15', '#SBATCH --signal=B:USR1@225']) {
    assert.ok(script.includes(`${line}\n`), line);
  }
  assert.ok(script.includes(`args=(${trainArgv(options).join(' ')} --out "$RUN" --device cpu)`), script);
  assert.deepEqual(readJobRecord(run), { ...record, lastState: undefined, checked: undefined });
  assert.deepEqual(
    listRuns(runs, () => false).map((r) => [r.name, r.job?.record?.jobId]),
    [['from-flow', record.jobId]],
    'the Runs view lists the submitted run with its job',
  );

  const deadline = Date.now() + 300_000;
  let state = await slurm.state(record.jobId);
  while (state.phase === 'queued' || state.phase === 'running') {
    assert.ok(Date.now() < deadline, `job ${record.jobId} still ${state.state}`);
    await sleep(1000);
    state = await slurm.state(record.jobId);
  }
  const log = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '');
  assert.equal(state.phase, 'done', `${state.state}\n${log(path.join(run, `slurm-${record.jobId}.out`)).slice(-3000)}`);
  const runJson = JSON.parse(fs.readFileSync(path.join(run, 'run.json'), 'utf8')) as {
    config: Record<string, unknown>;
    device: string;
  };
  for (const [key, value] of Object.entries({ data: DATA, model: 'random:tiny', epochs: 1, lr: 0.002, seed: 7 })) {
    assert.equal(runJson.config[key], value, key);
  }
  assert.equal(runJson.config.textColumn, 'text');
  assert.equal(runJson.device, 'cpu');
  assert.ok(fs.existsSync(path.join(run, 'best', 'model.onnx')), 'the trained model');
});

test('a submission sbatch refuses is a user error with a fix and leaves no run folder', async () => {
  const slurm = new Slurm(packageVersion(), env);
  const run = path.join(WORK, 'runs', 'refused');
  const job = clusterJob(
    sessionOptions(choices, run),
    { partition: 'nosuch' },
    {
      command: [process.execPath, CLI],
      workDir: REPO,
    },
  );
  const error = await submitNewRun(slurm, job).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof UserError, `a user error, not ${String(error)}`);
  assert.equal(error.code, 'SCHEDULER_REFUSED');
  assert.match(error.message, /^sbatch refused the job: .*[Pp]artition/);
  assert.match(error.fix ?? '', /sinfo/);
  assert.ok(!fs.existsSync(run), 'nothing of the refused run is left');
});

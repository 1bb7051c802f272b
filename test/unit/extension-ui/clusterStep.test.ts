/**
 * The Fine-tune flow's cluster step (src/extension/training/cluster.ts) with an injected scheduler: offered only where
 * sbatch is on PATH; its partition, GPU and time-limit choices from the scheduler's partitions; and the job it submits:
 * the same `bertft train` flags as the run this machine would start (parsed back by the CLI's own parser), an explicit
 * device, the chosen resources in the job script.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { parseArgs } from '../../../src/cli/args';
import { COMMANDS, trainOverridesFromArgs } from '../../../src/cli/commands';
import type { Partition, Scheduler } from '../../../src/core/scheduler/scheduler';
import { parseSinfo, renderSlurmScript } from '../../../src/core/scheduler/slurm';
import { asPlain } from '../../../src/extension/display/text';
import {
  clusterAvailable,
  clusterCommand,
  clusterJob,
  clusterResources,
  gpuChoices,
  partitionStep,
  trainArgv,
  validateTime,
} from '../../../src/extension/training/cluster';
import {
  advancedDefaults,
  changedSettings,
  sessionOptions,
  type FineTuneChoices,
} from '../../../src/extension/training/options';

/** A scheduler whose sinfo printed this (a cluster with a CPU partition and a default one with two GPU types). */
function schedulerOf(sinfo: string): Pick<Scheduler, 'partitions'> {
  return { partitions: () => Promise.resolve(parseSinfo(sinfo)) };
}
const SINFO = [
  'cpu|up|7-00:00:00|n/a|50|allocated|(null)',
  'gpu*|up|2-00:00:00|1:00:00|4|mixed|gpu:a100:4(S:0-1)',
  'gpu*|up|2-00:00:00|1:00:00|2|idle|gpu:v100:8(S:0-1),mps:800',
].join('\n');

test('the cluster step is offered only where sbatch is on PATH', () => {
  const at = (file: string) => (f: string) => f === file;
  assert.equal(
    clusterAvailable({
      platform: 'linux',
      env: { PATH: '/usr/bin:/opt/slurm/bin' },
      isProgram: at('/opt/slurm/bin/sbatch'),
    }),
    true,
  );
  assert.equal(
    clusterAvailable({ platform: 'linux', env: { PATH: '/usr/bin' }, isProgram: at('/opt/slurm/bin/sbatch') }),
    false,
  );
  assert.equal(clusterAvailable({ platform: 'win32', env: { Path: 'C:\\Windows' }, isProgram: () => false }), false);
});

test('partitions: the default first, with its state, time limit and GRES; the GPU step offers its types, then none', async () => {
  const items = await partitionStep(schedulerOf(SINFO));
  assert.deepEqual(
    items.map((i) => [asPlain(i.label), asPlain(i.description!), asPlain(i.detail!)]),
    [
      [
        'gpu',
        'default · up · up to 2-00:00:00 · gpu:a100:4(S:0-1), gpu:v100:8(S:0-1), mps:800',
        '6 nodes: mixed, idle',
      ],
      ['cpu', 'up · up to 7-00:00:00 · no GPUs', '50 nodes: allocated'],
    ],
  );
  const gpu = items[0].value;
  assert.deepEqual(
    gpuChoices(gpu).map((c) => [asPlain(c.label), c.value]),
    [
      ['1 × a100 GPU', 'a100'],
      ['1 × v100 GPU', 'v100'],
      ['No GPU', undefined],
    ],
  );
  assert.deepEqual(
    gpuChoices(items[1].value).map((c) => c.value),
    [undefined],
    'a partition without GPUs: none only',
  );
  const untyped: Partition = { ...gpu, gpus: [{ type: '', perNode: 2 }] };
  assert.equal(asPlain(gpuChoices(untyped)[0].label), '1 GPU');

  await assert.rejects(
    partitionStep({ partitions: () => Promise.reject(new Error('sinfo could not list the partitions')) }),
    /sinfo could not/,
    "the scheduler's error reaches the flow (shown as a notification)",
  );
});

test('the time limit: Slurm notation, empty for the default, not above the partition maximum', async () => {
  const [gpu, cpu] = await partitionStep(schedulerOf(SINFO)).then((items) => items.map((i) => i.value));
  for (const ok of ['', ' ', '90', '30:00', '01:30:00', '1-12:00', '2-0', '2-00:00:00']) {
    assert.equal(validateTime(ok, gpu), undefined, ok);
  }
  assert.match(validateTime('2h', gpu)!, /HH:MM:SS/);
  assert.match(validateTime('3-0', gpu)!, /gpu allows at most 2-00:00:00/);
  assert.match(validateTime('UNLIMITED', gpu)!, /at most/);
  assert.match(validateTime('0', gpu)!, /not a limit/);
  assert.equal(validateTime('6-0', cpu), undefined);
  assert.equal(validateTime('UNLIMITED', { ...cpu, maxTime: undefined }), undefined, 'no maximum');
});

test('resources: the partition, one GPU of the chosen type (--gres), the time; none of them without a choice', () => {
  assert.deepEqual(clusterResources({ partition: 'gpu', gpuType: 'a100', time: '04:00:00' }), {
    partition: 'gpu',
    gres: 'gpu:a100:1',
    time: '04:00:00',
  });
  assert.deepEqual(clusterResources({ partition: 'gpu', gpuType: '' }), { partition: 'gpu', gres: 'gpu:1' });
  assert.deepEqual(clusterResources({ partition: 'cpu' }), { partition: 'cpu' });
  assert.deepEqual(clusterCommand('/node', '/ext/dist/cli.js', false), ['/node', '/ext/dist/cli.js']);
  assert.deepEqual(clusterCommand('/code', '/ext/dist/cli.js', true), [
    'env',
    'ELECTRON_RUN_AS_NODE=1',
    '/code',
    '/ext/dist/cli.js',
  ]);
});

/** A flow's answers with every kind of option it produces: task options, Advanced changes, columns, truncation. */
function flowChoices(): FineTuneChoices {
  const defaults = advancedDefaults('random:tiny', 'multi-label');
  return {
    data: path.resolve('data', 'tickets.csv'),
    model: 'random:tiny',
    preset: 'fast',
    device: 'auto',
    textColumn: 'body',
    maxLength: 256,
    truncation: 'head+tail',
    batchSize: 16,
    task: { problemType: 'multi-label', labelColumns: ['billing', 'bug'], textPairColumn: 'subject' },
    advanced: changedSettings(defaults, {
      ...defaults,
      lr: 2e-5,
      epochs: 7,
      classWeights: !defaults.classWeights,
      lrSchedule: 'cosine',
      earlyStoppingPatience: 2,
      metric: 'macro_f1',
      warmupRatio: 0.06,
      gradientAccumulationSteps: 2,
    }),
  };
}

test("the job's train flags parse back, by the CLI's own parser, to the request this machine's run would get", () => {
  const out = path.resolve('runs', '20261206-160000-tickets');
  const local = sessionOptions(flowChoices(), out);
  const argv = trainArgv(local);
  assert.equal(argv[0], 'train');
  assert.ok(!argv.includes('--device') && !argv.includes('--out'), 'the job script sets --out and --device');
  const parsed = trainOverridesFromArgs(parseArgs([...argv.slice(1), '--out', out], COMMANDS.train.flags, 'train'));
  const defined = (o: object) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== false));
  const { device: _device, ...rest } = local;
  assert.deepEqual(defined(parsed), defined(rest));

  assert.deepEqual(trainArgv({ data: 'd.csv', out, dropout: false, classWeights: false }), [
    'train',
    '--data',
    'd.csv',
    '--no-dropout',
    '--class-weights=false',
  ]);
  assert.throws(() => trainArgv({ data: 'd.csv', out, evalBatchSize: 8 }), /evalBatchSize has no bertft train flag/);
});

test('the job: the run folder, an explicit device (cuda with a GPU, else cpu), its resources in the script', () => {
  const out = path.resolve('runs', 'r1');
  const local = sessionOptions(flowChoices(), out);
  const where = { command: ['/usr/bin/node', '/ext/dist/cli.js'], workDir: path.resolve('.') };
  const gpuJob = clusterJob(local, { partition: 'gpu', gpuType: 'a100', time: '1-00:00' }, where);
  assert.equal(gpuJob.runDir, out);
  assert.equal(gpuJob.name, 'r1');
  assert.equal(gpuJob.device, 'cuda');
  assert.deepEqual(gpuJob.trainArgs, trainArgv(local));
  const script = renderSlurmScript(gpuJob, 'test');
  for (const line of ['#SBATCH --partition=gpu', '#SBATCH --gres=gpu:a100:1', '#SBATCH --time=1-00:00']) {
    assert.ok(script.includes(`${line}\n`), line);
  }
  assert.ok(script.includes(`--out "$RUN" --device cuda`));
  assert.ok(script.includes('/usr/bin/node /ext/dist/cli.js "${args[@]}" &'));
  assert.equal(clusterJob(local, { partition: 'cpu' }, where).device, 'cpu');
});

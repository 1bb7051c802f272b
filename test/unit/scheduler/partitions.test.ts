/**
 * What the Fine-tune flow's cluster step asks Slurm, without a cluster: `sinfo`'s partitions parsed from real output
 * (this machine's one-node cluster, scripts/slurm/setup.sh, Slurm 22.05) and from a multi-node cluster with several
 * GPU types; sinfo failing is a user error naming it; `sbatch` found on PATH by each platform's rules; and a refused
 * submission (this machine's real sbatch with no cluster configured) leaves no run folder. The real cluster:
 * test/cluster/finetune-submit.test.ts.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../../../src/core/errors';
import { findOnPath } from '../../../src/core/scheduler/scheduler';
import { gpuOfGres, parseGres, parseSinfo, SINFO_FORMAT, Slurm } from '../../../src/core/scheduler/slurm';
import { submitNewRun } from '../../../src/core/scheduler/submit';
import { tempFolder } from '../../helpers/temp';

const tmp = tempFolder('bertft-partitions-');
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** `sinfo -h -o '%P|%a|%l|%L|%D|%T|%G'` on scripts/slurm/setup.sh's cluster (slurm-wlm 22.05.8), as printed. */
const ONE_NODE = 'batch*|up|infinite|n/a|1|idle|gpu:1\nurgent|up|infinite|n/a|1|idle|gpu:1\n';

/**
 * A cluster of several node kinds: sinfo prints one line per partition and group of alike nodes; newer versions add
 * the GPUs' sockets in parentheses; a partition may be down, a node not responding (`*`).
 */
const MULTI_GPU = [
  'cpu|up|7-00:00:00|n/a|50|allocated|(null)',
  'gpu*|up|2-00:00:00|1:00:00|4|mixed|gpu:a100:4(S:0-1)',
  'gpu*|up|2-00:00:00|1:00:00|2|idle|gpu:v100:8(S:0-1),mps:800',
  'gpu*|up|2-00:00:00|1:00:00|1|drained*|gpu:a100:4(S:0-1)',
  'debug|down|30:00|10:00|1|idle|gpu:2',
  '',
].join('\r\n');

test('sinfo on the one-node cluster: two partitions, the default first, one untyped GPU, no time limit', () => {
  assert.equal(SINFO_FORMAT, '%P|%a|%l|%L|%D|%T|%G');
  assert.deepEqual(parseSinfo(ONE_NODE), [
    {
      name: 'batch',
      isDefault: true,
      available: 'up',
      maxTime: undefined,
      defaultTime: undefined,
      nodes: 1,
      nodeStates: ['idle'],
      gres: ['gpu:1'],
      gpus: [{ type: '', perNode: 1 }],
    },
    {
      name: 'urgent',
      isDefault: false,
      available: 'up',
      maxTime: undefined,
      defaultTime: undefined,
      nodes: 1,
      nodeStates: ['idle'],
      gres: ['gpu:1'],
      gpus: [{ type: '', perNode: 1 }],
    },
  ]);
});

test('sinfo on a multi-GPU cluster: lines of one partition merged, GPU types from its GRES, the default first', () => {
  const partitions = parseSinfo(MULTI_GPU);
  assert.deepEqual(
    partitions.map((p) => p.name),
    ['gpu', 'cpu', 'debug'],
  );
  const [gpu, cpu, debug] = partitions;
  assert.equal(gpu.isDefault, true);
  assert.equal(gpu.maxTime, '2-00:00:00');
  assert.equal(gpu.defaultTime, '1:00:00');
  assert.equal(gpu.nodes, 7);
  assert.deepEqual(gpu.nodeStates, ['mixed', 'idle', 'drained*']);
  assert.deepEqual(gpu.gres, ['gpu:a100:4(S:0-1)', 'gpu:v100:8(S:0-1)', 'mps:800']);
  assert.deepEqual(gpu.gpus, [
    { type: 'a100', perNode: 4 },
    { type: 'v100', perNode: 8 },
  ]);
  assert.deepEqual([cpu.gres, cpu.gpus, cpu.maxTime, cpu.defaultTime], [[], [], '7-00:00:00', undefined]);
  assert.deepEqual([debug.available, debug.maxTime, debug.gpus], ['down', '30:00', [{ type: '', perNode: 2 }]]);

  assert.deepEqual(parseGres('gpu:a100:4(S:0-1,3),gpu:t4:1,mps:100'), ['gpu:a100:4(S:0-1,3)', 'gpu:t4:1', 'mps:100']);
  assert.deepEqual(parseGres('(null)'), []);
  assert.deepEqual(gpuOfGres('gpu:v100'), { type: 'v100', perNode: 1 });
  assert.deepEqual(gpuOfGres('gpu'), { type: '', perNode: 1 });
  assert.equal(gpuOfGres('mps:800'), undefined);
  assert.deepEqual(parseSinfo('garbage\n\n|||\n'), [], 'lines without the fields are skipped');
});

test("sinfo failing (this machine's real sinfo with no cluster configured) is a user error naming sinfo and a fix", async () => {
  const conf = path.join(tmp, 'empty-slurm.conf');
  fs.writeFileSync(conf, '');
  const error = await new Slurm('test', { ...process.env, SLURM_CONF: conf }).partitions().then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof UserError, `a user error, not ${String(error)}`);
  if (error.code === 'SCHEDULER_TOOL_MISSING') {
    assert.match(error.message, /^sinfo was not found/);
  } else {
    assert.equal(error.code, 'SCHEDULER_REFUSED');
    assert.match(error.message, /^sinfo could not list the partitions: .*configuration/);
    assert.match(error.fix ?? '', /SLURM_CONF/);
  }
});

test('sbatch is found on PATH by the platform: Windows (Path, ;, quotes, PATHEXT) and POSIX (:, the file itself)', () => {
  const files = new Set([
    'C:\\Slurm\\bin\\sbatch.EXE',
    'D:\\tools\\sbatch.cmd',
    '/opt/slurm/bin/sbatch',
    '/usr/local/bin/sbatch.exe',
  ]);
  const isProgram = (f: string): boolean => files.has(f);
  // Windows file names ignore case.
  const isWindowsProgram = (f: string): boolean => [...files].some((g) => g.toLowerCase() === f.toLowerCase());
  const win = (Path: string, extra: NodeJS.ProcessEnv = {}) =>
    findOnPath('sbatch', { platform: 'win32', env: { Path, ...extra }, isProgram: isWindowsProgram });
  assert.equal(
    win('C:\\Windows;"C:\\Slurm\\bin";D:\\tools', { PATHEXT: '.COM;.EXE;.CMD' }),
    'C:\\Slurm\\bin\\sbatch.EXE',
  );
  assert.equal(win('D:\\tools'), 'D:\\tools\\sbatch.CMD', 'the default PATHEXT');
  assert.equal(win('C:\\Windows;/opt/slurm/bin'), undefined, 'no sbatch.exe there');
  const posix = (PATH: string) => findOnPath('sbatch', { platform: 'linux', env: { PATH }, isProgram });
  assert.equal(posix('/usr/bin::/opt/slurm/bin'), '/opt/slurm/bin/sbatch');
  assert.equal(posix('/usr/local/bin;/opt/slurm/bin'), undefined, '; is no separator on POSIX');
  assert.equal(findOnPath('sbatch', { platform: 'darwin', env: {}, isProgram }), undefined, 'no PATH at all');

  // The real lookup: an executable file is found, one without the execute bit is not (POSIX).
  if (process.platform !== 'win32') {
    const bin = path.join(tmp, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'sbatch'), '#!/bin/sh\n', { mode: 0o644 });
    assert.equal(findOnPath('sbatch', { env: { PATH: bin } }), undefined);
    fs.chmodSync(path.join(bin, 'sbatch'), 0o755);
    assert.equal(findOnPath('sbatch', { env: { PATH: bin } }), path.join(bin, 'sbatch'));
  }
});

test('a submission sbatch refuses leaves no run folder (and an existing run folder as it was)', async () => {
  const conf = path.join(tmp, 'empty-for-sbatch.conf');
  fs.writeFileSync(conf, '');
  const slurm = new Slurm('test', { ...process.env, SLURM_CONF: conf });
  const job = (runDir: string) => ({
    name: 'run',
    runDir,
    workDir: tmp,
    command: [process.execPath, 'cli.js'],
    trainArgs: ['train', '--data', 'data.csv'],
    device: 'cpu',
    resources: { partition: 'batch' },
  });
  const fresh = path.join(tmp, 'runs', 'fresh');
  const refused = await submitNewRun(slurm, job(fresh)).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(refused instanceof UserError, `a user error, not ${String(refused)}`);
  assert.ok(['SCHEDULER_REFUSED', 'SCHEDULER_TOOL_MISSING'].includes(refused.code ?? ''), refused.code);
  assert.ok(!fs.existsSync(fresh), 'the folder it created is gone');

  const empty = path.join(tmp, 'runs', 'empty');
  fs.mkdirSync(empty);
  await assert.rejects(submitNewRun(slurm, job(empty)), UserError);
  assert.deepEqual(fs.readdirSync(empty), [], 'an empty folder given is left empty, not removed');

  const existing = path.join(tmp, 'runs', 'existing');
  fs.mkdirSync(existing);
  fs.writeFileSync(path.join(existing, 'run.json'), '{}');
  await assert.rejects(submitNewRun(slurm, job(existing)), /already holds a training run/);
  assert.deepEqual(fs.readdirSync(existing), ['run.json']);
});

/**
 * core/scheduler: the Slurm job script for given resources, the parsing of scontrol / squeue / sacct / sbatch output
 * captured from Slurm 22.05 (and variants another version may print), time limits, refusals, job.json and the
 * node-local path check. The script is also run by bash here (syntax) and given to `sbatch --test-only` when a
 * cluster answers (test/cluster starts one).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../../../src/core/errors';
import {
  nodeLocalRoot,
  readJobRecord,
  writeJobRecord,
  type JobRecord,
  type TrainingJob,
} from '../../../src/core/scheduler/scheduler';
import {
  asksForGpu,
  checkSlurmResources,
  parseSacct,
  parseSbatchJobId,
  parseScontrolRecords,
  parseSqueue,
  renderSlurmScript,
  shellQuote,
  signalLeadSeconds,
  slurmPhase,
  slurmTimeSeconds,
  stateFromScontrol,
} from '../../../src/core/scheduler/slurm';
import { tempFolder } from '../../helpers/temp';

const RUNNING =
  'JobId=1 JobName=wrap UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901759 Nice=0 Account=(null) QOS=(null) JobState=RUNNING Reason=None Dependency=(null) Requeue=0 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:02 TimeLimit=365-00:00:00 TimeMin=N/A SubmitTime=2026-12-06T07:51:04 EligibleTime=2026-12-06T07:51:04 AccrueTime=2026-12-06T07:51:04 StartTime=2026-12-06T07:51:05 EndTime=2027-12-06T07:51:05 Deadline=N/A PreemptEligibleTime=2026-12-06T07:51:05 PreemptTime=None SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-12-06T07:51:05 Scheduler=Backfill Partition=batch AllocNode:Sid=localhost:28462 ReqNodeList=(null) ExcNodeList=(null) NodeList=vm BatchHost=vm NumNodes=1 NumCPUs=2 NumTasks=1 CPUs/Task=2 ReqB:S:C:T=0:0:*:* TRES=cpu=2,node=1,billing=2 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=2 MinMemoryNode=0 MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=(null) WorkDir=/tmp/slcap StdErr=/tmp/slcap/slurm-1.out StdIn=/dev/null StdOut=/tmp/slcap/slurm-1.out Power= ';
const REQUEUED =
  'JobId=5 JobName=wrap UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901755 Nice=0 Account=(null) QOS=(null) JobState=PENDING Reason=BeginTime Dependency=(null) Requeue=1 Restarts=1 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:00 TimeLimit=UNLIMITED Partition=batch NodeList= BatchHost=vm WorkDir=/tmp/slcap Power= ';
const ARRAY =
  'JobId=3 ArrayJobId=3 ArrayTaskId=0-2%1 ArrayTaskThrottle=1 JobName=wrap UserId=root(0) GroupId=root(0) JobState=PENDING Reason=Priority Dependency=(null) Requeue=0 Restarts=0 ExitCode=0:0 NodeList= StdOut=/tmp/slcap/slurm-3_4294967294.out Power= ';

test('scontrol show job -o: a running job, a requeued one (Restarts), an array, values with spaces and the multi-line form', () => {
  assert.deepEqual(stateFromScontrol(RUNNING, '1'), {
    jobId: '1',
    phase: 'running',
    state: 'RUNNING',
    reason: undefined,
    node: 'vm',
    restarts: 0,
    exitCode: '0:0',
  });
  const requeued = stateFromScontrol(REQUEUED, '5')!;
  assert.equal(requeued.phase, 'queued');
  assert.equal(requeued.reason, 'BeginTime');
  assert.equal(requeued.restarts, 1);
  assert.equal(requeued.node, 'vm', 'no NodeList yet: the batch host it ran on');
  assert.equal(stateFromScontrol(ARRAY, '3')!.reason, 'Priority');
  // Keys with ':' and '/', and a value holding spaces (a comment), as another version may print them.
  const [fields] = parseScontrolRecords(`${RUNNING.trim()} Comment=lr sweep 3 NewKey=x`);
  assert.equal(fields.get('AllocNode:Sid'), 'localhost:28462');
  assert.equal(fields.get('CPUs/Task'), '2');
  assert.equal(fields.get('Comment'), 'lr sweep 3');
  assert.equal(fields.get('NewKey'), 'x');
  // The multi-line form without -o, indented, two jobs: the one asked for.
  const multi = `JobId=7 JobName=a\n   JobState=COMPLETED Reason=None\n   ExitCode=0:0\nJobId=8 JobName=b\n   JobState=FAILED Reason=NonZeroExitCode ExitCode=1:0\n`;
  assert.equal(stateFromScontrol(multi, '8')!.phase, 'failed');
  assert.equal(stateFromScontrol(multi, '8')!.reason, 'NonZeroExitCode');
  assert.equal(stateFromScontrol(multi, '7')!.phase, 'done');
  assert.equal(stateFromScontrol('slurm_load_jobs error: Invalid job id specified\n', '9'), undefined);
  assert.equal(stateFromScontrol('JobId=9 JobName=x', '9'), undefined, 'no JobState: not a state');
});

test('squeue -h -o "%i|%T|%r|%N" and sacct -P lines: states, arrays, blank fields, short codes; sbatch --parsable', () => {
  const squeue = '2|PENDING|Resources|\n3_[0-2%1]|PENDING|Priority|\n 1|RUNNING|None|vm \n\n4_1|R|None|node[01-02]\n';
  assert.deepEqual(parseSqueue(squeue), [
    { jobId: '2', phase: 'queued', state: 'PENDING', reason: 'Resources', node: undefined },
    { jobId: '3_[0-2%1]', phase: 'queued', state: 'PENDING', reason: 'Priority', node: undefined },
    { jobId: '1', phase: 'running', state: 'RUNNING', reason: undefined, node: 'vm' },
    { jobId: '4_1', phase: 'running', state: 'R', reason: undefined, node: 'node[01-02]' },
  ]);
  assert.deepEqual(parseSqueue('7|COMPLETING'), [
    { jobId: '7', phase: 'running', state: 'COMPLETING', reason: undefined, node: undefined },
  ]);
  assert.deepEqual(parseSacct('5|CANCELLED by 0|0:15|vm\n6|TIMEOUT|0:0|vm\n'), [
    { jobId: '5', phase: 'cancelled', state: 'CANCELLED by 0', exitCode: '0:15', node: 'vm' },
    { jobId: '6', phase: 'failed', state: 'TIMEOUT', exitCode: '0:0', node: 'vm' },
  ]);
  assert.equal(parseSbatchJobId('12\n'), '12');
  assert.equal(parseSbatchJobId('345;bertfttest\n'), '345');
  assert.equal(parseSbatchJobId('sbatch: warning: x\n346\n'), '346');
  assert.equal(parseSbatchJobId('Submitted batch job 12\n'), undefined);
  for (const [state, phase] of [
    ['PENDING', 'queued'],
    ['REQUEUED', 'queued'],
    ['REQUEUE_HOLD', 'queued'],
    ['RUNNING', 'running'],
    ['COMPLETED', 'done'],
    ['OUT_OF_MEMORY', 'failed'],
    ['NODE_FAIL', 'failed'],
    ['PREEMPTED', 'cancelled'],
    ['cancelled+', 'cancelled'],
    ['SOMETHING_NEW', 'unknown'],
  ] as const) {
    assert.equal(slurmPhase(state), phase, state);
  }
});

test('Slurm time limits: every documented form, unlimited, and a clear refusal', () => {
  assert.equal(slurmTimeSeconds('90'), 5400);
  assert.equal(slurmTimeSeconds('1:30'), 90);
  assert.equal(slurmTimeSeconds('01:30:00'), 5400);
  assert.equal(slurmTimeSeconds('2-0'), 172800);
  assert.equal(slurmTimeSeconds('1-12:00'), 129600);
  assert.equal(slurmTimeSeconds('1-00:00:30'), 86430);
  assert.equal(slurmTimeSeconds('UNLIMITED'), undefined);
  assert.throws(
    () => slurmTimeSeconds('1h'),
    (e: unknown) => e instanceof UserError && /--time "1h"/.test(e.message),
  );
  assert.equal(signalLeadSeconds({}), 300);
  assert.equal(signalLeadSeconds({ time: '1' }), 30);
  assert.equal(signalLeadSeconds({ time: '40' }), 300);
  assert.equal(signalLeadSeconds({ time: '20' }), 300);
  assert.equal(signalLeadSeconds({ time: '10' }), 150);
  assert.equal(signalLeadSeconds({ time: '10', signalLeadSeconds: 45 }), 45);
  assert.throws(() => signalLeadSeconds({ time: '1', signalLeadSeconds: 60 }), /not shorter than --time/);
});

test('resource values that would break the #SBATCH lines or mean nothing are refused, naming the flag', () => {
  const refusals: [Parameters<typeof checkSlurmResources>[0], RegExp][] = [
    [{ partition: 'gpu\n#SBATCH --uid=0' }, /--partition [\s\S]* is not a Slurm name/],
    [{ account: 'my lab' }, /--account "my lab"/],
    [{ mem: 'lots' }, /--mem "lots" is not a Slurm memory size/],
    [{ time: 'soon' }, /--time "soon"/],
    [{ gpus: 1, gres: 'gpu:a100:1' }, /--gpus and --gres gpu/],
    [{ extra: ['constraint=a100'] }, /--sbatch-arg "constraint=a100"/],
    [{ extra: ['--comment=a\nb'] }, /--sbatch-arg/],
  ];
  for (const [resources, message] of refusals) {
    assert.throws(
      () => checkSlurmResources(resources),
      (e: unknown) => e instanceof UserError && message.test(e.message) && e.fix !== undefined,
      JSON.stringify(resources),
    );
  }
  checkSlurmResources({ partition: 'gpu-a100', mem: '16G', gres: 'gpu:a100:2', qos: 'normal', extra: ['--nice=10'] });
  assert.equal(asksForGpu({ gres: 'gpu:a100:1' }), true);
  assert.equal(asksForGpu({ gres: 'shard:2' }), false);
  assert.equal(asksForGpu({ gpus: 2 }), true);
  assert.equal(asksForGpu({}), false);
});

function job(overrides: Partial<TrainingJob> = {}): TrainingJob {
  return {
    name: 'r1',
    runDir: '/shared/runs/r1',
    workDir: '/shared/project',
    command: ['/opt/node/bin/node', '/opt/bertft/dist/cli.js'],
    trainArgs: ['train', '--data', 'data/my file.csv', '--epochs', '3', '--seed', '7'],
    device: 'cuda',
    resources: {
      partition: 'gpu',
      time: '02:00:00',
      gpus: 1,
      cpus: 8,
      mem: '32G',
      account: 'lab',
      qos: 'normal',
      extra: ['--constraint=a100', '--nice=5'],
    },
    ...overrides,
  };
}

test('the rendered job script: #SBATCH lines from the flags, requeue and the USR1 lead, traps, resume, the same bertft', () => {
  const script = renderSlurmScript(job(), '9.9.9');
  const sbatch = script.split('\n').filter((l) => l.startsWith('#SBATCH '));
  assert.deepEqual(sbatch, [
    '#SBATCH --job-name=bertft-r1',
    '#SBATCH --chdir=/shared/project',
    '#SBATCH --output=/shared/runs/r1/slurm-%j.out',
    '#SBATCH --open-mode=append',
    '#SBATCH --requeue',
    '#SBATCH --signal=B:USR1@300',
    '#SBATCH --partition=gpu',
    '#SBATCH --time=02:00:00',
    '#SBATCH --gpus=1',
    '#SBATCH --cpus-per-task=8',
    '#SBATCH --mem=32G',
    '#SBATCH --account=lab',
    '#SBATCH --qos=normal',
    '#SBATCH --constraint=a100',
    '#SBATCH --nice=5',
  ]);
  const lines = script.split('\n');
  assert.equal(lines[0], '#!/bin/bash');
  // sbatch reads #SBATCH lines only before the first command.
  const firstCommand = lines.findIndex((l) => l !== '' && !l.startsWith('#'));
  assert.ok(lines.slice(firstCommand).every((l) => !l.startsWith('#SBATCH')));
  assert.match(script, /bertft 9\.9\.9/);
  assert.ok(script.includes(`RUN=/shared/runs/r1\n`));
  assert.ok(
    script.includes(`args=(train --data 'data/my file.csv' --epochs 3 --seed 7 --out "$RUN" --device cuda)`),
    'a fresh run: the train flags as given, quoted',
  );
  assert.ok(script.includes('args=(train --out "$RUN" --device cuda --resume)'), 'a checkpoint: --resume');
  assert.ok(script.includes('args=(train --out "$RUN" --device cuda --restart)'), 'run.json without one: --restart');
  assert.ok(script.includes('/opt/node/bin/node /opt/bertft/dist/cli.js "${args[@]}" &'), 'the same bertft');
  assert.ok(script.includes('stop_trainer() { kill -TERM "$trainer" 2>/dev/null; wait "$trainer"; }'));
  assert.match(script, /trap on_usr1 USR1\ntrap on_term TERM\n/);
  assert.match(script, /on_usr1\(\) \{[\s\S]*stop_trainer;[\s\S]*scontrol requeue "\$SLURM_JOB_ID"/);
  assert.ok(script.includes('"$RUN/slurm-events.jsonl"'));
  // bash accepts it.
  const file = path.join(tempFolder('bertft-sbatch-'), 'job.sbatch');
  fs.writeFileSync(file, script);
  const syntax = spawnSync('bash', ['-n', file], { encoding: 'utf8' });
  assert.equal(syntax.status, 0, syntax.stderr);

  const plain = renderSlurmScript(job({ device: 'cpu', resources: {} }), '9.9.9');
  assert.deepEqual(
    plain.split('\n').filter((l) => l.startsWith('#SBATCH ')),
    sbatch.slice(0, 6),
    'no resource flags: only the lines every job needs',
  );
  assert.throws(
    () => renderSlurmScript(job({ runDir: '/shared/runs/my run' }), '1'),
    (e: unknown) => e instanceof UserError && /run folder \/shared\/runs\/my run has a space/.test(e.message),
  );
  assert.throws(() => renderSlurmScript(job({ runDir: '/shared/runs/100%' }), '1'), /an #SBATCH line cannot carry/);
});

test('the job script stops the trainer on TERM and requeues after USR1: run by bash with a stand-in trainer', async () => {
  // The trainer here is a bash loop that exits 130 on TERM (what bertft train does after its checkpoint);
  // scontrol is a function that records the requeue. The script's own signal handling is what is tested.
  const dir = tempFolder('bertft-traps-');
  const run = path.join(dir, 'run');
  fs.mkdirSync(run);
  const trainer = path.join(dir, 'trainer.sh');
  fs.writeFileSync(
    trainer,
    `trap 'echo stopped >> "${run}/trainer.log"; exit 130' TERM\necho "$@" >> "${run}/trainer.log"\nwhile :; do sleep 0.05; done\n`,
  );
  const script = renderSlurmScript(
    job({ runDir: run, workDir: dir, command: ['bash', trainer], device: 'cpu', resources: {} }),
    '1',
  );
  const file = path.join(dir, 'job.sbatch');
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'scontrol'), `#!/bin/bash\necho "$@" >> "${run}/scontrol.log"\n`, { mode: 0o755 });
  fs.writeFileSync(file, script);
  const env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}`, SLURM_JOB_ID: '42' };
  for (const signal of ['SIGUSR1', 'SIGTERM'] as const) {
    fs.rmSync(path.join(run, 'trainer.log'), { force: true });
    const child = spawn('bash', [file], { env, stdio: 'ignore' });
    while (!fs.existsSync(path.join(run, 'trainer.log'))) await new Promise((r) => setTimeout(r, 20));
    child.kill(signal);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const log = fs.readFileSync(path.join(run, 'trainer.log'), 'utf8');
    assert.match(log, /stopped/, `${signal}: the trainer got TERM`);
    if (signal === 'SIGUSR1') {
      assert.equal(code, 0);
      assert.equal(fs.readFileSync(path.join(run, 'scontrol.log'), 'utf8'), 'requeue 42\n');
    } else assert.equal(code, 130, 'TERM: the job ends with the trainer exit code');
  }
  const events = fs
    .readFileSync(path.join(run, 'slurm-events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(
    events.map((e) => [e.event, e.signal ?? e.trainer_exit ?? e.mode]),
    [
      ['start', 'new'],
      ['signal', 'USR1'],
      ['requeue', 130],
      ['start', 'new'],
      ['signal', 'TERM'],
      ['exit', 130],
    ],
  );
  assert.equal(events[0].job, '42');
});

test('shellQuote keeps words whole for bash', () => {
  for (const word of ['plain', 'a b', "it's", '$HOME', '"q"', '`x`', 'a\nb', '']) {
    const r = spawnSync('bash', ['-c', `printf %s ${shellQuote(word)}`], { encoding: 'utf8' });
    assert.equal(r.stdout, word);
  }
});

test('job.json: written atomically, read back, a damaged one is a user error naming the file', async () => {
  const dir = tempFolder('bertft-jobjson-');
  assert.equal(readJobRecord(dir), undefined);
  const record: JobRecord = {
    scheduler: 'slurm',
    jobId: '17',
    arrayIndex: null,
    submitted: '2026-12-06T08:00:00.000Z',
    restarts: 0,
    script: 'job.sbatch',
    previousJobIds: [],
  };
  await writeJobRecord(dir, record);
  assert.deepEqual(fs.readdirSync(dir), ['job.json'], 'no temporary file left');
  assert.deepEqual(readJobRecord(dir), { ...record, lastState: undefined, checked: undefined });
  fs.writeFileSync(path.join(dir, 'job.json'), '{"jobId": 3}');
  assert.throws(
    () => readJobRecord(dir),
    (e: unknown) => e instanceof UserError && e.file === path.join(dir, 'job.json') && e.fix !== undefined,
  );
});

test('node-local folders: /tmp, /scratch/local, $TMPDIR, $SLURM_TMPDIR are; home and project folders are not', () => {
  const env = { TMPDIR: '/var/tmp/me', SLURM_TMPDIR: '/local/job42' };
  assert.equal(nodeLocalRoot('/tmp/runs/a', env), '/tmp');
  assert.equal(nodeLocalRoot('/tmp', env), '/tmp');
  assert.equal(nodeLocalRoot('/scratch/local/me/run', env), '/scratch/local');
  assert.equal(nodeLocalRoot('/dev/shm/run', env), '/dev/shm');
  assert.equal(nodeLocalRoot('/local/job42/run', env), '/local');
  assert.equal(nodeLocalRoot('/home/me/runs/a', env), undefined);
  assert.equal(nodeLocalRoot('/tmpfiles/run', env), undefined, 'a prefix of a name is not the folder');
  assert.equal(nodeLocalRoot('/scratch/me/run', env), undefined, 'shared scratch is not node-local');
  assert.equal(nodeLocalRoot('/project/x', { TMPDIR: '/' }), undefined, 'a TMPDIR of / is ignored');
});

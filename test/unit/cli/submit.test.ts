/**
 * `bertft submit --slurm`, `bertft jobs`, `bertft cancel` without a cluster: the dry-run script (the flags given, the
 * same bertft, nothing written), the node-local warning, and the refusals of bad values and states, each a user error
 * (exit 1) with a fix. Where `sbatch` exists and a cluster answers, the rendered script passes `sbatch --test-only`.
 * Submitting, following and cancelling for real: test/cluster/slurm.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../../../src/cli/main';
import type { CliIo } from '../../../src/cli/output';
import { cliEntry } from '../../../src/cli/submit';
import { tempFolder } from '../../helpers/temp';

const DATA = path.resolve(__dirname, '..', '..', '..', '..', 'examples', 'spam-ham.csv');

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io: CliIo & { out: string; err: string } = {
    out: '',
    err: '',
    stderrIsTTY: false,
    stdout: (t: string) => {
      io.out += t;
    },
    stderr: (t: string) => {
      io.err += t;
    },
  };
  const code = await runCli(argv, io);
  return { code, out: io.out, err: io.err };
}

const tempDir = (name: string): string => tempFolder(`bertft-submit-${name}-`);

test('submit --dry-run prints the job script with the train flags and this bertft, writes nothing, warns about /tmp', async () => {
  const out = path.join(tempDir('dry'), 'run');
  const r = await cli(
    'submit',
    '--slurm',
    '--data',
    DATA,
    '--model',
    'random:tiny',
    '--epochs',
    '2',
    '--lr',
    '5e-4',
    '--class-weights',
    '--out',
    out,
    '--partition',
    'batch',
    '--time',
    '01:00:00',
    '--gres',
    'gpu:1',
    '--cpus',
    '4',
    '--mem',
    '8G',
    '--sbatch-arg=--constraint=a100',
    '--sbatch-arg=--nice=3',
    '--dry-run',
  );
  assert.equal(r.code, 0, r.err);
  assert.ok(!fs.existsSync(out), 'nothing written');
  assert.match(r.out, /^#!\/bin\/bash\n/);
  for (const line of [
    '#SBATCH --partition=batch',
    '#SBATCH --time=01:00:00',
    '#SBATCH --gres=gpu:1',
    '#SBATCH --cpus-per-task=4',
    '#SBATCH --mem=8G',
    '#SBATCH --constraint=a100',
    '#SBATCH --nice=3',
    '#SBATCH --signal=B:USR1@300',
    `#SBATCH --chdir=${process.cwd()}`,
    `#SBATCH --output=${out}/slurm-%j.out`,
  ]) {
    assert.ok(r.out.includes(`${line}\n`), line);
  }
  assert.ok(
    r.out.includes(
      `args=(train --data ${DATA} --model random:tiny --epochs 2 --lr 0.0005 --class-weights --out "$RUN" --device cuda)`,
    ),
    'the train flags as given; a GPU asked for: --device cuda',
  );
  assert.ok(fs.existsSync(cliEntry()), `the CLI entry ${cliEntry()} exists`);
  assert.ok(r.out.includes(`${process.execPath} ${cliEntry()} "\${args[@]}" &`), 'the node and CLI that submitted');
  assert.match(r.err, /warning: .* is under \/tmp, which each node of a cluster has its own copy of/);

  const json = await cli('submit', '--slurm', '--data', DATA, '--out', out, '--dry-run', '--json');
  assert.equal(json.code, 0, json.err);
  const event = JSON.parse(json.out) as { event: string; script: string };
  assert.equal(event.event, 'dry-run');
  assert.match(event.script, /--device cpu\)/, 'no GPU asked for: cpu');
  assert.equal(json.err, '', 'no notes with --json');
});

test('submit, jobs and cancel refuse bad values and states with exit 1 and a fix', async () => {
  const dir = tempDir('refuse');
  const existing = path.join(dir, 'done-run');
  fs.mkdirSync(existing);
  fs.writeFileSync(path.join(existing, 'run.json'), '{}');
  const base = ['submit', '--slurm', '--data', DATA, '--out', path.join(dir, 'new')];
  const cases: [string[], RegExp][] = [
    [['submit', '--data', DATA, '--out', path.join(dir, 'x')], /needs --slurm/],
    [[...base, '--device', 'auto'], /needs an explicit --device/],
    [[...base, '--time', '2h'], /--time "2h" is not a Slurm time limit/],
    [[...base, '--partition', 'a b'], /--partition "a b" is not a Slurm name/],
    [[...base, '--mem', 'much'], /--mem "much"/],
    [[...base, '--gpus', '0'], /--gpus must be at least 1/],
    [[...base, '--gpus', '1', '--gres', 'gpu:a100:1'], /--gpus and --gres gpu/],
    [[...base, '--sbatch-arg', 'nice=3'], /--sbatch-arg "nice=3" is not an sbatch option/],
    [[...base, '--time', '1', '--signal-lead', '60'], /not shorter than --time/],
    [['submit', '--slurm', '--data', path.join(dir, 'missing.csv'), '--out', path.join(dir, 'y')], /does not exist/],
    [['submit', '--slurm', '--out', path.join(dir, 'z')], /needs --data/],
    [['submit', '--slurm', '--data', DATA, '--out', existing], /already holds a training run/],
    [['submit', '--slurm', '--resume', '--out', existing, '--epochs', '3'], /takes no --epochs/],
    [['submit', '--slurm', '--resume', '--out', existing], /has no job\.sbatch/],
    [['cancel', existing], /has no job\.json: it was not submitted/],
    [['cancel'], /needs --out/],
    [['jobs', path.join(dir, 'nowhere')], /does not exist/],
  ];
  for (const [argv, message] of cases) {
    const r = await cli(...argv);
    assert.equal(r.code, 1, `${argv.join(' ')}: ${r.err}`);
    assert.match(r.err, message, argv.join(' '));
    assert.match(r.err, /Fix: /, `${argv.join(' ')}: a fix`);
  }
  assert.ok(!fs.existsSync(path.join(dir, 'new')), 'a refused submit writes nothing');
  assert.deepEqual(fs.readdirSync(existing), ['run.json'], 'an existing run is left as it was');

  const none = await cli('jobs', dir);
  assert.equal(none.code, 0, none.err);
  assert.match(none.out, /No submitted runs under/);
});

/** Whether sbatch is here and a cluster answers (SLURM_CONF of a running one, e.g. from scripts/slurm/setup.sh). */
function clusterAnswers(): boolean {
  const r = spawnSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8', timeout: 5000 });
  return r.status === 0 && spawnSync('sbatch', ['--version'], { encoding: 'utf8' }).status === 0;
}

test(
  'sbatch --test-only accepts the rendered script',
  { skip: !clusterAnswers() && 'no Slurm cluster answers here' },
  async () => {
    const dir = tempDir('testonly');
    const r = await cli(
      'submit',
      '--slurm',
      '--data',
      DATA,
      '--out',
      path.join(dir, 'run'),
      '--time',
      '10',
      '--dry-run',
    );
    assert.equal(r.code, 0, r.err);
    const file = path.join(dir, 'job.sbatch');
    fs.writeFileSync(file, r.out);
    const test = spawnSync('sbatch', ['--test-only', file], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(test.status, 0, test.stderr);
    assert.match(test.stderr, /to start at/);
  },
);

/**
 * `bertft check --suspects --slurm`: the finder split into a job array (task i trains fold i) and a job after it
 * (`--aggregate`) that writes suspects.json. The rendered scripts (the array, the dependency), the array task's
 * train flags against the local path's training options, and the split path run here step by step (each fold trained
 * through the same per-fold function, then the aggregate step in its own plan read back from the folder) against the
 * local finder: the same suspects.json. The real cluster run is test/cluster/suspects.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  aggregateSuspects,
  claimSuspectsOut,
  findSuspects,
  foldTrainingOptions,
  planSuspects,
  readSuspectsPlan,
  trainFold,
  writeSuspectsSettings,
  type SuspectsOptions,
  type SuspectsReport,
} from '../../../src/core/finetune/suspects';
import { renderSlurmCommandScript } from '../../../src/core/scheduler/slurm';
import { parseArgs } from '../../../src/cli/args';
import { COMMANDS, trainOverridesFromArgs } from '../../../src/cli/commands';
import { foldTrainArgv } from '../../../src/cli/suspects';
import { tempDir } from '../runner/fixtures';

const ROOT = path.join(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'out', 'src', 'cli.js');
const ENV = { ...process.env, BERTFT_TRAINING_CHILD: '1', HF_HUB_OFFLINE: '1' };

/** 36 short reviews, two labels, learnable; rows 5 and 20 have the other label. */
function reviews(dir: string): string {
  const good = ['great', 'wonderful', 'excellent', 'lovely', 'superb', 'enjoyable'];
  const bad = ['awful', 'terrible', 'boring', 'dreadful', 'poor', 'horrible'];
  const rows = Array.from({ length: 36 }, (_, i) => {
    const positive = i % 2 === 0;
    const word = (positive ? good : bad)[i % 6];
    const label = (i === 5 || i === 20) === positive ? 'neg' : 'pos';
    return `a ${word} film number ${i},${label}`;
  });
  const file = path.join(dir, 'reviews.csv');
  fs.writeFileSync(file, `text,label\n${rows.join('\n')}\n`);
  return file;
}

const withoutOut = (r: SuspectsReport): Omit<SuspectsReport, 'out'> => {
  const { out: _out, ...rest } = r;
  return rest;
};

test('--slurm --dry-run prints the fold array and the aggregate job after it, and writes nothing', () => {
  const dir = tempDir('suspects-slurm-dry');
  const data = reviews(dir);
  const out = path.join(dir, 'folds');
  const r = spawnSync(
    process.execPath,
    [CLI, 'check', '--suspects', '--slurm', '--data', data, '--folds', '3', '--epochs', '2', '--seed', '5'].concat([
      '--max-length',
      '32',
      '--out',
      out,
      '--partition',
      'gpu',
      '--gpus',
      '1',
      '--time',
      '30',
      '--dry-run',
      '--json',
    ]),
    { encoding: 'utf8', env: ENV, cwd: dir },
  );
  assert.equal(r.status, 0, r.stderr);
  const { script, aggregateScript } = JSON.parse(r.stdout) as { script: string; aggregateScript: string };
  assert.equal(fs.existsSync(out), false, 'nothing written');

  // One array of three tasks, task i training fold i + 1 with the local path's settings, on the GPU asked for.
  assert.match(script, /^#SBATCH --array=0-2$/m);
  assert.match(script, /^#SBATCH --partition=gpu$/m);
  assert.match(script, /^#SBATCH --gpus=1$/m);
  assert.match(script, /^#SBATCH --signal=B:USR1@\d+$/m, 'preemption-safe like any submitted run');
  for (let f = 0; f < 3; f++) {
    const run = path.join(out, `fold-${f + 1}`, 'run');
    const train = path.join(out, `fold-${f + 1}`, 'train.jsonl');
    const line =
      `  ${f}) RUN=${run}; new_args=(train --data ${train} --text-column text --label-column label ` +
      '--model random:tiny --epochs 2 --seed 5 --max-length 32 --save-total-limit 1 --ensemble 1) ;;';
    assert.ok(script.split('\n').includes(line), `task ${f}:\n${script}`);
  }
  assert.match(script, /args=\("\$\{new_args\[@\]\}" --out "\$RUN" --device cuda\)/);
  assert.match(script, /^# {3}sbatch .*job\.sbatch$/m);

  // The aggregate job: after every task of the array, no requeue signal of a trainer, the hidden step.
  const lines = aggregateScript.split('\n');
  assert.ok(lines.includes('#SBATCH --dependency=afterok:<array-job-id>'), aggregateScript);
  assert.ok(lines.includes(`#SBATCH --output=${path.join(out, 'aggregate')}/slurm-%j.out`));
  assert.ok(lines.includes('#SBATCH --gpus=1'));
  assert.equal(
    lines.some((l) => l.includes('--signal')),
    false,
  );
  assert.equal(
    lines.at(-2),
    `exec ${process.execPath} ${CLI} check --suspects --aggregate --out ${out} --device cuda`,
    aggregateScript,
  );
  for (const s of [script, aggregateScript]) {
    const syntax = spawnSync('bash', ['-n'], { input: s, encoding: 'utf8' });
    assert.equal(syntax.status, 0, syntax.stderr);
  }
});

test("a command job's script depends on the job id given, in Slurm's syntax", () => {
  const script = renderSlurmCommandScript(
    {
      name: 'gather',
      runDir: '/shared/x/aggregate',
      workDir: '/shared',
      command: ['node', 'cli.js', 'check', '--out', "/shared/it's"],
      resources: { time: '10' },
      dependsOn: '4711',
    },
    '9.9.9',
  );
  const lines = script.split('\n');
  assert.ok(lines.includes('#SBATCH --dependency=afterok:4711'));
  assert.ok(lines.includes('#SBATCH --time=10'));
  assert.ok(lines.includes(`exec node cli.js check --out '/shared/it'\\''s'`));
  assert.throws(() => renderSlurmCommandScript({ ...commandJob(), dependsOn: '1;rm -rf' }, '1'), RangeError);
  const none = renderSlurmCommandScript(commandJob(), '1');
  assert.equal(/dependency/.test(none), false);
});

function commandJob() {
  return { name: 'g', runDir: '/s/a', workDir: '/s', command: ['true'], resources: {} };
}

test("the array task's train flags parse back to exactly the local path's training options", async () => {
  const dir = tempDir('suspects-argv');
  const plan = await planSuspects({ data: reviews(dir), folds: 3, seed: 9, epochs: 1.5, maxLength: 40 });
  for (let f = 0; f < 3; f++) {
    const local = foldTrainingOptions(plan, dir, f, undefined);
    const argv = foldTrainArgv(local);
    const {
      json: _json,
      resume,
      restart,
      ...parsed
    } = trainOverridesFromArgs(parseArgs([...argv.slice(1), '--out', local.out], COMMANDS.train.flags, 'train'));
    assert.equal(resume, false);
    assert.equal(restart, false);
    const defined = (o: object) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
    assert.deepEqual(defined(parsed), defined(local));
  }
});

test('the split path (folds trained one by one, then the aggregate step) writes the local suspects.json', async () => {
  const dir = tempDir('suspects-split');
  const options: SuspectsOptions = { data: reviews(dir), folds: 3, seed: 3, epochs: 2, maxLength: 32 };
  const local = await findSuspects({ ...options, out: path.join(dir, 'local') });

  const split = path.join(dir, 'split');
  const plan = await planSuspects(options);
  claimSuspectsOut(split);
  await writeSuspectsSettings(plan, options, split);
  for (let f = 0; f < plan.folds; f++) assert.equal(await trainFold(plan, split, f, undefined), true);
  // The aggregate step deals the rows again from the folder's settings alone, as the cluster's job does.
  const report = await aggregateSuspects(await readSuspectsPlan(split), split, undefined);
  assert.equal(report.out, split);
  const read = (d: string) => JSON.parse(fs.readFileSync(path.join(d, 'suspects.json'), 'utf8')) as SuspectsReport;
  assert.deepEqual(withoutOut(read(split)), withoutOut(read(path.join(dir, 'local'))));
  assert.deepEqual(withoutOut(report), withoutOut(local));
  assert.ok(report.suspects.length > 0, 'the test means something: some rows are suspects');

  // A fold that never trained is a user error naming its folder; a changed data file is refused.
  fs.rmSync(path.join(split, 'fold-2', 'run', 'best'), { recursive: true });
  await assert.rejects(aggregateSuspects(plan, split, undefined), /Fold 2 has no trained model/);
  fs.appendFileSync(options.data, 'one more row,pos\n');
  await assert.rejects(readSuspectsPlan(split), /has 37 rows now; its folds were dealt from 36/);
});

test('--aggregate takes only --out and --device, needs the folder --slurm wrote; --slurm needs --out', () => {
  const dir = tempDir('suspects-aggregate-refuse');
  const data = reviews(dir);
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [CLI, 'check', '--suspects', ...args], { encoding: 'utf8', env: ENV, cwd: dir });

  const stray = run('--aggregate', '--out', dir, '--folds', '3');
  assert.equal(stray.status, 1, stray.stderr);
  assert.match(stray.stderr, /--aggregate` reads its settings from the folds' folder; it takes no --folds/);
  const notOurs = run('--aggregate', '--out', dir);
  assert.equal(notOurs.status, 1, notOurs.stderr);
  assert.match(notOurs.stderr, /suspects-settings\.json does not exist/);
  const noOut = run('--slurm', '--data', data, '--dry-run');
  assert.equal(noOut.status, 1, noOut.stderr);
  assert.match(noOut.stderr, /--out/);
  const notSuspects = spawnSync(process.execPath, [CLI, 'check', '--data', data, '--slurm'], {
    encoding: 'utf8',
    env: ENV,
  });
  assert.equal(notSuspects.status, 1);
  assert.match(notSuspects.stderr, /--slurm is used only with --suspects/);
  assert.deepEqual(fs.readdirSync(dir), ['reviews.csv'], 'nothing written');
});

/**
 * `bertft check --suspects --slurm` on a real one-node Slurm cluster (scripts/slurm/setup.sh, on its own ports and
 * sandbox): the folds train as one job array, the aggregate job waits for it (afterok) and then writes suspects.json,
 * which equals, byte for byte, that of `bertft check --suspects` run here with the same seed; so does every fold's
 * model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readDataset } from '../../src/core/data/read';
import { DATA, sameModel, useSlurmCluster } from '../helpers/slurm-cluster';

// Ports of its own: the other cluster files' clusters may be up at the same time.
const cluster = useSlurmCluster('bertft-cluster-suspects-', { slurmctld: 6877, slurmd: 6878 });

/** 90 rows of the bundled mail sample (45 of each label), every 15th label flipped. */
async function flippedMail(dir: string): Promise<string> {
  const { examples } = await readDataset(DATA);
  const rows = [
    ...examples.filter((e) => e.label === 'spam').slice(0, 45),
    ...examples.filter((e) => e.label === 'ham').slice(0, 45),
  ].map((e, i) => {
    const label = i % 15 === 4 ? (e.label === 'spam' ? 'ham' : 'spam') : e.label;
    return JSON.stringify({ text: e.text, label });
  });
  const file = path.join(dir, 'mail.jsonl');
  fs.writeFileSync(file, rows.join('\n') + '\n');
  return file;
}

test('folds as a job array, the aggregate job after it: the suspects.json of a local run, byte for byte', async () => {
  const data = await flippedMail(cluster.work);
  const finder = ['check', '--suspects', '--data', data, '--folds', '3', '--epochs', '1', '--max-length', '32'];
  const settings = [...finder, '--seed', '11', '--device', 'cpu'];
  const local = path.join(cluster.work, 'local');
  const here = await cluster.bertft([...settings, '--out', local], { BERTFT_TRAINING_CHILD: '1' });
  assert.equal(here.code, 0, here.err);

  const out = path.join(cluster.work, 'on-cluster');
  const submit = await cluster.bertft([...settings, '--slurm', '--partition', 'batch', '--out', out, '--json']);
  assert.equal(submit.code, 0, submit.err);
  const { jobId, aggregateJobId } = JSON.parse(submit.out) as { jobId: string; aggregateJobId: string };
  const aggregate = path.join(out, 'aggregate');
  assert.match(fs.readFileSync(path.join(out, 'job.sbatch'), 'utf8'), /^#SBATCH --array=0-2$/m);
  const aggregateScript = fs.readFileSync(path.join(aggregate, 'job.sbatch'), 'utf8');
  assert.ok(aggregateScript.split('\n').includes(`#SBATCH --dependency=afterok:${jobId}`), aggregateScript);
  // `bertft jobs` lists the array, each fold's task and the aggregate job.
  const listed = await cluster.bertft(['jobs', out, '--json']);
  assert.equal(listed.code, 0, listed.err);
  const rows = listed.out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { run: string; jobId: string });
  assert.deepEqual(
    rows.map((r) => [path.relative(out, r.run), r.jobId]),
    [
      ['', jobId],
      ['aggregate', aggregateJobId],
      ...[0, 1, 2].map((i) => [path.join(`fold-${i + 1}`, 'run'), `${jobId}_${i}`]),
    ],
  );

  const folds = [1, 2, 3].map((f) => path.join(out, `fold-${f}`, 'run'));
  for (const run of folds) assert.equal((await cluster.waitForEnd(run)).phase, 'done', cluster.describe(run));
  assert.equal((await cluster.waitForEnd(aggregate)).phase, 'done', cluster.describe(aggregate));

  // The aggregate job ran after every fold's task had ended.
  const report = path.join(out, 'suspects.json');
  const lastFoldExit = Math.max(
    ...folds.map((run) => {
      const lines = fs.readFileSync(path.join(run, 'slurm-events.jsonl'), 'utf8').trim().split('\n');
      return Date.parse((JSON.parse(lines.at(-1) as string) as { time: string }).time);
    }),
  );
  // Event times have whole seconds.
  assert.ok(fs.statSync(report).mtimeMs >= lastFoldExit, 'suspects.json written after the last fold ended');

  for (const [i, run] of folds.entries()) sameModel(run, path.join(local, `fold-${i + 1}`, 'run'));
  const expected = fs
    .readFileSync(path.join(local, 'suspects.json'), 'utf8')
    .replace(JSON.stringify(local), JSON.stringify(out));
  assert.equal(fs.readFileSync(report, 'utf8'), expected);
  assert.ok((JSON.parse(expected) as { suspects: unknown[] }).suspects.length > 0, 'some rows are suspects');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { appendMetric, readMetricsLog } from '../../../src/core/run/metrics-log';
import { commitDir, prepareTempDir, recoverRunDir } from '../../../src/core/run/folder';
import { runPaths } from '../../../src/core/run/paths';
import { sha256File } from '../../../src/core/util/files';
import { foldRun } from '../../helpers/fold-run';
import { createFileExclusive, writeFileAtomic } from '../../../src/core/util/files';
import type { TrainerEvent } from '../../../src/trainer/protocol';
import { tempFolder } from '../../helpers/temp';

const tmpRoot = () => tempFolder('bertft-rundir-');
const time = '2026-01-01T00:00:00.000Z';

test('writeFileAtomic replaces the file and leaves no temporary sibling', async () => {
  const dir = tmpRoot();
  const file = path.join(dir, 'a.json');
  await writeFileAtomic(file, 'one');
  await writeFileAtomic(file, 'two');
  assert.equal(fs.readFileSync(file, 'utf8'), 'two');
  assert.deepEqual(fs.readdirSync(dir), ['a.json']);
  assert.equal(await sha256File(file), '3fc4ccfe745870e2c0d99f71f30ff0656c8dedd41cc1d7d3d376b0dbe685e2f3');
});

test('createFileExclusive creates a file whole or reports that it exists, leaving no temporary sibling', () => {
  const dir = tmpRoot();
  const file = path.join(dir, '.lock');
  assert.equal(createFileExclusive(file, 'first'), true);
  assert.equal(createFileExclusive(file, 'second'), false);
  assert.equal(fs.readFileSync(file, 'utf8'), 'first');
  assert.deepEqual(fs.readdirSync(dir), ['.lock']);
});

test('commitDir swaps a completed directory in; recoverRunDir restores best/ after a crash between renames', async () => {
  const root = tmpRoot();
  const p = runPaths(root);
  let tmp = await prepareTempDir(p.best);
  fs.writeFileSync(path.join(tmp, 'v'), '1');
  await commitDir(tmp, p.best);
  assert.equal(fs.readFileSync(path.join(p.best, 'v'), 'utf8'), '1');
  tmp = await prepareTempDir(p.best);
  fs.writeFileSync(path.join(tmp, 'v'), '2');
  await commitDir(tmp, p.best);
  assert.equal(fs.readFileSync(path.join(p.best, 'v'), 'utf8'), '2');
  assert.deepEqual(fs.readdirSync(root), ['best']);

  // Simulate a kill after best/ was moved aside but before best.tmp/ was renamed in.
  tmp = await prepareTempDir(p.best);
  fs.writeFileSync(path.join(tmp, 'v'), '3');
  fs.renameSync(p.best, `${p.best}.old`);
  fs.mkdirSync(path.join(p.checkpoints, 'step-4.tmp'), { recursive: true });
  await recoverRunDir(root);
  assert.equal(fs.readFileSync(path.join(p.best, 'v'), 'utf8'), '2');
  assert.deepEqual(fs.readdirSync(root).sort(), ['best', 'checkpoints']);
  assert.deepEqual(fs.readdirSync(p.checkpoints), []);
});

test('metrics.jsonl: log events are not stored, a torn last line is skipped, and the run state is rebuilt', () => {
  const root = tmpRoot();
  const file = runPaths(root).metrics;
  const evalAt = (step: number, loss: number, isBest: boolean): TrainerEvent => ({
    event: 'eval',
    time,
    step,
    epoch: 1,
    loss,
    accuracy: 0.5,
    macro_f1: 0.4,
    labels: ['a', 'b'],
    confusion: [
      [1, 1],
      [0, 2],
    ],
    per_class: {},
    misclassified: [],
    is_best: isBest,
  });
  const events: TrainerEvent[] = [
    {
      event: 'started',
      time,
      run_dir: root,
      pid: 1,
      config: {},
      device: 'cpu',
      device_notes: [],
      dataset: { train_rows: 4, valid_rows: 4, labels: ['a', 'b'], label_counts: { a: 2, b: 2 }, files: [] },
      total_steps: 4,
    },
    { event: 'log', time, level: 'info', message: 'not stored' },
    {
      event: 'step',
      time,
      step: 1,
      total_steps: 4,
      epoch: 0.25,
      loss: 0.9,
      lr: 1e-4,
      grad_norm: 1,
      examples_per_s: 5,
      eta_s: 3,
    },
    {
      event: 'step',
      time,
      step: 2,
      total_steps: 4,
      epoch: 0.5,
      loss: 0.8,
      lr: 1e-4,
      grad_norm: 1,
      examples_per_s: 5,
      eta_s: 2,
    },
    evalAt(2, 0.7, true),
    { event: 'checkpoint', time, step: 2, path: 'checkpoints/step-2' },
    {
      event: 'done',
      time,
      stopped: true,
      best_step: 2,
      best_metric: 0.7,
      metric_name: 'loss',
      best_dir: 'best',
      run_dir: root,
      final_step: 2,
    },
    // resumed: the same steps again, then more
    {
      event: 'started',
      time,
      run_dir: root,
      pid: 2,
      config: {},
      device: 'cpu',
      device_notes: [],
      dataset: { train_rows: 4, valid_rows: 4, labels: ['a', 'b'], label_counts: { a: 2, b: 2 }, files: [] },
      total_steps: 4,
      resumed_from_step: 2,
    },
    {
      event: 'step',
      time,
      step: 3,
      total_steps: 4,
      epoch: 0.75,
      loss: 0.6,
      lr: 5e-5,
      grad_norm: 1,
      examples_per_s: 5,
      eta_s: 1,
    },
    evalAt(4, 0.9, false),
  ];
  for (const e of events) appendMetric(file, e);
  fs.appendFileSync(file, '{"event":"step","ti'); // torn by a kill
  const read = readMetricsLog(file);
  assert.equal(read.length, events.length - 1);
  assert.ok(!read.some((e) => e.event === 'log'));
  // The state the Runs view and the dashboard fold from the log.
  const s = foldRun(read);
  assert.equal(s.phase, 'training');
  assert.equal(s.done, undefined);
  assert.equal(s.step, 3);
  assert.deepEqual(s.train.step, [1, 2, 3]);
  assert.deepEqual(
    s.evals.map((e) => e.step),
    [2, 4],
  );
  assert.equal(s.bestEval?.step, 2);
  assert.equal(s.lastCheckpoint?.step, 2);
  assert.equal(foldRun(read.slice(0, 6)).phase, 'stopped');
});

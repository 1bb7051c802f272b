import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../runner/fixtures';
import { bertft, run } from '../../helpers/bertft-cli';
import { sotuYears } from '../../helpers/sotu-years';

interface TrainEvent {
  event: string;
  task?: string;
  is_best: boolean;
  step: number;
  mse: number;
  loss: number;
  pearson: number;
  best_step: number;
  metric_name: string;
}

test('regression on real SOTU passages (the year of the address): train → eval → predict, beating the training mean', () => {
  const dir = tempDir('e2e-regression');
  const data = sotuYears(dir);
  const out = path.join(dir, 'run');
  // The flags the run is trained and resumed with; --task is recorded in run.json.
  const flags = ['--data', data.train, '--valid', data.valid, '--out', out, '--task', 'regression'];
  const events = bertft<TrainEvent>(
    'train',
    '--json',
    ...flags,
    '--model',
    'random:tiny',
    '--epochs',
    '8',
    '--max-length',
    '96',
    '--seed',
    '1',
    '--device',
    'cpu',
  );
  const mean = data.trainTargets.reduce((a, b) => a + b, 0) / data.trainTargets.length;
  const baseline = data.validTargets.reduce((s, y) => s + (y - mean) ** 2, 0) / data.validTargets.length;
  const evals = events.filter((e) => e.event === 'eval');
  assert.ok(evals.every((e) => e.task === 'regression' && e.loss === e.mse));
  const best = evals.filter((e) => e.is_best).pop()!;
  const done = events[events.length - 1];
  assert.equal(done.event, 'done');
  assert.equal(done.metric_name, 'loss');
  assert.equal(best.step, done.best_step);
  console.log(
    `SOTU year regression (${data.trainTargets.length} train / ${data.validTargets.length} valid passages): ` +
      `validation MSE ${best.mse.toFixed(4)} vs ${baseline.toFixed(4)} predicting the training mean ` +
      `(centuries²; Pearson ${best.pearson.toFixed(3)})`,
  );
  assert.ok(best.mse < 0.8 * baseline, `validation MSE ${best.mse} vs the training mean's ${baseline}`);

  const config = JSON.parse(fs.readFileSync(path.join(out, 'best', 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(config.problem_type, 'regression');
  assert.deepEqual(config.id2label, { 0: 'LABEL_0' });
  const runJson = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')) as {
    config: { problemType: string };
  };
  assert.equal(runJson.config.problemType, 'regression');

  const [report] = bertft<Record<string, number | string>>('eval', '--json', '--model', out, '--data', data.valid);
  assert.deepEqual(Object.keys(report).sort(), ['mae', 'mse', 'pearson', 'spearman', 'task']);
  assert.ok(Math.abs((report.mse as number) - best.mse) < 1e-3, `eval MSE ${report.mse} vs the run's ${best.mse}`);
  const text = run('eval', '--model', out, '--data', data.valid);
  assert.match(
    text.stdout,
    /examples: MSE \d+\.\d{4} {2}MAE \d+\.\d{4} {2}Pearson -?\d\.\d{4} {2}Spearman -?\d\.\d{4}/,
  );

  const predictions = bertft<{ value: number }>('predict', '--json', '--model', out, '--text', 'The Union is strong.');
  assert.equal(predictions.length, 1);
  assert.deepEqual(Object.keys(predictions[0]), ['value']);
  assert.ok(Number.isFinite(predictions[0].value));
  assert.match(run('predict', '--model', out, '--text', 'The Union is strong.').stdout, /^-?\d+\.\d{4}\tThe Union/);

  // A resumed run continues as it began: another task is refused, not ignored.
  const resumed = run('train', '--resume', '--out', out, '--task', 'classification');
  assert.equal(resumed.status, 1, resumed.stderr);
  assert.match(resumed.stderr, /problemType \(run: "regression", given: "classification"\)/);
});

test('a non-numeric regression target is a data error naming the file, the line and the fix', () => {
  const dir = tempDir('regression-bad');
  const file = path.join(dir, 'scores.csv');
  fs.writeFileSync(file, 'text,target\nfine,1.5\ngood,2\nbad,three\nok,0.5\n');
  const r = run('train', '--data', file, '--out', path.join(dir, 'run'), '--task', 'regression', '--device', 'cpu');
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /scores\.csv:4/);
  assert.match(r.stderr, /The regression target "three" is not a number/);
  assert.match(r.stderr, /Give every row a number in the label column/);
  assert.ok(!fs.existsSync(path.join(dir, 'run', 'best')));
});

test('a regression run refuses options that apply to classes', () => {
  const dir = tempDir('regression-flags');
  const file = path.join(dir, 'scores.csv');
  fs.writeFileSync(file, 'text,target\nfine,1.5\ngood,2\nbad,3\nok,0.5\n');
  const r = run(
    'train',
    '--data',
    file,
    '--out',
    path.join(dir, 'run'),
    '--task',
    'regression',
    '--metric',
    'accuracy',
  );
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /--metric accuracy applies to classes, which a regression run does not have/);
});

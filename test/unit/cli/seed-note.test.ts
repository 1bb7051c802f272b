import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrainReporter } from '../../../src/cli/progress';
import type { CliIo } from '../../../src/cli/output';
import type { TrainerEvent } from '../../../src/core/run/events';
import { FROM_SCRATCH_ENSEMBLE_SD_POINTS, FROM_SCRATCH_SEED_SD_POINTS } from '../../../src/core/train/presets';

function capture(): CliIo & { err: string; out: string } {
  const o = {
    out: '',
    err: '',
    stderrIsTTY: false,
    stdout: (t: string) => {
      o.out += t;
    },
    stderr: (t: string) => {
      o.err += t;
    },
  };
  return o;
}

const started = (model: string, ensembleSize?: number): TrainerEvent => ({
  event: 'started',
  time: '',
  run_dir: '/r',
  pid: 1,
  config: { model, ...(ensembleSize === undefined ? {} : { ensembleSize }) },
  task: 'classify',
  device: 'cpu',
  device_notes: [],
  total_steps: 10,
  dataset: { train_rows: 8, valid_rows: 2, labels: ['a', 'b'], label_counts: { a: 4, b: 4 }, files: [] },
});
const done = (stopped: boolean): TrainerEvent => ({
  event: 'done',
  time: '',
  stopped,
  best_step: 10,
  best_metric: 0.9,
  metric_name: 'accuracy',
  best_dir: '/r/best',
  run_dir: '/r',
  final_step: 10,
});

test('a finished from-scratch run states how much its result depends on the seed; a pre-trained or stopped one does not', () => {
  const { low, high } = FROM_SCRATCH_SEED_SD_POINTS;
  const scratch = capture();
  const r = new TrainReporter(scratch, false);
  r.report(started('random:tiny'));
  r.report(done(false));
  assert.match(scratch.err, new RegExp(`varied by ${low}–${high} points`));
  assert.match(scratch.err, /several seeds \(--seed\)/);
  assert.match(scratch.err, /2 runs in 20 failed/);

  for (const [model, stopped] of [
    ['bert-base-uncased', false],
    ['random:tiny', true],
  ] as const) {
    const other = capture();
    const reporter = new TrainReporter(other, false);
    reporter.report(started(model));
    reporter.report(done(stopped));
    assert.doesNotMatch(other.err, /varied by/, `${model}${stopped ? ' (stopped)' : ''}`);
  }
});

test("a seed ensemble's note gives the spread of such runs beside that of single models", () => {
  const one = FROM_SCRATCH_SEED_SD_POINTS;
  const three = FROM_SCRATCH_ENSEMBLE_SD_POINTS;
  assert.ok(three.high < one.high && three.low < one.low, 'the ensembles measured spread less');
  const io = capture();
  const r = new TrainReporter(io, false);
  r.report(started('random:tiny', 3));
  r.report(done(false));
  assert.match(io.err, /averaged 3 seeds' models/);
  assert.match(
    io.err,
    new RegExp(`runs of 3 models varied by ${three.low.toFixed(1)}–${three.high.toFixed(1)} points`),
  );
  assert.match(io.err, new RegExp(`single models by ${one.low.toFixed(1)}–${one.high.toFixed(1)}`));
  assert.match(io.err, /several seeds \(--seed\)/);
  // The start line says the ensemble's shape.
  assert.match(io.err, /10 steps: a seed ensemble of 3 models of [\d.]+ steps each/);
});

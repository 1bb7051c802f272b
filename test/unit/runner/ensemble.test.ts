/**
 * Seed ensembles (core/finetune/ensemble.ts): when the from-scratch default trains three models, what the run
 * reports, what best/ holds, that its predictions are the members' mean probabilities, that each member is exactly
 * the run of its train seed alone, and that a stop between members is resumed to the same model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { estimateTrainingSession, runTrainingSession, type SessionOptions } from '../../../src/core/finetune/session';
import { classifyTask } from '../../../src/core/finetune/task';
import type { EvalEvent, StartedEvent, StepEvent, TrainerEvent } from '../../../src/core/run/events';
import { candidateSeed, FROM_SCRATCH, resolveTrainConfig, type TrainConfig } from '../../../src/core/train/presets';
import { loadPredictor } from '../../../src/core/infer/predictor';
import { UserError } from '../../../src/core/errors';
import { shortScratchRun, tempDir, writeSentimentCsv } from './fixtures';

test('the ensemble size: three from scratch by default, one where it does not apply, refused where it is not built', () => {
  const scratch = { data: 'd.csv', out: 'o', model: 'random:tiny' };
  assert.equal(FROM_SCRATCH.ensembleSize, 3);
  assert.equal(resolveTrainConfig(scratch).ensembleSize, 3);
  assert.equal(resolveTrainConfig({ ...scratch, ensembleSize: 1 }).ensembleSize, 1);
  assert.equal(resolveTrainConfig({ ...scratch, ensembleSize: 5 }).ensembleSize, 5);
  // A quick run (--max-steps), a pre-trained model, the tutorial preset, seed screening, other tasks: one model.
  assert.equal(resolveTrainConfig({ ...scratch, maxSteps: 10 }).ensembleSize, 1);
  assert.equal(resolveTrainConfig({ ...scratch, model: 'bert-base-uncased' }).ensembleSize, 1);
  assert.equal(resolveTrainConfig({ ...scratch, preset: 'tutorial' }).ensembleSize, 1);
  assert.equal(resolveTrainConfig({ ...scratch, seedCandidates: 3 }).ensembleSize, 1);
  assert.equal(resolveTrainConfig({ ...scratch, problemType: 'regression' }).ensembleSize, 1);
  assert.equal(resolveTrainConfig({ ...scratch, problemType: 'multi-label' }).ensembleSize, 1);
  // Asked for, an ensemble applies to a pre-trained model too, and is refused where it is not built.
  assert.equal(resolveTrainConfig({ ...scratch, model: 'bert-base-uncased', ensembleSize: 2 }).ensembleSize, 2);
  assert.throws(
    () => resolveTrainConfig({ ...scratch, problemType: 'regression', ensembleSize: 3 }),
    (e: unknown) => e instanceof UserError && e.code === 'CONFIG_ENSEMBLE_TASK',
  );
  assert.throws(
    () => resolveTrainConfig({ ...scratch, seedCandidates: 3, ensembleSize: 3 }),
    (e: unknown) =>
      e instanceof UserError && e.code === 'CONFIG_ENSEMBLE_SCREENING' && /--seed-candidates/.test(e.fix ?? ''),
  );
});

/** Each text's probabilities, in label order, from a model folder's predictor. */
async function probabilities(modelDir: string, texts: string[]): Promise<number[][]> {
  const predictor = await loadPredictor(modelDir);
  try {
    const predictions = await predictor.predict(texts);
    return predictions.map((p) => predictor.labels.map((l) => p.scores[l]));
  } finally {
    await predictor.dispose();
  }
}

const copyWithout = (from: string, to: string, skip: string[]): void =>
  fs.cpSync(from, to, { recursive: true, filter: (src) => !skip.includes(path.basename(src)) || src === from });

test('a from-scratch run trains three seeds, reports them as one run, and best/ predicts their mean', async () => {
  const dir = tempDir('ensemble');
  const data = writeSentimentCsv(dir, 64);
  const base: SessionOptions = {
    data,
    out: path.join(dir, 'run'),
    model: 'random:tiny',
    epochs: 2,
    batchSize: 8,
    maxLength: 16,
    validRatio: 0.25,
    seed: 5,
    device: 'cpu',
  };
  const events: TrainerEvent[] = [];
  const done = await runTrainingSession(base, { emit: (e) => events.push(e) });
  assert.equal(done.stopped, false);
  const started = events.find((e): e is StartedEvent => e.event === 'started')!;
  const runJson = JSON.parse(fs.readFileSync(path.join(base.out, 'run.json'), 'utf8')) as { config: TrainConfig };
  assert.equal(runJson.config.ensembleSize, 3);
  const perModel = started.total_steps / 3;
  assert.ok(Number.isInteger(perModel) && perModel > 0);
  // One run to the user: its steps count on from the first model's to the third's, against one total.
  const steps = events.filter((e): e is StepEvent => e.event === 'step');
  assert.deepEqual(
    steps.map((s) => s.step),
    Array.from({ length: 3 * perModel }, (_, i) => i + 1),
  );
  assert.ok(steps.every((s) => s.total_steps === started.total_steps));
  assert.equal(done.final_step, started.total_steps);
  // The last evaluation is the ensemble's, and it is the run's best.
  const evals = events.filter((e): e is EvalEvent => e.event === 'eval');
  const last = evals[evals.length - 1];
  assert.equal(last.step, started.total_steps);
  assert.equal(last.is_best, true);
  assert.equal(done.best_step, started.total_steps);
  const evalJson = JSON.parse(fs.readFileSync(path.join(base.out, 'best', 'eval.json'), 'utf8')) as {
    macro_f1: number;
    ensemble: { train_seeds: number[] };
  };
  assert.deepEqual(evalJson.ensemble.train_seeds, [5, candidateSeed(5, 1), candidateSeed(5, 2)]);
  assert.equal(done.best_metric, evalJson.macro_f1);
  assert.ok(events.some((e) => e.event === 'log' && e.notice === true && /model 2 of 3/.test(e.message)));

  // best/ holds the first model in HF layout and the others beside it; each member is its run folder's best model.
  for (const n of [2, 3]) {
    const member = path.join(base.out, 'best', 'members', String(n));
    assert.ok(fs.existsSync(path.join(member, 'config.json')));
    assert.ok(
      fs
        .readFileSync(path.join(member, 'model.safetensors'))
        .equals(fs.readFileSync(path.join(base.out, 'members', String(n), 'best', 'model.safetensors'))),
    );
  }
  // Member 2 is exactly the run of its train seed alone.
  const aloneOut = path.join(dir, 'alone');
  await runTrainingSession(
    { ...base, out: aloneOut, trainSeed: candidateSeed(5, 1), ensembleSize: 1 },
    { emit: () => undefined },
  );
  assert.ok(
    fs
      .readFileSync(path.join(aloneOut, 'best', 'model.safetensors'))
      .equals(fs.readFileSync(path.join(base.out, 'best', 'members', '2', 'model.safetensors'))),
  );

  // The run's predictions are the mean of its three models' probabilities (the first model alone: best/ without
  // the ensemble's model.onnx, which the predictor then builds from model.safetensors).
  const texts = ['the movie was great and lovely', 'the plot was awful and boring', 'the music was fine'];
  const firstOnly = path.join(dir, 'first-only');
  copyWithout(path.join(base.out, 'best'), firstOnly, ['model.onnx', 'members', 'onnx']);
  const members = [
    await probabilities(firstOnly, texts),
    await probabilities(path.join(base.out, 'members', '2', 'best'), texts),
    await probabilities(path.join(base.out, 'members', '3', 'best'), texts),
  ];
  const ensemble = await probabilities(base.out, texts);
  for (const [t, row] of ensemble.entries()) {
    for (const [c, p] of row.entries()) {
      const mean = (members[0][t][c] + members[1][t][c] + members[2][t][c]) / 3;
      assert.ok(Math.abs(p - mean) < 1e-5, `text ${t}, class ${c}: ${p} vs the members' mean ${mean}`);
    }
  }

  // A stop while the second model trains; --resume finishes it and the third, to the same ensemble.
  const stoppedOut = path.join(dir, 'stopped');
  let seen = 0;
  const stopped = await runTrainingSession(
    { ...base, out: stoppedOut },
    {
      emit: (e) => {
        if (e.event === 'step') seen = e.step;
      },
      shouldStop: () => seen >= perModel + 2,
    },
  );
  assert.equal(stopped.stopped, true);
  assert.ok(stopped.final_step > perModel && stopped.final_step < 2 * perModel, String(stopped.final_step));
  assert.ok(fs.existsSync(path.join(stoppedOut, 'members', '2', 'checkpoints')));
  assert.equal(fs.existsSync(path.join(stoppedOut, 'best', 'members')), false, 'best/ is still the first model');
  const resumedSteps: number[] = [];
  const resumed = await runTrainingSession(
    { data, out: stoppedOut, resume: true },
    { emit: (e) => void (e.event === 'step' && resumedSteps.push(e.step)) },
  );
  assert.equal(resumed.stopped, false);
  assert.equal(resumed.final_step, started.total_steps);
  assert.ok(resumedSteps[0] > perModel, 'the first model is not trained again');
  for (const file of ['model.onnx', 'model.safetensors', path.join('members', '3', 'model.safetensors')]) {
    assert.ok(
      fs.readFileSync(path.join(stoppedOut, 'best', file)).equals(fs.readFileSync(path.join(base.out, 'best', file))),
      file,
    );
  }
  // A run from before seed ensembles resumes as the one model it was.
  const stored = JSON.parse(fs.readFileSync(path.join(base.out, 'run.json'), 'utf8')) as { config: TrainConfig };
  delete stored.config.ensembleSize;
  assert.equal(classifyTask({ data }).resumed(stored, path.join(base.out, 'run.json')).ensembleSize, 1);
});

test('the estimate counts the other models of an ensemble as whole runs', async () => {
  const dir = tempDir('ensemble-estimate');
  const data = writeSentimentCsv(dir, 48);
  const options = shortScratchRun(data, 2);
  const three = await estimateTrainingSession(options);
  assert.ok(three.ensemble_seconds !== undefined && three.ensemble_seconds > 0);
  assert.ok(three.total_seconds >= three.ensemble_seconds + three.train_seconds);
  assert.ok(three.assumptions.some((a) => /3 models/.test(a)));
  const one = await estimateTrainingSession({ ...options, ensembleSize: 1 });
  assert.equal(one.ensemble_seconds, undefined);
});

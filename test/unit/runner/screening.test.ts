/**
 * Seed screening (core/finetune/screening.ts): the plan from the user's choices, and a real run that screens two
 * train seeds, keeps the better one by the selection metric, records what it measured, and ends with exactly the
 * model a run started with that train seed alone ends with; nothing of the candidates is left behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { estimateTrainingSession, runTrainingSession, type SessionOptions } from '../../../src/core/finetune/session';
import type { LogEvent, TrainerEvent } from '../../../src/core/run/events';
import { FROM_SCRATCH, resolveTrainConfig, screeningPlan, type TrainConfig } from '../../../src/core/train/presets';
import { UserError } from '../../../src/core/errors';
import { candidateSeed } from '../../../src/core/train/presets';
import { shortScratchRun, tempDir, writeSentimentCsv } from './fixtures';

test('screening plan: asked for with --seed-candidates (not the default: not shown to help), off for a pinned seed', () => {
  const scratch = { data: 'd.csv', out: 'o', model: 'random:tiny' };
  assert.equal(FROM_SCRATCH.seedCandidates, 1);
  assert.equal(screeningPlan(scratch), undefined);
  assert.deepEqual(screeningPlan({ ...scratch, seedCandidates: 3 }), {
    candidates: 3,
    epochs: FROM_SCRATCH.screenEpochs,
  });
  assert.equal(screeningPlan({ ...scratch, seedCandidates: 3, trainSeed: 7 }), undefined);
  assert.deepEqual(screeningPlan({ data: 'd', out: 'o', model: 'bert-base-uncased', seedCandidates: 4 }), {
    candidates: 4,
    epochs: FROM_SCRATCH.screenEpochs,
  });
  // Screening needs whole epochs after it: --max-steps or too few epochs are refused.
  assert.throws(
    () => screeningPlan({ ...scratch, seedCandidates: 2, maxSteps: 10 }),
    (e: unknown) => e instanceof UserError && /--max-steps/.test(e.message),
  );
  assert.throws(
    () => screeningPlan({ ...scratch, seedCandidates: 2, screenEpochs: 3, epochs: 3 }),
    (e: unknown) => e instanceof UserError && /--epochs 3/.test(e.message) && /--screen-epochs/.test(e.fix ?? ''),
  );
  // The resolved config says what the run does.
  const resolved: TrainConfig = resolveTrainConfig({ ...scratch, seedCandidates: 4, screenEpochs: 2 });
  assert.equal(resolved.seedCandidates, 4);
  assert.equal(resolved.screenEpochs, 2);
  assert.equal(resolveTrainConfig(scratch).seedCandidates, 1);
});

test('a screened run keeps the better train seed, records it, and equals a run of that seed alone', async () => {
  const dir = tempDir('screening');
  const data = writeSentimentCsv(dir, 64);
  const base: SessionOptions = {
    data,
    out: '',
    model: 'random:tiny',
    epochs: 3,
    batchSize: 8,
    maxLength: 16,
    validRatio: 0.25,
    seed: 5,
    device: 'cpu',
  };
  const tmpBefore = new Set(fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('bertft-screen-')));
  const screenedOut = path.join(dir, 'screened');
  const events: TrainerEvent[] = [];
  const done = await runTrainingSession(
    { ...base, out: screenedOut, seedCandidates: 2, screenEpochs: 1 },
    { emit: (e) => events.push(e) },
  );
  assert.equal(done.stopped, false);
  const runJson = JSON.parse(fs.readFileSync(path.join(screenedOut, 'run.json'), 'utf8')) as {
    seed: number;
    config: TrainConfig;
  };
  const screening = runJson.config.seedScreening;
  assert.ok(screening, 'run.json records the screening');
  assert.deepEqual(
    screening.candidates.map((c) => c.trainSeed),
    [5, candidateSeed(5, 1)],
  );
  assert.notEqual(candidateSeed(5, 1), 6, "nearby seeds' runs do not share candidates");
  assert.equal(screening.epochs, 1);
  assert.equal(screening.metric, runJson.config.metric);
  const [a, b] = screening.candidates;
  const higherIsBetter = runJson.config.metric !== 'loss';
  const bWins = (higherIsBetter ? b.value > a.value : b.value < a.value) || (b.value === a.value && b.loss < a.loss);
  assert.equal(screening.kept, bWins ? candidateSeed(5, 1) : 5);
  assert.equal(runJson.config.trainSeed, screening.kept);
  assert.equal(runJson.seed, 5, 'the split stays that of --seed');
  const logs = events.filter((e): e is LogEvent => e.event === 'log').map((e) => e.message);
  assert.ok(
    logs.some((m) => m.includes(`keeping train seed ${screening.kept}`)),
    logs.join('\n'),
  );
  // Only the kept run's events reach the sink (one `started`, one `done`).
  assert.equal(events.filter((e) => e.event === 'started').length, 1);

  // The same run started with the kept train seed and no screening ends with the same weights, byte for byte.
  const aloneOut = path.join(dir, 'alone');
  await runTrainingSession(
    { ...base, out: aloneOut, trainSeed: screening.kept, seedCandidates: 1, ensembleSize: 1 },
    { emit: () => undefined },
  );
  assert.ok(
    fs
      .readFileSync(path.join(screenedOut, 'best', 'model.safetensors'))
      .equals(fs.readFileSync(path.join(aloneOut, 'best', 'model.safetensors'))),
  );
  // The candidates' temporary runs are gone.
  const tmpAfter = fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('bertft-screen-') && !tmpBefore.has(n));
  assert.deepEqual(tmpAfter, []);
});

test('a stop during screening still leaves a run that --resume continues', async () => {
  const dir = tempDir('screening-stop');
  const data = writeSentimentCsv(dir, 48);
  const out = path.join(dir, 'run');
  const options: SessionOptions = {
    data,
    out,
    model: 'random:tiny',
    epochs: 2,
    batchSize: 8,
    maxLength: 16,
    validRatio: 0.25,
    seed: 3,
    device: 'cpu',
    seedCandidates: 3,
    screenEpochs: 1,
  };
  let logs = 0;
  const stopped = await runTrainingSession(options, {
    emit: (e) => {
      if (e.event === 'log') logs++;
    },
    // Stop once the first candidate has been announced and measured.
    shouldStop: () => logs >= 2,
  });
  assert.equal(stopped.stopped, true);
  const finished = await runTrainingSession({ ...options, resume: true }, { emit: () => undefined });
  assert.equal(finished.stopped, false);
  assert.ok(fs.existsSync(path.join(out, 'best', 'model.safetensors')));
});

test("the estimate counts the candidates' runs", async () => {
  const dir = tempDir('screening-estimate');
  const data = writeSentimentCsv(dir, 48);
  const options = shortScratchRun(data, 4);
  // One model either way: a screened run trains no seed ensemble.
  const plain = await estimateTrainingSession({ ...options, ensembleSize: 1 });
  const screened = await estimateTrainingSession({ ...options, seedCandidates: 3, screenEpochs: 1 });
  assert.equal(plain.screening_seconds, undefined);
  assert.ok(screened.screening_seconds !== undefined && screened.screening_seconds > 0);
  // Three one-epoch runs of a four-epoch run: about three quarters of its time again (start-up included).
  const ratio = screened.screening_seconds / plain.total_seconds;
  assert.ok(ratio > 0.3 && ratio < 3, `screening ${screened.screening_seconds} s against ${plain.total_seconds} s`);
  assert.ok(
    Math.abs(
      screened.total_seconds -
        screened.screening_seconds -
        (screened.train_seconds + screened.eval_seconds + screened.save_seconds + screened.startup_seconds),
    ) < 0.01,
  );
  assert.ok(screened.assumptions.some((a) => a.includes('Seed screening')));
});

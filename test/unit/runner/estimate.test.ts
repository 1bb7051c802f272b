import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TrainEngine } from '../../../src/core/train/engine';
import type { TrainerEvent } from '../../../src/core/run/events';
import { runPaths } from '../../../src/core/run/paths';
import { trainLoop } from '../../../src/core/train/trainer';
import type { Batch } from '../../../src/core/tokenize/batch';
import { batchShapes, makeBatches } from '../../../src/core/tokenize/batching';
import {
  EstimateCancelled,
  buildEstimateEvent,
  estimateTime,
  fitCostModel,
  formatApproxDuration,
  formatBytes,
  formatEstimate,
  measureWarmup,
  pickShapes,
  planRun,
  predictSeconds,
  type BatchShape,
  type CostModel,
  type WarmupMeasurements,
} from '../../../src/core/train/estimate';
import { tempDir } from './fixtures';

const shape = (batchSize: number, seqLen: number): BatchShape => ({ batchSize, seqLen });
const fakeBatch = (s: BatchShape): Batch => ({
  ...s,
  inputIds: new BigInt64Array(0),
  attentionMask: new BigInt64Array(0),
  tokenTypeIds: new BigInt64Array(0),
  docIndex: new Int32Array(0),
});

/** Runs the real trainLoop with a fake engine and counts what it does. */
async function loopCounts(
  epochShapes: BatchShape[][],
  totalSteps: number,
  evalSteps: number | undefined,
  start = { step: 0, epoch: 0, batchInEpoch: 0 },
): Promise<{ steps: Map<string, number>; evals: number; checkpoints: number }> {
  const steps = new Map<string, number>();
  const engine = {
    device: 'cpu',
    trainStep: (b: Batch) => {
      steps.set(`${b.batchSize}x${b.seqLen}`, (steps.get(`${b.batchSize}x${b.seqLen}`) ?? 0) + 1);
      return Promise.resolve({ loss: 1, gradNorm: 1, lr: 1e-3, step: 0 });
    },
    getWeights: () => new Map(),
    getOptimizerState: () => ({ step: 0, m: new Map(), v: new Map() }),
  } as unknown as TrainEngine;
  const events: TrainerEvent[] = [];
  let metric = 10;
  await trainLoop({
    engine,
    paths: runPaths(tempDir('estimate-loop')),
    totalSteps,
    config: {
      lr: 1e-3,
      evalSteps,
      metric: 'loss',
      earlyStoppingThreshold: 0,
      earlyStoppingPatience: undefined,
      saveTotalLimit: 1,
    },
    state: {
      ...start,
      totalSteps,
      seed: 1,
      metricName: 'loss',
      bestMetric: null,
      bestStep: 0,
      evalsWithoutImprovement: 0,
    },
    batchesForEpoch: (e) => epochShapes[e % epochShapes.length].map(fakeBatch),
    evaluate: () =>
      Promise.resolve({
        metric: metric--,
        scores: { loss: 0, accuracy: 0, macro_f1: 0, labels: [], confusion: [], per_class: {}, misclassified: [] },
      }),
    saveBest: () => Promise.resolve(),
    emit: (e) => events.push(e),
    shouldStop: () => false,
  });
  return {
    steps,
    evals: events.filter((e) => e.event === 'eval').length,
    checkpoints: events.filter((e) => e.event === 'checkpoint').length,
  };
}

test('planRun counts the steps of each shape, the evaluations and checkpoints exactly as trainLoop takes them', async () => {
  const epochs = [
    [shape(4, 32), shape(4, 16), shape(4, 24), shape(2, 8)],
    [shape(4, 24), shape(4, 32), shape(4, 16), shape(2, 16)],
    [shape(4, 16), shape(4, 16), shape(4, 32), shape(2, 24)],
  ];
  const cases: [number, number | undefined, { step: number; epoch: number; batchInEpoch: number } | undefined][] = [
    [12, undefined, undefined], // 3 whole epochs: an evaluation at each end
    [10, undefined, undefined], // max steps inside the third epoch: the last step is evaluated too
    [12, 3, undefined], // every 3 steps and at the epoch ends (steps 3, 4, 6, 8, 9, 12)
    [11, 5, { step: 6, epoch: 1, batchInEpoch: 2 }], // resumed mid-epoch
    [8, 4, undefined], // eval steps that coincide with the epoch ends
  ];
  for (const [total, evalSteps, start] of cases) {
    const plan = planRun({ totalSteps: total, evalSteps, start, shapesForEpoch: (e) => epochs[e % epochs.length] });
    const loop = await loopCounts(epochs, total, evalSteps, start);
    const planned = new Map(plan.shapeCounts.map((c) => [`${c.shape.batchSize}x${c.shape.seqLen}`, c.count]));
    assert.deepEqual(planned, loop.steps, `steps of each shape (total ${total}, evalSteps ${evalSteps})`);
    assert.equal(plan.evaluations, loop.evals, `evaluations (total ${total}, evalSteps ${evalSteps})`);
    assert.equal(plan.checkpoints, loop.checkpoints, `checkpoints (total ${total}, evalSteps ${evalSteps})`);
    assert.equal(plan.steps, total - (start?.step ?? 0));
    assert.equal(plan.stepsPerEpoch, 4);
  }
  const plan = planRun({ totalSteps: 10, shapesForEpoch: (e) => epochs[e] });
  assert.equal(plan.epochs, 2.5);
  assert.equal(plan.evaluations, 3);
});

test('batchShapes gives the shapes makeBatches pads to, without building the tensors', () => {
  const rows = Array.from({ length: 37 }, (_, i) => ({
    ids: new Int32Array(3 + ((i * 7) % 29)).fill(5),
    docIndex: i,
    label: i % 2,
  }));
  for (const options of [
    { mode: 'train' as const, batchSize: 4, seed: 3, epoch: 1, padId: 0, padToMultipleOf: 8, maxPaddedLength: 30 },
    {
      mode: 'train' as const,
      batchSize: 5,
      seed: 3,
      epoch: 0,
      lengthGrouped: false,
      padId: 0,
      padToMultipleOf: 30,
      maxPaddedLength: 30,
    },
    { mode: 'eval' as const, batchSize: 8, padId: 0, padToMultipleOf: 8 },
  ]) {
    const built = [...makeBatches(rows, options)].map((b) => [b.batchSize, b.seqLen]);
    assert.deepEqual(
      batchShapes(
        rows.map((r) => r.ids.length),
        options,
      ).map((s) => [s.batchSize, s.seqLen]),
      built,
    );
  }
});

test('fitCostModel recovers a known cost model, keeps every coefficient non-negative, and scales one shape by its tokens', () => {
  const truth: CostModel = { base: 0.02, perToken: 3e-5, perTokenSq: 4e-8 };
  const shapes = [shape(16, 256), shape(16, 64), shape(16, 128), shape(8, 32), shape(16, 200)];
  const timings = shapes.map((s) => ({ ...s, seconds: predictSeconds(truth, s) }));
  const fit = fitCostModel(timings);
  for (const s of [...shapes, shape(16, 96), shape(3, 40)]) {
    assert.ok(
      Math.abs(predictSeconds(fit, s) - predictSeconds(truth, s)) < 1e-9,
      `exact fit at ${s.batchSize}x${s.seqLen}`,
    );
  }
  // A repeat that was slowed down (a garbage collection) does not move the median of its shape.
  const withOutlier = [
    ...timings,
    { ...shapes[1], seconds: predictSeconds(truth, shapes[1]) },
    { ...shapes[1], seconds: 5 },
  ];
  assert.ok(Math.abs(predictSeconds(fitCostModel(withOutlier), shapes[1]) - predictSeconds(truth, shapes[1])) < 1e-9);
  // Times that fall with size would need a negative coefficient: the fit stays non-negative.
  const odd = fitCostModel([
    { ...shape(16, 32), seconds: 0.5 },
    { ...shape(16, 64), seconds: 0.3 },
    { ...shape(16, 128), seconds: 0.4 },
  ]);
  for (const v of [odd.base, odd.perToken, odd.perTokenSq]) assert.ok(v >= 0);
  const one = fitCostModel([
    { ...shape(16, 128), seconds: 0.2 },
    { ...shape(16, 128), seconds: 0.4 },
  ]);
  assert.ok(Math.abs(predictSeconds(one, shape(16, 128)) - 0.3) < 1e-12);
  assert.ok(
    Math.abs(predictSeconds(one, shape(8, 128)) - 0.15) < 1e-12,
    'a partial batch costs its share of the tokens',
  );
  assert.deepEqual(fitCostModel([]), { base: 0, perToken: 0, perTokenSq: 0 });
});

test('pickShapes: the largest, the smallest, then the middle of the distinct shapes', () => {
  const shapes = [16, 24, 32, 40, 48, 56, 64, 72, 80].map((s) => shape(8, s));
  const picked = pickShapes([...shapes, ...shapes], 3).map((s) => s.seqLen);
  assert.deepEqual(picked, [80, 16, 48]);
  assert.deepEqual(
    pickShapes(shapes, 5).map((s) => s.seqLen),
    [80, 16, 48, 32, 64],
  );
  assert.equal(new Set(pickShapes(shapes, 20).map((s) => s.seqLen)).size, 9);
  assert.deepEqual(pickShapes([shape(8, 32), shape(8, 32)], 6), [shape(8, 32)]);
  assert.deepEqual(pickShapes([shape(8, 32), shape(3, 32)], 6), [shape(8, 32), shape(3, 32)]);
});

/** A stand-in engine whose steps take cost(shape) seconds on a fake clock. */
function stubbed(stepCost: CostModel, forwardCost: CostModel, firstExtra = 0) {
  let t = 0;
  let steps = 0;
  let forwards = 0;
  const calls: string[] = [];
  return {
    clock: () => t,
    calls,
    target: {
      trainStep: (b: Batch) => {
        t += predictSeconds(stepCost, b) + (steps++ === 0 ? firstExtra : 0);
        calls.push(`step ${b.seqLen}`);
        return Promise.resolve();
      },
      forward: (b: Batch) => {
        t += predictSeconds(forwardCost, b) + (forwards++ === 0 ? firstExtra / 2 : 0);
        calls.push(`forward ${b.seqLen}`);
        return Promise.resolve();
      },
    },
    write: (seconds: number, name: string) => () => {
      t += seconds;
      calls.push(name);
      return Promise.resolve();
    },
  };
}

test('measureWarmup times the first step apart, each chosen shape at least once, more while the budget lasts, then one checkpoint and one best write', async () => {
  const stepCost = { base: 0.01, perToken: 1e-4, perTokenSq: 0 };
  const forwardCost = { base: 0.002, perToken: 3e-5, perTokenSq: 0 };
  const s = stubbed(stepCost, forwardCost, 1.5);
  const train = [64, 16, 32, 64, 48, 24, 40].map((n) => fakeBatch(shape(8, n)));
  const evalBatches = [fakeBatch(shape(32, 64)), fakeBatch(shape(8, 24))];
  const m = await measureWarmup(s.target, {
    trainBatches: train,
    evalBatches,
    budgetSeconds: 0.5,
    maxShapes: 4,
    maxSteps: 10,
    clock: s.clock,
    writeCheckpoint: s.write(0.25, 'checkpoint'),
    writeBest: s.write(0.5, 'best'),
  });
  assert.deepEqual([m.firstStep?.batchSize, m.firstStep?.seqLen], [8, 64], "the run's first batch");
  assert.ok(Math.abs(m.firstStep!.seconds - (predictSeconds(stepCost, shape(8, 64)) + 1.5)) < 1e-12);
  assert.deepEqual(
    m.steps.slice(0, 4).map((t) => t.seqLen),
    [64, 16, 40, 24],
    'largest, smallest, middle, then a quartile',
  );
  assert.ok(m.steps.length > 4 && m.steps.length <= 10);
  for (const t of m.steps) assert.ok(Math.abs(t.seconds - predictSeconds(stepCost, t)) < 1e-12);
  assert.equal(m.firstForward?.seqLen, 64);
  assert.deepEqual(new Set(m.forwards.map((t) => t.seqLen)), new Set([64, 24]));
  assert.equal(m.checkpointSeconds, 0.25);
  assert.equal(m.bestSeconds, 0.5);
  assert.deepEqual(s.calls.slice(-4), ['checkpoint', 'checkpoint', 'best', 'best'], 'quick writes are timed twice');

  // With the budget spent by the first round, only the three mandatory shapes are timed (a large model).
  const slow = stubbed({ base: 10, perToken: 0, perTokenSq: 0 }, forwardCost);
  const few = await measureWarmup(slow.target, {
    trainBatches: train,
    evalBatches: [],
    budgetSeconds: 3,
    clock: slow.clock,
    writeCheckpoint: slow.write(0, 'c'),
    writeBest: slow.write(0, 'b'),
  });
  assert.equal(few.steps.length, 3);
  assert.equal(few.firstForward, undefined);

  // A longer run earns a longer warm-up: 5% of the predicted training time (1000 steps of 0.125 s: 6.25 s), at most 20 s.
  const steady = (budget: Partial<Parameters<typeof measureWarmup>[1]>) => {
    const c = stubbed({ base: 0.125, perToken: 0, perTokenSq: 0 }, forwardCost);
    return measureWarmup(c.target, {
      trainBatches: train,
      evalBatches: [],
      clock: c.clock,
      maxSteps: 1000,
      writeCheckpoint: c.write(0, 'c'),
      writeBest: c.write(0, 'b'),
      ...budget,
    });
  };
  assert.equal((await steady({})).steps.length, 24, "3 s without the run's shapes");
  assert.equal((await steady({ runShapes: [{ shape: shape(8, 64), count: 1000 }] })).steps.length, 50);
  assert.equal((await steady({ runShapes: [{ shape: shape(8, 64), count: 100000 }] })).steps.length, 160);

  let polls = 0;
  await assert.rejects(
    measureWarmup(s.target, {
      trainBatches: train,
      evalBatches,
      clock: s.clock,
      shouldStop: () => ++polls > 3,
      writeCheckpoint: s.write(0, 'c'),
      writeBest: s.write(0, 'b'),
    }),
    EstimateCancelled,
  );
});

test("measureWarmup's burn-in: a fresh process's slow first seconds of short steps are not timed; one untimed long step; a slow first write is timed again", async () => {
  // Steps 30% slower for the first 1.5 s after the first step (the fresh-process effect bench:estimate found).
  const stepCost = { base: 0.05, perToken: 1e-4, perTokenSq: 0 };
  let t = 0;
  let firstDone = -1;
  let writes = 0;
  const target = {
    trainStep: (b: Batch) => {
      const slow = firstDone < 0 || t - firstDone < 1.5 ? 1.3 : 1;
      t += slow * predictSeconds(stepCost, b);
      if (firstDone < 0) firstDone = t;
      return Promise.resolve();
    },
    forward: () => Promise.resolve(),
  };
  const slowFirstWrite = () => {
    t += writes++ === 0 ? 2 : 0.2;
    return Promise.resolve();
  };
  const train = [64, 16, 32, 64, 48, 24, 40].map((n) => fakeBatch(shape(8, n)));
  const m = await measureWarmup(target, {
    trainBatches: train,
    evalBatches: [],
    clock: () => t,
    writeCheckpoint: () => {
      t += 0.4;
      return Promise.resolve();
    },
    writeBest: slowFirstWrite,
  });
  assert.ok(m.burnInSteps! >= 10 && m.burnInSteps! <= 20, `burn-in steps: ${m.burnInSteps}`);
  for (const step of m.steps) assert.ok(Math.abs(step.seconds - predictSeconds(stepCost, step)) < 1e-12, 'timed after');
  assert.ok(Math.abs(m.checkpointSeconds - 0.4) < 1e-9, 'a quick write timed again');
  assert.ok(Math.abs(m.bestSeconds - 2) < 1e-9, 'a write of a second or more is timed once');

  // Without a burn-in the slow seconds are timed (the estimate bench's 25–45% over).
  t = 0;
  firstDone = -1;
  const unburnt = await measureWarmup(target, {
    trainBatches: train,
    evalBatches: [],
    clock: () => t,
    burnInSeconds: 0,
    writeCheckpoint: () => Promise.resolve(),
    writeBest: () => Promise.resolve(),
  });
  assert.equal(unburnt.burnInSteps, 0);
  assert.ok(unburnt.steps.some((step) => step.seconds > 1.2 * predictSeconds(stepCost, step)));

  // A long step is not slowed measurably: the burn-in ends after one.
  const long = stubbed({ base: 3, perToken: 0, perTokenSq: 0 }, stepCost);
  const few = await measureWarmup(long.target, {
    trainBatches: train,
    evalBatches: [],
    clock: long.clock,
    writeCheckpoint: long.write(0, 'c'),
    writeBest: long.write(0, 'b'),
  });
  assert.equal(few.burnInSteps, 1);
  assert.equal(few.steps.length, 3);
});

test('estimateTime: startup + the step model summed over every planned step + evaluations + writes (stubbed timings)', async () => {
  const stepCost = { base: 0.02, perToken: 2e-5, perTokenSq: 5e-8 };
  const forwardCost = { base: 0.004, perToken: 6e-6, perTokenSq: 1e-8 };
  const epochs = [[shape(16, 128), shape(16, 32), shape(16, 64), shape(16, 96), shape(8, 40)]];
  const plan = planRun({ totalSteps: 12, evalSteps: 4, shapesForEpoch: () => epochs[0] });
  const s = stubbed(stepCost, forwardCost, 2);
  const evalBatches = [shape(32, 128), shape(32, 120), shape(5, 64)].map(fakeBatch);
  const m = await measureWarmup(s.target, {
    trainBatches: epochs[0].map(fakeBatch),
    evalBatches,
    clock: s.clock,
    budgetSeconds: 1,
    writeCheckpoint: s.write(0.3, 'c'),
    writeBest: s.write(0.7, 'b'),
  });
  const time = estimateTime({
    plan,
    evalShapes: evalBatches,
    measurements: m,
    startupSeconds: 1.25,
    teardownSeconds: 0.05,
  });

  // The steps: two full epochs of five and two more (128, 32); evaluations at 4, 5, 8, 10, 12; a checkpoint after each.
  assert.equal(plan.evaluations, 5);
  assert.equal(plan.checkpoints, 5);
  const stepsByHand =
    3 * (predictSeconds(stepCost, shape(16, 128)) + predictSeconds(stepCost, shape(16, 32))) +
    2 *
      (predictSeconds(stepCost, shape(16, 64)) +
        predictSeconds(stepCost, shape(16, 96)) +
        predictSeconds(stepCost, shape(8, 40)));
  const passByHand = evalBatches.reduce((sum, b) => sum + predictSeconds(forwardCost, b), 0);
  const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);
  close(time.trainSeconds, stepsByHand, 'train');
  close(time.secondsPerStep, stepsByHand / 12, 'per step');
  close(time.evalPassSeconds, passByHand, 'one evaluation');
  close(time.evalSeconds, 5 * passByHand, 'evaluations');
  close(time.saveSeconds, 5 * 0.3 + 5 * 0.7, 'writes');
  // One-off: the measured start-up, the first step's and first forward's extra time, the release.
  close(time.startupSeconds, 1.25 + 2 + 1 + 0.05, 'start-up');
  close(time.totalSeconds, time.startupSeconds + stepsByHand + 5 * passByHand + 5, 'total');

  const nothingLeft = planRun({
    totalSteps: 12,
    start: { step: 12, epoch: 2, batchInEpoch: 2 },
    shapesForEpoch: () => epochs[0],
  });
  assert.deepEqual([nothingLeft.steps, nothingLeft.evaluations, nothingLeft.checkpoints], [0, 0, 1]);
  const none = estimateTime({
    plan: nothingLeft,
    evalShapes: [],
    measurements: { steps: [], forwards: [], checkpointSeconds: 0.1, bestSeconds: 0, seconds: 0 },
    startupSeconds: 1,
  });
  close(none.totalSeconds, 1.1, 'a finished run only starts and checkpoints');
});

test('the estimate event: the documented fields, a summary a UI can show as is, and a text for people', () => {
  const plan = planRun({
    totalSteps: 69,
    shapesForEpoch: () => Array.from({ length: 23 }, (_, i) => shape(16, 64 + 8 * (i % 4))),
  });
  const measurements: WarmupMeasurements = {
    firstStep: { ...shape(16, 88), seconds: 1 },
    steps: [
      { ...shape(16, 88), seconds: 0.3 },
      { ...shape(16, 64), seconds: 0.2 },
    ],
    firstForward: { ...shape(32, 88), seconds: 0.2 },
    forwards: [{ ...shape(32, 88), seconds: 0.1 }],
    checkpointSeconds: 0.05,
    bestSeconds: 0.1,
    seconds: 2,
  };
  const time = estimateTime({ plan, evalShapes: [shape(32, 88), shape(8, 72)], measurements, startupSeconds: 2 });
  const e = buildEstimateEvent({
    plan,
    time,
    measurements,
    peakRssBytes: 1.23e9,
    parameters: 1000,
    device: 'cpu',
    deviceNotes: ['engine: running on cpu'],
    allocator: 'malloc: lean',
    config: { model: 'random:tiny', batchSize: 16, maxLength: 96, evalBatchSize: 32, epochs: 3 },
    dataset: { train_rows: 360, valid_rows: 40, labels: ['ham', 'spam'] },
    estimateSeconds: 3.5,
    now: new Date('2026-12-01T00:00:00Z'),
  });
  const json = JSON.parse(JSON.stringify(e)) as Record<string, unknown>;
  assert.deepEqual(Object.keys(json).sort(), [
    'assumptions',
    'based_on',
    'batch_size',
    'best_model_writes',
    'checkpoints',
    'config',
    'dataset',
    'device',
    'device_notes',
    'epochs',
    'eval_batch_size',
    'eval_seconds',
    'eval_seconds_per_pass',
    'evaluations',
    'event',
    'max_length',
    'model',
    'parameters',
    'peak_rss_bytes',
    'save_seconds',
    'seconds_per_step',
    'startup_seconds',
    'state_bytes',
    'steps',
    'steps_per_epoch',
    'summary',
    'time',
    'total_seconds',
    'total_steps',
    'train_seconds',
    'version',
  ]);
  assert.equal(e.event, 'estimate');
  assert.equal(e.version, 1);
  assert.deepEqual(
    [e.total_steps, e.steps, e.steps_per_epoch, e.epochs, e.evaluations, e.checkpoints],
    [69, 69, 23, 3, 3, 3],
  );
  assert.equal(e.state_bytes, 12000);
  assert.ok(Math.abs(e.total_seconds - (e.startup_seconds + e.train_seconds + e.eval_seconds + e.save_seconds)) < 0.01);
  assert.match(e.summary, /^about \d+ s, 1\.2 GB peak memory$/);
  assert.deepEqual(Object.keys(e.based_on).sort(), [
    'allocator',
    'burn_in_steps',
    'cpus',
    'distinct_shapes',
    'estimate_seconds',
    'eval_forwards',
    'load_average',
    'padded_tokens',
    'step_model',
    'warmup_seconds',
    'warmup_shapes',
    'warmup_steps',
  ]);
  assert.deepEqual(e.based_on.warmup_shapes, [
    [16, 88],
    [16, 64],
  ]);
  assert.equal(
    e.based_on.padded_tokens,
    plan.shapeCounts.reduce((s, c) => s + c.count * c.shape.batchSize * c.shape.seqLen, 0),
  );
  const text = formatEstimate(e, 'runs/x');
  assert.match(text, /^Estimate: about \d+ s, 1\.2 GB peak memory\n/);
  assert.match(text, /69 steps \(3 epochs × 23 steps, batch 16, max length 96\) on cpu/);
  assert.match(text, /nothing was trained or written to runs\/x/);

  assert.deepEqual([0.4, 44.6, 59.4, 61, 3599, 3600, 4800, 7199].map(formatApproxDuration), [
    '1 s',
    '45 s',
    '59 s',
    '1 min',
    '1 h',
    '1 h',
    '1 h 20 min',
    '2 h',
  ]);
  assert.deepEqual([999, 12_345_678, 1_234_567_890].map(formatBytes), ['1 kB', '12 MB', '1.2 GB']);
});

/**
 * Training on the reachable word-embedding rows (EngineOptions.embeddingTokens, train/embedding-rows.ts) trains the
 * same model as the whole table: for every family, against the same engine without it, on the parity fixtures'
 * first batches (which hold only part of the vocabulary), with weight decay so that the unreachable rows change: the
 * same losses, weights, moments and logits to float tolerance, the unreachable rows to the bit; through the K-step
 * Loop, gradient accumulation and a resume from a checkpoint's state; and it refuses what would not be exact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { UserError } from '../../../src/core/errors';
import { loadModelDir } from '../../../src/core/model/load';
import { wordEmbeddingsName, type Weights } from '../../../src/core/model/params';
import { createTrainEngine, type EngineOptions, type TrainEngine } from '../../../src/core/train/engine';
import type { Batch } from '../../../src/core/tokenize/batch';
import { type BatchJson, type TrajectoryJson, readJson, toBatch } from '../../helpers/parity';

const FIXTURES = path.resolve(__dirname, '..', '..', '..', '..', 'test', 'fixtures');
const FAMILIES = [
  'parity',
  'parity-roberta',
  'parity-distilbert',
  'parity-electra',
  'parity-gpt2',
  'parity-modernbert',
  'parity-deberta-v2',
];
/** Relative to a tensor's largest entry: float32 round-off of sums taken over differently sized tensors. */
const TOL = 1e-5;

interface Fixture {
  options: Omit<EngineOptions, 'weights'>;
  weights: () => Promise<Weights>;
  train: Batch[];
  evaluate: Batch;
  tokens: number[];
  vocab: number;
  table: string;
}

async function fixture(name: string, steps = 4): Promise<Fixture> {
  const dir = path.join(FIXTURES, name);
  const trajectory = readJson<TrajectoryJson>(path.join(dir, 'trajectory.json'));
  const batchJson = readJson<BatchJson>(path.join(dir, 'batch.json'));
  const expected = readJson<{ logits: number[] }>(path.join(dir, 'expected.json'));
  const numLabels = expected.logits.length / batchJson.batchSize;
  const { config } = await loadModelDir(dir, numLabels, 0);
  const train = trajectory.batches.slice(0, steps).map(toBatch);
  const evaluate = toBatch(batchJson);
  const tokens = [...train, evaluate].flatMap((b) => Array.from(b.inputIds, Number));
  return {
    options: {
      config,
      numLabels,
      // Ten times the usual decay, and warmup then decay, so that every step's factor differs.
      hyper: { ...trajectory.hyper, weightDecay: 0.1, warmupSteps: 2, totalSteps: 10 },
      device: 'cpu',
      dropout: false,
      seed: 0,
      threads: 1,
      graphOptimizationLevel: 'basic',
    },
    weights: async () => (await loadModelDir(dir, numLabels, 0)).weights,
    train,
    evaluate,
    tokens,
    vocab: config.vocabSize,
    table: wordEmbeddingsName(config),
  };
}

async function pair(
  f: Fixture,
  extra: Partial<EngineOptions> = {},
): Promise<{ whole: TrainEngine; cut: TrainEngine; close: () => Promise<void> }> {
  const whole = await createTrainEngine({ ...f.options, ...extra, weights: await f.weights() });
  const cut = await createTrainEngine({
    ...f.options,
    ...extra,
    weights: await f.weights(),
    embeddingTokens: f.tokens,
  });
  return { whole, cut, close: async () => void (await Promise.all([whole.dispose(), cut.dispose()])) };
}

/** The largest |a − b| of a tensor relative to its largest |a| entry, over every tensor; and that the shapes agree. */
function worstDifference(a: Weights, b: Weights): { err: number; name: string } {
  let worst = { err: 0, name: '' };
  assert.deepEqual([...a.keys()], [...b.keys()]);
  for (const [name, t] of a) {
    const u = b.get(name)!;
    assert.deepEqual(u.shape, t.shape, name);
    let scale = 1e-12;
    let diff = 0;
    for (let i = 0; i < t.data.length; i++) {
      scale = Math.max(scale, Math.abs(t.data[i]));
      diff = Math.max(diff, Math.abs(t.data[i] - u.data[i]));
    }
    if (diff / scale > worst.err) worst = { err: diff / scale, name };
  }
  return worst;
}

/** The rows of tokens that no batch holds: equal to the bit in both tables. */
function assertUnreachableRowsEqual(f: Fixture, a: Weights, b: Weights, what: string): number {
  const reachable = new Set(f.tokens);
  const x = a.get(f.table)!;
  const y = b.get(f.table)!;
  const H = x.shape[1];
  let rows = 0;
  for (let t = 0; t < f.vocab; t++) {
    if (reachable.has(t)) continue;
    rows++;
    assert.deepEqual(y.data.subarray(t * H, (t + 1) * H), x.data.subarray(t * H, (t + 1) * H), `${what}: row ${t}`);
  }
  return rows;
}

for (const name of FAMILIES) {
  test(`${name}: training the reachable embedding rows trains the same model as the whole table`, async () => {
    const f = await fixture(name);
    const { whole, cut, close } = await pair(f);
    try {
      const initial = whole.getWeights();
      for (const batch of f.train) {
        const [a, b] = [await whole.trainStep(batch), await cut.trainStep(batch)];
        assert.ok(Math.abs(a.loss - b.loss) <= 1e-6, `loss ${a.loss} vs ${b.loss}`);
        assert.ok(Math.abs(a.gradNorm - b.gradNorm) <= 1e-6 * a.gradNorm, `grad norm ${a.gradNorm} vs ${b.gradNorm}`);
      }
      const [wa, wb] = [whole.getWeights(), cut.getWeights()];
      const worst = worstDifference(wa, wb);
      assert.ok(worst.err <= TOL, `weights differ by ${worst.err} (relative) in ${worst.name}`);
      const rows = assertUnreachableRowsEqual(f, wa, wb, 'weights');
      assert.ok(rows > 0, 'the batches leave some of the vocabulary unreachable');
      // The unreachable rows did change (weight decay), so the test sees the decay applied.
      const t0 = initial.get(f.table)!.data;
      const t1 = wb.get(f.table)!.data;
      const token = Array.from({ length: f.vocab }, (_, t) => t).find((t) => !f.tokens.includes(t))!;
      const H = initial.get(f.table)!.shape[1];
      assert.ok(
        t1.subarray(token * H, (token + 1) * H).some((x, i) => x !== t0[token * H + i] && x !== 0),
        'weight decay moved an unreachable row',
      );
      const [sa, sb] = [whole.getOptimizerState(), cut.getOptimizerState()];
      assert.equal(sb.step, sa.step);
      for (const [ma, mb] of [
        [sa.m, sb.m],
        [sa.v, sb.v],
      ]) {
        const d = worstDifference(ma, mb);
        assert.ok(d.err <= TOL, `moments differ by ${d.err} in ${d.name}`);
        assertUnreachableRowsEqual(f, ma, mb, 'moments');
      }
      const [la, lb] = [await whole.forward(f.evaluate), await cut.forward(f.evaluate)];
      const scale = Math.max(...la.map(Math.abs));
      assert.ok(
        la.every((x, i) => Math.abs(x - lb[i]) <= TOL * scale),
        'the evaluation batch gets the same logits',
      );
      // Reading the weights twice changes nothing (the decay is applied once per step).
      assert.deepEqual(cut.getWeights().get(f.table)!.data, wb.get(f.table)!.data);
    } finally {
      await close();
    }
  });
}

test('the reachable embedding rows through the K-step Loop and gradient accumulation', async () => {
  const f = await fixture('parity', 6);
  for (const extra of [{ stepsPerRun: 3 }, { gradientAccumulationSteps: 2 }] as Partial<EngineOptions>[]) {
    const { whole, cut, close } = await pair(f, extra);
    try {
      if (extra.stepsPerRun) {
        await whole.trainSteps(f.train);
        await cut.trainSteps(f.train);
      } else {
        for (let i = 0; i < f.train.length; i += 2) {
          await whole.trainStepAccumulated(f.train.slice(i, i + 2));
          await cut.trainStepAccumulated(f.train.slice(i, i + 2));
        }
      }
      const [wa, wb] = [whole.getWeights(), cut.getWeights()];
      const worst = worstDifference(wa, wb);
      assert.ok(worst.err <= TOL, `${JSON.stringify(extra)}: weights differ by ${worst.err} in ${worst.name}`);
      assertUnreachableRowsEqual(f, wa, wb, JSON.stringify(extra));
      assert.equal(cut.step, whole.step);
    } finally {
      await close();
    }
  }
});

test('the reachable embedding rows resume from a checkpoint’s state to the uninterrupted run', async () => {
  const f = await fixture('parity', 6);
  const { whole, cut, close } = await pair(f);
  let resumed: TrainEngine | undefined;
  try {
    for (const batch of f.train) await whole.trainStep(batch);
    for (const batch of f.train.slice(0, 3)) await cut.trainStep(batch);
    resumed = await createTrainEngine({ ...f.options, weights: cut.getWeights(), embeddingTokens: f.tokens });
    resumed.setOptimizerState(cut.getOptimizerState());
    for (const batch of f.train.slice(3)) await resumed.trainStep(batch);
    const [wa, wb] = [whole.getWeights(), resumed.getWeights()];
    const worst = worstDifference(wa, wb);
    assert.ok(worst.err <= TOL, `weights differ by ${worst.err} in ${worst.name}`);
    assertUnreachableRowsEqual(f, wa, wb, 'resumed');
  } finally {
    await close();
    await resumed?.dispose();
  }
});

test('the reachable embedding rows refuse a token outside them and moments that trained other rows', async () => {
  const f = await fixture('parity');
  const { whole, cut, close } = await pair(f);
  try {
    const unreachable = Array.from({ length: f.vocab }, (_, t) => t).find((t) => !f.tokens.includes(t))!;
    const batch = { ...f.evaluate, inputIds: f.evaluate.inputIds.map((id, i) => (i === 1 ? BigInt(unreachable) : id)) };
    await assert.rejects(
      cut.forward(batch),
      (e: unknown) =>
        e instanceof UserError && e.code === 'ENGINE_BAD_TOKEN' && e.message.includes(String(unreachable)),
    );
    // The whole-table engine has trained the unreachable row: its moments cannot resume the cut engine exactly.
    await whole.trainStep(batch);
    assert.throws(
      () => cut.setOptimizerState(whole.getOptimizerState()),
      (e: unknown) => e instanceof UserError && e.code === 'ENGINE_BAD_STATE' && /--restart/.test(e.fix ?? ''),
    );
  } finally {
    await close();
  }
});

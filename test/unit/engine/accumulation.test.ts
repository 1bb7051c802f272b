/**
 * Gradient accumulation: N micro-batches of B per optimizer step train like one batch of N·B (dropout off), to float
 * tolerance: the same loss every step, the same weights after several steps, class weights and label smoothing too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bertClassifierParamSpecs, initWeights, type Weights } from '../../../src/core/model/params';
import { createTrainEngine, type EngineOptions } from '../../../src/core/train/engine';
import type { Batch } from '../../../src/core/tokenize/batch';
import { isKeyBias } from '../../helpers/parity';
import { HYPER, makeBatch, tinyConfig } from './fixtures';

const config = tinyConfig();
const weights = (): Weights => initWeights(bertClassifierParamSpecs(config, 2), 3, 0.02);

function engine(overrides: Partial<EngineOptions>) {
  return createTrainEngine({
    config,
    numLabels: 2,
    weights: weights(),
    hyper: { ...HYPER, warmupSteps: 2, totalSteps: 6 },
    device: 'cpu',
    dropout: false,
    seed: 1,
    threads: 1,
    graphOptimizationLevel: 'basic',
    ...overrides,
  });
}

/** The rows of `batches` (same seqLen) as one batch. */
function concat(batches: Batch[]): Batch {
  const cat = (pick: (b: Batch) => BigInt64Array) => {
    const parts = batches.map(pick);
    const out = new BigInt64Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
  const batchSize = batches.reduce((n, b) => n + b.batchSize, 0);
  return {
    batchSize,
    seqLen: batches[0].seqLen,
    inputIds: cat((b) => b.inputIds),
    attentionMask: cat((b) => b.attentionMask),
    tokenTypeIds: cat((b) => b.tokenTypeIds),
    labels: cat((b) => b.labels!),
    docIndex: Int32Array.from({ length: batchSize }, (_, i) => i),
  };
}

/**
 * Worst norm-relative difference per tensor. Attention key biases have an exactly-zero true gradient (softmax is shift
 * invariant): both sides hold float32 noise there that Adam turns into steps of random sign, so they are left out.
 */
function worstWeightError(a: Weights, b: Weights): { err: number; name: string } {
  let worst = { err: 0, name: '' };
  for (const [name, t] of a) {
    if (isKeyBias(name)) continue;
    const u = b.get(name)!.data;
    let diff = 0;
    let norm = 0;
    t.data.forEach((x, i) => {
      diff += (x - u[i]) ** 2;
      norm += u[i] ** 2;
    });
    const err = Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-3);
    if (err > worst.err) worst = { err, name };
  }
  return worst;
}

async function compare(
  t: { diagnostic(line: string): void },
  N: number,
  B: number,
  extra: Partial<EngineOptions> = {},
): Promise<void> {
  const steps = 6;
  const micro = Array.from({ length: steps * N }, (_, i) => makeBatch(100 + i, B, 8));
  const whole = await engine(extra);
  const accumulated = await engine({ ...extra, gradientAccumulationSteps: N });
  try {
    let lossErr = 0;
    let normErr = 0;
    for (let s = 0; s < steps; s++) {
      const group = micro.slice(s * N, (s + 1) * N);
      const a = await whole.trainStep(concat(group));
      const b = await accumulated.trainStepAccumulated(group);
      assert.equal(b.step, s + 1);
      assert.equal(b.lr, a.lr, 'the schedule counts optimizer steps');
      lossErr = Math.max(lossErr, Math.abs(a.loss - b.loss));
      normErr = Math.max(normErr, Math.abs(a.gradNorm - b.gradNorm) / a.gradNorm);
    }
    const w = worstWeightError(accumulated.getWeights(), whole.getWeights());
    const moved = worstWeightError(whole.getWeights(), weights());
    t.diagnostic(
      `N=${N} B=${B}: max |Δloss| ${lossErr.toExponential(2)}, max rel Δ grad norm ${normErr.toExponential(2)}, ` +
        `worst weight error ${w.err.toExponential(2)} (${w.name}); the weights moved ${moved.err.toExponential(2)}`,
    );
    assert.ok(lossErr <= 2e-6, `loss differs by ${lossErr}`);
    assert.ok(normErr <= 1e-4, `gradient norm differs by ${normErr}`);
    assert.ok(w.err <= 2e-5, `weight ${w.name} differs by ${w.err}`);
    assert.ok(moved.err > 1e-2, 'training moved the weights');
    assert.equal(accumulated.step, steps);
  } finally {
    await whole.dispose();
    await accumulated.dispose();
  }
}

test('4 accumulated micro-batches of 2 train like batches of 8: loss, gradient norm, weights after 6 steps', async (t) => {
  await compare(t, 4, 2);
});

test('accumulation equals the big batch with label smoothing and a cosine schedule too', async (t) => {
  await compare(t, 3, 4, {
    labelSmoothing: 0.2,
    hyper: { ...HYPER, warmupSteps: 2, totalSteps: 6, schedule: 'cosine' },
  });
});

test('one micro-batch through the accumulate and apply graphs is the fused train step', async (t) => {
  await compare(t, 1, 8);
});

test('with dropout, each micro-batch gets its own mask and a rerun is bit-identical', async () => {
  const micro = Array.from({ length: 4 }, () => makeBatch(7, 4, 8));
  const run = async () => {
    const e = await engine({ dropout: true, gradientAccumulationSteps: 4 });
    try {
      const r = await e.trainStepAccumulated(micro);
      return { r, w: e.getWeights() };
    } finally {
      await e.dispose();
    }
  };
  const a = await run();
  const b = await run();
  assert.equal(a.r.loss, b.r.loss);
  for (const [name, t] of a.w) assert.deepEqual(t.data, b.w.get(name)!.data, name);
  // Four copies of one batch: with one mask shared by all they would have equal losses, so the mean would equal a
  // single micro-batch's loss; different masks make it differ.
  const single = await engine({ dropout: true, gradientAccumulationSteps: 4 });
  try {
    const one = await single.trainStepAccumulated(micro.slice(0, 1));
    assert.notEqual(one.loss, a.r.loss);
  } finally {
    await single.dispose();
  }
});

test('bad accumulation or smoothing settings are user errors', async () => {
  await assert.rejects(
    engine({ gradientAccumulationSteps: 0 }),
    /gradientAccumulationSteps must be a positive integer/,
  );
  await assert.rejects(engine({ labelSmoothing: 1.5 }), /labelSmoothing must be between 0 and 1/);
});

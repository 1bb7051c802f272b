/**
 * A long run against PyTorch: 92 AdamW steps of a real fine-tuning run (spam-ham rows tokenized by our tokenizer
 * with the real bert-base-uncased vocabulary, length-grouped and dynamically padded batches over 4 epochs, a
 * random:tiny model, warmup + linear decay, clipping at 1, no dropout) through createTrainEngine / trainStep as the
 * training session calls them: every step's loss, learning rate and gradient norm, and the norm of every tensor at
 * the end, compared with torch's. The inputs are made from the seed by test/helpers/long-run.ts; the committed
 * fixture (test/fixtures/parity-long/expected.json, written by bench/reference/make_long_parity_fixture.py) holds
 * PyTorch's figures and the inputs' checksums. Where Debian's torch is installed, the reference is re-run on a fresh
 * seed.
 *
 * Tolerances, from 32 runs (seeds 0–19, four OpenBLAS kernels on the reference side, fresh seeds) and from defects
 * injected on purpose into a copy of the engine (each on seeds 0–2):
 * - loss: float32 round-off alone gave |Δloss| ≤ 3.0e-7 at every step, without drift over the 92 steps. A one-step-late
 *   lr schedule (also caught by the lr check at step 1), bias correction one step off or missing for v, no clipping,
 *   clipping by the squared norm or scaling up below the threshold, the unscaled Adam eps, an embedding gradient that
 *   drops repeated ids: worst step ≥ 1.0e-2, above LOSS_TOL by step 6. Weight decay on LayerNorm weights, or on
 *   nothing: ≥ 5.5e-5 (above LOSS_TOL from step 13–15 in the committed run). Weight decay on biases too: only
 *   2.6e-6 – 4e-6, from step 64 on (biases start at 0 and stay small), which is why the final norms are checked too.
 * - final per-tensor norms: round-off ≤ 6.4e-7 relative; every weight-decay defect above: ≥ 4.3e-4.
 * - gradient norm before clipping (float32 sums of 2.1M squares in different orders): ≤ 5.7e-6 relative; a loose
 *   bound, as every defect above already fails on the loss or the final norms.
 * Attention key biases are left out of the final norms: their true gradient is exactly 0 (softmax shift invariance),
 * so both sides follow Adam's reading of float32 noise there (they do not change the loss).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { Weights } from '../../../src/core/model/params';
import { createTrainEngine } from '../../../src/core/train/engine';
import { longRunInputs, writeLongRunInputs, type LongRunInputs } from '../../helpers/long-run';
import { PYTHON, isKeyBias, l2, readJson, torchAvailable } from '../../helpers/parity';
import { tempFolder } from '../../helpers/temp';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'parity-long', 'expected.json');
const GENERATOR = path.join(ROOT, 'bench', 'reference', 'make_long_parity_fixture.py');
const execFileAsync = promisify(execFile);

/**
 * Absolute, worst of steps 1–75: 10x the round-off seen, 18x below the weakest weight-decay defect (bias decay aside).
 * After step 75 the round-off may drift further on an unlucky seed: seed 567131 reached 3.46e-6 at step 90 (7.75e-7
 * over steps 1–75, final norms 5.6e-6), identically with the engine of commit f39b3b2, so LATE_LOSS_TOL bounds the
 * remaining steps; a defect that shows only there (weight decay on biases) fails on the final norms.
 */
const LOSS_TOL = 3e-6;
const LOSS_TOL_STEPS = 75;
const LATE_LOSS_TOL = 1e-5;
/** Relative to max(1, torch's norm), worst step: 17x the round-off seen. */
const GRAD_NORM_TOL = 1e-4;
/** Relative, worst tensor (key biases aside): 15x the round-off seen, 43x below the weight-decay defects. */
const FINAL_NORM_TOL = 1e-5;

interface Expected {
  seed: number;
  hyper: LongRunInputs['hyper'];
  sha256: LongRunInputs['sha256'];
  shapes: [number, number][];
  losses: number[];
  gradNorms: number[];
  lrs: number[];
  /** L2 norm of every tensor after the last step. */
  finalNorms: Record<string, number>;
}

interface Run {
  losses: number[];
  lrs: number[];
  gradNorms: number[];
  weights: Weights;
}

/** Our engine over the run's batches, one trainStep each, as the training loop calls it. */
async function trainOurs(inputs: LongRunInputs): Promise<Run> {
  const engine = await createTrainEngine({
    config: inputs.config,
    numLabels: inputs.labels.length,
    weights: inputs.weights,
    hyper: inputs.hyper,
    device: 'cpu',
    dropout: false,
    seed: inputs.seed,
    threads: 1,
    graphOptimizationLevel: 'basic',
  });
  try {
    const run: Run = { losses: [], lrs: [], gradNorms: [], weights: new Map() };
    for (const [i, batch] of inputs.batches.entries()) {
      const r = await engine.trainStep(batch);
      assert.equal(r.step, i + 1);
      run.losses.push(r.loss);
      run.lrs.push(r.lr);
      run.gradNorms.push(r.gradNorm);
    }
    run.weights = engine.getWeights();
    return run;
  } finally {
    await engine.dispose();
  }
}

function checkInputs(inputs: LongRunInputs, expected: Expected): void {
  assert.deepEqual(inputs.hyper, expected.hyper, 'hyper-parameters');
  assert.deepEqual(
    inputs.batches.map((b) => [b.batchSize, b.seqLen]),
    expected.shapes,
    'batch shapes',
  );
  assert.deepEqual(
    inputs.sha256,
    expected.sha256,
    "the inputs (initial weights, batches) differ from the fixture's: if the initializer, tokenizer or batching changed on purpose, regenerate it (npm run fixtures:parity-long)",
  );
  assert.ok(expected.losses.length >= 75, 'at least 75 steps');
}

function compare(inputs: LongRunInputs, ours: Run, expected: Expected, log: (line: string) => void): void {
  assert.equal(ours.losses.length, expected.losses.length, 'steps');
  ours.lrs.forEach((lr, i) =>
    assert.ok(
      Math.abs(lr - expected.lrs[i]) <= 1e-9 * Math.max(1, expected.lrs[i]),
      `lr at step ${i + 1}: ${lr} vs ${expected.lrs[i]}`,
    ),
  );
  const lossErrs = ours.losses.map((l, i) => Math.abs(l - expected.losses[i]));
  const lossErr = Math.max(...lossErrs);
  const tolAt = (i: number) => (i < LOSS_TOL_STEPS ? LOSS_TOL : LATE_LOSS_TOL);
  const firstOver = lossErrs.findIndex((d, i) => d > tolAt(i)) + 1;
  const normErr = Math.max(
    ...ours.gradNorms.map((n, i) => Math.abs(n - expected.gradNorms[i]) / Math.max(1, expected.gradNorms[i])),
  );
  assert.deepEqual([...ours.weights.keys()].sort(), Object.keys(expected.finalNorms).sort(), 'tensor names');
  let finalErr = 0;
  let finalName = '';
  for (const [name, ref] of Object.entries(expected.finalNorms)) {
    if (isKeyBias(name)) continue;
    const err = Math.abs(l2(ours.weights.get(name)!.data) - ref) / ref;
    if (err > finalErr) [finalErr, finalName] = [err, name];
  }
  const clipped = expected.gradNorms.filter((n) => n > inputs.hyper.maxGradNorm).length;
  log(
    `${ours.losses.length} steps (${clipped} clipped), loss ${expected.losses[0].toFixed(4)} → ${expected.losses.at(-1)!.toFixed(4)}: ` +
      `max |Δloss| ${Math.max(...lossErrs.slice(0, LOSS_TOL_STEPS)).toExponential(2)} over steps 1–${LOSS_TOL_STEPS}, ${lossErr.toExponential(2)} over all; ` +
      `max relative |Δ grad norm| ${normErr.toExponential(2)}; final norms ${finalErr.toExponential(2)} (${finalName})`,
  );
  assert.ok(
    firstOver === 0,
    `losses differ from PyTorch's by ${lossErrs[firstOver - 1]} at step ${firstOver} (tolerance ${tolAt(firstOver - 1)}; ` +
      `${LOSS_TOL} up to step ${LOSS_TOL_STEPS}, ${LATE_LOSS_TOL} after)`,
  );
  assert.ok(normErr <= GRAD_NORM_TOL, `gradient norms differ from PyTorch's by up to ${normErr} (relative)`);
  assert.ok(
    finalErr <= FINAL_NORM_TOL,
    `the final norm of ${finalName} differs from PyTorch's by ${finalErr} (relative)`,
  );
}

test('92 AdamW steps on real text with the real vocabulary follow the committed PyTorch run', async (t) => {
  const expected = readJson<Expected>(FIXTURE);
  const inputs = await longRunInputs(expected.seed);
  checkInputs(inputs, expected);
  compare(inputs, await trainOurs(inputs), expected, (line) => t.diagnostic(line));
});

test('92 AdamW steps on real text follow a fresh PyTorch run with a random seed', async (t) => {
  if (!torchAvailable()) {
    t.skip(`${PYTHON} cannot import torch (apt-get install python3-torch libopenblas0-pthread)`);
    return;
  }
  const seed = 1 + Math.floor(Math.random() * 1_000_000);
  t.diagnostic(`seed ${seed}`);
  const dir = tempFolder('bertft-long-');
  try {
    const inputs = await longRunInputs(seed);
    await writeLongRunInputs(dir, inputs);
    const out = path.join(dir, 'expected.json');
    // The reference (one thread) runs while our engine (one thread) trains.
    const reference = execFileAsync(PYTHON, [GENERATOR, '--inputs', dir, '--out', out], {
      env: { ...process.env, OMP_NUM_THREADS: '1' },
    });
    const [ours] = await Promise.all([trainOurs(inputs), reference]);
    const expected = readJson<Expected>(out);
    checkInputs(inputs, expected);
    compare(inputs, ours, expected, (line) => t.diagnostic(line));
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

/**
 * Our ONNX train step against PyTorch autograd + torch.optim.AdamW on a tiny BERT classifier: the committed fixtures
 * (bench/reference/make_parity_fixtures.py, `npm run fixtures:parity`) and, where Debian's torch is installed, a
 * fresh rerun of the reference with a random seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { loadModelDir, saveHfModel } from '../../../src/core/model/load';
import type { Tensor, Weights } from '../../../src/core/model/params';
import { readSafetensors } from '../../../src/core/model/safetensors';
import { createTrainEngine } from '../../../src/core/train/engine';
import {
  BatchJson,
  PYTHON,
  TOL,
  TrajectoryJson,
  isKeyBias,
  l2,
  readJson,
  replayTrajectory,
  setAsideAdamNoise,
  adamStepBound,
  toBatch,
  torchAvailable,
  worstRelative,
} from '../../helpers/parity';
import { tempFolder } from '../../helpers/temp';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'parity');
const GENERATOR = path.join(ROOT, 'bench', 'reference', 'make_parity_fixtures.py');
/** Tolerances: the shared ones (test/helpers/parity.ts), plus the key-bias bound below. */
const {
  grad: GRAD_TOL,
  loss: LOSS_TOL,
  logits: LOGITS_TOL,
  trajectoryLoss: TRAJ_LOSS_TOL,
  finalWeight: FINAL_WEIGHT_TOL,
} = TOL;
/**
 * Attention key biases have an exactly-zero true gradient (softmax is shift invariant), so both sides hold float32
 * noise there: they are held to "negligible next to the global gradient norm" instead of a relative error.
 */
const KEY_BIAS_GRAD_TOL = 1e-6;
const norm = (a: Float32Array): number => l2(a);

async function checkParity(dir: string, log: (line: string) => void): Promise<void> {
  const expected = readJson<{ loss: number; gradNorm: number; logits: number[] }>(path.join(dir, 'expected.json'));
  const trajectory = readJson<TrajectoryJson & { lrs: number[] }>(path.join(dir, 'trajectory.json'));
  const numLabels = expected.logits.length / readJson<BatchJson>(path.join(dir, 'batch.json')).batchSize;
  const batch = toBatch(readJson<BatchJson>(path.join(dir, 'batch.json')));
  const initial = await loadModelDir(dir, numLabels, 0);
  assert.equal(initial.addedHead, false, 'the fixture has its classifier');

  const engineFor = (weights: Weights) =>
    createTrainEngine({
      config: initial.config,
      numLabels,
      weights,
      hyper: trajectory.hyper,
      device: 'cpu',
      dropout: false,
      seed: 0,
      threads: 1,
      graphOptimizationLevel: 'basic',
    });

  const engine = await engineFor(initial.weights);
  try {
    const logits = await engine.forward(batch);
    const logitsErr = Math.max(...expected.logits.map((x, i) => Math.abs(x - logits[i])));
    const { loss, grads } = await engine.lossAndGradients(batch);
    const refGrads = await readSafetensors(path.join(dir, 'grads.safetensors'));
    const g = worstRelative(grads, refGrads, 1e-30);
    const keyBias = Math.max(
      ...[...refGrads.keys()].filter(isKeyBias).flatMap((n) => [norm(refGrads.get(n)!.data), norm(grads.get(n)!.data)]),
    );
    log(
      `loss ours ${loss.toFixed(8)} torch ${expected.loss.toFixed(8)}; max |Δlogit| ${logitsErr.toExponential(2)}; ` +
        `worst gradient error ${g.err.toExponential(2)} (${g.name}); key-bias gradient norms ≤ ${(keyBias / expected.gradNorm).toExponential(2)} of the global norm`,
    );
    assert.ok(logitsErr <= LOGITS_TOL, `logits differ by ${logitsErr}`);
    assert.ok(Math.abs(loss - expected.loss) <= LOSS_TOL, `loss ${loss} vs ${expected.loss}`);
    assert.ok(g.err <= GRAD_TOL, `gradient ${g.name} differs by ${g.err} (norm-relative)`);
    assert.ok(keyBias <= KEY_BIAS_GRAD_TOL * expected.gradNorm, `a key-bias gradient is not negligible: ${keyBias}`);
  } finally {
    await engine.dispose();
  }

  const trainer = await engineFor(initial.weights);
  try {
    const { losses, lossErr, adamNoise } = await replayTrajectory(trainer, trajectory);
    const ref = await readSafetensors(path.join(dir, 'final.safetensors'));
    const noise = setAsideAdamNoise(trainer.getWeights(), ref, adamNoise);
    const ours = noise.ours;
    const final = worstRelative(ours, ref, 1e-12);
    // Key biases: Adam turns the float32 noise of their zero gradient into full-size steps of random sign on
    // both sides, so they can only be held to Adam's step bound: each element moves at most ~lr per step.
    let keyBiasErr = 0;
    for (const [name, r] of ref) {
      if (!isKeyBias(name)) continue;
      const o = (ours.get(name) as Tensor).data;
      for (let i = 0; i < r.data.length; i++) keyBiasErr = Math.max(keyBiasErr, Math.abs(o[i] - r.data[i]));
    }
    log(
      `${losses.length}-step trajectory: max |Δloss| ${lossErr.toExponential(2)}, ` +
        `worst final weight error ${final.err.toExponential(2)} (${final.name}); key biases max |Δ| ${keyBiasErr.toExponential(2)}; ` +
        `${noise.count} coordinates within AdamW's noise floor, max |Δ| ${noise.worst.toExponential(2)}`,
    );
    assert.ok(lossErr <= TRAJ_LOSS_TOL, `loss trajectory differs by up to ${lossErr}`);
    assert.ok(final.err <= FINAL_WEIGHT_TOL, `final weight ${final.name} differs by ${final.err} (norm-relative)`);
    const bound = adamStepBound(trajectory);
    assert.ok(keyBiasErr <= bound, `key biases moved apart by ${keyBiasErr}, more than Adam's bound ${bound}`);
    assert.ok(noise.worst <= bound, `noise-floor coordinates moved apart by ${noise.worst}, more than ${bound}`);
  } finally {
    await trainer.dispose();
  }
}

test('engine matches the committed PyTorch fixtures: logits, loss, gradients, 50 AdamW steps', async (t) => {
  await checkParity(FIXTURES, (line) => t.diagnostic(line));
});

test('engine matches a fresh PyTorch run with a random seed', async (t) => {
  if (!torchAvailable()) {
    t.skip(`${PYTHON} cannot import torch (apt-get install python3-torch libopenblas0-pthread)`);
    return;
  }
  const dir = tempFolder('bertft-parity-');
  const seed = 1 + Math.floor(Math.random() * 1_000_000);
  t.diagnostic(`seed ${seed}`);
  execFileSync(PYTHON, [GENERATOR, '--out', dir, '--seed', String(seed)], {
    stdio: 'pipe',
    env: { ...process.env, OMP_NUM_THREADS: '1' },
  });
  await checkParity(dir, (line) => t.diagnostic(line));
  await fs.rm(dir, { recursive: true, force: true });
});

test('a model we train and save is read by the PyTorch reference to the same logits', async (t) => {
  if (!torchAvailable()) {
    t.skip(`${PYTHON} cannot import torch (apt-get install python3-torch libopenblas0-pthread)`);
    return;
  }
  const trajectory = readJson<TrajectoryJson>(path.join(FIXTURES, 'trajectory.json'));
  const { config, weights } = await loadModelDir(FIXTURES, 3, 0);
  const engine = await createTrainEngine({
    config,
    numLabels: 3,
    weights,
    hyper: trajectory.hyper,
    device: 'cpu',
    dropout: false,
    seed: 0,
    threads: 1,
    graphOptimizationLevel: 'basic',
  });
  const dir = tempFolder('bertft-saved-');
  try {
    for (const b of trajectory.batches.slice(0, 8)) await engine.trainStep(toBatch(b));
    await saveHfModel(dir, { config, weights: engine.getWeights(), id2label: ['neg', 'neu', 'pos'] });
    const batchFile = path.join(FIXTURES, 'batch.json');
    const ours = await engine.forward(toBatch(readJson<BatchJson>(batchFile)));
    const out = execFileSync(
      PYTHON,
      [path.join(ROOT, 'bench', 'reference', 'bert_torch.py'), 'logits', dir, batchFile],
      { encoding: 'utf8' },
    );
    const theirs = JSON.parse(out.trim().split('\n').pop() as string) as number[];
    const err = Math.max(...theirs.map((x, i) => Math.abs(x - ours[i])));
    t.diagnostic(`max |Δlogit| after save → PyTorch load: ${err.toExponential(2)}`);
    assert.equal(theirs.length, ours.length);
    assert.ok(err <= LOGITS_TOL, `logits differ by ${err}`);
  } finally {
    await engine.dispose();
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('the K-step Loop (stepsPerRun 5) follows the same 50-step PyTorch trajectory', async (t) => {
  const trajectory = readJson<TrajectoryJson>(path.join(FIXTURES, 'trajectory.json'));
  const { config, weights } = await loadModelDir(FIXTURES, 3, 0);
  const K = 5;
  const engine = await createTrainEngine({
    config,
    numLabels: 3,
    weights,
    hyper: trajectory.hyper,
    device: 'cpu',
    dropout: false,
    seed: 0,
    threads: 1,
    graphOptimizationLevel: 'basic',
    stepsPerRun: K,
  });
  try {
    const losses: number[] = [];
    for (let i = 0; i < trajectory.batches.length; i += K) {
      const results = await engine.trainSteps(trajectory.batches.slice(i, i + K).map(toBatch));
      losses.push(...results.map((r) => r.loss));
    }
    assert.equal(engine.step, trajectory.batches.length);
    const lossErr = Math.max(...losses.map((l, i) => Math.abs(l - trajectory.losses[i])));
    const final = worstRelative(
      engine.getWeights(),
      await readSafetensors(path.join(FIXTURES, 'final.safetensors')),
      1e-12,
    );
    t.diagnostic(
      `K=${K}: max |Δloss| ${lossErr.toExponential(2)}, worst final weight error ${final.err.toExponential(2)} (${final.name})`,
    );
    assert.ok(lossErr <= TRAJ_LOSS_TOL, `loss trajectory differs by up to ${lossErr}`);
    assert.ok(final.err <= FINAL_WEIGHT_TOL, `final weight ${final.name} differs by ${final.err} (norm-relative)`);
  } finally {
    await engine.dispose();
  }
});

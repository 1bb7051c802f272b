/**
 * Reading the PyTorch parity fixtures (bench/reference/make_parity_fixtures.py) and comparing our tensors with them,
 * shared by the family and masked-LM parity tests.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadModelDir } from '../../src/core/model/load';
import { CLASSIFIER_OUTPUT, type Tensor, type Weights } from '../../src/core/model/params';
import { readSafetensors } from '../../src/core/model/safetensors';
import { createTrainEngine, type Hyper, type TrainEngine } from '../../src/core/train/engine';
import type { Batch } from '../../src/core/tokenize/batch';

export const PYTHON = '/usr/bin/python3';

export interface BatchJson {
  batchSize: number;
  seqLen: number;
  inputIds: number[];
  attentionMask: number[];
  tokenTypeIds: number[];
  labels: number[];
}

export const toBatch = (b: BatchJson): Batch => ({
  batchSize: b.batchSize,
  seqLen: b.seqLen,
  inputIds: BigInt64Array.from(b.inputIds, BigInt),
  attentionMask: BigInt64Array.from(b.attentionMask, BigInt),
  tokenTypeIds: BigInt64Array.from(b.tokenTypeIds, BigInt),
  labels: BigInt64Array.from(b.labels, BigInt),
  docIndex: Int32Array.from({ length: b.batchSize }, (_, i) => i),
});

export const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(file, 'utf8')) as T;

/** ‖a − b‖₂ (‖a‖₂ without b). */
export const l2 = (a: Float32Array, b?: Float32Array): number =>
  Math.sqrt(a.reduce((s, x, i) => s + (x - (b ? b[i] : 0)) ** 2, 0));

/** Attention key biases have an exactly-zero true gradient (softmax shift invariance): float32 noise on both sides. */
export const isKeyBias = (n: string): boolean => /(key|k_lin)\.bias$/.test(n);

/** Worst norm-relative error over the tensors (key biases aside), with the tensor it occurs in; both sides must have the same names. */
export function worstRelative(
  ours: Weights,
  ref: Map<string, Tensor>,
  floor: number | ((name: string) => number),
): { err: number; name: string } {
  assert.deepEqual([...ours.keys()].sort(), [...ref.keys()].sort(), 'same tensor names');
  let worst = { err: 0, name: '' };
  for (const [name, r] of ref) {
    if (isKeyBias(name)) continue;
    const o = ours.get(name)!;
    assert.deepEqual(o.shape, r.shape, `${name} shape`);
    const err = l2(o.data, r.data) / Math.max(l2(r.data), typeof floor === 'number' ? floor : floor(name));
    if (err > worst.err) worst = { err, name };
  }
  return worst;
}

export const torchAvailable = (): boolean =>
  spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

/** The tolerances of the parity tests (the BERT classifier's test/unit/parity has the same figures). */
export const TOL = {
  logits: 1e-5, // absolute
  loss: 1e-6, // absolute
  grad: 1e-5, // norm-relative per tensor
  trajectoryLoss: 5e-6, // absolute, worst step
  finalWeight: 1e-5, // norm-relative per tensor
} as const;

/** trajectory.json of a fixture: the hyper-parameters, the stored batches and PyTorch's loss (and lr) per AdamW step. */
export interface TrajectoryJson {
  hyper: Hyper;
  losses: number[];
  lrs?: number[];
  batches: BatchJson[];
}

/**
 * Below this (clipped) gradient, AdamW's first update of a coordinate, lr · g / (|g| + ε), is decided by the
 * gradient's float32 round-off (about 1e-9 where a coordinate's terms cancel): a coordinate whose gradient
 * happens to cancel to 6e-10 moved by 0.2 lr on one side and not the other (seed 905733, word embedding 45, element 9).
 */
const ADAM_NOISE_FLOOR_PER_EPS = 10;

/**
 * Trains `trainer` on the fixture's batches, checking every step's learning rate where the fixture has them; the
 * worst |Δloss| against PyTorch's, and per tensor the coordinates whose gradient at some step was nonzero but
 * within AdamW's noise floor (see ADAM_NOISE_FLOOR_PER_EPS): their final values cannot be predicted to float32.
 */
export async function replayTrajectory(
  trainer: TrainEngine,
  trajectory: TrajectoryJson,
): Promise<{ losses: number[]; lossErr: number; adamNoise: Map<string, Uint8Array> }> {
  const losses: number[] = [];
  const adamNoise = new Map<string, Uint8Array>();
  const floor = ADAM_NOISE_FLOOR_PER_EPS * trajectory.hyper.eps;
  for (const [i, b] of trajectory.batches.entries()) {
    const batch = toBatch(b);
    const { grads } = await trainer.lossAndGradients(batch);
    const globalNorm = Math.sqrt([...grads.values()].reduce((s, g) => s + l2(g.data) ** 2, 0));
    const clip = Math.min(1, trajectory.hyper.maxGradNorm / (globalNorm + 1e-6));
    for (const [name, g] of grads) {
      if (isKeyBias(name)) continue; // pure noise throughout: each family's test holds them to Adam's step bound
      const mask = adamNoise.get(name) ?? new Uint8Array(g.data.length);
      g.data.forEach((x, j) => {
        if (x !== 0 && Math.abs(clip * x) < floor) mask[j] = 1;
      });
      adamNoise.set(name, mask);
    }
    const r = await trainer.trainStep(batch);
    const lr = trajectory.lrs?.[i];
    if (lr !== undefined)
      assert.ok(Math.abs(r.lr - lr) <= 1e-9 * Math.max(1, lr), `lr at step ${i + 1}: ${r.lr} vs ${lr}`);
    losses.push(r.loss);
  }
  return { losses, lossErr: Math.max(...losses.map((l, i) => Math.abs(l - trajectory.losses[i]))), adamNoise };
}

/**
 * Sets aside the coordinates `replayTrajectory` found within AdamW's noise floor: `ours` with those coordinates
 * taken from `ref` (so the norm-relative comparison holds the rest to TOL), their count and their worst |Δ|, which
 * can only be held to AdamW's step bound (each coordinate moves at most about lr per step, on either side).
 */
export function setAsideAdamNoise(
  ours: Weights,
  ref: Map<string, Tensor>,
  adamNoise: Map<string, Uint8Array>,
): { ours: Weights; count: number; worst: number } {
  let count = 0;
  let worst = 0;
  const kept: Weights = new Map();
  for (const [name, o] of ours) {
    const mask = adamNoise.get(name);
    const r = ref.get(name);
    if (!mask || !r || !mask.includes(1)) {
      kept.set(name, o);
      continue;
    }
    const data = Float32Array.from(o.data);
    mask.forEach((noisy, j) => {
      if (!noisy) return;
      count += 1;
      worst = Math.max(worst, Math.abs(data[j] - r.data[j]));
      data[j] = r.data[j];
    });
    kept.set(name, { ...o, data });
  }
  return { ours: kept, count, worst };
}

/** AdamW's bound on how far apart two runs can move a coordinate: about lr per step on each side. */
export const adamStepBound = (trajectory: TrajectoryJson): number =>
  2 * (trajectory.lrs ?? trajectory.batches.map(() => trajectory.hyper.lr)).reduce((a, b) => a + b, 0);

/**
 * How a family's trained weights are compared with final.safetensors when some of them cannot be held to
 * TOL.finalWeight (attention key biases, whose true gradient is zero or nearly so: AdamW turns float32 noise there
 * into lr-sized steps).
 */
export interface FinalWeightsComparison {
  /** Applied to both sides before comparing (e.g. a fused QKV bias split, or its key third zeroed). */
  rewrite?: (weights: Weights) => Weights;
  /** Rewritten tensors compared on their own at a looser norm-relative tolerance, named `what` in the log. */
  loose?: { names: (name: string) => boolean; tol: number; what: string };
}

const only = (weights: Weights, keep: (name: string) => boolean): Weights =>
  new Map([...weights].filter(([n]) => keep(n)));

/**
 * Replays the fixture's AdamW steps on `trainer` (then disposes it) and asserts the losses and the final weights
 * (`finalFile`, key biases aside, `comparison` as the family needs) match PyTorch's within TOL; `log` gets one line
 * of figures.
 */
export async function assertTrajectoryParity(
  trainer: TrainEngine,
  trajectory: TrajectoryJson,
  finalFile: string,
  log: (line: string) => void,
  comparison: FinalWeightsComparison = {},
): Promise<void> {
  try {
    const { losses, lossErr, adamNoise } = await replayTrajectory(trainer, trajectory);
    const rewrite = comparison.rewrite ?? ((w: Weights) => w);
    const finalRef = await readSafetensors(finalFile);
    const noise = setAsideAdamNoise(trainer.getWeights(), finalRef, adamNoise);
    const ours = rewrite(noise.ours);
    const ref = rewrite(finalRef);
    const loose = comparison.loose;
    const strict = (n: string): boolean => !loose?.names(n);
    const final = worstRelative(only(ours, strict), only(ref, strict), 1e-12);
    const looseErr = loose ? worstRelative(only(ours, loose.names), only(ref, loose.names), 1e-12) : undefined;
    log(
      `${losses.length} steps: max |Δloss| ${lossErr.toExponential(2)}, worst final weight error ${final.err.toExponential(2)} (${final.name})` +
        (loose && looseErr ? `; ${loose.what} ${looseErr.err.toExponential(2)}` : '') +
        `; ${noise.count} coordinates within AdamW's noise floor, max |Δ| ${noise.worst.toExponential(2)}`,
    );
    assert.ok(lossErr <= TOL.trajectoryLoss, `loss trajectory differs by up to ${lossErr}`);
    assert.ok(noise.worst <= adamStepBound(trajectory), `noise-floor coordinates moved apart by ${noise.worst}`);
    assert.ok(final.err <= TOL.finalWeight, `final weight ${final.name} differs by ${final.err}`);
    if (loose && looseErr)
      assert.ok(looseErr.err <= loose.tol, `${loose.what}: ${looseErr.name} differs by ${looseErr.err}`);
  } finally {
    await trainer.dispose();
  }
}

/** A batch of a fixture whose rows carry float targets (--task multi-label: 0/1 per label; --task regression: one value). */
export type TargetsBatchJson = BatchJson & { targets: number[] };

/**
 * The parity check of a fixture written by `make_parity_fixtures.py --task multi-label|regression`: logits, loss and
 * gradients of batch.json, then the 20 AdamW steps, against PyTorch's (BCEWithLogitsLoss with the fixture's positive
 * weights, or MSELoss); `log` gets a line of figures per part.
 */
export async function assertTargetsTaskParity(
  dir: string,
  task: 'multi-label' | 'regression',
  log: (line: string) => void,
): Promise<void> {
  const expected = readJson<{ loss: number; logits: number[]; posWeight?: number[] | null }>(
    path.join(dir, 'expected.json'),
  );
  const trajectory = readJson<Omit<TrajectoryJson, 'batches'> & { batches: TargetsBatchJson[] }>(
    path.join(dir, 'trajectory.json'),
  );
  const first = readJson<TargetsBatchJson>(path.join(dir, 'batch.json'));
  const numLabels = expected.logits.length / first.batchSize;
  assert.equal(numLabels, task === 'regression' ? 1 : first.targets.length / first.batchSize, 'outputs per row');
  const initial = await loadModelDir(dir, numLabels, 0);
  const engineFor = (weights: Weights, targets: number[]) =>
    createTrainEngine({
      config: initial.config,
      numLabels,
      task,
      ...(task === 'regression'
        ? { regressionTargets: Float32Array.from(targets) }
        : { multiLabelTargets: Float32Array.from(targets) }),
      weights,
      hyper: trajectory.hyper,
      device: 'cpu',
      dropout: false,
      seed: 0,
      threads: 1,
      graphOptimizationLevel: 'basic',
      classWeights: expected.posWeight ? Float32Array.from(expected.posWeight) : undefined,
    });
  const engine = await engineFor(initial.weights, first.targets);
  try {
    const batch = toBatch(first);
    const logits = await engine.forward(batch);
    const logitErr = Math.max(...expected.logits.map((x, i) => Math.abs(x - logits[i])));
    const { loss, grads } = await engine.lossAndGradients(batch);
    // The output bias's gradient is the batch's sum of dLoss/dlogit, which can cancel to far below its terms (MSE: a
    // sum of residuals of either sign); its round-off is then the logits' (TOL.logits), not a share of its own size,
    // so it is measured against 1 (the scale of a loss of order 1's terms).
    const outputBias = `${CLASSIFIER_OUTPUT[initial.config.modelType]}.bias`;
    const g = worstRelative(grads, await readSafetensors(path.join(dir, 'grads.safetensors')), (name) =>
      name === outputBias ? 1 : 1e-30,
    );
    log(
      `${task}${expected.posWeight !== undefined ? `, pos_weight ${JSON.stringify(expected.posWeight)}` : ''}: ` +
        `loss ours ${loss.toFixed(8)} torch ${expected.loss.toFixed(8)}; ` +
        `worst logit error ${logitErr.toExponential(2)}, worst gradient error ${g.err.toExponential(2)} (${g.name})`,
    );
    assert.ok(logitErr <= TOL.logits, `logits differ by ${logitErr}`);
    // TOL.loss is for losses of order 1; an MSE is unbounded, and its float32 round-off grows with it.
    const lossTol = TOL.loss * Math.max(1, expected.loss);
    assert.ok(Math.abs(loss - expected.loss) <= lossTol, `loss ${loss} vs ${expected.loss}`);
    assert.ok(g.err <= TOL.grad, `gradient ${g.name} differs by ${g.err} (norm-relative)`);
  } finally {
    await engine.dispose();
  }
  const allTargets = trajectory.batches.flatMap((b) => b.targets);
  await assertTrajectoryParity(
    await engineFor(initial.weights, allTargets),
    trajectory,
    path.join(dir, 'final.safetensors'),
    log,
  );
}

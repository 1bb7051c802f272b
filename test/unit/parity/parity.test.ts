/**
 * Our ONNX train step against PyTorch autograd + torch.optim.AdamW on a tiny BERT classifier: the committed fixtures
 * (bench/reference/make_parity_fixtures.py, `npm run fixtures:parity`) and, where Debian's torch is installed, a
 * fresh rerun of the reference with a random seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Batch } from '../../../src/core/tokenize/batch';
import { loadModelDir } from '../../../src/core/model/load';
import type { Tensor, Weights } from '../../../src/core/model/params';
import { readSafetensors } from '../../../src/core/model/safetensors';
import { createTrainEngine, Hyper } from '../../../src/core/train/engine';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'parity');
const GENERATOR = path.join(ROOT, 'bench', 'reference', 'make_parity_fixtures.py');
const PYTHON = '/usr/bin/python3';

/** Tolerances (norm-relative per tensor unless said otherwise). */
const GRAD_TOL = 1e-5;
const LOSS_TOL = 1e-6; // absolute, single batch
const LOGITS_TOL = 1e-5; // absolute
const TRAJ_LOSS_TOL = 2e-5; // absolute, worst of 50 steps
const FINAL_WEIGHT_TOL = 1e-4;
/**
 * Key biases have an exactly-zero true gradient (softmax is shift invariant), so both sides hold float32 noise
 * there; a tensor's error is measured against max(its own norm, this fraction of the global gradient norm).
 */
const GRAD_FLOOR = 1e-3;

interface BatchJson {
  batchSize: number;
  seqLen: number;
  inputIds: number[];
  attentionMask: number[];
  tokenTypeIds: number[];
  labels: number[];
}

function toBatch(b: BatchJson): Batch {
  return {
    batchSize: b.batchSize,
    seqLen: b.seqLen,
    inputIds: BigInt64Array.from(b.inputIds.map(BigInt)),
    attentionMask: BigInt64Array.from(b.attentionMask.map(BigInt)),
    tokenTypeIds: BigInt64Array.from(b.tokenTypeIds.map(BigInt)),
    labels: BigInt64Array.from(b.labels.map(BigInt)),
    docIndex: Int32Array.from({ length: b.batchSize }, (_, i) => i),
  };
}

function norm(a: Float32Array): number {
  let s = 0;
  for (const x of a) s += x * x;
  return Math.sqrt(s);
}

function diffNorm(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

/** Worst norm-relative error over tensors, with the tensor it occurs in. */
function worstRelative(ours: Weights, ref: Map<string, Tensor>, floor: number): { err: number; name: string } {
  assert.deepEqual([...ours.keys()].sort(), [...ref.keys()].sort(), 'same tensor names');
  let worst = { err: 0, name: '' };
  for (const [name, r] of ref) {
    const o = ours.get(name) as Tensor;
    assert.deepEqual(o.shape, r.shape, `${name} shape`);
    const err = diffNorm(o.data, r.data) / Math.max(norm(r.data), floor);
    if (err > worst.err) worst = { err, name };
  }
  return worst;
}

async function readJson<T>(file: string): Promise<T> {
  return JSON.parse(await fs.readFile(file, 'utf8')) as T;
}

async function checkParity(dir: string, log: (line: string) => void): Promise<void> {
  const expected = await readJson<{ loss: number; gradNorm: number; logits: number[] }>(path.join(dir, 'expected.json'));
  const trajectory = await readJson<{ hyper: Hyper; losses: number[]; lrs: number[]; batches: BatchJson[] }>(
    path.join(dir, 'trajectory.json'),
  );
  const numLabels = expected.logits.length / (await readJson<BatchJson>(path.join(dir, 'batch.json'))).batchSize;
  const batch = toBatch(await readJson<BatchJson>(path.join(dir, 'batch.json')));
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
    const g = worstRelative(grads, refGrads, GRAD_FLOOR * expected.gradNorm);
    log(`loss ours ${loss.toFixed(8)} torch ${expected.loss.toFixed(8)}; max |Δlogit| ${logitsErr.toExponential(2)}; ` +
      `worst gradient error ${g.err.toExponential(2)} (${g.name})`);
    assert.ok(logitsErr <= LOGITS_TOL, `logits differ by ${logitsErr}`);
    assert.ok(Math.abs(loss - expected.loss) <= LOSS_TOL, `loss ${loss} vs ${expected.loss}`);
    assert.ok(g.err <= GRAD_TOL, `gradient ${g.name} differs by ${g.err} (norm-relative)`);
  } finally {
    await engine.dispose();
  }

  const trainer = await engineFor(initial.weights);
  try {
    const losses: number[] = [];
    for (const [i, b] of trajectory.batches.entries()) {
      const r = await trainer.trainStep(toBatch(b));
      assert.ok(Math.abs(r.lr - trajectory.lrs[i]) <= 1e-9 * Math.max(1, trajectory.lrs[i]), `lr at step ${i + 1}: ${r.lr} vs ${trajectory.lrs[i]}`);
      losses.push(r.loss);
    }
    const lossErr = Math.max(...losses.map((l, i) => Math.abs(l - trajectory.losses[i])));
    const final = worstRelative(trainer.getWeights(), await readSafetensors(path.join(dir, 'final.safetensors')), 1e-12);
    log(`${losses.length}-step trajectory: max |Δloss| ${lossErr.toExponential(2)}, ` +
      `worst final weight error ${final.err.toExponential(2)} (${final.name})`);
    assert.ok(lossErr <= TRAJ_LOSS_TOL, `loss trajectory differs by up to ${lossErr}`);
    assert.ok(final.err <= FINAL_WEIGHT_TOL, `final weight ${final.name} differs by ${final.err} (norm-relative)`);
  } finally {
    await trainer.dispose();
  }
}

function torchAvailable(): boolean {
  return spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
}

test('engine matches the committed PyTorch fixtures: logits, loss, gradients, 50 AdamW steps', async (t) => {
  await checkParity(FIXTURES, (line) => t.diagnostic(line));
});

test('engine matches a fresh PyTorch run with a random seed', async (t) => {
  if (!torchAvailable()) {
    t.skip(`${PYTHON} cannot import torch (apt-get install python3-torch libopenblas0-pthread)`);
    return;
  }
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bertft-parity-'));
  const seed = 1 + Math.floor(Math.random() * 1_000_000);
  t.diagnostic(`seed ${seed}`);
  execFileSync(PYTHON, [GENERATOR, '--out', dir, '--seed', String(seed)], { stdio: 'pipe', env: { ...process.env, OMP_NUM_THREADS: '1' } });
  await checkParity(dir, (line) => t.diagnostic(line));
  await fs.rm(dir, { recursive: true, force: true });
});

/**
 * The masked-LM head runs on the masked positions only (the rows of masked_positions): its loss, gradients and AdamW
 * steps equal those of the dense formulation that scores every position over the full vocabulary and ignores the
 * unlabelled ones (mlmScoring 'every', what the head did before), for every family; no [batch*seq, vocab] tensor is
 * left in the step graph; forward() gives the masked rows of the every-position scores; the K-step Loop follows the
 * same steps. The PyTorch side of the same claim is in parity.test.ts (committed and fresh full-vocabulary fixtures).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, Value } from '../../../src/core/graph/graph';
import { BertConfig } from '../../../src/core/model/config';
import { EncoderInputs } from '../../../src/core/model/bert';
import { Weights, initWeights } from '../../../src/core/model/params';
import {
  IGNORE_LABEL,
  labelledPositions,
  labelsAt,
  maskedLmLoss,
  mlmFamily,
  mlmParamSpecs,
} from '../../../src/core/model/mlm-head';
import type { Batch } from '../../../src/core/tokenize/batch';
import { createTrainEngine, type EngineOptions } from '../../../src/core/train/engine';
import { HYPER } from '../engine/fixtures';
import { gradCheck, randn } from '../graph/gradcheck';
import { familyMlmBatch, tinyFamilyConfig } from '../families/tiny-models';

const FAMILIES = ['bert', 'distilbert', 'roberta', 'electra-projected'] as const;

const l2 = (a: Float32Array, b?: Float32Array): number =>
  Math.sqrt(a.reduce((s, x, i) => s + (x - (b ? b[i] : 0)) ** 2, 0));

/** Worst norm-relative difference over the tensors of two weight maps with the same names. */
function worstRelative(a: Weights, b: Weights): { err: number; name: string } {
  assert.deepEqual([...a.keys()], [...b.keys()]);
  let worst = { err: 0, name: '' };
  for (const [name, x] of a) {
    const err = l2(x.data, b.get(name)!.data) / Math.max(l2(b.get(name)!.data), 1e-12);
    if (err > worst.err) worst = { err, name };
  }
  return worst;
}

function engineFor(cfg: BertConfig, weights: Weights, extra: Partial<EngineOptions> = {}) {
  return createTrainEngine({
    config: cfg,
    numLabels: 0,
    task: 'mlm',
    weights,
    hyper: { ...HYPER, lr: 3e-3, warmupSteps: 1, totalSteps: 10 },
    device: 'cpu',
    dropout: false,
    seed: 3,
    threads: 1,
    graphOptimizationLevel: 'basic',
    ...extra,
  });
}

const maskedCount = (b: Batch): number => labelledPositions(b.labels!).length;

for (const family of FAMILIES) {
  test(`${family} MLM: the masked-positions head gives the loss and gradients of the full-vocabulary loss over every position, and the same AdamW steps (dropout on)`, async (t) => {
    const cfg = tinyFamilyConfig(family);
    const weights = initWeights(mlmParamSpecs(cfg), 11, 0.3);
    const batch = familyMlmBatch(cfg, 5, 6, 8);
    const n = batch.batchSize * batch.seqLen;
    assert.ok(maskedCount(batch) > 0 && maskedCount(batch) < n / 2, `${maskedCount(batch)} of ${n} positions masked`);

    const sparse = await engineFor(cfg, weights);
    const dense = await engineFor(cfg, weights, { mlmScoring: 'every' });
    const s = await sparse.lossAndGradients(batch);
    const d = await dense.lossAndGradients(batch);
    const g = worstRelative(s.grads, d.grads);
    t.diagnostic(
      `loss sparse ${s.loss} dense ${d.loss}; worst gradient difference ${g.err.toExponential(2)} (${g.name})`,
    );
    assert.ok(s.loss > 1, `an untrained model has a large loss (${s.loss})`);
    assert.ok(Math.abs(s.loss - d.loss) <= 1e-6 * d.loss, `loss ${s.loss} vs ${d.loss}`);
    assert.ok(g.err <= 1e-5, `gradient ${g.name} differs by ${g.err}`);
    for (const [name, x] of d.grads) assert.ok(l2(x.data) > 0, `${name} has a gradient`);
    await Promise.all([sparse.dispose(), dense.dispose()]);

    // Three AdamW steps with dropout: the same dropout masks (same sites), the same updates.
    const withDropout = { dropout: true, graphOptimizationLevel: 'all' as const };
    const sparseTrain = await engineFor(cfg, weights, withDropout);
    const denseTrain = await engineFor(cfg, weights, { ...withDropout, mlmScoring: 'every' });
    for (const seed of [21, 22, 23]) {
      const b = familyMlmBatch(cfg, seed, 6, 8);
      const [rs, rd] = [await sparseTrain.trainStep(b), await denseTrain.trainStep(b)];
      assert.ok(Math.abs(rs.loss - rd.loss) <= 1e-5 * rd.loss, `step loss ${rs.loss} vs ${rd.loss}`);
    }
    const w = worstRelative(sparseTrain.getWeights(), denseTrain.getWeights());
    assert.ok(w.err <= 1e-5, `weights after 3 steps: ${w.name} differs by ${w.err}`);
    await Promise.all([sparseTrain.dispose(), denseTrain.dispose()]);
  });
}

test('maskedLmLoss: gradient of the mean over the labelled rows (ignored rows get none) matches finite differences, with dLoss ≠ 1', async () => {
  const labels = {
    name: 'labels',
    shape: ['masked'],
    dims: [5],
    data: BigInt64Array.from([3, -100, 0, 6, -100], BigInt),
  };
  const logits = { name: 'logits', shape: ['masked', 7], dims: [5, 7], data: randn(35, 41, 2) };
  const r = await gradCheck([logits, labels], (g, [l, y]) => maskedLmLoss(g, l, y), [], { maxCoords: 35 });
  assert.ok(r.worst < 1e-2, `worst ${r.worst}`);
  assert.equal(r.checked, 35);
});

/** The loss and all its gradients of the MLM model built as the step graph builds it; the value of every node. */
function mlmLossGraph(cfg: BertConfig, positions: boolean): { g: Graph; logits: Value } {
  const g = new Graph();
  const params = new Map(mlmParamSpecs(cfg).map((s) => [s.name, g.input(s.name, 'float32', s.shape, true)] as const));
  const inputs: EncoderInputs = {
    inputIds: g.input('input_ids', 'int64', ['batch', 'seq']),
    attentionMask: g.input('attention_mask', 'int64', ['batch', 'seq']),
    tokenTypeIds: g.input('token_type_ids', 'int64', ['batch', 'seq']),
    positions: positions ? g.input('masked_positions', 'int64', ['masked']) : undefined,
  };
  const labels = g.input('labels', 'int64', ['batch', 'seq']);
  const logits = mlmFamily(cfg).logits({ g, params, dropout: null }, inputs);
  const loss = maskedLmLoss(g, logits, inputs.positions ? labelsAt(g, labels, inputs.positions) : labels);
  g.gradients(loss, [...params.values()]);
  return { g, logits };
}

test('MLM step graph: with masked positions no tensor is [batch*seq, vocab] (scores, log-softmax and their gradients are [masked, vocab]); the dense head has them', () => {
  // A vocabulary size no other dimension has, so that every vocabulary-wide tensor is recognised.
  const cfg = tinyFamilyConfig('bert', { vocab_size: 97 });
  const vocabWide = (g: Graph): string[] =>
    g.nodes
      .flatMap((n) => n.outputs)
      .filter((v) => v.shape.includes(97) && v.shape.some((d) => typeof d === 'string' && /batch|seq/.test(d)))
      .map(String);
  const sparse = mlmLossGraph(cfg, true);
  assert.deepEqual(sparse.logits.shape, ['masked', 97]);
  assert.deepEqual(vocabWide(sparse.g), []);
  const dense = mlmLossGraph(cfg, false);
  assert.deepEqual(dense.logits.shape, ['batch*seq', 97]);
  assert.ok(
    vocabWide(dense.g).length >= 4,
    `the dense head's [batch*seq, vocab] tensors: ${vocabWide(dense.g).join(', ')}`,
  );
});

test('MLM forward(): the masked rows, in position order, of the every-position scores (a batch without labels); evaluation uses them', async () => {
  const cfg = tinyFamilyConfig('roberta');
  const engine = await engineFor(cfg, initWeights(mlmParamSpecs(cfg), 4, 0.3));
  const batch = familyMlmBatch(cfg, 8, 5, 7);
  const V = cfg.vocabSize;
  const masked = await engine.forward(batch);
  const every = await engine.forward({ ...batch, labels: undefined });
  const positions = [...labelledPositions(batch.labels!)].map(Number);
  assert.equal(every.length, batch.batchSize * batch.seqLen * V);
  assert.equal(masked.length, positions.length * V);
  const err = Math.max(
    ...positions.flatMap((p, r) => Array.from({ length: V }, (_, k) => Math.abs(masked[r * V + k] - every[p * V + k]))),
  );
  assert.ok(err <= 1e-5, `masked rows differ from the every-position scores by ${err}`);
  await assert.rejects(engine.forward({ ...batch, labels: batch.labels!.slice(1) }), /one label per token/);
  assert.equal(batch.labels!.filter((y) => y !== BigInt(IGNORE_LABEL)).length, positions.length);
  await engine.dispose();
});

test('MLM K-step Loop (stepsPerRun 2): stacks batches with as many masked tokens, runs others alone, and follows the one-step trajectory', async () => {
  const cfg = tinyFamilyConfig('bert');
  const weights = initWeights(mlmParamSpecs(cfg), 6, 0.3);
  const a = familyMlmBatch(cfg, 31, 4, 6);
  // Same masked count as a, other tokens and positions: the positions of a shifted by one row.
  const b: Batch = {
    ...familyMlmBatch(cfg, 32, 4, 6),
    labels: BigInt64Array.from({ length: 24 }, (_, i) => a.labels![(i + 6) % 24]),
  };
  const c = [31, 33, 34, 35, 36]
    .map((s) => familyMlmBatch(cfg, s, 4, 6))
    .find((x) => maskedCount(x) !== maskedCount(a))!;
  assert.ok(c, 'a batch with another masked count');
  assert.equal(maskedCount(a), maskedCount(b));
  const batches = [a, b, c, a];
  const looped = await engineFor(cfg, weights, { stepsPerRun: 2 });
  const single = await engineFor(cfg, weights);
  const rl = await looped.trainSteps(batches);
  const rs: Awaited<ReturnType<typeof single.trainStep>>[] = [];
  for (const x of batches) rs.push(await single.trainStep(x));
  assert.deepEqual(
    rl.map((r) => r.step),
    [1, 2, 3, 4],
  );
  const lossErr = Math.max(...rl.map((r, i) => Math.abs(r.loss - rs[i].loss)));
  const w = worstRelative(looped.getWeights(), single.getWeights());
  assert.ok(lossErr <= 1e-5, `losses differ by ${lossErr}`);
  assert.ok(w.err <= 1e-5, `weights: ${w.name} differs by ${w.err}`);
  await Promise.all([looped.dispose(), single.dispose()]);
});

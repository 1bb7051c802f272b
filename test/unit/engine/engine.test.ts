import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { DataError, ModelError } from '../../../src/core/errors';
import { buildEnsembleInferenceModel, buildInferenceModel } from '../../../src/core/model/export-onnx';
import { bertClassifierParamSpecs, initWeights, Weights } from '../../../src/core/model/params';
import { EngineOptions, Hyper, createTrainEngine } from '../../../src/core/train/engine';
import { bertFamily } from '../../../src/core/model/bert';
import { buildStepGraph, STEP_IO } from '../../../src/core/train/step-graph';
import { worstStepGradientError } from '../../helpers/step-gradcheck';
import { HYPER, makeBatch, tinyConfig } from './fixtures';

const config = tinyConfig();
const specs = bertClassifierParamSpecs(config, 2);
const weights0 = (seed = 1, std = 0.02): Weights => initWeights(specs, seed, std);

function engine(overrides: Partial<EngineOptions> = {}) {
  return createTrainEngine({
    config,
    numLabels: 2,
    weights: weights0(),
    hyper: HYPER,
    device: 'cpu',
    dropout: false,
    seed: 1,
    threads: 1,
    ...overrides,
  });
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

test('whole tiny model: analytic gradients match finite differences (with padding and token types)', async () => {
  const built = buildStepGraph({
    family: bertFamily(config),
    numLabels: 2,
    mode: 'grads',
    dropout: false,
    adam: HYPER,
    maxGradNorm: 1,
  });
  const w = weights0(7, 0.5); // large weights so gradients are far from zero
  const batch = makeBatch(3, 4, 6);
  const { worst, at: worstAt } = await worstStepGradientError(built, w, batch, {
    class_weights: new ort.Tensor('float32', Float32Array.of(1, 1), [2]),
  });
  assert.ok(worst < 2e-2, `worst relative error ${worst} at ${worstAt}`);
});

test('one and two AdamW steps equal a hand computation in JS (clipping, decoupled decay, bias correction)', async () => {
  const hyper: Hyper = { ...HYPER, lr: 1e-2, weightDecay: 0.1, maxGradNorm: 0.05, warmupSteps: 0, totalSteps: 4 };
  const e = await engine({ hyper });
  const m = new Map(specs.map((s) => [s.name, new Float64Array(s.shape.reduce((a, b) => a * b, 1))]));
  const v = new Map(specs.map((s) => [s.name, new Float64Array(s.shape.reduce((a, b) => a * b, 1))]));
  let expected: Map<string, Float64Array> = new Map(
    [...e.getWeights()].map(([k, t]) => [k, Float64Array.from(t.data)]),
  );
  for (let t = 1; t <= 2; t++) {
    const batch = makeBatch(10 + t);
    const { grads } = await e.lossAndGradients(batch);
    const norm = Math.sqrt([...grads.values()].reduce((a, g) => a + g.data.reduce((s, x) => s + x * x, 0), 0));
    const coef = Math.min(1, hyper.maxGradNorm / (norm + 1e-6));
    const lr = (hyper.lr * (hyper.totalSteps - (t - 1))) / hyper.totalSteps; // no warmup: linear decay from step 0
    const next = new Map<string, Float64Array>();
    for (const s of specs) {
      const p = Float64Array.from(expected.get(s.name)!);
      const g = grads.get(s.name)!.data;
      const mm = m.get(s.name)!;
      const vv = v.get(s.name)!;
      for (let i = 0; i < p.length; i++) {
        const gi = g[i] * coef;
        if (s.decay) p[i] *= 1 - lr * hyper.weightDecay;
        mm[i] = 0.9 * mm[i] + 0.1 * gi;
        vv[i] = 0.999 * vv[i] + 0.001 * gi * gi;
        const denom = Math.sqrt(vv[i]) / Math.sqrt(1 - 0.999 ** t) + hyper.eps;
        p[i] -= (lr / (1 - 0.9 ** t)) * (mm[i] / denom);
      }
      next.set(s.name, p);
    }
    expected = next;
    const r = await e.trainStep(batch);
    assert.equal(r.lr, lr);
    assert.ok(Math.abs(r.gradNorm - norm) < 1e-4 * norm, `grad norm ${r.gradNorm} vs ${norm}`);
  }
  let worst = 0;
  for (const [name, t] of e.getWeights()) {
    const exp = expected.get(name)!;
    t.data.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - exp[i]))));
  }
  assert.ok(worst < 2e-6, `max |engine - hand AdamW| = ${worst}`);
  const state = e.getOptimizerState();
  assert.equal(state.step, 2);
  assert.ok(maxAbsDiff(state.m.get('classifier.weight')!.data, Float32Array.from(m.get('classifier.weight')!)) < 1e-7);
  await e.dispose();
});

test('a tiny model learns "label = token 7 appears" and the loss goes near zero', async () => {
  const e = await engine({
    config: tinyConfig({ hidden_size: 32, num_attention_heads: 2, intermediate_size: 64 }),
    weights: initWeights(bertClassifierParamSpecs(tinyConfig({ hidden_size: 32, intermediate_size: 64 }), 2), 3, 0.02),
    hyper: { ...HYPER, lr: 3e-3, totalSteps: 400 },
  });
  const losses: number[] = [];
  for (let step = 0; step < 400; step++) losses.push((await e.trainStep(makeBatch(1000 + step, 16, 8))).loss);
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  assert.ok(mean(losses.slice(0, 10)) > 0.6, `start ${mean(losses.slice(0, 10))}`);
  assert.ok(mean(losses.slice(-20)) < 0.05, `end ${mean(losses.slice(-20))}`);
  await e.dispose();
});

test('dropout off: training loss equals the eval loss computed from forward() logits, and runs repeat exactly', async () => {
  const batch = makeBatch(5);
  const a = await engine();
  const logits = await a.forward(batch);
  let ce = 0;
  for (let b = 0; b < batch.batchSize; b++) {
    const [l0, l1] = [logits[2 * b], logits[2 * b + 1]];
    const mx = Math.max(l0, l1);
    const lse = mx + Math.log(Math.exp(l0 - mx) + Math.exp(l1 - mx));
    ce += lse - logits[2 * b + Number(batch.labels![b])];
  }
  ce /= batch.batchSize;
  const first = await a.trainStep(batch);
  assert.ok(Math.abs(first.loss - ce) < 1e-6, `train ${first.loss} vs eval ${ce}`);
  const b = await engine();
  const second = await b.trainStep(batch);
  assert.equal(second.loss, first.loss);
  await a.dispose();
  await b.dispose();
});

async function losses(opts: Partial<EngineOptions>, steps = 4): Promise<number[]> {
  const e = await engine(opts);
  const out: number[] = [];
  for (let i = 0; i < steps; i++) out.push((await e.trainStep(makeBatch(20 + i))).loss);
  await e.dispose();
  return out;
}

test('dropout on: differs from off; same seed same losses; different seed different losses (opt level all)', async () => {
  const off = await losses({ dropout: false });
  const on1 = await losses({ dropout: true, seed: 1 });
  const on1again = await losses({ dropout: true, seed: 1 });
  const on2 = await losses({ dropout: true, seed: 2 });
  assert.notDeepEqual(on1, off);
  assert.deepEqual(on1, on1again);
  assert.notDeepEqual(on1, on2);
});

test('resuming from weights + optimizer state reproduces an uninterrupted run (dropout on)', async () => {
  const full = await losses({ dropout: true, seed: 9 }, 4);
  const first = await engine({ dropout: true, seed: 9 });
  await first.trainStep(makeBatch(20));
  await first.trainStep(makeBatch(21));
  const weights = first.getWeights();
  const state = first.getOptimizerState();
  await first.dispose();
  const resumed = await engine({ dropout: true, seed: 9, weights });
  resumed.setOptimizerState(state);
  const rest = [(await resumed.trainStep(makeBatch(22))).loss, (await resumed.trainStep(makeBatch(23))).loss];
  assert.deepEqual(rest, full.slice(2));
  assert.equal(resumed.step, 4);
  await resumed.dispose();
});

test('K-step Loop equals K single steps at opt level basic (with dropout)', async () => {
  const batches = [0, 1, 2, 3, 4, 5].map((i) => makeBatch(40 + i));
  const hyper = { ...HYPER, warmupSteps: 2, totalSteps: 6 };
  const single = await engine({ dropout: true, graphOptimizationLevel: 'basic', hyper });
  const a = [];
  for (const b of batches) a.push(await single.trainStep(b));
  const looped = await engine({ dropout: true, graphOptimizationLevel: 'basic', hyper, stepsPerRun: 3 });
  const b = await looped.trainSteps(batches);
  assert.deepEqual(
    b.map((r) => r.step),
    [1, 2, 3, 4, 5, 6],
  );
  assert.deepEqual(
    b.map((r) => r.lr),
    a.map((r) => r.lr),
  );
  for (let i = 0; i < 6; i++) {
    assert.ok(Math.abs(a[i].loss - b[i].loss) <= 1e-5, `step ${i + 1}: ${a[i].loss} vs ${b[i].loss}`);
    assert.ok(Math.abs(a[i].gradNorm - b[i].gradNorm) <= 1e-5, `grad norm step ${i + 1}`);
  }
  const wa = single.getWeights().get('bert.encoder.layer.1.output.dense.weight')!.data;
  const wb = looped.getWeights().get('bert.encoder.layer.1.output.dense.weight')!.data;
  assert.ok(maxAbsDiff(wa, wb) <= 1e-5);
  await single.dispose();
  await looped.dispose();
});

test('exported model.onnx logits equal engine.forward logits, for another batch size and length too', async () => {
  const e = await engine({ hyper: { ...HYPER, lr: 1e-2 } });
  await e.trainStep(makeBatch(1));
  const bytes = buildInferenceModel(config, 2, e.getWeights());
  const s = await ort.InferenceSession.create(bytes);
  assert.deepEqual([...s.inputNames].sort(), ['attention_mask', 'input_ids', 'token_type_ids']);
  assert.deepEqual(s.outputNames, ['logits']);
  for (const [B, S] of [
    [8, 8],
    [3, 5],
  ]) {
    const batch = makeBatch(2, B, S);
    const out = await s.run({
      input_ids: new ort.Tensor('int64', batch.inputIds, [B, S]),
      attention_mask: new ort.Tensor('int64', batch.attentionMask, [B, S]),
      token_type_ids: new ort.Tensor('int64', batch.tokenTypeIds, [B, S]),
    });
    const mine = await e.forward(batch);
    assert.equal(mine.length, B * 2);
    assert.ok(maxAbsDiff(out.logits.data as Float32Array, mine) < 1e-5);
  }
  await s.release();
  await e.dispose();
});

test("an ensemble's model.onnx gives the log of its members' mean probabilities", async () => {
  // Wide initial weights, so that the members' probabilities differ clearly from each other.
  const members = [weights0(1, 0.5), weights0(2, 0.5), weights0(3, 0.5)];
  const [B, S] = [4, 6];
  const batch = makeBatch(2, B, S);
  const feeds = {
    input_ids: new ort.Tensor('int64', batch.inputIds, [B, S]),
    attention_mask: new ort.Tensor('int64', batch.attentionMask, [B, S]),
    token_type_ids: new ort.Tensor('int64', batch.tokenTypeIds, [B, S]),
  };
  const run = async (bytes: Uint8Array): Promise<Float32Array> => {
    const s = await ort.InferenceSession.create(bytes);
    const logits = (await s.run(feeds)).logits.data as Float32Array;
    await s.release();
    return logits;
  };
  const probabilities = (logits: Float32Array): Float32Array =>
    logits.map((x, i) => {
      const row = logits.subarray(i - (i % 2), i - (i % 2) + 2);
      const max = Math.max(...row);
      return Math.exp(x - max) / row.reduce((sum, y) => sum + Math.exp(y - max), 0);
    });
  const single = await Promise.all(members.map((w) => run(buildInferenceModel(config, 2, w)).then(probabilities)));
  const mean = single[0].map((_, i) => (single[0][i] + single[1][i] + single[2][i]) / 3);
  const ensemble = await run(buildEnsembleInferenceModel(config, 2, members));
  assert.ok(maxAbsDiff(ensemble.map(Math.exp), mean) < 1e-5);
  assert.ok(maxAbsDiff(single[0], mean) > 1e-3, 'the members disagree, so the mean is not any one of them');
});

test('class weights change the loss to the weighted mean', async () => {
  const batch = makeBatch(6);
  const plain = await engine();
  const weighted = await engine({ classWeights: Float32Array.of(1, 3) });
  const lp = (await plain.lossAndGradients(batch)).loss;
  const lw = (await weighted.lossAndGradients(batch)).loss;
  // per-example losses from forward logits, weighted by hand
  const logits = await plain.forward(batch);
  let num = 0;
  let den = 0;
  for (let b = 0; b < batch.batchSize; b++) {
    const y = Number(batch.labels![b]);
    const lse = Math.log(Math.exp(logits[2 * b]) + Math.exp(logits[2 * b + 1]));
    const w = y === 1 ? 3 : 1;
    num += w * (lse - logits[2 * b + y]);
    den += w;
  }
  assert.ok(Math.abs(lw - num / den) < 1e-6, `${lw} vs ${num / den}`);
  assert.notEqual(lw, lp);
  await plain.dispose();
  await weighted.dispose();
});

test('bad inputs give typed errors that name the problem', async () => {
  const missing = weights0();
  missing.delete('bert.pooler.dense.weight');
  await assert.rejects(
    engine({ weights: missing }),
    (e: unknown) => e instanceof ModelError && /bert\.pooler\.dense\.weight/.test(e.message),
  );
  const wrong = weights0();
  wrong.set('classifier.weight', { shape: [3, 16], data: new Float32Array(48) });
  await assert.rejects(engine({ weights: wrong }), /shape \[3, 16\].*\[2, 16\]/);
  const e = await engine();
  const batch = makeBatch(1);
  batch.inputIds[3] = 50n;
  await assert.rejects(
    e.trainStep(batch),
    (err: unknown) => err instanceof DataError && /Token id 50/.test(err.message),
  );
  const unlabelled = { ...makeBatch(1), labels: undefined };
  await assert.rejects(e.trainStep(unlabelled), /no labels/);
  await assert.rejects(e.forward(makeBatch(1, 2, 17)), /longer than the model's 16 positions/);
  await e.dispose();
});

test('a GPU device that is not available falls back to CPU with the reason logged, never silently', async () => {
  for (const device of ['cuda', 'webgpu', 'auto'] as const) {
    const lines: string[] = [];
    const e = await engine({ device, log: (l) => lines.push(l) });
    if (e.device === 'cpu') {
      assert.ok(
        lines.some((l) => /not using cuda|cuda failed/.test(l)) || device === 'webgpu',
        `${device}: ${lines.join(' | ')}`,
      );
      assert.ok(lines.some((l) => /running on cpu/.test(l)));
      if (device !== 'cuda')
        assert.ok(
          lines.some((l) => /webgpu/.test(l)),
          `${device}: ${lines.join(' | ')}`,
        );
    }
    assert.ok((await e.trainStep(makeBatch(1))).loss > 0);
    await e.dispose();
  }
});

test('fused QKV (one Gemm on concatenated weights) gives the same loss and gradients as three Gemms', async () => {
  const batch = makeBatch(8, 4, 6);
  const run = async (fusedQkv: boolean) => {
    const built = buildStepGraph({
      family: bertFamily(config, { fusedQkv }),
      numLabels: 2,
      mode: 'grads',
      dropout: false,
      adam: HYPER,
      maxGradNorm: 1,
    });
    const s = await ort.InferenceSession.create(built.bytes, { graphOptimizationLevel: 'basic' });
    const w = weights0(4, 0.3);
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', batch.inputIds, [4, 6]),
      attention_mask: new ort.Tensor('int64', batch.attentionMask, [4, 6]),
      token_type_ids: new ort.Tensor('int64', batch.tokenTypeIds, [4, 6]),
      labels: new ort.Tensor('int64', batch.labels!, [4]),
      class_weights: new ort.Tensor('float32', Float32Array.of(1, 1), [2]),
    };
    for (const sp of specs) feeds[sp.name] = new ort.Tensor('float32', w.get(sp.name)!.data, sp.shape);
    const out = await s.run(feeds);
    await s.release();
    return out;
  };
  const [plain, fused] = [await run(false), await run(true)];
  assert.ok(Math.abs((plain.loss.data[0] as number) - (fused.loss.data[0] as number)) < 1e-6);
  for (const name of [
    'bert.encoder.layer.0.attention.self.key.weight',
    'bert.encoder.layer.1.attention.self.value.bias',
    'bert.embeddings.word_embeddings.weight',
  ]) {
    const d = maxAbsDiff(
      plain[STEP_IO.grad(name)].data as Float32Array,
      fused[STEP_IO.grad(name)].data as Float32Array,
    );
    assert.ok(d < 1e-5, `${name}: ${d}`);
  }
});

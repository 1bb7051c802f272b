/**
 * Finite-difference gradient check shared by the op tests (no tests in this file).
 * loss = sum(op(inputs) * R) with a fixed random R, so every output element gets a different weight; the analytic
 * gradient from Graph.gradients is compared with central differences in float32 on small tensors.
 */
import * as ort from 'onnxruntime-node';
import { Shape } from '../../../src/core/graph/dims';
import { Graph, Value } from '../../../src/core/graph/graph';
import { mul } from '../../../src/core/graph/ops/elementwise';
import { sumAll } from '../../../src/core/graph/ops/reduce';
import { toModelBytes } from '../../../src/core/graph/serialize';
import { seededRandom } from '../../../src/core/model/params';

export interface CheckInput {
  name: string;
  /** Graph shape (may be symbolic) and the concrete dims fed at runtime. */
  shape: Shape;
  dims: number[];
  data: Float32Array | BigInt64Array;
  differentiable?: boolean;
}

/** The project's seeded PRNG (mulberry32), under the short name these tests use. */
export const rng = seededRandom;

export function randn(n: number, seed: number, std = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()) * std);
}

const toTensor = (x: CheckInput, data = x.data): ort.Tensor =>
  data instanceof BigInt64Array ? new ort.Tensor('int64', data, x.dims) : new ort.Tensor('float32', data, x.dims);

/** Returns the worst relative error over all checked coordinates. */
export async function gradCheck(
  inputs: CheckInput[],
  build: (g: Graph, values: Value[]) => Value,
  outDims: number[],
  opts: { eps?: number; maxCoords?: number; seed?: number } = {},
): Promise<{ worst: number; checked: number }> {
  const g = new Graph();
  const values = inputs.map((x) =>
    g.input(
      x.name,
      x.data instanceof BigInt64Array ? 'int64' : 'float32',
      x.shape,
      x.differentiable !== false && x.data instanceof Float32Array,
    ),
  );
  const out = build(g, values);
  const probe = g.input('probe', 'float32', out.shape);
  const loss = sumAll(g, mul(g, out, probe));
  g.output(loss, 'loss');
  const wrt = values.filter((v) => v.requiresGrad);
  g.gradients(loss, wrt).forEach((gr, i) => g.output(gr, `grad_${wrt[i].name}`));
  const session = await ort.InferenceSession.create(toModelBytes(g), {
    graphOptimizationLevel: 'basic',
    intraOpNumThreads: 1,
  });
  const probeData = randn(
    outDims.reduce((a, b) => a * b, 1),
    opts.seed ?? 11,
  );
  const feeds = (override?: { name: string; data: Float32Array }): Record<string, ort.Tensor> => {
    const f: Record<string, ort.Tensor> = { probe: new ort.Tensor('float32', probeData, outDims) };
    for (const x of inputs) f[x.name] = toTensor(x, override && override.name === x.name ? override.data : x.data);
    return f;
  };
  const base = await session.run(feeds());
  const eps = opts.eps ?? 1e-2;
  const pick = rng(opts.seed ?? 5);
  let worst = 0;
  let checked = 0;
  for (const v of wrt) {
    const x = inputs.find((i) => i.name === v.name)!;
    const data = x.data as Float32Array;
    const analytic = base[`grad_${v.name}`].data as Float32Array;
    const max = opts.maxCoords ?? 12;
    const coords =
      data.length <= max ? [...data.keys()] : Array.from({ length: max }, () => Math.floor(pick() * data.length));
    for (const i of coords) {
      const plus = Float32Array.from(data);
      plus[i] += eps;
      const minus = Float32Array.from(data);
      minus[i] -= eps;
      const lp = (await session.run(feeds({ name: x.name, data: plus }))).loss.data[0] as number;
      const lm = (await session.run(feeds({ name: x.name, data: minus }))).loss.data[0] as number;
      const fd = (lp - lm) / (2 * eps);
      const err = Math.abs(fd - analytic[i]) / Math.max(1e-2, Math.abs(fd) + Math.abs(analytic[i]));
      worst = Math.max(worst, err);
      checked++;
    }
  }
  await session.release();
  return { worst, checked };
}

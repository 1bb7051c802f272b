/** Dense layers and batched matrix products. */
import { GraphError } from '../../errors';
import { dimProduct, formatShape, sameDim, sameShape } from '../dims';
import { Graph, Value, expectDType, expectRank } from '../graph';
import { reduce, reshapeTo, transposeRaw } from '../raw';

/**
 * y = x W^T + b with W in torch layout [out, in]; x may have any leading dims ([batch, seq, in] is flattened to 2-D
 * so one Gemm does the work).
 * Backward: dx = dy W,  dW = dy^T x,  db = sum of dy over rows.
 */
export function linear(g: Graph, x: Value, W: Value, b: Value | null): Value {
  expectDType('linear', x, 'float32');
  expectRank('linear', W, 2);
  const [N, K] = W.shape;
  const lead = x.shape.slice(0, -1);
  if (x.shape.length < 1 || !sameDim(x.shape[x.shape.length - 1], K)) {
    throw new GraphError(
      `linear: input ${x.toString()} does not match weight ${W.toString()} (last dim must be ${K}).`,
    );
  }
  if (b && !sameShape(b.shape, [N])) throw new GraphError(`linear: bias ${b.toString()} must have shape [${N}].`);
  const M = dimProduct(lead);
  const x2 = reshapeTo(g, x, [M, K]);
  const y2 = g.node1('Gemm', b ? [x2, W, b] : [x2, W], { dtype: 'float32', shape: [M, N] }, { transB: 1 });
  const y = reshapeTo(g, y2, [...lead, N]);
  g.record([x, W, b], [y], ([dy]) => {
    const dy2 = reshapeTo(g, dy!, [M, N]);
    const dx = x.requiresGrad
      ? reshapeTo(g, g.node1('Gemm', [dy2, W], { dtype: 'float32', shape: [M, K] }), x.shape)
      : null;
    const dW = W.requiresGrad ? g.node1('Gemm', [dy2, x2], { dtype: 'float32', shape: [N, K] }, { transA: 1 }) : null;
    const db = b && b.requiresGrad ? reduce(g, 'ReduceSum', dy2, [0], false) : null;
    return [dx, dW, db];
  });
  return y;
}

/**
 * Batched matrix product over identical leading dims: [..., M, K] x [..., K, N] -> [..., M, N].
 * Backward: da = dy b^T,  db = a^T dy.
 */
export function matmul(g: Graph, a: Value, b: Value): Value {
  expectDType('matmul', a, 'float32');
  expectDType('matmul', b, 'float32');
  const r = a.shape.length;
  if (
    r < 2 ||
    b.shape.length !== r ||
    !sameShape(a.shape.slice(0, -2), b.shape.slice(0, -2)) ||
    !sameDim(a.shape[r - 1], b.shape[r - 2])
  ) {
    throw new GraphError(`matmul: cannot multiply ${formatShape(a.shape)} by ${formatShape(b.shape)}.`);
  }
  const y = g.node1('MatMul', [a, b], { dtype: 'float32', shape: [...a.shape.slice(0, -1), b.shape[r - 1]] });
  const swapLast = [...Array(r - 2).keys(), r - 1, r - 2];
  g.record([a, b], [y], ([dy]) => [
    a.requiresGrad
      ? g.node1('MatMul', [dy!, transposeRaw(g, b, swapLast)], { dtype: 'float32', shape: a.shape })
      : null,
    b.requiresGrad
      ? g.node1('MatMul', [transposeRaw(g, a, swapLast), dy!], { dtype: 'float32', shape: b.shape })
      : null,
  ]);
  return y;
}

/**
 * y = x W + b with W stored [in, out] (GPT-2's Conv1D layout, so its checkpoints need no transpose); leading dims of
 * x are flattened as in linear.
 * Backward: dx = dy W^T,  dW = x^T dy,  db = sum of dy over rows.
 */
export function conv1d(g: Graph, x: Value, W: Value, b: Value | null): Value {
  expectDType('conv1d', x, 'float32');
  expectRank('conv1d', W, 2);
  const [K, N] = W.shape;
  const lead = x.shape.slice(0, -1);
  if (x.shape.length < 1 || !sameDim(x.shape[x.shape.length - 1], K)) {
    throw new GraphError(
      `conv1d: input ${x.toString()} does not match weight ${W.toString()} (last dim must be ${K}).`,
    );
  }
  if (b && !sameShape(b.shape, [N])) throw new GraphError(`conv1d: bias ${b.toString()} must have shape [${N}].`);
  const M = dimProduct(lead);
  const x2 = reshapeTo(g, x, [M, K]);
  const y2 = g.node1('Gemm', b ? [x2, W, b] : [x2, W], { dtype: 'float32', shape: [M, N] });
  const y = reshapeTo(g, y2, [...lead, N]);
  g.record([x, W, b], [y], ([dy]) => {
    const dy2 = reshapeTo(g, dy!, [M, N]);
    const dx = x.requiresGrad
      ? reshapeTo(g, g.node1('Gemm', [dy2, W], { dtype: 'float32', shape: [M, K] }, { transB: 1 }), x.shape)
      : null;
    const dW = W.requiresGrad ? g.node1('Gemm', [x2, dy2], { dtype: 'float32', shape: [K, N] }, { transA: 1 }) : null;
    const db = b && b.requiresGrad ? reduce(g, 'ReduceSum', dy2, [0], false) : null;
    return [dx, dW, db];
  });
  return y;
}

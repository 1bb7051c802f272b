/**
 * Non-differentiable building blocks with shape inference: what forward ops and backward passes are made of.
 * Every function checks its inputs and throws GraphError with both shapes when they do not fit.
 */
import { GraphError } from '../errors';
import { Dim, Shape, dimProduct, formatShape, sameDim, sameShape } from './dims';
import { DType, Graph, Value, expectDType } from './graph';

export function broadcastShape(op: string, a: Shape, b: Shape): Dim[] {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (sameDim(x, y) || y === 1) out.push(x);
    else if (x === 1) out.push(y);
    else throw new GraphError(`${op}: cannot broadcast ${formatShape(a)} with ${formatShape(b)}.`);
  }
  return out;
}

export type BinaryOp = 'Add' | 'Sub' | 'Mul' | 'Div' | 'Pow' | 'Mod';

export function binary(g: Graph, op: BinaryOp, a: Value, b: Value): Value {
  if (a.dtype !== b.dtype) throw new GraphError(`${op}: dtypes differ: ${a.toString()} vs ${b.toString()}.`);
  return g.node1(
    op,
    [a, b],
    { dtype: a.dtype, shape: broadcastShape(op, a.shape, b.shape) },
    op === 'Mod' ? { fmod: 0 } : {},
  );
}

export function unary(g: Graph, op: string, x: Value, domain = ''): Value {
  return g.node1(op, [x], { dtype: x.dtype, shape: x.shape }, {}, domain);
}

export function scaleBy(g: Graph, x: Value, c: number): Value {
  return binary(g, 'Mul', x, g.constFloat(c));
}

export function cast(g: Graph, x: Value, to: DType): Value {
  const code = { float32: 1, int32: 6, int64: 7, uint32: 12, bool: 9 }[to];
  return g.node1('Cast', [x], { dtype: to, shape: x.shape }, { to: code });
}

export type ReduceOp = 'ReduceSum' | 'ReduceMean' | 'ReduceSumSquare' | 'ReduceMax' | 'ReduceProd';

/** Reduce over `axes` (negative allowed); opset 18 takes axes as an input. */
export function reduce(g: Graph, op: ReduceOp, x: Value, axes: number[], keepdims: boolean): Value {
  const ax = axes.map((a) => g.axis(x, a, op));
  const shape = keepdims ? x.shape.map((d, i) => (ax.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !ax.includes(i));
  return g.node1(op, [x, g.constInt64(ax)], { dtype: x.dtype, shape }, { keepdims: keepdims ? 1 : 0 });
}

/** Reshape to `shape`, whose element count must match (symbolically) that of x. */
export function reshapeTo(g: Graph, x: Value, shape: Shape): Value {
  if (dimProduct(x.shape) !== dimProduct(shape)) {
    throw new GraphError(`Reshape: ${x.toString()} has a different number of elements than ${formatShape(shape)}.`);
  }
  if (sameShape(x.shape, shape)) return x;
  return g.node1('Reshape', [x, g.shapeTensor(shape)], { dtype: x.dtype, shape });
}

export function transposeRaw(g: Graph, x: Value, perm: number[]): Value {
  if (perm.length !== x.shape.length || [...perm].sort().some((p, i) => p !== i)) {
    throw new GraphError(`Transpose: perm [${perm.join(', ')}] does not fit ${x.toString()}.`);
  }
  return g.node1('Transpose', [x], { dtype: x.dtype, shape: perm.map((p) => x.shape[p]) }, { perm });
}

/** Sum a broadcast gradient back down to the shape of the operand it came from. */
export function unbroadcast(g: Graph, grad: Value, target: Shape): Value {
  if (sameShape(grad.shape, target)) return grad;
  const lead = grad.shape.length - target.length;
  let out = grad;
  if (lead > 0) out = reduce(g, 'ReduceSum', out, [...Array(lead).keys()], false);
  const ones = target.flatMap((d, i) => (d === 1 && out.shape[i] !== 1 ? [i] : []));
  if (ones.length) out = reduce(g, 'ReduceSum', out, ones, true);
  if (!sameShape(out.shape, target)) {
    throw new GraphError(`unbroadcast: cannot reduce ${formatShape(grad.shape)} to ${formatShape(target)}.`);
  }
  return out;
}

export function zerosLike(g: Graph, x: Value): Value {
  expectDType('zerosLike', x, 'float32');
  const shape = g.node1('Shape', [x], { dtype: 'int64', shape: [x.shape.length] });
  return g.node1('ConstantOfShape', [shape], { dtype: 'float32', shape: x.shape });
}

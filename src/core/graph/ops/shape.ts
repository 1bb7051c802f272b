/** Ops that only move elements around: reshape, transpose, picking one index of an axis, concat and split, gathering rows. */
import { GraphError } from '../../errors';
import { Shape, sameDim } from '../dims';
import { Graph, Value, expectDType, expectRank } from '../graph';
import { binary, reshapeTo, transposeRaw, zerosLike } from '../raw';

/** y = x viewed as `shape`;  dx = dy viewed as x's shape. */
export function reshape(g: Graph, x: Value, shape: Shape): Value {
  const y = reshapeTo(g, x, shape);
  if (y === x) return x;
  g.record([x], [y], ([dy]) => [reshapeTo(g, dy!, x.shape)]);
  return y;
}

/** y = x with axes permuted;  dx = dy permuted back by the inverse permutation. */
export function transpose(g: Graph, x: Value, perm: number[]): Value {
  const y = transposeRaw(g, x, perm);
  const inverse: number[] = [];
  perm.forEach((p, i) => (inverse[p] = i));
  g.record([x], [y], ([dy]) => [transposeRaw(g, dy!, inverse)]);
  return y;
}

/**
 * y = x[..., index, ...] along `axis` (the axis disappears), e.g. the [CLS] vector of [batch, seq, hidden].
 * Backward: dy put back at `index`, zeros elsewhere (Pad, whose end padding is read at runtime for symbolic dims).
 */
export function selectIndex(g: Graph, x: Value, axis: number, index: number): Value {
  const a = g.axis(x, axis, 'selectIndex');
  const outShape = x.shape.filter((_, i) => i !== a);
  const y = g.node1('Gather', [x, g.constInt64([index], [])], { dtype: x.dtype, shape: outShape }, { axis: a });
  g.record([x], [y], ([dy]) => {
    const kept: Shape = x.shape.map((d, i) => (i === a ? 1 : d));
    const dy1 = reshapeTo(g, dy!, kept);
    const rank = x.shape.length;
    const begins = Array.from({ length: rank }, (_, i) => (i === a ? index : 0));
    const endsBefore = Array.from({ length: a }, () => 0);
    const endsAfter = Array.from({ length: rank - a - 1 }, () => 0);
    const d = x.shape[a];
    const endAtAxis =
      typeof d === 'number'
        ? g.constInt64([d - index - 1])
        : binary(g, 'Sub', g.dimValue(d), g.constInt64([index + 1]));
    const pieces = [g.constInt64([...begins, ...endsBefore]), endAtAxis];
    if (endsAfter.length) pieces.push(g.constInt64(endsAfter));
    const pads = g.node1('Concat', pieces, { dtype: 'int64', shape: [2 * rank] }, { axis: 0 });
    return [g.node1('Pad', [dy1, pads], { dtype: x.dtype, shape: x.shape }, { mode: 'constant' })];
  });
  return y;
}

function staticSizeAlong(op: string, v: Value, axis: number): number {
  const d = v.shape[axis];
  if (typeof d !== 'number') throw new GraphError(`${op}: ${v.toString()} needs a static size along axis ${axis}.`);
  return d;
}

/** y = the inputs joined along `axis` (static sizes there);  dx_i = the matching slice of dy (Split). */
export function concat(g: Graph, xs: Value[], axis: number): Value {
  const a = g.axis(xs[0], axis, 'concat');
  const sizes = xs.map((x) => staticSizeAlong('concat', x, a));
  for (const x of xs) {
    if (
      x.shape.length !== xs[0].shape.length ||
      x.shape.some((d, i) => i !== a && !sameDim(d, xs[0].shape[i])) ||
      x.dtype !== xs[0].dtype
    ) {
      throw new GraphError(`concat: ${x.toString()} does not fit ${xs[0].toString()} along axis ${axis}.`);
    }
  }
  const shape = xs[0].shape.map((d, i) => (i === a ? sizes.reduce((s, n) => s + n, 0) : d));
  const y = g.node1('Concat', xs, { dtype: xs[0].dtype, shape }, { axis: a });
  g.record(xs, [y], ([dy]) =>
    g.node(
      'Split',
      [dy!, g.constInt64(sizes)],
      xs.map((x) => ({ dtype: x.dtype, shape: x.shape })),
      { axis: a },
    ),
  );
  return y;
}

/** Split along `axis` into pieces of `sizes`;  dx = the pieces' gradients joined again (zeros for unused pieces). */
export function split(g: Graph, x: Value, axis: number, sizes: number[]): Value[] {
  const a = g.axis(x, axis, 'split');
  if (sizes.reduce((s, n) => s + n, 0) !== staticSizeAlong('split', x, a)) {
    throw new GraphError(`split: sizes [${sizes.join(', ')}] do not add up to axis ${axis} of ${x.toString()}.`);
  }
  const ys = g.node(
    'Split',
    [x, g.constInt64(sizes)],
    sizes.map((n) => ({ dtype: x.dtype, shape: x.shape.map((d, i) => (i === a ? n : d)) })),
    { axis: a },
  );
  g.record([x], ys, (dys) => [
    g.node1(
      'Concat',
      dys.map((d, i) => d ?? zerosLike(g, ys[i])),
      { dtype: x.dtype, shape: x.shape },
      { axis: a },
    ),
  ]);
  return ys;
}

/**
 * y = x[idx, :]: the rows `idx` (int64 [n], in that order, repeats allowed) of a [rows, width] x, e.g. the masked
 * positions of the flattened [batch*seq, hidden] states, so that a head runs on those rows only.
 * Backward: dx = zeros of x's (runtime) shape with row i of dy added into row idx[i]. ScatterElements with reduction
 * 'add' over idx broadcast along the row, so repeated rows accumulate (not ScatterND, which loses updates of repeated
 * indices on several threads: see embedding.ts).
 */
export function gatherRows(g: Graph, x: Value, idx: Value): Value {
  expectRank('gatherRows', x, 2);
  expectDType('gatherRows', x, 'float32');
  expectRank('gatherRows', idx, 1);
  expectDType('gatherRows', idx, 'int64');
  const [n] = idx.shape;
  const width = x.shape[1];
  const y = g.node1('Gather', [x, idx], { dtype: x.dtype, shape: [n, width] }, { axis: 0 });
  // x's runtime shape is read in the forward pass, so that x itself need not live on until the backward pass.
  const xShape = x.requiresGrad ? g.node1('Shape', [x], { dtype: 'int64', shape: [2] }) : null;
  g.record([x, idx], [y], ([dy]) => {
    const zeros = g.node1('ConstantOfShape', [xShape!], { dtype: x.dtype, shape: x.shape });
    const index = g.node1(
      'Expand',
      [reshapeTo(g, idx, [n, 1]), g.node1('Shape', [dy!], { dtype: 'int64', shape: [2] })],
      { dtype: 'int64', shape: [n, width] },
    );
    return [
      g.node1(
        'ScatterElements',
        [zeros, index, dy!],
        { dtype: x.dtype, shape: x.shape },
        { axis: 0, reduction: 'add' },
      ),
      null,
    ];
  });
  return y;
}

/**
 * y[..., i, j] = x[..., i, index[..., i, j]]: torch.gather along the last axis (ONNX GatherElements), e.g. DeBERTa's
 * pick of each query-key pair's relative-position score. index is int64 with x's rank; its leading dims may be 1 and
 * are broadcast to x's (one [1, 1, S, S] table serves every batch row and head).
 * Backward: dx = zeros of x's runtime shape with dy[..., i, j] added into [..., i, index[..., i, j]] (ScatterElements
 * with reduction 'add', so indices picked repeatedly accumulate; see gatherRows). The index is expanded to the full
 * shape only for the moment each node needs it, so the backward pass keeps just the small table alive.
 */
export function gatherLastAxis(g: Graph, x: Value, index: Value): Value {
  expectDType('gatherLastAxis', x, 'float32');
  expectDType('gatherLastAxis', index, 'int64');
  const r = x.shape.length;
  const width = index.shape[r - 1];
  const broadcasts = index.shape.every((d, i) => i === r - 1 || d === 1 || sameDim(d, x.shape[i]));
  if (index.shape.length !== r || !broadcasts) {
    throw new GraphError(`gatherLastAxis: index ${index.toString()} does not broadcast over ${x.toString()}.`);
  }
  const outShape = [...x.shape.slice(0, -1), width];
  const leading = g.node1('Shape', [x], { dtype: 'int64', shape: [r - 1] }, { start: 0, end: r - 1 });
  const last = g.node1('Shape', [index], { dtype: 'int64', shape: [1] }, { start: r - 1, end: r });
  const target = g.node1('Concat', [leading, last], { dtype: 'int64', shape: [r] }, { axis: 0 });
  const expandTo = (shape: Value): Value => g.node1('Expand', [index, shape], { dtype: 'int64', shape: outShape });
  const y = g.node1('GatherElements', [x, expandTo(target)], { dtype: x.dtype, shape: outShape }, { axis: r - 1 });
  const xShape = x.requiresGrad ? g.node1('Shape', [x], { dtype: 'int64', shape: [r] }) : null;
  g.record([x, index], [y], ([dy]) => {
    const zeros = g.node1('ConstantOfShape', [xShape!], { dtype: x.dtype, shape: x.shape });
    const full = expandTo(g.node1('Shape', [dy!], { dtype: 'int64', shape: [r] }));
    return [
      g.node1(
        'ScatterElements',
        [zeros, full, dy!],
        { dtype: x.dtype, shape: x.shape },
        { axis: r - 1, reduction: 'add' },
      ),
      null,
    ];
  });
  return y;
}

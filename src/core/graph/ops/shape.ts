/** Ops that only move elements around: reshape, transpose, picking one index of an axis. */
import { Shape } from '../dims';
import { Graph, Value } from '../graph';
import { binary, reshapeTo, transposeRaw } from '../raw';

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
    const endAtAxis = typeof d === 'number' ? g.constInt64([d - index - 1]) : binary(g, 'Sub', g.dimValue(d), g.constInt64([index + 1]));
    const pieces = [g.constInt64([...begins, ...endsBefore]), endAtAxis];
    if (endsAfter.length) pieces.push(g.constInt64(endsAfter));
    const pads = g.node1('Concat', pieces, { dtype: 'int64', shape: [2 * rank] }, { axis: 0 });
    return [g.node1('Pad', [dy1, pads], { dtype: x.dtype, shape: x.shape }, { mode: 'constant' })];
  });
  return y;
}

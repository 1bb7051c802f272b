/**
 * Rotary position embeddings (RoPE) in the half-split layout of GPT-NeoX and HF's `rotate_half` (ModernBERT, Llama):
 * dimension i of the first half of a head is rotated together with dimension i of the second half.
 */
import { GraphError } from '../../errors';
import { Dim, sameDim } from '../dims';
import { Graph, Value, expectDType } from '../graph';
import { binary, cast, reshapeTo, unary } from '../raw';

/** rotate_half(x) = concat(-x2, x1) over the last axis, x1 and x2 its halves. */
function rotateHalf(g: Graph, x: Value, half: number): Value {
  const [x1, x2] = g.node(
    'Split',
    [x, g.constInt64([half, half])],
    [0, 1].map(() => ({ dtype: x.dtype, shape: [...x.shape.slice(0, -1), half] })),
    { axis: -1 },
  );
  return g.node1('Concat', [unary(g, 'Neg', x2), x1], { dtype: x.dtype, shape: x.shape }, { axis: -1 });
}

/** The transpose of rotate_half: concat(y2, -y1), which the backward pass applies to the gradient. */
function rotateHalfTransposed(g: Graph, y: Value, half: number): Value {
  const [y1, y2] = g.node(
    'Split',
    [y, g.constInt64([half, half])],
    [0, 1].map(() => ({ dtype: y.dtype, shape: [...y.shape.slice(0, -1), half] })),
    { axis: -1 },
  );
  return g.node1('Concat', [y2, unary(g, 'Neg', y1)], { dtype: y.dtype, shape: y.shape }, { axis: -1 });
}

/**
 * The cos and sin tables [seq, headDim] of positions 0 … seq-1, as HF's default rotary embedding computes them in
 * float32: inv_freq[i] = 1 / theta^(2i / headDim), angle = position * inv_freq, emb = concat(angles, angles).
 * `seq` is the sequence dim of a graph input (read at run time when symbolic). Constants: no gradient.
 */
export function ropeTables(g: Graph, seq: Dim, headDim: number, theta: number): { cos: Value; sin: Value } {
  if (!(Number.isInteger(headDim) && headDim > 0 && headDim % 2 === 0)) {
    throw new GraphError(`ropeTables: the head size ${headDim} must be a positive even number.`);
  }
  if (!(theta > 0)) throw new GraphError(`ropeTables: the base ${theta} must be positive.`);
  const half = headDim / 2;
  const invFreq = Array.from({ length: half }, (_, i) => Math.fround(1 / Math.pow(theta, (2 * i) / headDim)));
  const seqLen = reshapeTo(g, g.dimValue(seq), []);
  const positions = g.node1('Range', [g.constInt64([0], []), seqLen, g.constInt64([1], [])], {
    dtype: 'int64',
    shape: [seq],
  });
  const column = reshapeTo(g, cast(g, positions, 'float32'), [seq, 1]);
  const angles = binary(g, 'Mul', column, g.constFloat([...invFreq, ...invFreq], [1, headDim]));
  return { cos: unary(g, 'Cos', angles), sin: unary(g, 'Sin', angles) };
}

/**
 * y = x * cos + rotate_half(x) * sin for x [..., seq, headDim] and tables [seq, headDim] (broadcast over the leading
 * axes, e.g. [batch, heads, seq, headDim]).
 * Backward: dx = dy * cos + rotate_half^T(dy * sin), rotate_half^T(z) = concat(z2, -z1). The rotation is orthogonal,
 * so this is the rotation by the opposite angle.
 */
export function rope(g: Graph, x: Value, cos: Value, sin: Value): Value {
  expectDType('rope', x, 'float32');
  const r = x.shape.length;
  const headDim = x.shape[r - 1];
  if (r < 2 || typeof headDim !== 'number' || headDim % 2 !== 0) {
    throw new GraphError(`rope: ${x.toString()} needs a static, even last axis (the head size).`);
  }
  for (const t of [cos, sin]) {
    if (t.shape.length !== 2 || !sameDim(t.shape[0], x.shape[r - 2]) || t.shape[1] !== headDim) {
      throw new GraphError(`rope: table ${t.toString()} must be [seq, headDim] for ${x.toString()}.`);
    }
  }
  const half = headDim / 2;
  const y = binary(g, 'Add', binary(g, 'Mul', x, cos), binary(g, 'Mul', rotateHalf(g, x, half), sin));
  g.record([x, cos, sin], [y], ([dy]) => [
    binary(g, 'Add', binary(g, 'Mul', dy!, cos), rotateHalfTransposed(g, binary(g, 'Mul', dy!, sin), half)),
    null,
    null,
  ]);
  return y;
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphError } from '../../../src/core/errors';
import { Graph, Value } from '../../../src/core/graph/graph';
import { checkInPlaceOutputs } from '../../../src/core/graph/in-place';

/** x, a barrier b = ReduceSum(x * x) and an update new_x = x - b * x, like a clipped optimizer step. */
function base() {
  const g = new Graph();
  const x = g.input('x', 'float32', [4]);
  const sq = g.node1('Mul', [x, x], { dtype: 'float32', shape: [4] });
  const barrier = g.node1('ReduceSum', [sq], { dtype: 'float32', shape: [] }, { keepdims: 0 });
  const scaled = g.node1('Mul', [x, barrier], { dtype: 'float32', shape: [4] });
  return { g, x, barrier, scaled };
}

const rejects = (fn: () => void, pattern: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof GraphError && pattern.test(e.message));

test('an update whose readers all precede it may write over its input', () => {
  const { g, x, barrier, scaled } = base();
  const out = g.node1('Sub', [x, scaled], { dtype: 'float32', shape: [4] }); // elementwise writer reading x: fine
  g.output(out, 'new_x');
  checkInPlaceOutputs(g, barrier, [[x, out]]);
});

test('a reader of the input that may run after the write is refused', () => {
  const { g, x, barrier, scaled } = base();
  const out = g.node1('Sub', [scaled, barrier], { dtype: 'float32', shape: [4] });
  const late: Value = g.node1('Neg', [x], { dtype: 'float32', shape: [4] }); // depends on x only, not before `out`
  g.output(out, 'new_x');
  g.output(late, 'other');
  rejects(() => checkInPlaceOutputs(g, barrier, [[x, out]]), /Neg reads x but may run after new_x/);
});

test('a writer that reads its input and is not elementwise is refused', () => {
  const { g, x, barrier, scaled } = base();
  const mixed = g.node1(
    'MatMul',
    [
      g.node1('Reshape', [scaled, g.constInt64([4, 1])], { dtype: 'float32', shape: [4, 1] }),
      g.node1('Reshape', [x, g.constInt64([1, 4])], { dtype: 'float32', shape: [1, 4] }),
    ],
    { dtype: 'float32', shape: [4, 4] },
  );
  const out = g.node1('ReduceSum', [mixed, x], { dtype: 'float32', shape: [4] }, { keepdims: 0 });
  g.output(out, 'new_x');
  rejects(() => checkInPlaceOutputs(g, barrier, [[x, out]]), /ReduceSum writes new_x while reading x/);
});

test('an output that does not wait for the barrier is refused', () => {
  const { g, x, barrier } = base();
  const out = g.node1('Mul', [x, g.constFloat(2)], { dtype: 'float32', shape: [4] });
  g.output(out, 'new_x');
  rejects(() => checkInPlaceOutputs(g, barrier, [[x, out]]), /does not depend on the barrier/);
});

test('an input that only its own elementwise writer reads may be written over without waiting for the barrier', () => {
  const { g, barrier } = base();
  const y = g.input('y', 'float32', [3]);
  const out = g.node1('Mul', [y, g.constFloat(0.5)], { dtype: 'float32', shape: [3] });
  g.output(out, 'new_y');
  checkInPlaceOutputs(g, barrier, [[y, out]]);
  // A second reader of y makes the order matter again.
  g.output(g.node1('Neg', [y], { dtype: 'float32', shape: [3] }), 'other');
  rejects(() => checkInPlaceOutputs(g, barrier, [[y, out]]), /does not depend on the barrier/);
});

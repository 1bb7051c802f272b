/** Reductions to a scalar. */
import { Graph, Value, expectDType } from '../graph';
import { reduce } from '../raw';

/** y = sum of all elements;  dx = dy broadcast to x's shape (Expand to x's runtime shape). */
export function sumAll(g: Graph, x: Value): Value {
  expectDType('sumAll', x, 'float32');
  const y = reduce(g, 'ReduceSum', x, [...x.shape.keys()], false);
  g.record([x], [y], ([dy]) => {
    const shape = g.node1('Shape', [x], { dtype: 'int64', shape: [x.shape.length] });
    return [g.node1('Expand', [dy!, shape], { dtype: 'float32', shape: x.shape })];
  });
  return y;
}

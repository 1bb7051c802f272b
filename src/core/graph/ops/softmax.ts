/** Softmax over the last axis. */
import { Graph, Value, expectDType } from '../graph';
import { binary, reduce } from '../raw';

/** y = softmax(x);  dx = y * (dy - sum(dy * y)) , written as dy*y - y*sum(dy*y) */
export function softmax(g: Graph, x: Value): Value {
  expectDType('softmax', x, 'float32');
  const y = g.node1('Softmax', [x], { dtype: 'float32', shape: x.shape }, { axis: -1 });
  g.record([x], [y], ([dy]) => {
    const dyy = binary(g, 'Mul', dy!, y);
    const s = reduce(g, 'ReduceSum', dyy, [-1], true);
    return [binary(g, 'Sub', dyy, binary(g, 'Mul', y, s))];
  });
  return y;
}

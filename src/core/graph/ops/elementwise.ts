/** Element-wise arithmetic with broadcasting, tanh and log. Backward: the chain rule, summed back over broadcast axes. */
import { Graph, Value, expectDType } from '../graph';
import { binary, scaleBy, unbroadcast, unary } from '../raw';

/** y = a + b;  da = dy, db = dy */
export function add(g: Graph, a: Value, b: Value): Value {
  const y = binary(g, 'Add', a, b);
  g.record([a, b], [y], ([dy]) => [unbroadcast(g, dy!, a.shape), unbroadcast(g, dy!, b.shape)]);
  return y;
}

/** y = a - b;  da = dy, db = -dy */
export function sub(g: Graph, a: Value, b: Value): Value {
  const y = binary(g, 'Sub', a, b);
  g.record([a, b], [y], ([dy]) => [
    a.requiresGrad ? unbroadcast(g, dy!, a.shape) : null,
    b.requiresGrad ? unbroadcast(g, unary(g, 'Neg', dy!), b.shape) : null,
  ]);
  return y;
}

/** y = a * b;  da = dy * b, db = dy * a */
export function mul(g: Graph, a: Value, b: Value): Value {
  const y = binary(g, 'Mul', a, b);
  g.record([a, b], [y], ([dy]) => [
    a.requiresGrad ? unbroadcast(g, binary(g, 'Mul', dy!, b), a.shape) : null,
    b.requiresGrad ? unbroadcast(g, binary(g, 'Mul', dy!, a), b.shape) : null,
  ]);
  return y;
}

/** y = c * x for a constant c;  dx = c * dy */
export function scale(g: Graph, x: Value, c: number): Value {
  expectDType('scale', x, 'float32');
  const y = scaleBy(g, x, c);
  g.record([x], [y], ([dy]) => [scaleBy(g, dy!, c)]);
  return y;
}

/** y = tanh(x);  dx = dy * (1 - y^2) */
export function tanh(g: Graph, x: Value): Value {
  expectDType('Tanh', x, 'float32');
  const y = unary(g, 'Tanh', x);
  g.record([x], [y], ([dy]) => [binary(g, 'Mul', dy!, binary(g, 'Sub', g.constFloat(1), binary(g, 'Mul', y, y)))]);
  return y;
}

/** y = log(x) for x > 0;  dx = dy / x */
export function log(g: Graph, x: Value): Value {
  expectDType('Log', x, 'float32');
  const y = unary(g, 'Log', x);
  g.record([x], [y], ([dy]) => [binary(g, 'Div', dy!, x)]);
  return y;
}

/** Exact (erf) GELU, as BERT uses. */
import { Graph, Value, expectDType } from '../graph';
import { binary, scaleBy, unary } from '../raw';

/**
 * y = x * Phi(x) with Phi(x) = (1 + erf(x / sqrt 2)) / 2. Forward uses the fused com.microsoft Gelu kernel.
 * Backward: dx = dy * (Phi(x) + x * phi(x)),  phi(x) = exp(-x^2 / 2) / sqrt(2 pi).
 */
export function gelu(g: Graph, x: Value): Value {
  expectDType('gelu', x, 'float32');
  const y = unary(g, 'Gelu', x, 'com.microsoft');
  g.record([x], [y], ([dy]) => {
    const cdf = scaleBy(g, binary(g, 'Add', unary(g, 'Erf', scaleBy(g, x, Math.SQRT1_2)), g.constFloat(1)), 0.5);
    const pdf = scaleBy(g, unary(g, 'Exp', scaleBy(g, binary(g, 'Mul', x, x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
    return [binary(g, 'Mul', dy!, binary(g, 'Add', cdf, binary(g, 'Mul', x, pdf)))];
  });
  return y;
}

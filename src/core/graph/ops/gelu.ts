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

/** GELU's tanh approximation's constants: sqrt(2 / pi) and the cubic coefficient. */
const TANH_GELU_C = Math.sqrt(2 / Math.PI);
const TANH_GELU_A = 0.044715;

/**
 * GPT-2's GELU (transformers' gelu_new): y = x/2 * (1 + t),  t = tanh(c (x + a x^3)), c = sqrt(2/pi), a = 0.044715;
 * built from plain ONNX ops so it is the same formula as the PyTorch one.
 * Backward: dx = dy * ((1 + t)/2 + x/2 * (1 - t^2) * c * (1 + 3 a x^2)).
 */
export function geluTanh(g: Graph, x: Value): Value {
  expectDType('geluTanh', x, 'float32');
  const x2 = binary(g, 'Mul', x, x);
  const inner = scaleBy(g, binary(g, 'Add', x, scaleBy(g, binary(g, 'Mul', x2, x), TANH_GELU_A)), TANH_GELU_C);
  const t = unary(g, 'Tanh', inner);
  const halfX = scaleBy(g, x, 0.5);
  const y = binary(g, 'Mul', halfX, binary(g, 'Add', t, g.constFloat(1)));
  g.record([x], [y], ([dy]) => {
    const onePlusT = binary(g, 'Add', t, g.constFloat(1));
    const sech2 = binary(g, 'Sub', g.constFloat(1), binary(g, 'Mul', t, t));
    const dInner = scaleBy(g, binary(g, 'Add', scaleBy(g, x2, 3 * TANH_GELU_A), g.constFloat(1)), TANH_GELU_C);
    const local = binary(g, 'Add', scaleBy(g, onePlusT, 0.5), binary(g, 'Mul', halfX, binary(g, 'Mul', sech2, dInner)));
    return [binary(g, 'Mul', dy!, local)];
  });
  return y;
}

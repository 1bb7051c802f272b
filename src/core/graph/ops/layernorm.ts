/** Layer normalization over the last axis (ONNX LayerNormalization, opset 17+). */
import { GraphError } from '../../errors';
import { sameShape } from '../dims';
import { Graph, Value, expectDType } from '../graph';
import { binary, reduce } from '../raw';

/**
 * y = gamma * xhat + beta,  xhat = (x - mean) * inv,  inv = 1 / sqrt(var + eps).
 * Backward, with gg = dy * gamma:  dx = inv * (gg - mean(gg) - xhat * mean(gg * xhat)),
 * dgamma = sum(dy * xhat), dbeta = sum(dy) over all but the last axis. The forward node's Mean and InvStdDev
 * outputs are reused, so nothing is recomputed.
 */
export function layerNorm(g: Graph, x: Value, gamma: Value, beta: Value, eps: number): Value {
  expectDType('layerNorm', x, 'float32');
  const H = x.shape[x.shape.length - 1];
  if (!sameShape(gamma.shape, [H]) || !sameShape(beta.shape, [H])) {
    throw new GraphError(
      `layerNorm: gamma ${gamma.toString()} and beta ${beta.toString()} must have shape [${H}] for ${x.toString()}.`,
    );
  }
  const stat = [...x.shape.slice(0, -1), 1];
  const [y, mean, inv] = g.node(
    'LayerNormalization',
    [x, gamma, beta],
    [
      { dtype: 'float32', shape: x.shape },
      { dtype: 'float32', shape: stat },
      { dtype: 'float32', shape: stat },
    ],
    { axis: -1, epsilon: { float: eps } },
  );
  g.record([x, gamma, beta], [y], ([dy]) => {
    const xhat = binary(g, 'Mul', binary(g, 'Sub', x, mean), inv);
    const lead = [...Array(x.shape.length - 1).keys()];
    let dx: Value | null = null;
    if (x.requiresGrad) {
      const gg = binary(g, 'Mul', dy!, gamma);
      const m1 = reduce(g, 'ReduceMean', gg, [-1], true);
      const m2 = reduce(g, 'ReduceMean', binary(g, 'Mul', gg, xhat), [-1], true);
      dx = binary(g, 'Mul', inv, binary(g, 'Sub', binary(g, 'Sub', gg, m1), binary(g, 'Mul', xhat, m2)));
    }
    const dgamma = gamma.requiresGrad ? reduce(g, 'ReduceSum', binary(g, 'Mul', dy!, xhat), lead, false) : null;
    const dbeta = beta.requiresGrad ? reduce(g, 'ReduceSum', dy!, lead, false) : null;
    return [dx, dgamma, dbeta];
  });
  return y;
}

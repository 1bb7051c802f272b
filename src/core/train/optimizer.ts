/**
 * Global-norm gradient clipping and AdamW, as graph ops (no gradient through them), with torch semantics:
 * torch.nn.utils.clip_grad_norm_ and torch.optim.AdamW (decoupled weight decay, bias-corrected moments).
 * Step-dependent scalars (lr from the schedule, bias corrections) are computed in JS and fed per step.
 */
import { Graph, Value } from '../graph/graph';
import { binary, scaleBy, unary } from '../graph/raw';

export interface AdamWConstants {
  beta1: number;
  beta2: number;
  eps: number;
}

/** Per-step scalar graph inputs (float32 []). */
export interface AdamWStepInputs {
  /** lr / (1 - beta1^t) */
  stepSize: Value;
  /** sqrt(1 - beta2^t) */
  sqrtBc2: Value;
  /** 1 - lr * weightDecay, applied to decay=true params only */
  decayFactor: Value;
}

/** The JS numbers behind AdamWStepInputs for optimizer step t (1-based) at learning rate lr. */
export function adamwStepScalars(t: number, lr: number, weightDecay: number, c: AdamWConstants): { stepSize: number; sqrtBc2: number; decayFactor: number } {
  return { stepSize: lr / (1 - c.beta1 ** t), sqrtBc2: Math.sqrt(1 - c.beta2 ** t), decayFactor: 1 - lr * weightDecay };
}

/**
 * norm = sqrt(sum of squares of every gradient);  grads *= min(1, maxNorm / (norm + 1e-6)).
 * maxNorm <= 0 or non-finite means no clipping (the norm is still reported).
 */
export function clipByGlobalNorm(g: Graph, grads: Value[], maxNorm: number): { grads: Value[]; norm: Value } {
  const squares = grads.map((gr) => g.node1('ReduceSumSquare', [gr], { dtype: 'float32', shape: [] }, { keepdims: 0 }));
  const total = squares.length === 1 ? squares[0] : g.node1('Sum', squares, { dtype: 'float32', shape: [] });
  const norm = unary(g, 'Sqrt', total);
  if (!(maxNorm > 0 && Number.isFinite(maxNorm))) return { grads, norm };
  const coef = g.node1('Min', [binary(g, 'Div', g.constFloat(maxNorm), binary(g, 'Add', norm, g.constFloat(1e-6))), g.constFloat(1)], {
    dtype: 'float32',
    shape: [],
  });
  return { grads: grads.map((gr) => binary(g, 'Mul', gr, coef)), norm };
}

/**
 * p <- p * decayFactor (if decay);  m <- b1 m + (1-b1) g;  v <- b2 v + (1-b2) g^2;
 * p <- p - stepSize * m / (sqrt(v) / sqrtBc2 + eps).
 */
export function adamwUpdate(
  g: Graph,
  p: Value,
  grad: Value,
  m: Value,
  v: Value,
  decay: boolean,
  c: AdamWConstants,
  s: AdamWStepInputs,
): { p: Value; m: Value; v: Value } {
  const m2 = binary(g, 'Add', scaleBy(g, m, c.beta1), scaleBy(g, grad, 1 - c.beta1));
  const v2 = binary(g, 'Add', scaleBy(g, v, c.beta2), scaleBy(g, binary(g, 'Mul', grad, grad), 1 - c.beta2));
  const denom = binary(g, 'Add', binary(g, 'Div', unary(g, 'Sqrt', v2), s.sqrtBc2), g.constFloat(c.eps));
  const decayed = decay ? binary(g, 'Mul', p, s.decayFactor) : p;
  const p2 = binary(g, 'Sub', decayed, binary(g, 'Mul', s.stepSize, binary(g, 'Div', m2, denom)));
  return { p: p2, m: m2, v: v2 };
}

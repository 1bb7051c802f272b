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
export function adamwStepScalars(
  t: number,
  lr: number,
  weightDecay: number,
  c: AdamWConstants,
): { stepSize: number; sqrtBc2: number; decayFactor: number } {
  return { stepSize: lr / (1 - c.beta1 ** t), sqrtBc2: Math.sqrt(1 - c.beta2 ** t), decayFactor: 1 - lr * weightDecay };
}

/**
 * The global gradient norm (torch.nn.utils.clip_grad_norm_) and the factor that clips it:
 * norm = sqrt(sum of squares of every gradient), coef = min(1, maxNorm / (norm + 1e-6)).
 * maxNorm <= 0 or non-finite means no clipping (coef = 1; the norm is still reported).
 * The factor is a scalar that adamwUpdate folds into its own constants, which saves a pass over every gradient.
 */
export function globalNormClip(g: Graph, grads: Value[], maxNorm: number): { norm: Value; coef: Value } {
  const squares = grads.map((gr) => g.node1('ReduceSumSquare', [gr], { dtype: 'float32', shape: [] }, { keepdims: 0 }));
  const total = squares.length === 1 ? squares[0] : g.node1('Sum', squares, { dtype: 'float32', shape: [] });
  const norm = unary(g, 'Sqrt', total);
  if (!(maxNorm > 0 && Number.isFinite(maxNorm))) return { norm, coef: g.constFloat(1) };
  const coef = g.node1(
    'Min',
    [binary(g, 'Div', g.constFloat(maxNorm), binary(g, 'Add', norm, g.constFloat(1e-6))), g.constFloat(1)],
    {
      dtype: 'float32',
      shape: [],
    },
  );
  return { norm, coef };
}

/** Per-step scalars shared by every parameter's update (computed once per step, not per element). */
export interface AdamWFolded {
  /** (1 - beta1) * coef */
  gradScaleM: Value;
  /** (1 - beta2) * coef^2 */
  gradScaleV: Value;
  /** eps * sqrt(1 - beta2^t) */
  epsScaled: Value;
  /** stepSize * sqrt(1 - beta2^t) */
  stepScaled: Value;
  decayFactor: Value;
}

export function foldAdamWScalars(g: Graph, c: AdamWConstants, s: AdamWStepInputs, clipCoef: Value): AdamWFolded {
  return {
    gradScaleM: scaleBy(g, clipCoef, 1 - c.beta1),
    gradScaleV: scaleBy(g, binary(g, 'Mul', clipCoef, clipCoef), 1 - c.beta2),
    epsScaled: scaleBy(g, s.sqrtBc2, c.eps),
    stepScaled: binary(g, 'Mul', s.stepSize, s.sqrtBc2),
    decayFactor: s.decayFactor,
  };
}

/**
 * torch AdamW on the clipped gradient coef * g, with the scalar factors folded (same maths, fewer passes):
 * m <- b1 m + (1-b1) coef g;  v <- b2 v + (1-b2) coef^2 g^2;  p <- p * decayFactor (if decay);
 * p <- p - stepSize * m / (sqrt(v) / sqrtBc2 + eps)  =  p - (stepSize sqrtBc2) * m / (sqrt(v) + eps sqrtBc2).
 */
export function adamwUpdate(
  g: Graph,
  p: Value,
  grad: Value,
  m: Value,
  v: Value,
  decay: boolean,
  c: AdamWConstants,
  f: AdamWFolded,
): { p: Value; m: Value; v: Value } {
  const m2 = binary(g, 'Add', scaleBy(g, m, c.beta1), binary(g, 'Mul', grad, f.gradScaleM));
  const v2 = binary(g, 'Add', scaleBy(g, v, c.beta2), binary(g, 'Mul', binary(g, 'Mul', grad, grad), f.gradScaleV));
  const ratio = binary(g, 'Div', m2, binary(g, 'Add', unary(g, 'Sqrt', v2), f.epsScaled));
  const decayed = decay ? binary(g, 'Mul', p, f.decayFactor) : p;
  const p2 = binary(g, 'Sub', decayed, binary(g, 'Mul', ratio, f.stepScaled));
  return { p: p2, m: m2, v: v2 };
}

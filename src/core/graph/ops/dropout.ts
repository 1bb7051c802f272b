/**
 * Deterministic dropout. The mask is a pure function of (per-step key, element index), computed in-graph with
 * uint32 ops, so the same seed and step always give the same mask: a run resumed from a checkpoint draws exactly the
 * masks an uninterrupted run would have drawn. ORT's own Dropout/RandomUniform keep hidden generator state between
 * runs, which would break that.
 *
 * Hash: h = index * a + b, then ROUNDS times h = h * h + c_r, in uint32 arithmetic wrapping mod 2^32, with per-site,
 * per-step keys (a odd); one xorshift (h ^= h >> 16) after the first square. Squaring makes the map non-linear in
 * the index; Mul/Add only carry information from low bits to high bits, and the xorshift carries it back down, which
 * removes the correlations at power-of-two distances that squaring alone leaves. An element is dropped when the
 * hash < p * 2^32. The hash avoids Mod and Where, the slow integer kernels in ORT (2.5x cheaper than a Mod-based one).
 * Indices are int32: up to 2^31 elements per tensor.
 */
import { GraphError } from '../../errors';
import { Graph, Value, expectDType } from '../graph';
import { binary, cast } from '../raw';

export const DROPOUT_ROUNDS = 3;
/** Keys per dropout site: the multiplier, the offset and one constant per squaring round. */
export const KEYS_PER_SITE = 2 + DROPOUT_ROUNDS;

/** Hands out a distinct slice of the per-step key vector to every dropout site in a graph. */
export class DropoutKeys {
  private sites = 0;
  /** keys: int64 [sites * KEYS_PER_SITE], fed per step (see dropoutKeyData). */
  constructor(readonly keys: Value) {
    expectDType('DropoutKeys', keys, 'int64');
  }
  get siteCount(): number {
    return this.sites;
  }
  nextSite(): number {
    return this.sites++;
  }
}

/** y = x * mask / (1 - p), mask[i] = 0 with probability p;  dx = dy * mask / (1 - p). */
export function dropout(g: Graph, x: Value, p: number, keys: DropoutKeys | null): Value {
  if (!keys || p === 0) return x;
  expectDType('dropout', x, 'float32');
  if (!(p > 0 && p < 1)) throw new GraphError(`dropout: probability ${p} must be in [0, 1).`);
  const site = keys.nextSite();
  const key = (r: number): Value =>
    g.node1(
      'Gather',
      [keys.keys, g.constInt64([site * KEYS_PER_SITE + r], [])],
      { dtype: 'int64', shape: [] },
      { axis: 0 },
    );
  const u32 = (n: number): Value => g.constUint32(n);
  const arith = (op: 'Mul' | 'Add', a: Value, b: Value): Value =>
    g.node1(op, [a, b], { dtype: 'uint32', shape: a.shape });

  const shape = g.node1('Shape', [x], { dtype: 'int64', shape: [x.shape.length] });
  const count = cast(g, g.node1('ReduceProd', [shape], { dtype: 'int64', shape: [] }, { keepdims: 0 }), 'int32');
  const index = cast(
    g,
    g.node1('Range', [g.constInt32(0), count, g.constInt32(1)], { dtype: 'int32', shape: ['dropout_n'] }),
    'uint32',
  );
  const k = (r: number): Value => cast(g, key(r), 'uint32');
  let h = arith('Add', arith('Mul', index, k(0)), k(1));
  for (let r = 0; r < DROPOUT_ROUNDS; r++) {
    h = arith('Add', arith('Mul', h, h), k(2 + r));
    if (r === 0) {
      const shifted = g.node1('BitShift', [h, u32(16)], { dtype: 'uint32', shape: h.shape }, { direction: 'RIGHT' });
      h = g.node1('BitwiseXor', [h, shifted], { dtype: 'uint32', shape: h.shape });
    }
  }
  const kept = g.node1('GreaterOrEqual', [h, u32(Math.min(2 ** 32 - 1, Math.floor(p * 2 ** 32)))], {
    dtype: 'bool',
    shape: h.shape,
  });
  const flatMask = binary(g, 'Mul', cast(g, kept, 'float32'), g.constFloat(1 / (1 - p)));
  const mask = g.node1('Reshape', [flatMask, shape], { dtype: 'float32', shape: x.shape });
  const y = binary(g, 'Mul', x, mask);
  g.record([x], [y], ([dy]) => [binary(g, 'Mul', dy!, mask)]);
  return y;
}

/** 32-bit mixing (splitmix32-style finalizer) for deriving keys in JS. */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** The key vector for one optimizer step: a pure function of (seed, step, site). Multipliers are odd. */
export function dropoutKeyData(seed: number, step: number, sites: number): BigInt64Array {
  const out = new BigInt64Array(Math.max(1, sites * KEYS_PER_SITE));
  for (let i = 0; i < sites * KEYS_PER_SITE; i++) {
    const h = mix32(mix32(mix32(seed >>> 0) ^ Math.imul(step + 1, 0x9e3779b9)) ^ Math.imul(i + 1, 0x27d4eb2f));
    out[i] = BigInt(i % KEYS_PER_SITE === 0 ? (h | 1) >>> 0 : h);
  }
  return out;
}

/**
 * Deterministic dropout. The mask is a pure function of (per-step key, element index), computed in-graph with int64
 * ops, so the same seed and step always give the same mask: a run resumed from a checkpoint draws exactly the masks
 * an uninterrupted run would have drawn. ORT's own Dropout/RandomUniform keep hidden generator state between runs,
 * which would break that.
 *
 * Hash: h = index + k0, then ROUNDS times h = (h*h + k_r) mod P with P = 2^31 - 1. Keeping index and k0 below 2^30
 * makes the first square fit int64 without a Mod (so up to 2^30 elements per tensor); later values are below P, so
 * h*h < 2^62. Squaring makes the map non-linear in the index, so neighbouring elements and different sites are
 * uncorrelated enough for dropout. An element is dropped when h < p*P. (Mod is the costly op here: two per element.)
 */
import { GraphError } from '../../errors';
import { Graph, Value, expectDType } from '../graph';
import { binary } from '../raw';

export const DROPOUT_PRIME = 2147483647;
export const DROPOUT_ROUNDS = 2;
const FIRST_KEY_LIMIT = 2 ** 30;
/** Keys per dropout site: one for the offset, one per squaring round. */
export const KEYS_PER_SITE = DROPOUT_ROUNDS + 1;

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
    g.node1('Gather', [keys.keys, g.constInt64([site * KEYS_PER_SITE + r], [])], { dtype: 'int64', shape: [] }, { axis: 0 });
  const prime = g.constInt64([DROPOUT_PRIME], []);

  const shape = g.node1('Shape', [x], { dtype: 'int64', shape: [x.shape.length] });
  const count = g.node1('ReduceProd', [shape], { dtype: 'int64', shape: [] }, { keepdims: 0 });
  const index = g.node1('Range', [g.constInt64([0], []), count, g.constInt64([1], [])], { dtype: 'int64', shape: ['dropout_n'] });
  let h = binary(g, 'Add', index, key(0));
  for (let r = 1; r <= DROPOUT_ROUNDS; r++) h = binary(g, 'Mod', binary(g, 'Add', binary(g, 'Mul', h, h), key(r)), prime);
  const dropped = g.node1('Less', [h, g.constInt64([Math.floor(p * DROPOUT_PRIME)], [])], { dtype: 'bool', shape: h.shape });
  const flatMask = g.node1('Where', [dropped, g.constFloat(0), g.constFloat(1 / (1 - p))], { dtype: 'float32', shape: h.shape });
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

/** The key vector for one optimizer step: a pure function of (seed, step, site, round). */
export function dropoutKeyData(seed: number, step: number, sites: number): BigInt64Array {
  const out = new BigInt64Array(Math.max(1, sites * KEYS_PER_SITE));
  for (let i = 0; i < sites * KEYS_PER_SITE; i++) {
    const h = mix32(mix32(mix32(seed >>> 0) ^ Math.imul(step + 1, 0x9e3779b9)) ^ Math.imul(i + 1, 0x27d4eb2f));
    out[i] = BigInt(i % KEYS_PER_SITE === 0 ? h % FIRST_KEY_LIMIT : h % DROPOUT_PRIME);
  }
  return out;
}

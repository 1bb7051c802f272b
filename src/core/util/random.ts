/**
 * The one seeded random source for data order (split, shuffle, batch order). Everything random in data and
 * tokenization draws from `createRng(seed, stream)`, so a run can rebuild the exact order of any epoch from the
 * (seed, epoch) pair alone, without saving sampler state.
 *
 * Generator: mulberry32 (32-bit state, fast, good enough for shuffling; not cryptographic). The `stream` number is
 * mixed into the seed with a splitmix-style hash so that stream 0, 1, 2… (e.g. epochs) give unrelated sequences.
 */
export type Rng = () => number;

/** Well-known stream numbers, so two users of the same seed never share a sequence by accident. */
export const RNG_STREAM = {
  split: 0x5eed0001,
  /** The k-fold assignment of the likely-mislabeled-rows finder (data/folds.ts). */
  folds: 0x5eed0002,
  /** Add the epoch number to this. */
  epochShuffle: 0x5eed1000,
} as const;

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** A generator of floats in [0, 1), fully determined by (seed, stream). */
export function createRng(seed: number, stream = 0): Rng {
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  let state = mix32((seed >>> 0) ^ mix32(stream >>> 0) ^ 0x9e3779b9);
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [0, n). */
export function randomInt(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

/** Fisher–Yates shuffle, in place; returns the same array. */
export function shuffleInPlace<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    const tmp = items[i];
    items[i] = items[j];
    items[j] = tmp;
  }
  return items;
}

/** The rng for shuffling epoch `epoch` (0-based) of a run seeded with `seed`. */
export function epochRng(seed: number, epoch: number): Rng {
  return createRng(seed, RNG_STREAM.epochShuffle + epoch);
}

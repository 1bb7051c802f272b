/**
 * Tensor dimensions. A dimension is either a number or a symbolic name such as 'batch' or 'seq', so one ONNX graph
 * serves every batch size and padded length. A product of dimensions (what a flattening Reshape produces) is kept
 * symbolic in a canonical form, e.g. 'batch*seq' or '4*batch', so that shapes can still be compared exactly.
 */
export type Dim = number | string;
export type Shape = readonly Dim[];

interface Factors {
  coef: number;
  syms: string[];
}

function factors(d: Dim): Factors {
  if (typeof d === 'number') return { coef: d, syms: [] };
  let coef = 1;
  const syms: string[] = [];
  for (const part of d.split('*')) {
    const n = Number(part);
    if (part !== '' && Number.isInteger(n)) coef *= n;
    else syms.push(part);
  }
  return { coef, syms };
}

function fromFactors(f: Factors): Dim {
  if (f.syms.length === 0 || f.coef === 0) return f.coef;
  const syms = [...f.syms].sort().join('*');
  return f.coef === 1 ? syms : `${f.coef}*${syms}`;
}

/** The product of dimensions, in canonical form (a number when every factor is known). */
export function dimProduct(dims: Shape): Dim {
  const acc: Factors = { coef: 1, syms: [] };
  for (const d of dims) {
    const f = factors(d);
    acc.coef *= f.coef;
    acc.syms.push(...f.syms);
  }
  return fromFactors(acc);
}

export function sameDim(a: Dim, b: Dim): boolean {
  return dimProduct([a]) === dimProduct([b]);
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => sameDim(d, b[i]));
}

/** A single symbol ('batch'), as opposed to a number or a product of several symbols. */
export function isSymbol(d: Dim): d is string {
  return typeof d === 'string' && factors(d).syms.length === 1 && factors(d).coef === 1;
}

export function isStaticShape(s: Shape): s is readonly number[] {
  return s.every((d) => typeof d === 'number');
}

export function formatShape(s: Shape): string {
  return `[${s.join(', ')}]`;
}

/** Normalise a possibly negative axis against a rank. */
export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/**
 * ONNX Loop: runs `body` K times, threading loop-carried values through. No gradient. K is a number, or an int64
 * scalar computed in the graph (its scan outputs then have a symbolic leading dim).
 */
import { Dim } from '../dims';
import { Graph, Value } from '../graph';

export interface LoopBodyResult {
  /** New values of the loop-carried state, in the order given to `loop`. */
  carried: Value[];
  /** Per-iteration values; the Loop stacks them into [K, ...]. */
  scans: Value[];
}

export function loop(
  g: Graph,
  tripCount: number | Value,
  carried: Value[],
  buildBody: (body: Graph, iter: Value, carriedIn: Value[]) => LoopBodyResult,
): { carried: Value[]; scans: Value[] } {
  const body = g.subgraph();
  const p = g.freshName('loop');
  const iter = body.input(`${p}_iter`, 'int64', []);
  const condIn = body.input(`${p}_cond`, 'bool', []);
  const carriedIn = carried.map((c) => body.input(`${p}_${c.name}`, c.dtype, c.shape));
  const result = buildBody(body, iter, carriedIn);
  body.output(condIn, `${p}_cond_out`);
  result.carried.forEach((v, i) => body.output(v, `${p}_out_${carried[i].name}`));
  result.scans.forEach((v, i) => body.output(v, `${p}_scan${i}`));
  const K: Dim = typeof tripCount === 'number' ? tripCount : `${p}_trips`;
  const trips = typeof tripCount === 'number' ? g.constInt64([tripCount], []) : tripCount;
  const outs = g.node(
    'Loop',
    [trips, g.constBool(true), ...carried],
    [
      ...carried.map((c) => ({ dtype: c.dtype, shape: c.shape })),
      ...result.scans.map((s) => ({ dtype: s.dtype, shape: [K, ...s.shape] })),
    ],
    { body: { graph: body } },
  );
  return { carried: outs.slice(0, carried.length), scans: outs.slice(carried.length) };
}

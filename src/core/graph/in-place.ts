/**
 * When may a graph output be written into the buffer of a graph input (ORT pre-allocated outputs aliasing inputs)?
 * When every node that reads the input has run before the node that writes the output, in whatever order the
 * runtime picks: every reader must be an ancestor of the writer. The writer itself may read the input only if it
 * is an elementwise op of the same shape (each element is read before it is overwritten).
 *
 * The train step has a natural barrier that makes this cheap to prove: every update depends on the clipping
 * factor, which depends on the whole forward and backward pass. So a reader is fine when it is an ancestor of the
 * barrier, or an ancestor of the writer reached without passing through the barrier. An input that nothing but its
 * own elementwise writer reads (the decay of embedding rows no batch reaches) needs no barrier.
 */
import { GraphError } from '../errors';
import { sameShape } from './dims';
import { Graph, GraphNode, Value, valuesRead } from './graph';

const ELEMENTWISE_IN_PLACE = new Set(['Add', 'Sub', 'Mul', 'Div']);

function producers(g: Graph): Map<Value, GraphNode> {
  const map = new Map<Value, GraphNode>();
  for (const node of g.nodes) for (const out of node.outputs) map.set(out, node);
  return map;
}

/** The nodes `from` depends on (itself included), not expanding beyond the nodes in `stop`. */
function ancestors(from: GraphNode, producedBy: Map<Value, GraphNode>, stop: Set<GraphNode>): Set<GraphNode> {
  const seen = new Set<GraphNode>([from]);
  const todo = [from];
  while (todo.length > 0) {
    const node = todo.pop()!;
    if (stop.has(node)) continue;
    for (const input of valuesRead(node)) {
      const parent = producedBy.get(input);
      if (parent && !seen.has(parent)) {
        seen.add(parent);
        todo.push(parent);
      }
    }
  }
  return seen;
}

/**
 * Throws a GraphError unless each `[input, output]` pair of `g` can share one buffer. `barrier` is a value every
 * output depends on (see above).
 */
export function checkInPlaceOutputs(g: Graph, barrier: Value, pairs: readonly (readonly [Value, Value])[]): void {
  const producedBy = producers(g);
  const barrierNode = producedBy.get(barrier);
  if (!barrierNode)
    throw new GraphError(`in-place check: the barrier ${barrier.toString()} is not computed by a node.`);
  const beforeBarrier = ancestors(barrierNode, producedBy, new Set());
  const readers = new Map<Value, GraphNode[]>();
  for (const node of g.nodes) {
    for (const input of valuesRead(node)) {
      const list = readers.get(input);
      if (list) list.push(node);
      else readers.set(input, [node]);
    }
  }
  for (const [input, output] of pairs) {
    const writer = producedBy.get(output);
    if (input.kind !== 'input' || !writer) {
      throw new GraphError(
        `in-place check: ${output.toString()} must be computed by a node from the graph input ${input.toString()}.`,
      );
    }
    const upstream = ancestors(writer, producedBy, beforeBarrier);
    const elementwise = ELEMENTWISE_IN_PLACE.has(writer.op) && sameShape(output.shape, input.shape);
    // An input only its own elementwise writer reads is safe to write over whenever that writer runs.
    if ((readers.get(input) ?? []).every((reader) => reader === writer) && elementwise) continue;
    if (!upstream.has(barrierNode)) {
      throw new GraphError(
        `in-place check: ${output.toString()} does not depend on the barrier ${barrier.toString()}.`,
      );
    }
    for (const reader of readers.get(input) ?? []) {
      if (reader === writer) {
        if (elementwise) continue;
        throw new GraphError(
          `in-place check: ${writer.op} writes ${output.name} while reading ${input.name} and is not elementwise.`,
        );
      }
      if (!beforeBarrier.has(reader) && !upstream.has(reader)) {
        throw new GraphError(
          `in-place check: ${reader.op} reads ${input.name} but may run after ${output.name} is written over it.`,
        );
      }
    }
  }
}

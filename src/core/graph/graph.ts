/**
 * A small ONNX graph builder with a tape for reverse-mode automatic differentiation.
 *
 * Every differentiable op (see ./ops) emits its forward ONNX nodes and records on the tape a closure that emits the
 * nodes of its backward pass. `gradients(loss, params)` replays the tape in reverse, so forward, backward and the
 * optimizer end up in ONE plain ONNX graph that the inference build of onnxruntime can run.
 *
 * Values are referenced by object, not by name; names are only fixed at serialization, which is what lets
 * `output()` give a computed value its final name without an Identity node.
 */
import { GraphError } from '../errors';
import { Dim, Shape, formatShape, isStaticShape, isSymbol, normAxis } from './dims';

export type DType = 'float32' | 'int64' | 'int32' | 'uint32' | 'bool';

export type AttrValue =
  | number // INT
  | readonly number[] // INTS
  | string // STRING
  | { readonly float: number } // FLOAT
  | { readonly graph: Graph }; // GRAPH (Loop body)

export type ValueKind = 'input' | 'initializer' | 'node';

export class Value {
  requiresGrad = false;
  isOutput = false;
  constructor(
    readonly graph: Graph,
    public name: string,
    readonly dtype: DType,
    readonly shape: Shape,
    readonly kind: ValueKind,
  ) {}
  toString(): string {
    return `${this.name}: ${this.dtype}${formatShape(this.shape)}`;
  }
}

export interface GraphNode {
  op: string;
  domain: string;
  inputs: (Value | null)[];
  outputs: Value[];
  attrs: Record<string, AttrValue>;
}

/**
 * Every value a node reads: its inputs and, for a node with a body graph (Loop), the values of enclosing graphs the
 * body reads directly (ONNX's implicit inputs), which a dependency analysis must count like inputs.
 */
export function valuesRead(node: GraphNode): Value[] {
  const read = node.inputs.filter((v): v is Value => v !== null);
  const bodies = Object.values(node.attrs).flatMap((a) => (typeof a === 'object' && 'graph' in a ? [a.graph] : []));
  for (const body of bodies) {
    for (const inner of body.nodes) {
      for (const v of valuesRead(inner)) if (v.graph !== body && !v.graph.isInside(body)) read.push(v);
    }
  }
  return read;
}

export interface Initializer {
  value: Value;
  data: Float32Array | BigInt64Array | Int32Array | Uint32Array | Uint8Array;
}

export interface OutSpec {
  dtype: DType;
  shape: Shape;
}

/** The gradient-emitting half of an op: given the gradients of its outputs, return those of its inputs. */
export type Backward = (gradOutputs: (Value | null)[]) => (Value | null)[];

interface TapeEntry {
  inputs: (Value | null)[];
  outputs: Value[];
  backward: Backward;
}

export class Graph {
  readonly nodes: GraphNode[] = [];
  readonly inputs: Value[] = [];
  readonly outputs: Value[] = [];
  readonly initializers: Initializer[] = [];
  readonly parent?: Graph;
  private readonly tape: TapeEntry[] = [];
  private readonly constCache = new Map<string, Value>();
  private readonly dimSources = new Map<string, { value: Value; axis: number }>();
  private readonly dimTensors = new Map<string, Value>();
  private readonly usedNames: Set<string>;
  private counter = { next: 0 };

  constructor(opts: { parent?: Graph } = {}) {
    this.parent = opts.parent;
    this.usedNames = opts.parent ? opts.parent.usedNames : new Set();
    if (opts.parent) this.counter = opts.parent.counter;
  }

  get root(): Graph {
    return this.parent ? this.parent.root : this;
  }

  /** A body graph for a Loop: it may read values of this graph (outer scope) directly. */
  subgraph(): Graph {
    return new Graph({ parent: this });
  }

  private claimName(name: string): string {
    if (this.usedNames.has(name)) throw new GraphError(`The name '${name}' is already used in this graph.`);
    this.usedNames.add(name);
    return name;
  }

  /** A name not used anywhere in this graph tree (reserved on return). */
  freshName(hint: string): string {
    let name: string;
    do name = `${hint}_${this.counter.next++}`;
    while (this.usedNames.has(name));
    this.usedNames.add(name);
    return name;
  }

  // ---- graph inputs, constants, initializers ----

  /** A graph input. Symbolic dims are bound to it, so later Reshapes can read their runtime size from it. */
  input(name: string, dtype: DType, shape: Shape, requiresGrad = false): Value {
    const v = new Value(this, this.claimName(name), dtype, shape, 'input');
    v.requiresGrad = requiresGrad;
    this.inputs.push(v);
    this.bindDims(v);
    return v;
  }

  /** Record `v` as the runtime source of each symbolic dim in its shape that has no source yet. */
  bindDims(v: Value): void {
    v.shape.forEach((d, axis) => {
      if (isSymbol(d) && !this.dimSources.has(d)) this.dimSources.set(d, { value: v, axis });
    });
  }

  initializer(name: string, dtype: DType, shape: readonly number[], data: Initializer['data']): Value {
    const root = this.root;
    const v = new Value(root, root.claimName(name), dtype, shape, 'initializer');
    root.initializers.push({ value: v, data });
    return v;
  }

  /** An int64 constant (cached; always stored on the root graph so loop bodies share it). */
  constInt64(values: readonly number[], shape: readonly number[] = [values.length]): Value {
    return this.cachedConst(`i64:${shape.join(',')}:${values.join(',')}`, 'int64', shape, () =>
      BigInt64Array.from(values, (x) => BigInt(x)),
    );
  }

  constFloat(values: number | readonly number[], shape?: readonly number[]): Value {
    const arr = typeof values === 'number' ? [values] : values;
    const sh = shape ?? (typeof values === 'number' ? [] : [arr.length]);
    return this.cachedConst(`f32:${sh.join(',')}:${arr.join(',')}`, 'float32', sh, () => Float32Array.from(arr));
  }

  constInt32(value: number): Value {
    return this.cachedConst(`i32:${value}`, 'int32', [], () => Int32Array.of(value));
  }

  constUint32(value: number): Value {
    return this.cachedConst(`u32:${value}`, 'uint32', [], () => Uint32Array.of(value));
  }

  constBool(value: boolean): Value {
    return this.cachedConst(`bool:${value}`, 'bool', [], () => Uint8Array.of(value ? 1 : 0));
  }

  private cachedConst(key: string, dtype: DType, shape: readonly number[], data: () => Initializer['data']): Value {
    const root = this.root;
    let v = root.constCache.get(key);
    if (!v) {
      v = new Value(root, root.freshName('const'), dtype, shape, 'initializer');
      root.initializers.push({ value: v, data: data() });
      root.constCache.set(key, v);
    }
    return v;
  }

  // ---- nodes ----

  /** Check that `v` can be read here: it belongs to this graph or to an enclosing one. */
  use(v: Value | null, op: string): void {
    if (v === null) return;
    if (!(v instanceof Value)) throw new GraphError(`${op}: input is not a graph value (got ${String(v)}).`);
    if (this.encloses(v.graph)) return;
    throw new GraphError(`${op}: value '${v.name}' belongs to another graph and cannot be used here.`);
  }

  /** Whether this graph is nested, at any depth, in `graph`. */
  isInside(graph: Graph): boolean {
    return this.parent === graph || (this.parent?.isInside(graph) ?? false);
  }

  /** Whether `graph` is this graph or one it is nested in (a Loop body sees its parents' values). */
  private encloses(graph: Graph): boolean {
    return graph === this || (this.parent?.encloses(graph) ?? false);
  }

  /** Emit one ONNX node (no gradient). Output dtype/shape are given by the caller, who has checked them. */
  node(
    op: string,
    inputs: (Value | null)[],
    outs: OutSpec[],
    attrs: Record<string, AttrValue> = {},
    domain = '',
  ): Value[] {
    inputs.forEach((v) => this.use(v, op));
    const outputs = outs.map((o) => new Value(this, this.freshName(op), o.dtype, o.shape, 'node'));
    this.nodes.push({ op, domain, inputs, outputs, attrs });
    return outputs;
  }

  node1(op: string, inputs: (Value | null)[], out: OutSpec, attrs: Record<string, AttrValue> = {}, domain = ''): Value {
    return this.node(op, inputs, [out], attrs, domain)[0];
  }

  /** Make `v` a graph output called `name`. A computed value is renamed in place; anything else needs an Identity. */
  output(v: Value, name: string): Value {
    this.use(v, 'output');
    let out = v;
    if (v.kind !== 'node' || v.graph !== this || v.isOutput) {
      out = this.node1('Identity', [v], { dtype: v.dtype, shape: v.shape });
    }
    this.usedNames.delete(out.name);
    out.name = this.claimName(name);
    out.isOutput = true;
    this.outputs.push(out);
    return out;
  }

  // ---- runtime shapes (for symbolic dims) ----

  /** int64 [1] tensor holding the runtime size of a symbolic dim. */
  dimTensor(sym: string): Value {
    const cached = this.dimTensors.get(sym);
    if (cached) return cached;
    const src = this.dimSources.get(sym);
    if (!src) {
      if (this.parent) return this.parent.dimTensor(sym);
      throw new GraphError(`No graph input has the symbolic dim '${sym}'; declare one before reshaping to it.`);
    }
    const v = this.node1('Shape', [src.value], { dtype: 'int64', shape: [1] }, { start: src.axis, end: src.axis + 1 });
    this.dimTensors.set(sym, v);
    return v;
  }

  /**
   * An int64 shape tensor for Reshape/Expand. Numbers are constants, single symbols are read at runtime, and at most
   * one product of symbols may appear (it becomes -1, which Reshape infers).
   */
  shapeTensor(shape: Shape, op = 'Reshape'): Value {
    if (isStaticShape(shape)) return this.constInt64(shape);
    const pieces: Value[] = [];
    let run: number[] = [];
    let inferred = false;
    const flush = (): void => {
      if (run.length) pieces.push(this.constInt64(run));
      run = [];
    };
    for (const d of shape) {
      if (typeof d === 'number') run.push(d);
      else if (isSymbol(d)) {
        flush();
        pieces.push(this.dimTensor(d));
      } else {
        if (inferred) throw new GraphError(`${op}: target ${formatShape(shape)} has more than one compound dim.`);
        inferred = true;
        run.push(-1);
      }
    }
    flush();
    if (pieces.length === 1) return pieces[0];
    return this.node1('Concat', pieces, { dtype: 'int64', shape: [shape.length] }, { axis: 0 });
  }

  /** int64 [1] tensor holding the runtime size of dim `d` (a constant when known, a product for 'batch*seq'). */
  dimValue(d: Dim): Value {
    if (typeof d === 'number') return this.constInt64([d]);
    if (isSymbol(d)) return this.dimTensor(d);
    let acc: Value | null = null;
    for (const part of (d as string).split('*')) {
      const factor = /^\d+$/.test(part) ? this.constInt64([Number(part)]) : this.dimTensor(part);
      acc = acc ? this.node1('Mul', [acc, factor], { dtype: 'int64', shape: [1] }) : factor;
    }
    return acc!;
  }

  // ---- autodiff ----

  /** Register an op on the tape when any input needs a gradient; its outputs then need one too. */
  record(inputs: (Value | null)[], outputs: Value[], backward: Backward): void {
    const needed = inputs.some((v) => v !== null && v.requiresGrad);
    for (const o of outputs) o.requiresGrad = needed;
    if (needed) this.tape.push({ inputs, outputs, backward });
  }

  /** d loss / d param for each param, built into this graph. Params the loss does not depend on get zeros. */
  gradients(loss: Value, params: Value[]): Value[] {
    if (loss.shape.length !== 0 || loss.dtype !== 'float32') {
      throw new GraphError(`gradients: loss must be a float32 scalar, got ${loss.toString()}.`);
    }
    if (!loss.requiresGrad) throw new GraphError('gradients: the loss does not depend on any parameter.');
    const grads = new Map<Value, Value>();
    grads.set(loss, this.constFloat(1));
    for (let i = this.tape.length - 1; i >= 0; i--) {
      const entry = this.tape[i];
      const gOut = entry.outputs.map((o) => grads.get(o) ?? null);
      if (gOut.every((x) => x === null)) continue;
      const gIn = entry.backward(gOut);
      entry.inputs.forEach((inp, k) => {
        const gk = gIn[k];
        if (!inp || !inp.requiresGrad || !gk) return;
        const prev = grads.get(inp);
        grads.set(inp, prev ? this.node1('Add', [prev, gk], { dtype: 'float32', shape: inp.shape }) : gk);
      });
    }
    return params.map((p) => {
      const g = grads.get(p);
      if (g) return g;
      if (!isStaticShape(p.shape)) throw new GraphError(`gradients: '${p.name}' is unused and has a symbolic shape.`);
      return this.node1('ConstantOfShape', [this.constInt64(p.shape)], { dtype: 'float32', shape: p.shape });
    });
  }

  /** Validate an axis against a value's rank. */
  axis(v: Value, axis: number, op: string): number {
    const a = normAxis(axis, v.shape.length);
    if (a < 0 || a >= v.shape.length) throw new GraphError(`${op}: axis ${axis} is out of range for ${v.toString()}.`);
    return a;
  }
}

export function expectDType(op: string, v: Value, ...dtypes: DType[]): void {
  if (!dtypes.includes(v.dtype)) throw new GraphError(`${op}: expected ${dtypes.join(' or ')}, got ${v.toString()}.`);
}

export function expectRank(op: string, v: Value, rank: number): void {
  if (v.shape.length !== rank) throw new GraphError(`${op}: expected rank ${rank}, got ${v.toString()}.`);
}

/**
 * Memory-efficient self-attention: softmax(q kᵀ · scale + mask) v, computed one block of queries at a time in an ONNX
 * Loop, so no [heads, seq, seq] tensor is ever held whole. The backward pass is a second Loop that recomputes each
 * block's probabilities from q, k and v instead of keeping them (the recomputation of FlashAttention, Dao et al. 2022):
 * a training step's attention memory grows with seq × block instead of seq². With a `window`, a query attends only to
 * the keys within window / 2 positions of it (ModernBERT's local layers, HF's sliding_window_mask), and each block reads
 * only those keys, so a local layer's cost grows with seq, not seq².
 *
 * Forward, per block of queries Q_c with its keys K_b and values V_b (M = the padding mask, and the window's):
 *   P = softmax(Q_c K_bᵀ · scale + M),   O_c = P V_b.
 * Backward, with D = rowsum(dO ⊙ O), which equals Σ_j P_ij dP_ij:
 *   dV_b += Pᵀ dO_c,   dP = dO_c V_bᵀ,   dS = P ⊙ (dP − D_c),   dQ_c = dS K_b · scale,   dK_b += dSᵀ Q_c · scale.
 * There is no dropout on the probabilities (its mask would have to be recomputed too): a model with attention dropout
 * uses the plain composition of matmul, softmax and dropout.
 */
import { GraphError } from '../../errors';
import { Dim } from '../dims';
import { Graph, Value, expectDType, expectRank } from '../graph';
import { binary, reduce, transposeRaw, zerosLike } from '../raw';
import { loop } from './loop';

/**
 * The additive attention mask value at masked key positions: HF 4.x adds torch.finfo(float32).min (not the -10000 of
 * older versions); softmax then gives those positions exactly zero weight.
 */
export const MASK_MIN = -3.4028234663852886e38;

/**
 * The block size the product uses (training, evaluation and explanations of ModernBERT): a global layer's block of
 * scores is [heads, 256, seq], 100 MB at 8,192 tokens and 12 heads, and at 512 tokens a local layer's two blocks each
 * read 384 keys instead of 512.
 */
export const ATTENTION_BLOCK = 256;

/** The block size a caller's choice means: undefined = ATTENTION_BLOCK, null = plain attention (undefined). */
export function attentionBlockOf(choice: number | null | undefined): number | undefined {
  return choice === undefined ? ATTENTION_BLOCK : (choice ?? undefined);
}

export interface BlockAttentionOptions {
  /** Multiplies q kᵀ (1 / sqrt(head size)). */
  scale: number;
  /** Local attention: a query sees the keys at most floor(window / 2) positions away. null: every key. */
  window: number | null;
  /** Queries per block. */
  block: number;
}

/** One block's index range along the sequence, as int64 [1] tensors: its queries [q0, q1) and its keys [k0, k1). */
interface BlockRange {
  q0: Value;
  q1: Value;
  k0: Value;
  k1: Value;
}

function minMax(g: Graph, op: 'Min' | 'Max', a: Value, b: Value): Value {
  return g.node1(op, [a, b], { dtype: 'int64', shape: [1] });
}

function blockRange(g: Graph, iter: Value, seq: Value, opts: BlockAttentionOptions): BlockRange {
  const q0 = binary(g, 'Mul', iter, g.constInt64([opts.block]));
  const q1 = minMax(g, 'Min', binary(g, 'Add', q0, g.constInt64([opts.block])), seq);
  if (opts.window === null) return { q0, q1, k0: g.constInt64([0]), k1: seq };
  const half = g.constInt64([Math.floor(opts.window / 2)]);
  return {
    q0,
    q1,
    k0: minMax(g, 'Max', binary(g, 'Sub', q0, half), g.constInt64([0])),
    k1: minMax(g, 'Min', binary(g, 'Add', q1, half), seq),
  };
}

/** x[..., start:end, ...] along `axis`; the sliced dim becomes the symbol `dim`. */
function sliceAxis(g: Graph, x: Value, start: Value, end: Value, axis: number, dim: Dim): Value {
  const shape = x.shape.map((d, i) => (i === axis ? dim : d));
  return g.node1('Slice', [x, start, end, g.constInt64([axis])], { dtype: x.dtype, shape });
}

/** A [B, h, n, d] block zero-padded into its place [start, end) of a [B, h, seq, d] tensor `like`. */
function placeAt(g: Graph, block: Value, start: Value, end: Value, seq: Value, like: Value): Value {
  const zero = g.constInt64([0]);
  const after = binary(g, 'Sub', seq, end);
  const pads = g.node1(
    'Concat',
    [zero, zero, start, zero, zero, zero, after, zero],
    { dtype: 'int64', shape: [8] },
    {
      axis: 0,
    },
  );
  return g.node1('Pad', [block, pads], { dtype: 'float32', shape: like.shape });
}

const scalarOf = (g: Graph, v: Value): Value =>
  g.node1('Squeeze', [v, g.constInt64([0])], { dtype: 'int64', shape: [] });

/** Where a query may see a key within the window: |query position - key position| <= floor(window / 2), [nq, nk]. */
function windowBand(g: Graph, r: BlockRange, window: number): Value {
  const one = g.constInt64([1], []);
  const queries = g.node1('Range', [scalarOf(g, r.q0), scalarOf(g, r.q1), one], { dtype: 'int64', shape: ['qblock'] });
  const keys = g.node1('Range', [scalarOf(g, r.k0), scalarOf(g, r.k1), one], { dtype: 'int64', shape: ['kblock'] });
  const column = g.node1('Unsqueeze', [queries, g.constInt64([1])], { dtype: 'int64', shape: ['qblock', 1] });
  const row = g.node1('Unsqueeze', [keys, g.constInt64([0])], { dtype: 'int64', shape: [1, 'kblock'] });
  const distance = g.node1('Abs', [binary(g, 'Sub', column, row)], { dtype: 'int64', shape: ['qblock', 'kblock'] });
  return g.node1('LessOrEqual', [distance, g.constInt64([Math.floor(window / 2)], [])], {
    dtype: 'bool',
    shape: ['qblock', 'kblock'],
  });
}

interface BlockProbs {
  probs: Value;
  qBlock: Value;
  kBlock: Value;
  vBlock: Value;
}

/** One block's probabilities softmax(Q_c K_bᵀ · scale + M) [B, h, nq, nk], with the q, k and v blocks they came from. */
function blockProbs(g: Graph, r: BlockRange, [q, k, v, maskAdd]: Value[], opts: BlockAttentionOptions): BlockProbs {
  const qBlock = sliceAxis(g, q, r.q0, r.q1, 2, 'qblock');
  const kBlock = sliceAxis(g, k, r.k0, r.k1, 2, 'kblock');
  const vBlock = sliceAxis(g, v, r.k0, r.k1, 2, 'kblock');
  const [B, h] = q.shape;
  const scoreShape = { dtype: 'float32' as const, shape: [B, h, 'qblock', 'kblock'] };
  const dot = g.node1('MatMul', [qBlock, transposeRaw(g, kBlock, [0, 1, 3, 2])], scoreShape);
  const padding = sliceAxis(g, maskAdd, r.k0, r.k1, 3, 'kblock');
  const mask =
    opts.window === null
      ? padding
      : g.node1('Where', [windowBand(g, r, opts.window), padding, g.constFloat(MASK_MIN)], {
          dtype: 'float32',
          shape: [maskAdd.shape[0], 1, 'qblock', 'kblock'],
        });
  const scores = binary(g, 'Add', binary(g, 'Mul', dot, g.constFloat(opts.scale)), mask);
  const probs = g.node1('Softmax', [scores], scoreShape, { axis: -1 });
  return { probs, qBlock, kBlock, vBlock };
}

/**
 * Self-attention of q, k, v [batch, heads, seq, headSize] under the additive padding mask `maskAdd` [batch, 1, 1, seq]
 * (0 where a key is seen, MASK_MIN where it is padding); returns the context [batch, heads, seq, headSize].
 */
export function blockAttention(
  g: Graph,
  q: Value,
  k: Value,
  v: Value,
  maskAdd: Value,
  opts: BlockAttentionOptions,
): Value {
  for (const [name, x] of [
    ['q', q],
    ['k', k],
    ['v', v],
  ] as const) {
    expectDType(`blockAttention ${name}`, x, 'float32');
    expectRank(`blockAttention ${name}`, x, 4);
  }
  expectRank('blockAttention mask', maskAdd, 4);
  if (!(Number.isInteger(opts.block) && opts.block >= 1)) {
    throw new GraphError(`blockAttention: the block must be a positive number of queries; got ${opts.block}.`);
  }
  if (opts.window !== null && !(Number.isInteger(opts.window) && opts.window >= 0)) {
    throw new GraphError(`blockAttention: the window must be a whole number of positions; got ${opts.window}.`);
  }
  const inputs = [q, k, v, maskAdd];
  const seq = g.node1('Shape', [q], { dtype: 'int64', shape: [1] }, { start: 2, end: 3 });
  const trips = scalarOf(
    g,
    binary(g, 'Div', binary(g, 'Add', seq, g.constInt64([opts.block - 1])), g.constInt64([opts.block])),
  );

  const forward = loop(g, trips, [zerosLike(g, q)], (body, iter, [context]) => {
    const r = blockRange(body, iter, seq, opts);
    const { probs, vBlock } = blockProbs(body, r, inputs, opts);
    const out = body.node1('MatMul', [probs, vBlock], {
      dtype: 'float32',
      shape: [q.shape[0], q.shape[1], 'qblock', q.shape[3]],
    });
    return { carried: [binary(body, 'Add', context, placeAt(body, out, r.q0, r.q1, seq, q))], scans: [] };
  });
  const [context] = forward.carried;

  g.record(inputs, [context], ([dContext]) => {
    if (!dContext) return [null, null, null, null];
    const rowDot = reduce(g, 'ReduceSum', binary(g, 'Mul', dContext, context), [-1], true); // D [B, h, seq, 1]
    const backward = loop(g, trips, [zerosLike(g, q), zerosLike(g, k), zerosLike(g, v)], (body, iter, [dq, dk, dv]) => {
      const r = blockRange(body, iter, seq, opts);
      const { probs, qBlock, kBlock, vBlock } = blockProbs(body, r, inputs, opts);
      const dOut = sliceAxis(body, dContext, r.q0, r.q1, 2, 'qblock');
      const dRow = sliceAxis(body, rowDot, r.q0, r.q1, 2, 'qblock');
      const [B, h, , d] = q.shape;
      const matmul = (a: Value, b: Value, shape: Dim[]): Value =>
        body.node1('MatMul', [a, b], { dtype: 'float32', shape });
      const dvBlock = matmul(transposeRaw(body, probs, [0, 1, 3, 2]), dOut, [B, h, 'kblock', d]);
      const dProbs = matmul(dOut, transposeRaw(body, vBlock, [0, 1, 3, 2]), [B, h, 'qblock', 'kblock']);
      const dScores = binary(
        body,
        'Mul',
        binary(body, 'Mul', probs, binary(body, 'Sub', dProbs, dRow)),
        body.constFloat(opts.scale),
      );
      const dqBlock = matmul(dScores, kBlock, [B, h, 'qblock', d]);
      const dkBlock = matmul(transposeRaw(body, dScores, [0, 1, 3, 2]), qBlock, [B, h, 'kblock', d]);
      return {
        carried: [
          binary(body, 'Add', dq, placeAt(body, dqBlock, r.q0, r.q1, seq, q)),
          binary(body, 'Add', dk, placeAt(body, dkBlock, r.k0, r.k1, seq, q)),
          binary(body, 'Add', dv, placeAt(body, dvBlock, r.k0, r.k1, seq, q)),
        ],
        scans: [],
      };
    });
    const [dq, dk, dv] = backward.carried;
    return [dq, dk, dv, null];
  });
  return context;
}

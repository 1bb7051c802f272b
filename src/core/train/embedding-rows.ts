/**
 * Training on the word-embedding rows a run can reach: the tokens of its training and evaluation data.
 *
 * Why: AdamW is dense, so every step updates every row of the word-embedding table, although a batch's gradient is
 * zero outside the few hundred tokens it holds. For a small model the table is most of the parameters (random:tiny:
 * 30,522 × 64 of 2.0 M), and its update was more than half of a step's time.
 *
 * Why it is exact: a row whose token occurs in no training batch has a zero gradient at every step, so its moments
 * stay exactly 0 (b1·0 + (1 − b1)·0) and AdamW's update of it is p ← p·decayFactor − stepSize·0 / (√0 + ε) = p·decayFactor.
 * The engine therefore trains only the reachable rows, and its train step multiplies the others by the step's decay
 * factor in float32 (one pass in the same graph, not AdamW's dozen): the same bits as the dense update, so a resumed
 * run still repeats an uninterrupted one. (Applying the factors in JS when the weights are read cost 4 s of an 11 s
 * run; a separate one-node session per step, 3.5 s.) Evaluation batches are reachable too, so that the forward pass reads
 * their rows from the trained table. (One difference: a step whose gradient is not finite makes the dense update of
 * every row NaN, here only of the reachable rows; such a run has failed either way.)
 */
import { ModelError } from '../errors';
import type { ParamSpec } from '../model/params';

export class EmbeddingRows {
  /** Reachable token ids, ascending; the trained table's row r is token rows[r]. */
  readonly rows: Int32Array;
  /** Token id → its row in the trained table, −1 where unreachable. */
  private readonly rowOf: Int32Array;
  /** The unreachable rows' weights, in token order: the train step decays them (StepGraphOptions.embeddingRows). */
  unreached: Float32Array;

  /**
   * @param spec the word-embedding table's spec ([vocab, hidden])
   * @param table its weights
   * @param tokens the ids the batches can hold (any order, repeats allowed); `alwaysRow` (the padding id) is added
   */
  constructor(
    readonly spec: ParamSpec,
    table: Float32Array,
    tokens: Iterable<number>,
    alwaysRow?: number,
  ) {
    const [vocab, H] = spec.shape;
    const reachable = new Uint8Array(vocab);
    for (const t of tokens) {
      if (!(Number.isInteger(t) && t >= 0 && t < vocab)) {
        throw new ModelError(`Token id ${t} is outside the model's vocabulary of ${vocab}.`, {
          fix: "Use the tokenizer that belongs to the model (the tokenizer's vocabulary is larger than the model's).",
          code: 'ENGINE_BAD_TOKEN',
        });
      }
      reachable[t] = 1;
    }
    if (alwaysRow !== undefined && alwaysRow >= 0 && alwaysRow < vocab) reachable[alwaysRow] = 1;
    this.rowOf = new Int32Array(vocab).fill(-1);
    const rows: number[] = [];
    for (let t = 0; t < vocab; t++) {
      if (reachable[t]) {
        this.rowOf[t] = rows.length;
        rows.push(t);
      }
    }
    this.rows = Int32Array.from(rows);
    this.unreached = new Float32Array((vocab - rows.length) * H);
    let u = 0;
    for (let t = 0; t < vocab; t++) {
      if (reachable[t]) continue;
      this.unreached.set(table.subarray(t * H, (t + 1) * H), u * H);
      u++;
    }
  }

  get unreachedRows(): number {
    return this.rowOf.length - this.rows.length;
  }

  get hidden(): number {
    return this.spec.shape[1];
  }

  /** The trained table's spec: the reachable rows only. */
  get compactSpec(): ParamSpec {
    return { ...this.spec, shape: [this.rows.length, this.hidden] };
  }

  /** The trained table's row of token `id`, if it has one. */
  rowOfToken(id: number): number | undefined {
    const r = id >= 0 && id < this.rowOf.length ? this.rowOf[id] : -1;
    return r < 0 ? undefined : r;
  }

  /** The reachable rows of a whole [vocab, hidden] tensor (weights or moments). */
  gather(whole: Float32Array): Float32Array {
    const H = this.hidden;
    const out = new Float32Array(this.rows.length * H);
    this.rows.forEach((t, r) => out.set(whole.subarray(t * H, (t + 1) * H), r * H));
    return out;
  }

  /** A whole tensor from the trained rows; the unreachable rows are `unreached` (weights) or zero (moments). */
  scatter(compact: Float32Array, unreached?: Float32Array): Float32Array {
    const H = this.hidden;
    const out = new Float32Array(this.rowOf.length * H);
    let u = 0;
    for (let t = 0; t < this.rowOf.length; t++) {
      const r = this.rowOf[t];
      if (r >= 0) out.set(compact.subarray(r * H, (r + 1) * H), t * H);
      else if (unreached) out.set(unreached.subarray(u++ * H, u * H), t * H);
    }
    return out;
  }

  /** The whole table: the trained rows and the decayed unreachable ones. */
  wholeTable(compact: Float32Array): Float32Array {
    return this.scatter(compact, this.unreached);
  }

  /** Whether a whole moment tensor is zero on every unreachable row (so training only the reachable rows is exact). */
  zeroOutside(whole: Float32Array): boolean {
    const H = this.hidden;
    for (let t = 0; t < this.rowOf.length; t++) {
      if (this.rowOf[t] >= 0) continue;
      for (let i = t * H; i < (t + 1) * H; i++) if (whole[i] !== 0) return false;
    }
    return true;
  }

  /** The batch's token ids as rows of the trained table. */
  lookup(ids: BigInt64Array): BigInt64Array {
    const out = new BigInt64Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = Number(ids[i]);
      const r = id >= 0 && id < this.rowOf.length ? this.rowOf[id] : -1;
      if (r < 0) {
        throw new ModelError(`Token id ${id} is not one the engine was told its batches can hold.`, {
          fix: "Give the engine every token id of the run's training and evaluation batches (EngineOptions.embeddingTokens).",
          code: 'ENGINE_BAD_TOKEN',
        });
      }
      out[i] = BigInt(r);
    }
    return out;
  }
}

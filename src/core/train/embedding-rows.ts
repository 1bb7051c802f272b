/**
 * Training on the word-embedding rows a run can reach: the tokens of its training and evaluation data.
 *
 * Why: AdamW is dense, so every step updates every row of the word-embedding table, although a batch's gradient is
 * zero outside the few hundred tokens it holds. For a small model the table is most of the parameters (random:tiny:
 * 30,522 × 64 of 2.0 M), and its update was more than half of a step's time.
 *
 * Why it is exact: a row whose token occurs in no training batch has a zero gradient at every step, so its moments
 * stay exactly 0 (b1·0 + (1 − b1)·0) and AdamW's update of it is p ← p·decayFactor − stepSize·0 / (√0 + ε) = p·decayFactor.
 * The engine therefore trains only the reachable rows and applies the recorded decay factors to the others, one step
 * at a time in float32, when the weights are read: the same bits as the dense update. Evaluation batches are reachable
 * too, so that the forward pass reads their rows from the trained table. (One difference: a step whose gradient is not
 * finite makes the dense update of every row NaN, here only of the reachable rows; such a run has failed either way.)
 */
import { ModelError } from '../errors';
import type { ParamSpec } from '../model/params';

export class EmbeddingRows {
  /** Reachable token ids, ascending; the trained table's row r is token rows[r]. */
  readonly rows: Int32Array;
  /** Token id → its row in the trained table, −1 where unreachable. */
  private readonly rowOf: Int32Array;
  /** The whole table; its unreachable rows are current as of `decayedTo` (its reachable rows are stale). */
  private readonly table: Float32Array;
  private decayedTo: number;
  /** The decay factor (float32) of each optimizer step by its 0-based index. */
  private readonly decays: number[] = [];

  /**
   * @param spec the word-embedding table's spec ([vocab, hidden])
   * @param table its weights at optimizer step `step`
   * @param tokens the ids the batches can hold (any order, repeats allowed); `alwaysRow` (the padding id) is added
   */
  constructor(
    readonly spec: ParamSpec,
    table: Float32Array,
    tokens: Iterable<number>,
    step: number,
    alwaysRow?: number,
  ) {
    const [vocab] = spec.shape;
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
    this.table = table.slice();
    this.decayedTo = step;
  }

  get hidden(): number {
    return this.spec.shape[1];
  }

  /** The trained table's spec: the reachable rows only. */
  get compactSpec(): ParamSpec {
    return { ...this.spec, shape: [this.rows.length, this.hidden] };
  }

  /** The trained table's row of `padId` (the padding index of its lookup), if it has one. */
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

  /** A whole tensor from the trained rows, `rest` (or zeros) elsewhere. */
  scatter(compact: Float32Array, rest?: Float32Array): Float32Array {
    const H = this.hidden;
    const out = rest ? rest.slice() : new Float32Array(this.rowOf.length * H);
    this.rows.forEach((t, r) => out.set(compact.subarray(r * H, (r + 1) * H), t * H));
    return out;
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

  /** Records optimizer step `step`'s (0-based) decay factor, as fed to the graph (float32). */
  recordDecay(step: number, factor: number): void {
    this.decays[step] = Math.fround(factor);
  }

  /**
   * The optimizer's step count is set from `current` to `step` (resuming: its moments are replaced, its weights are
   * kept): the unreachable rows are brought up to `current`, and steps from `step` on decay them again.
   */
  moveTo(current: number, step: number): void {
    if (this.spec.decay) this.decayUnreachable(current);
    this.decayedTo = step;
  }

  /** The whole table at optimizer step `step`: the trained rows, and the others decayed step by step up to it. */
  wholeTable(compact: Float32Array, step: number): Float32Array {
    if (this.spec.decay) this.decayUnreachable(step);
    this.decayedTo = step;
    return this.scatter(compact, this.table);
  }

  private decayUnreachable(step: number): void {
    const factors = this.decays.slice(this.decayedTo, step);
    if (factors.length !== step - this.decayedTo || factors.some((f) => f === undefined)) {
      throw new Error(`EmbeddingRows: no decay factors recorded for steps ${this.decayedTo}..${step - 1}`);
    }
    if (factors.every((f) => f === 1)) return;
    const H = this.hidden;
    const t = this.table;
    // One float32 multiplication per step, in step order: what the dense update does to these rows.
    for (let token = 0; token < this.rowOf.length; token++) {
      if (this.rowOf[token] >= 0) continue;
      for (let i = token * H; i < (token + 1) * H; i++) {
        let x = t[i];
        for (const f of factors) x = Math.fround(x * f);
        t[i] = x;
      }
    }
  }
}

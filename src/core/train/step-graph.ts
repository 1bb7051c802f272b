/**
 * The train-step compiler: one ONNX graph = forward + backward + global-norm clipping + AdamW.
 * Parameters and AdamW moments are graph inputs and outputs; the engine keeps them in JS between runs.
 * With stepsPerRun K > 1 the step becomes the body of an ONNX Loop over K stacked batches ([K, batch, seq]), so the
 * state crosses the JS/ORT boundary once per K steps.
 *
 * The single-step graph may have its state outputs written over its state inputs (checked: checkInPlaceOutputs).
 *
 * Graph I/O (names in STEP_IO): params by HF name, `m.<name>`, `v.<name>`, input_ids / attention_mask /
 * token_type_ids (int64 [batch, seq]), labels (int64 [batch]; float32 for regression; float32 [batch, numLabels] for
 * multi-label), class_weights (float [numLabels]; multi-label: the positive weights), the AdamW scalars,
 * dropout_keys (int64, when dropout is on). Outputs: loss, grad_norm, `new.<name>`, `new.m.<name>`, `new.v.<name>`.
 * The mlm task has labels [batch, seq] and no class weights, and (unless it scores every position) masked_positions
 * (int64 [masked]: the flattened positions whose label is not IGNORE_LABEL, in order), the rows its head scores; its
 * forward graph takes masked_positions too and gives logits [masked, vocab].
 * With K > 1 every per-step input gains a leading K axis and loss / grad_norm are [K].
 *
 * Gradient accumulation splits the step in two graphs: `accumulate` runs once per micro-batch (forward with dropout,
 * backward of loss * loss_scale; inputs the running sum `acc.<name>`, outputs loss and `new.acc.<name>` = acc + the
 * scaled gradient), and `apply` runs once per optimizer step (inputs params, moments, the summed gradient as
 * `grad.<name>` and the AdamW scalars; outputs grad_norm and the new state, as the train graph does).
 */
import { GraphError } from '../errors';
import { Dim } from '../graph/dims';
import { Graph, Value } from '../graph/graph';
import { checkInPlaceOutputs } from '../graph/in-place';
import { DropoutKeys } from '../graph/ops/dropout';
import { embedding } from '../graph/ops/embedding';
import { mul } from '../graph/ops/elementwise';
import { bceWithLogits, crossEntropy, mseLoss } from '../graph/ops/loss';
import { binary } from '../graph/raw';
import { loop } from '../graph/ops/loop';
import { toModelBytes } from '../graph/serialize';
import { EncoderFamily, EncoderInputs } from '../model/bert';
import { labelsAt, maskedLmLoss } from '../model/mlm-head';
import { ParamSpec } from '../model/params';
import { AdamWConstants, AdamWStepInputs, adamwUpdate, foldAdamWScalars, globalNormClip } from './optimizer';

export const STEP_IO = {
  inputIds: 'input_ids',
  attentionMask: 'attention_mask',
  tokenTypeIds: 'token_type_ids',
  labels: 'labels',
  maskedPositions: 'masked_positions',
  embeddingRows: 'embedding_rows',
  unreached: 'unreached_rows',
  newUnreached: 'new.unreached_rows',
  classWeights: 'class_weights',
  stepSize: 'step_size',
  sqrtBc2: 'sqrt_bc2',
  decayFactor: 'decay_factor',
  dropoutKeys: 'dropout_keys',
  lossScale: 'loss_scale',
  loss: 'loss',
  gradNorm: 'grad_norm',
  logits: 'logits',
  m: (name: string) => `m.${name}`,
  v: (name: string) => `v.${name}`,
  newParam: (name: string) => `new.${name}`,
  newM: (name: string) => `new.m.${name}`,
  newV: (name: string) => `new.v.${name}`,
  grad: (name: string) => `grad.${name}`,
  acc: (name: string) => `acc.${name}`,
  newAcc: (name: string) => `new.acc.${name}`,
} as const;

export interface StepGraphOptions {
  family: EncoderFamily;
  numLabels: number;
  /**
   * classify (default): labels [batch], class_weights [numLabels], weighted cross-entropy. mlm: labels are
   * [batch, seq] with IGNORE_LABEL where nothing is predicted, no class weights; the head scores the rows of
   * masked_positions ([masked, vocab]). regression: one output (numLabels 1), labels are float targets [batch], no
   * class weights, mean squared error (HF problem_type "regression"). multi-label: labels are float 0/1 targets
   * [batch, numLabels], class_weights are BCEWithLogitsLoss's pos_weight (HF problem_type "multi_label_classification").
   */
  task?: 'classify' | 'mlm' | 'regression' | 'multi-label';
  /**
   * mlm only. 'masked' (default): the head and the loss run on the masked positions alone. 'every': the head scores
   * every position ([batch*seq, vocab], no masked_positions input) and the loss skips the unlabelled ones: the same
   * loss and gradients at ~7x the cost, kept as the reference the sparse head is tested and benchmarked against.
   * Forward graphs always take masked_positions.
   */
  mlmScoring?: 'masked' | 'every';
  /**
   * train: AdamW step; grads: loss + raw gradients; forward: logits only (no dropout, no labels); accumulate and
   * apply: the two halves of a step with gradient accumulation (see the file comment).
   */
  mode: 'train' | 'grads' | 'forward' | 'accumulate' | 'apply';
  dropout: boolean;
  stepsPerRun?: number;
  adam: AdamWConstants;
  maxGradNorm: number;
  /** classify: torch CrossEntropyLoss's label_smoothing (default 0). */
  labelSmoothing?: number;
  /**
   * Not mlm: the word-embedding table `param` has only the `rows` rows the batches can reach (train/embedding-rows.ts),
   * and the graph looks words up by embedding_rows (int64, input_ids' shape: each token's row in that table) instead of
   * input_ids, which every other use keeps (padding, positions). `paddingIdx`: the padding token's row, whose gradient
   * is zero (the family's padding_idx), if the family has one. `unreached` > 0: the train and apply graphs also take
   * the table's other rows, unreached_rows ([unreached, hidden]), and give new.unreached_rows = unreached_rows ·
   * decay_factor: AdamW's whole update of a row whose gradient is always zero.
   */
  embeddingRows?: { param: string; rows: number; paddingIdx?: number; unreached?: number };
}

export interface StepGraph {
  bytes: Uint8Array;
  specs: ParamSpec[];
  /** Number of dropout sites; dropout_keys has dropoutSites * KEYS_PER_SITE entries per step. */
  dropoutSites: number;
  nodeCount: number;
  /** Node index where each phase of a one-step train graph starts (nodes are named `<op>_<index>`), for profiling. */
  phases?: { forward: number; loss: number; backward: number; clip: number; optimizer: number };
}

const BATCH: Dim[] = ['batch', 'seq'];
/** The number of masked positions of an MLM batch (K-step runs stack batches with equally many). */
const MASKED = 'masked';

interface StepIO {
  params: Value[];
  m: Value[];
  v: Value[];
  inputs: EncoderInputs;
  labels: Value;
  /** mlm with masked scoring: the flattened positions the head scores. */
  positions: Value | null;
  classWeights: Value | null;
  scalars: AdamWStepInputs;
  keys: DropoutKeys | null;
}

/** Forward, loss, backward, clipping and AdamW for one batch, built into `g`. */
function trainStep(g: Graph, specs: ParamSpec[], io: StepIO, opts: StepGraphOptions) {
  const forward = g.nodes.length;
  const { loss, lossStart } = forwardLoss(g, specs, io, opts);
  const backward = g.nodes.length;
  const grads = g.gradients(loss, io.params);
  const clip = g.nodes.length;
  const { norm, coef, updated, optimizer } = clipAndUpdate(g, specs, io, grads, opts);
  return { loss, norm, coef, updated, phases: { forward, loss: lossStart, backward, clip, optimizer } };
}

/** The forward pass (with dropout where io.keys is given) and the task's loss. */
function forwardLoss(
  g: Graph,
  specs: ParamSpec[],
  io: Pick<StepIO, 'params' | 'inputs' | 'labels' | 'positions' | 'classWeights' | 'keys'>,
  opts: StepGraphOptions,
): { loss: Value; lossStart: number } {
  const params = new Map(specs.map((s, i) => [s.name, io.params[i]]));
  const logits = opts.family.logits(
    { g, params, dropout: io.keys },
    { ...io.inputs, positions: io.positions ?? undefined },
  );
  const lossStart = g.nodes.length;
  return { loss: taskLoss(g, logits, io.labels, io.positions, io.classWeights, opts), lossStart };
}

/** Global-norm clipping of `grads` and the AdamW update of every parameter. */
function clipAndUpdate(
  g: Graph,
  specs: ParamSpec[],
  io: Pick<StepIO, 'params' | 'm' | 'v' | 'scalars'>,
  grads: Value[],
  opts: StepGraphOptions,
) {
  const { norm, coef } = globalNormClip(g, grads, opts.maxGradNorm);
  const optimizer = g.nodes.length;
  const folded = foldAdamWScalars(g, opts.adam, io.scalars, coef);
  const updated = specs.map((s, i) =>
    adamwUpdate(g, io.params[i], grads[i], io.m[i], io.v[i], s.decay, opts.adam, folded),
  );
  return { norm, coef, updated, optimizer };
}

/** The one-step graph's state outputs may be written over its state inputs: prove it (see the engine's in-place fetches). */
function checkStateInPlace(
  g: Graph,
  coef: Value,
  state: { params: Value[]; m: Value[]; v: Value[] },
  updated: { p: Value; m: Value; v: Value }[],
  unreached: readonly [Value, Value] | null,
): void {
  checkInPlaceOutputs(g, coef, [
    ...updated.flatMap(
      (u, i) =>
        [
          [state.params[i], u.p],
          [state.m[i], u.m],
          [state.v[i], u.v],
        ] as const,
    ),
    ...(unreached ? [unreached] : []),
  ]);
}

function taskLoss(
  g: Graph,
  logits: Value,
  labels: Value,
  positions: Value | null,
  classWeights: Value | null,
  opts: StepGraphOptions,
): Value {
  if (opts.task === 'regression') return mseLoss(g, logits, labels);
  if (opts.task === 'multi-label') return bceWithLogits(g, logits, labels, classWeights);
  if (opts.task !== 'mlm') return crossEntropy(g, logits, labels, classWeights, opts.labelSmoothing ?? 0);
  return maskedLmLoss(g, logits, positions ? labelsAt(g, labels, positions) : labels);
}

/** The family's parameters, with the word-embedding table cut to its reachable rows when opts.embeddingRows says so. */
function stepSpecs(opts: StepGraphOptions): ParamSpec[] {
  const specs = opts.family.paramSpecs(opts.numLabels);
  const rows = opts.embeddingRows;
  if (!rows) return specs;
  if (opts.task === 'mlm') throw new GraphError('embeddingRows: the masked-LM head reads the whole embedding table.');
  const at = specs.findIndex((s) => s.name === rows.param);
  if (at < 0 || specs[at].shape.length !== 2) {
    throw new GraphError(`embeddingRows: the model has no embedding table ${rows.param}.`);
  }
  return specs.map((s, i) => (i === at ? { ...s, shape: [rows.rows, s.shape[1]] } : s));
}

/**
 * The encoder's inputs; with opts.embeddingRows, the word embeddings looked up by `rowIds` in the cut table (the
 * families' HF inputs_embeds path).
 */
function encoderInputs(
  g: Graph,
  specs: ParamSpec[],
  params: Value[],
  ids: { inputIds: Value; attentionMask: Value; tokenTypeIds: Value; rowIds: Value | null },
  opts: StepGraphOptions,
): EncoderInputs {
  const { rowIds, ...inputs } = ids;
  const rows = opts.embeddingRows;
  if (!rows || !rowIds) return inputs;
  const table = params[specs.findIndex((s) => s.name === rows.param)];
  return { ...inputs, wordEmbeddings: embedding(g, table, rowIds, rows.paddingIdx) };
}

/** The unreached rows' input (train and apply graphs, when opts.embeddingRows.unreached > 0). */
function unreachedInput(g: Graph, specs: ParamSpec[], opts: StepGraphOptions): Value | null {
  const rows = opts.embeddingRows;
  if (!rows?.unreached) return null;
  const hidden = specs.find((s) => s.name === rows.param)!.shape[1];
  return g.input(STEP_IO.unreached, 'float32', [rows.unreached, hidden]);
}

export function buildStepGraph(opts: StepGraphOptions): StepGraph {
  const specs = stepSpecs(opts);
  const g = new Graph();
  const K = opts.stepsPerRun ?? 1;
  const looped = opts.mode === 'train' && K > 1;
  const lead: Dim[] = looped ? [K] : [];
  const params = specs.map((s) =>
    g.input(s.name, 'float32', s.shape, opts.mode !== 'forward' && opts.mode !== 'apply'),
  );
  if (opts.mode === 'apply') return buildApplyGraph(g, specs, params, opts);
  const ids = g.input(STEP_IO.inputIds, 'int64', [...lead, ...BATCH]);
  const mask = g.input(STEP_IO.attentionMask, 'int64', [...lead, ...BATCH]);
  const types = g.input(STEP_IO.tokenTypeIds, 'int64', [...lead, ...BATCH]);
  const rowIds = opts.embeddingRows ? g.input(STEP_IO.embeddingRows, 'int64', [...lead, ...BATCH]) : null;
  const inputsOf = (p: Value[]): EncoderInputs =>
    encoderInputs(g, specs, p, { inputIds: ids, attentionMask: mask, tokenTypeIds: types, rowIds }, opts);
  const mlm = opts.task === 'mlm';
  const positions =
    mlm && (opts.mode === 'forward' || opts.mlmScoring !== 'every')
      ? g.input(STEP_IO.maskedPositions, 'int64', [...lead, MASKED])
      : null;
  let dropoutSites = 0;

  if (opts.mode === 'forward') {
    const logits = opts.family.logits(
      { g, params: new Map(specs.map((s, i) => [s.name, params[i]])), dropout: null },
      { ...inputsOf(params), positions: positions ?? undefined },
    );
    g.output(logits, STEP_IO.logits);
    return { bytes: toModelBytes(g), specs, dropoutSites, nodeCount: g.nodes.length };
  }

  const regression = opts.task === 'regression';
  const multiLabel = opts.task === 'multi-label';
  const labelDims: Dim[] = mlm ? BATCH : multiLabel ? ['batch', opts.numLabels] : ['batch'];
  const labels = g.input(STEP_IO.labels, regression || multiLabel ? 'float32' : 'int64', [...lead, ...labelDims]);
  const classWeights = mlm || regression ? null : g.input(STEP_IO.classWeights, 'float32', [opts.numLabels]);
  if (opts.mode === 'grads') {
    const paramMap = new Map(specs.map((s, i) => [s.name, params[i]]));
    const logits = opts.family.logits(
      { g, params: paramMap, dropout: null },
      { ...inputsOf(params), positions: positions ?? undefined },
    );
    const loss = taskLoss(g, logits, labels, positions, classWeights, opts);
    g.output(loss, STEP_IO.loss);
    g.gradients(loss, params).forEach((gr, i) => g.output(gr, STEP_IO.grad(specs[i].name)));
    return { bytes: toModelBytes(g), specs, dropoutSites, nodeCount: g.nodes.length };
  }

  if (opts.mode === 'accumulate') {
    const acc = specs.map((s) => g.input(STEP_IO.acc(s.name), 'float32', s.shape));
    const lossScale = g.input(STEP_IO.lossScale, 'float32', []);
    const keys = opts.dropout ? new DropoutKeys(g.input(STEP_IO.dropoutKeys, 'int64', ['dropout_keys'])) : null;
    const inputs = inputsOf(params);
    const { loss } = forwardLoss(g, specs, { params, inputs, labels, positions, classWeights, keys }, opts);
    // HF Trainer: each micro-batch's loss is divided by the number of micro-batches before its backward pass.
    const grads = g.gradients(mul(g, loss, lossScale), params);
    g.output(loss, STEP_IO.loss);
    grads.forEach((gr, i) => g.output(binary(g, 'Add', acc[i], gr), STEP_IO.newAcc(specs[i].name)));
    return { bytes: toModelBytes(g), specs, dropoutSites: keys?.siteCount ?? 0, nodeCount: g.nodes.length };
  }

  const m = specs.map((s) => g.input(STEP_IO.m(s.name), 'float32', s.shape));
  const v = specs.map((s) => g.input(STEP_IO.v(s.name), 'float32', s.shape));
  const stepSize = g.input(STEP_IO.stepSize, 'float32', lead);
  const sqrtBc2 = g.input(STEP_IO.sqrtBc2, 'float32', lead);
  const decayFactor = g.input(STEP_IO.decayFactor, 'float32', lead);
  const keysAll = opts.dropout ? g.input(STEP_IO.dropoutKeys, 'int64', [...lead, 'dropout_keys']) : null;
  const unreached = unreachedInput(g, specs, opts);

  if (!looped) {
    const keys = keysAll ? new DropoutKeys(keysAll) : null;
    const io: StepIO = {
      params,
      m,
      v,
      labels,
      positions,
      classWeights,
      keys,
      inputs: inputsOf(params),
      scalars: { stepSize, sqrtBc2, decayFactor },
    };
    const r = trainStep(g, specs, io, opts);
    dropoutSites = keys?.siteCount ?? 0;
    g.output(r.loss, STEP_IO.loss);
    g.output(r.norm, STEP_IO.gradNorm);
    emitState(g, specs, r.updated);
    const decayed = unreached && binary(g, 'Mul', unreached, decayFactor);
    if (decayed) g.output(decayed, STEP_IO.newUnreached);
    // The engine writes new.x over x (pre-allocated outputs); prove here that no read of x can come after that write.
    checkStateInPlace(g, r.coef, { params, m, v }, r.updated, unreached && decayed ? [unreached, decayed] : null);
    return { bytes: toModelBytes(g), specs, dropoutSites, nodeCount: g.nodes.length, phases: r.phases };
  }

  const n = specs.length;
  const out = loop(g, K, [...params, ...m, ...v, ...(unreached ? [unreached] : [])], (body, iter, carried) => {
    const pick = (x: Value, shape: Dim[]): Value =>
      body.node1('Gather', [x, iter], { dtype: x.dtype, shape }, { axis: 0 });
    const bodyParams = carried.slice(0, n);
    bodyParams.forEach((p) => (p.requiresGrad = true));
    const keys = keysAll ? new DropoutKeys(pick(keysAll, ['dropout_keys'])) : null;
    const io: StepIO = {
      params: bodyParams,
      m: carried.slice(n, 2 * n),
      v: carried.slice(2 * n),
      labels: pick(labels, labelDims),
      positions: positions ? pick(positions, [MASKED]) : null,
      classWeights,
      keys,
      inputs: encoderInputs(
        body,
        specs,
        bodyParams,
        {
          inputIds: pick(ids, BATCH),
          attentionMask: pick(mask, BATCH),
          tokenTypeIds: pick(types, BATCH),
          rowIds: rowIds ? pick(rowIds, BATCH) : null,
        },
        opts,
      ),
      scalars: { stepSize: pick(stepSize, []), sqrtBc2: pick(sqrtBc2, []), decayFactor: pick(decayFactor, []) },
    };
    const r = trainStep(body, specs, io, opts);
    dropoutSites = keys?.siteCount ?? 0;
    const decayed = unreached ? [binary(body, 'Mul', carried[3 * n], io.scalars.decayFactor)] : [];
    return {
      carried: [...r.updated.map((u) => u.p), ...r.updated.map((u) => u.m), ...r.updated.map((u) => u.v), ...decayed],
      scans: [r.loss, r.norm],
    };
  });
  if (unreached) g.output(out.carried[3 * n], STEP_IO.newUnreached);
  // Loop outputs are node outputs of the outer graph, so they take their final names without Identity nodes.
  g.output(out.scans[0], STEP_IO.loss);
  g.output(out.scans[1], STEP_IO.gradNorm);
  emitState(
    g,
    specs,
    specs.map((_, i) => ({ p: out.carried[i], m: out.carried[n + i], v: out.carried[2 * n + i] })),
  );
  return { bytes: toModelBytes(g), specs, dropoutSites, nodeCount: g.nodes.length };
}

/** The optimizer half of an accumulated step: clipping and AdamW on the summed gradient `grad.<name>`. */
function buildApplyGraph(g: Graph, specs: ParamSpec[], params: Value[], opts: StepGraphOptions): StepGraph {
  const grads = specs.map((s) => g.input(STEP_IO.grad(s.name), 'float32', s.shape));
  const m = specs.map((s) => g.input(STEP_IO.m(s.name), 'float32', s.shape));
  const v = specs.map((s) => g.input(STEP_IO.v(s.name), 'float32', s.shape));
  const scalars = {
    stepSize: g.input(STEP_IO.stepSize, 'float32', []),
    sqrtBc2: g.input(STEP_IO.sqrtBc2, 'float32', []),
    decayFactor: g.input(STEP_IO.decayFactor, 'float32', []),
  };
  const unreached = unreachedInput(g, specs, opts);
  const r = clipAndUpdate(g, specs, { params, m, v, scalars }, grads, opts);
  g.output(r.norm, STEP_IO.gradNorm);
  emitState(g, specs, r.updated);
  const decayed = unreached && binary(g, 'Mul', unreached, scalars.decayFactor);
  if (decayed) g.output(decayed, STEP_IO.newUnreached);
  checkStateInPlace(g, r.coef, { params, m, v }, r.updated, unreached && decayed ? [unreached, decayed] : null);
  return { bytes: toModelBytes(g), specs, dropoutSites: 0, nodeCount: g.nodes.length };
}

function emitState(g: Graph, specs: ParamSpec[], updated: { p: Value; m: Value; v: Value }[]): void {
  specs.forEach((s, i) => {
    g.output(updated[i].p, STEP_IO.newParam(s.name));
    g.output(updated[i].m, STEP_IO.newM(s.name));
    g.output(updated[i].v, STEP_IO.newV(s.name));
  });
}

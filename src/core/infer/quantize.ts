/**
 * Int8 dynamic quantization of an exported inference model, as a graph transform on the ONNX protobuf.
 *
 * Every Gemm whose weight is an initializer (all dense layers of BERT: Q/K/V, attention output, FFN, pooler,
 * classifier) gets its weight stored as int8 with one symmetric scale per output column; activations are quantized
 * at run time per tensor. Two encodings, both run by onnxruntime on CPU:
 *  - 'dynamic-quantize-matmul': one com.microsoft DynamicQuantizeMatMul node per layer (bias fused);
 *  - 'matmul-integer': standard ONNX DynamicQuantizeLinear → MatMulInteger → Cast → Mul → Add, which ORT fuses at
 *    graph optimization level 'all'.
 * bench/infer measures which is faster; DEFAULT_QUANT_FORMAT is the winner. Attention's activation × activation
 * MatMuls, embeddings, LayerNorm and Softmax stay float32.
 *
 * `writeQuantizedModelDir` writes a sibling model folder (config, tokenizer, inference settings copied, model.onnx
 * int8, also as onnx/model_quantized.onnx there and in the model folder for transformers.js) so `loadPredictor` loads
 * it like any model folder; `compareQuantized` measures what int8 costs in accuracy and gains in speed, for the user
 * to see before choosing it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import { ModelError } from '../errors';
import { linkOrCopyAtomic, writeFileAtomic } from '../util/files';
import { commitDir, prepareTempDir } from '../run/folder';
import { int8ModelCard, MODEL_CARD_FILE, readBertftCard } from '../model/model-card';
import { refuseLiveLock } from '../run/lock';
import { modelDirOf, runDirOfModel } from '../run/paths';
import type { Example } from '../data/types';
import { loadPredictor, type Prediction, type Predictor } from './predictor';
import { loadPreprocessor } from './preprocess';
import {
  TRANSFORMERS_JS_DIR,
  TRANSFORMERS_JS_FP32,
  TRANSFORMERS_JS_Q8,
  writeTransformersJsFiles,
} from '../model/transformers-js';

export type QuantFormat = 'dynamic-quantize-matmul' | 'matmul-integer';
export const QUANT_FORMATS: readonly QuantFormat[] = ['dynamic-quantize-matmul', 'matmul-integer'];
/**
 * On a quiet machine bench:infer measured DynamicQuantizeMatMul clearly faster at 2 threads (BERT-base 38.6 vs 75.6 ms
 * per text, BERT-mini 2.9 vs 3.5 ms; under load the two had looked alike). It is an onnxruntime contrib op, which is
 * fine: the int8 model is for our own ORT sessions. MatMulInteger stays available as the standard-ONNX encoding.
 */
export const DEFAULT_QUANT_FORMAT: QuantFormat = 'dynamic-quantize-matmul';

/** Name of the int8 model folder written inside a model folder (`<run>/best/int8/`). */
export const INT8_DIR = 'int8';

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT8 = onnx.TensorProto.DataType.INT8;
const A = onnx.AttributeProto.AttributeType;

export interface QuantizeResult {
  bytes: Uint8Array;
  /** Gemm layers whose weights became int8. */
  quantizedLayers: number;
  /** Weight bytes before (float32) and after (int8 + scales) for those layers. */
  weightBytesBefore: number;
  weightBytesAfter: number;
}

/** The float32 values of an initializer, whichever of raw_data / float_data holds them. */
function floatValues(t: onnx.ITensorProto): Float32Array {
  if (t.rawData && t.rawData.length > 0) {
    const raw = t.rawData;
    // Copy: raw_data's offset inside the decoded buffer need not be 4-byte aligned.
    const copy = new Uint8Array(raw.length);
    copy.set(raw);
    return new Float32Array(copy.buffer);
  }
  return Float32Array.from(t.floatData ?? []);
}

function intAttr(node: onnx.INodeProto, name: string, fallback: number): number {
  const a = node.attribute?.find((x) => x.name === name);
  return a ? Number(a.i ?? fallback) : fallback;
}

function floatAttr(node: onnx.INodeProto, name: string, fallback: number): number {
  const a = node.attribute?.find((x) => x.name === name);
  return a ? Number(a.f ?? fallback) : fallback;
}

/**
 * W in torch layout [N out, K in] → int8 Wt [K, N] (row-major, ready for x · Wt) and per-column scales [N]:
 * scale = max|w| / WEIGHT_QMAX over the column, zero point 0.
 */
export function quantizeWeightTransposed(
  w: Float32Array,
  n: number,
  k: number,
): { q: Int8Array; scales: Float32Array } {
  return quantizeColumns((o, i) => w[o * k + i], n, k);
}

/** W already [K in, N out] (a GPT-2 Conv1D, Gemm without transB) → int8 [K, N] and per-column scales [N], as above. */
export function quantizeWeight(w: Float32Array, n: number, k: number): { q: Int8Array; scales: Float32Array } {
  return quantizeColumns((o, i) => w[i * n + o], n, k);
}

/**
 * The largest int8 weight: 7 bits of range, as onnxruntime's quantizer does with reduce_range. On x86-64 CPUs without
 * VNNI (AVX2, AVX-512 without VNNI: many AMD and older Intel machines) onnxruntime multiplies uint8 activations by
 * int8 weights with VPMADDUBSW, which adds two products into an int16 and saturates: 255 · 127 · 2 overflows it,
 * 255 · 64 · 2 does not. With the full ±127 an AMD EPYC without VNNI put int8 logits up to 0.36 from float32 where a
 * VNNI machine had them within 0.05 (test/unit/families/formats.test.ts).
 */
export const WEIGHT_QMAX = 64;

/** Int8 [K, N] of the weight whose element (output o, input i) is `at(o, i)`, one scale per output column. */
function quantizeColumns(
  at: (o: number, i: number) => number,
  n: number,
  k: number,
): { q: Int8Array; scales: Float32Array } {
  const q = new Int8Array(k * n);
  const scales = new Float32Array(n);
  for (let o = 0; o < n; o++) {
    let max = 0;
    for (let i = 0; i < k; i++) max = Math.max(max, Math.abs(at(o, i)));
    const scale = max > 0 ? max / WEIGHT_QMAX : 1;
    scales[o] = scale;
    for (let i = 0; i < k; i++) {
      q[i * n + o] = Math.max(-WEIGHT_QMAX, Math.min(WEIGHT_QMAX, Math.round(at(o, i) / scale)));
    }
  }
  return { q, scales };
}

function tensor(name: string, dataType: number, dims: number[], data: ArrayBufferView): onnx.ITensorProto {
  return { name, dataType, dims, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/**
 * Quantize the Gemm weights of a serialized model (either layout: [out, in] with transB, or [in, out]); throws
 * ModelError when there is nothing to quantize.
 */
export function quantizeModel(modelBytes: Uint8Array, format: QuantFormat = DEFAULT_QUANT_FORMAT): QuantizeResult {
  const model = onnx.ModelProto.decode(modelBytes);
  const graph = model.graph;
  if (!graph) throw new ModelError('The ONNX model has no graph.', { code: 'MODEL_BAD_ONNX' });
  const inits = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const uses = new Map<string, number>();
  for (const node of graph.node ?? []) for (const i of node.input ?? []) uses.set(i, (uses.get(i) ?? 0) + 1);

  const nodes: onnx.INodeProto[] = [];
  const newInits: onnx.ITensorProto[] = [];
  const dropped = new Set<string>();
  let quantizedLayers = 0;
  let before = 0;
  let after = 0;
  for (const node of graph.node ?? []) {
    const [x, wName, bias] = node.input ?? [];
    const w = node.opType === 'Gemm' && (node.domain ?? '') === '' ? inits.get(wName ?? '') : undefined;
    const quantizable =
      w !== undefined &&
      w.dataType === FLOAT &&
      w.dims?.length === 2 &&
      intAttr(node, 'transA', 0) === 0 &&
      floatAttr(node, 'alpha', 1) === 1 &&
      floatAttr(node, 'beta', 1) === 1 &&
      uses.get(wName) === 1;
    if (!quantizable) {
      nodes.push(node);
      continue;
    }
    // transB 1: torch's Linear layout [out, in]; 0: GPT-2's Conv1D layout [in, out].
    const transposed = intAttr(node, 'transB', 0) === 1;
    const [rows, columns] = (w.dims ?? []).map(Number);
    const [n, k] = transposed ? [rows, columns] : [columns, rows];
    const { q, scales } = (transposed ? quantizeWeightTransposed : quantizeWeight)(floatValues(w), n, k);
    const base = wName;
    const out = (node.output ?? [])[0];
    newInits.push(
      tensor(`${base}.int8`, INT8, [k, n], q),
      tensor(`${base}.scale`, FLOAT, [n], scales),
      tensor(`${base}.zero_point`, INT8, [n], new Int8Array(n)),
    );
    dropped.add(wName);
    quantizedLayers++;
    before += n * k * 4;
    after += n * k + n * 5;
    const name = node.name ?? base;
    if (format === 'dynamic-quantize-matmul') {
      nodes.push({
        opType: 'DynamicQuantizeMatMul',
        domain: 'com.microsoft',
        name: `${name}_q`,
        input: [x, `${base}.int8`, `${base}.scale`, `${base}.zero_point`, ...(bias ? [bias] : [])],
        output: [out],
      });
    } else {
      const t = (s: string) => `${name}_q_${s}`;
      nodes.push(
        {
          opType: 'DynamicQuantizeLinear',
          domain: '',
          name: t('dql'),
          input: [x],
          output: [t('x'), t('xs'), t('xzp')],
        },
        {
          opType: 'MatMulInteger',
          domain: '',
          name: t('mmi'),
          input: [t('x'), `${base}.int8`, t('xzp'), `${base}.zero_point`],
          output: [t('acc')],
        },
        {
          opType: 'Cast',
          domain: '',
          name: t('cast'),
          input: [t('acc')],
          output: [t('accf')],
          attribute: [{ name: 'to', type: A.INT, i: FLOAT }],
        },
        { opType: 'Mul', domain: '', name: t('scale_x'), input: [t('accf'), t('xs')], output: [t('sx')] },
        {
          opType: 'Mul',
          domain: '',
          name: t('scale_w'),
          input: [t('sx'), `${base}.scale`],
          output: [bias ? t('sw') : out],
        },
        ...(bias ? [{ opType: 'Add', domain: '', name: t('bias'), input: [t('sw'), bias], output: [out] }] : []),
      );
    }
  }
  if (quantizedLayers === 0) {
    throw new ModelError('The model has no dense layer with constant weights to quantize.', {
      code: 'MODEL_NOTHING_TO_QUANTIZE',
      fix: 'Quantize the model.onnx written by bertft training (best/model.onnx).',
    });
  }
  graph.node = nodes;
  graph.initializer = [...(graph.initializer ?? []).filter((t) => !dropped.has(t.name ?? '')), ...newInits];
  if (format === 'dynamic-quantize-matmul' && !(model.opsetImport ?? []).some((o) => o.domain === 'com.microsoft')) {
    model.opsetImport = [...(model.opsetImport ?? []), { domain: 'com.microsoft', version: 1 }];
  }
  return {
    bytes: onnx.ModelProto.encode(model).finish(),
    quantizedLayers,
    weightBytesBefore: before,
    weightBytesAfter: after,
  };
}

/** The int8 folder gets every file of the model folder except these (its weights live in its own model.onnx). */
function copiedToInt8(name: string): boolean {
  return name !== 'model.onnx' && !name.endsWith('.safetensors') && !name.startsWith(INT8_DIR);
}

/**
 * Write `<modelDir>/int8/` (a complete model folder whose model.onnx is quantized) and return its path. The folder
 * is filled under a temporary name and renamed, so a failure never leaves half a model behind.
 */
export async function writeQuantizedModelDir(
  modelDir: string,
  format: QuantFormat = DEFAULT_QUANT_FORMAT,
): Promise<{ dir: string; result: QuantizeResult }> {
  const dir = modelDirOf(modelDir);
  // A run still training replaces its best/ at every improvement: its int8 copy waits until the run has ended.
  const run = runDirOfModel(dir);
  if (run !== undefined) refuseLiveLock(run);
  const onnxFile = path.join(dir, 'model.onnx');
  if (!fs.existsSync(onnxFile)) {
    throw new ModelError(`${dir} has no model.onnx to quantize.`, {
      file: dir,
      code: 'MODEL_NO_ONNX',
      fix: 'Quantize the best/ folder of a bertft run, which holds model.onnx.',
    });
  }
  const result = quantizeModel(await fs.promises.readFile(onnxFile), format);
  const finalDir = path.join(dir, INT8_DIR);
  const tmp = await prepareTempDir(finalDir);
  for (const entry of await fs.promises.readdir(dir, { withFileTypes: true })) {
    if (entry.isFile() && copiedToInt8(entry.name))
      await fs.promises.copyFile(path.join(dir, entry.name), path.join(tmp, entry.name));
  }
  const int8Onnx = path.join(tmp, 'model.onnx');
  await writeFileAtomic(int8Onnx, result.bytes);
  await writeTransformersJsFiles(tmp, (await loadPreprocessor(tmp)).tokenizer, int8Onnx, TRANSFORMERS_JS_Q8);
  // Our card describes the fp32 folder; the copy's says what differs. Someone else's card is copied as it is.
  const card = readBertftCard(dir);
  if (card !== undefined) {
    const int8Card = int8ModelCard(card, { format, layers: result.quantizedLayers });
    await writeFileAtomic(path.join(tmp, MODEL_CARD_FILE), int8Card);
  }
  await commitDir(tmp, finalDir);
  // transformers.js loads the model folder itself with dtype 'q8' from onnx/model_quantized.onnx (a folder written
  // before bertft made onnx/ has none: it is left as it is).
  const transformersJsDir = path.join(dir, TRANSFORMERS_JS_DIR);
  if (fs.existsSync(path.join(transformersJsDir, TRANSFORMERS_JS_FP32))) {
    await linkOrCopyAtomic(path.join(finalDir, 'model.onnx'), path.join(transformersJsDir, TRANSFORMERS_JS_Q8));
  }
  return { dir: finalDir, result };
}

export interface QuantizedComparison {
  int8Dir: string;
  texts: number;
  /** Examples with a known answer (a class, a label set or a number); the scores are over these. */
  labelled: number;
  /** What the scores measure, by the model's task: the class, the exact label set, or the number's squared error. */
  metric: 'accuracy' | 'subset accuracy' | 'MSE';
  fp32Score?: number;
  int8Score?: number;
  /**
   * Share of texts that get the same prediction from both models (the top class, or the whole label set); undefined
   * for a regression model, whose numbers always differ a little: maxLogitDiff says by how much.
   */
  agreement?: number;
  /** The largest difference between the two models' outputs (logits; a regression model's numbers). */
  maxLogitDiff: number;
  /** Median time of one single-text prediction (first texts, up to LATENCY_SAMPLES). */
  fp32MsPerText: number;
  int8MsPerText: number;
  fp32Bytes: number;
  int8Bytes: number;
}

const LATENCY_SAMPLES = 20;

async function medianLatencyMs(p: Predictor, examples: readonly Example[]): Promise<number> {
  const sample = examples.slice(0, LATENCY_SAMPLES);
  if (sample.length === 0) return 0;
  const one = (e: Example) => p.logits([e.text], e.textPair === undefined ? undefined : [e.textPair]);
  await one(sample[0]);
  const times: number[] = [];
  for (const e of sample) {
    const start = process.hrtime.bigint();
    await one(e);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return times.sort((a, b) => a - b)[times.length >> 1];
}

/** A prediction as one comparable value: the class, the label set (sorted), or the number. */
function answerOf(p: Prediction): string | number {
  if (p.value !== undefined) return p.value;
  if (p.predicted !== undefined) return JSON.stringify(p.predicted.map((l) => l.label).sort());
  return p.label;
}

/** An example's true answer in answerOf's terms, or undefined when it has none. */
function truthOf(e: Example, task: QuantizedComparison['metric']): string | number | undefined {
  if (task === 'MSE') return e.label === '' ? undefined : Number(e.label);
  if (task === 'subset accuracy') return e.labels === undefined ? undefined : JSON.stringify([...e.labels].sort());
  return e.label === '' ? undefined : e.label;
}

/**
 * fp32 vs int8 on `examples` (the run's validation rows, pairs included): the task's score on those with an answer,
 * how often the two models agree, the largest output difference, speed and size.
 */
export async function compareQuantized(
  fp32Dir: string,
  int8Dir: string,
  examples: readonly Example[],
): Promise<QuantizedComparison> {
  const fp32 = await loadPredictor(fp32Dir, { device: 'cpu' });
  let int8: Predictor | undefined;
  try {
    int8 = await loadPredictor(int8Dir, { device: 'cpu' });
    const texts = examples.map((e) => e.text);
    const pairs = fp32.textPairColumn === undefined ? undefined : examples.map((e) => e.textPair ?? '');
    const a = await fp32.logits(texts, pairs);
    const b = await int8.logits(texts, pairs);
    let maxLogitDiff = 0;
    for (let i = 0; i < a.length; i++) maxLogitDiff = Math.max(maxLogitDiff, Math.abs(a[i] - b[i]));
    const metric = fp32.regression ? 'MSE' : fp32.thresholds !== undefined ? 'subset accuracy' : 'accuracy';
    const answersA = (await fp32.predict(texts, pairs)).map(answerOf);
    const answersB = (await int8.predict(texts, pairs)).map(answerOf);
    const scored = examples.flatMap((e, i) => {
      const truth = truthOf(e, metric);
      return truth === undefined ? [] : [{ truth, a: answersA[i], b: answersB[i] }];
    });
    const score = (side: 'a' | 'b') =>
      metric === 'MSE'
        ? scored.reduce((sum, r) => sum + (Number(r[side]) - Number(r.truth)) ** 2, 0) / scored.length
        : scored.filter((r) => r[side] === r.truth).length / scored.length;
    const size = (dir: string) => fs.statSync(path.join(modelDirOf(dir), 'model.onnx')).size;
    return {
      int8Dir,
      texts: texts.length,
      labelled: scored.length,
      metric,
      fp32Score: scored.length > 0 ? score('a') : undefined,
      int8Score: scored.length > 0 ? score('b') : undefined,
      agreement:
        metric === 'MSE'
          ? undefined
          : texts.length === 0
            ? 1
            : answersA.filter((x, i) => x === answersB[i]).length / texts.length,
      maxLogitDiff,
      fp32MsPerText: await medianLatencyMs(fp32, examples),
      int8MsPerText: await medianLatencyMs(int8, examples),
      fp32Bytes: size(fp32Dir),
      int8Bytes: size(int8Dir),
    };
  } finally {
    await fp32.dispose();
    await int8?.dispose();
  }
}

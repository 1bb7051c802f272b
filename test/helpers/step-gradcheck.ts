/**
 * Whole-model gradient check of a step graph built with mode 'grads': the analytic gradient of two entries per
 * parameter (its largest and one in the middle) against central finite differences of the graph's loss.
 */
import * as ort from 'onnxruntime-node';
import type { ParamSpec, Weights } from '../../src/core/model/params';
import type { Batch } from '../../src/core/tokenize/batch';
import { labelledPositions } from '../../src/core/model/mlm-head';
import { STEP_IO } from '../../src/core/train/step-graph';

export async function worstStepGradientError(
  built: { bytes: Uint8Array; specs: ParamSpec[] },
  weights: Weights,
  batch: Batch,
  /** Further graph inputs, e.g. class_weights for the classification graph. */
  extraFeeds: Record<string, ort.Tensor> = {},
  eps = 1e-2,
): Promise<{ worst: number; at: string }> {
  const session = await ort.InferenceSession.create(built.bytes, {
    graphOptimizationLevel: 'basic',
    intraOpNumThreads: 1,
  });
  const shape = [batch.batchSize, batch.seqLen];
  const labels = batch.labels!;
  // Classification labels are one per row; masked-LM labels one per token.
  const labelShape = labels.length === batch.batchSize ? [batch.batchSize] : shape;
  const feeds = (override?: [string, Float32Array]): Record<string, ort.Tensor> => {
    const f: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', batch.inputIds, shape),
      attention_mask: new ort.Tensor('int64', batch.attentionMask, shape),
      token_type_ids: new ort.Tensor('int64', batch.tokenTypeIds, shape),
      labels: new ort.Tensor('int64', labels, labelShape),
      ...extraFeeds,
    };
    // A masked-LM graph scores the labelled positions only.
    if (session.inputNames.includes(STEP_IO.maskedPositions)) {
      const positions = labelledPositions(labels);
      f[STEP_IO.maskedPositions] = new ort.Tensor('int64', positions, [positions.length]);
    }
    for (const s of built.specs)
      f[s.name] = new ort.Tensor(
        'float32',
        override?.[0] === s.name ? override[1] : weights.get(s.name)!.data,
        s.shape,
      );
    return f;
  };
  const lossWith = async (name: string, values: Float32Array): Promise<number> =>
    (await session.run(feeds([name, values]))).loss.data[0] as number;
  const base = await session.run(feeds());
  let worst = 0;
  let at = '';
  for (const s of built.specs) {
    const grad = base[STEP_IO.grad(s.name)].data as Float32Array;
    let argmax = 0;
    grad.forEach((g, i) => (Math.abs(g) > Math.abs(grad[argmax]) ? (argmax = i) : 0));
    for (const i of new Set([argmax, Math.floor(grad.length / 3)])) {
      const plus = Float32Array.from(weights.get(s.name)!.data);
      plus[i] += eps;
      const minus = Float32Array.from(weights.get(s.name)!.data);
      minus[i] -= eps;
      const fd = ((await lossWith(s.name, plus)) - (await lossWith(s.name, minus))) / (2 * eps);
      const err = Math.abs(fd - grad[i]) / Math.max(1e-2, Math.abs(fd) + Math.abs(grad[i]));
      if (err > worst) [worst, at] = [err, `${s.name}[${i}] fd=${fd} analytic=${grad[i]}`];
    }
  }
  await session.release();
  return { worst, at };
}

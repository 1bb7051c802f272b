/**
 * Forward-only inference model for deployment: weights as initializers, int64 inputs input_ids / attention_mask /
 * token_type_ids with dynamic batch and sequence axes, output logits. Same graph code as training (no dropout),
 * block attention included where the family has it (ModernBERT: a forward pass at 8,192 tokens then holds no
 * [heads, seq, seq] scores; `attentionBlock: null` exports plain attention, for comparisons).
 */
import { Graph } from '../graph/graph';
import { attentionBlockOf } from '../graph/ops/attention';
import { toModelBytes } from '../graph/serialize';
import { encoderFamily } from './families';
import { BertConfig } from './config';
import { Weights, checkWeightsMatch } from './params';

export function buildInferenceModel(
  cfg: BertConfig,
  numLabels: number,
  weights: Weights,
  options: { attentionBlock?: number | null } = {},
): Uint8Array {
  const family = encoderFamily(cfg, { attentionBlock: attentionBlockOf(options.attentionBlock) });
  const specs = family.paramSpecs(numLabels);
  const arrays = checkWeightsMatch(specs, weights, 'model weights');
  const g = new Graph();
  const params = new Map(specs.map((s, i) => [s.name, g.initializer(s.name, 'float32', s.shape, arrays[i])]));
  const axes = ['batch_size', 'sequence_length'];
  const inputs = {
    inputIds: g.input('input_ids', 'int64', axes),
    attentionMask: g.input('attention_mask', 'int64', axes),
    tokenTypeIds: g.input('token_type_ids', 'int64', axes),
  };
  g.output(family.logits({ g, params, dropout: null }, inputs), 'logits');
  return toModelBytes(g, 'bertft export');
}

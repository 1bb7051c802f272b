/**
 * Forward-only inference model for deployment: weights as initializers, int64 inputs input_ids / attention_mask /
 * token_type_ids with dynamic batch and sequence axes, output logits. Same graph code as training (no dropout),
 * block attention included where the family has it (ModernBERT: a forward pass at 8,192 tokens then holds no
 * [heads, seq, seq] scores; `attentionBlock: null` exports plain attention, for comparisons).
 */
import { Graph } from '../graph/graph';
import { attentionBlockOf } from '../graph/ops/attention';
import { softmax } from '../graph/ops/softmax';
import { binary, scaleBy, unary } from '../graph/raw';
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

/**
 * A seed ensemble's inference model: every member's forward pass on the same inputs, their softmax probabilities
 * averaged. The output keeps the name `logits` and holds log(mean probability), so that anything that applies a
 * softmax to it (our predictor, transformers.js) reads the ensemble's mean probabilities. Member i's weights are
 * initializers named `member<i>.<name>`.
 */
export function buildEnsembleInferenceModel(cfg: BertConfig, numLabels: number, members: Weights[]): Uint8Array {
  if (members.length < 2) throw new Error('buildEnsembleInferenceModel: an ensemble has at least two members');
  const family = encoderFamily(cfg, { attentionBlock: attentionBlockOf(undefined) });
  const specs = family.paramSpecs(numLabels);
  const g = new Graph();
  const axes = ['batch_size', 'sequence_length'];
  const inputs = {
    inputIds: g.input('input_ids', 'int64', axes),
    attentionMask: g.input('attention_mask', 'int64', axes),
    tokenTypeIds: g.input('token_type_ids', 'int64', axes),
  };
  const probabilities = members.map((weights, i) => {
    const arrays = checkWeightsMatch(specs, weights, `ensemble member ${i + 1}'s weights`);
    const params = new Map(
      specs.map((s, j) => [s.name, g.initializer(`member${i}.${s.name}`, 'float32', s.shape, arrays[j])]),
    );
    return softmax(g, family.logits({ g, params, dropout: null }, inputs));
  });
  const sum = probabilities.reduce((total, p) => binary(g, 'Add', total, p));
  const mean = scaleBy(g, sum, 1 / members.length);
  g.output(unary(g, 'Log', mean), 'logits');
  return toModelBytes(g, 'bertft export');
}

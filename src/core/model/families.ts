/** The graph code of a config's model family (chosen in config.ts from model_type / architectures). */
import { Value } from '../graph/graph';
import { EncoderFamily, EncoderInputs, ForwardContext, bertEncoder, bertFamily } from './bert';
import { BertConfig } from './config';
import { debertaV2Encoder, debertaV2Family } from './deberta-v2';
import { distilbertEncoder, distilbertFamily } from './distilbert';
import { gpt2Encoder, gpt2Family } from './gpt2';
import { modernbertEncoder, modernbertFamily } from './modernbert';

export function encoderFamily(
  cfg: BertConfig,
  options: { fusedQkv?: boolean; attentionBlock?: number } = {},
): EncoderFamily {
  if (cfg.modelType === 'gpt2') return gpt2Family(cfg);
  if (cfg.modelType === 'modernbert') return modernbertFamily(cfg, options);
  if (cfg.modelType === 'deberta-v2') return debertaV2Family(cfg);
  return cfg.modelType === 'distilbert' ? distilbertFamily(cfg, options) : bertFamily(cfg, options);
}

/** The family's final hidden states [batch, seq, hidden] (the encoder without any head), for task heads built on it. */
export function encoderHiddenStates(ctx: ForwardContext, cfg: BertConfig, inputs: EncoderInputs): Value {
  if (cfg.modelType === 'gpt2') return gpt2Encoder(ctx, cfg, inputs);
  if (cfg.modelType === 'modernbert') return modernbertEncoder(ctx, cfg, inputs);
  if (cfg.modelType === 'deberta-v2') return debertaV2Encoder(ctx, cfg, inputs);
  return cfg.modelType === 'distilbert' ? distilbertEncoder(ctx, cfg, inputs) : bertEncoder(ctx, cfg, inputs);
}

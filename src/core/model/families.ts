/** The graph code of a config's model family (chosen in config.ts from model_type / architectures). */
import { EncoderFamily, bertFamily } from './bert';
import { BertConfig } from './config';
import { distilbertFamily } from './distilbert';

export function encoderFamily(cfg: BertConfig, options: { fusedQkv?: boolean } = {}): EncoderFamily {
  return cfg.modelType === 'distilbert' ? distilbertFamily(cfg, options) : bertFamily(cfg, options);
}

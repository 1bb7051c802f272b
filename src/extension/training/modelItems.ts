/**
 * The Fine-tune flow's model step, from core's model table (core/model/catalog.ts, what `bertft models` prints): one
 * item per suggested model with its family, size, context, languages and licence, and its "when to pick it" line.
 */
import { MODEL_CATALOG } from '../../core/model/catalog';
import { say, type Message } from '../display/text';

export interface ModelInfo {
  label: Message;
  description: Message;
  detail: Message;
}

/** The model a newcomer starts with: it trains in seconds, offline. */
const QUICK_START = 'random:tiny';

/**
 * The suggested models of the supported families, keyed by the id `--model` takes: the quick start first, then the
 * table's order.
 */
export function catalogModels(): Map<string, ModelInfo> {
  const models = new Map<string, ModelInfo>();
  const entries = MODEL_CATALOG.filter((f) => f.supported).flatMap((family) =>
    family.models.map((m) => ({ family, m })),
  );
  entries.sort((a, b) => Number(b.m.id === QUICK_START) - Number(a.m.id === QUICK_START));
  for (const { family, m } of entries) {
    const random = m.license === 'none';
    models.set(m.id, {
      label: m.id === QUICK_START ? say`Small random model` : say`${m.id}`,
      description: random
        ? say`${m.id}: ${m.parameters} parameters, from scratch, works offline`
        : say`${family.name}: ${m.parameters} parameters, ${m.context} tokens, ${m.languages}, licence ${m.license}`,
      detail: say`${m.pick}`,
    });
  }
  return models;
}

/** What "Other Hugging Face model…" takes: the supported families, and the ones not supported yet named. */
export function otherModelDetail(): Message {
  const names = (supported: boolean) =>
    MODEL_CATALOG.filter((f) => f.supported === supported && f.modelTypes.length > 0)
      .map((f) => f.name)
      .join(', ');
  return say`Any ${names(true)} model; not supported yet: ${names(false)}`;
}

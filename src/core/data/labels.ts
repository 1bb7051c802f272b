/**
 * Label values and the label ↔ id maps kept with a run. Labels are strings or integers; ids are assigned in sorted
 * order so that the same data always gives the same ids (integers numerically, strings by code point).
 */
import { DataError } from '../errors';
import { recordOf } from '../util/records';
import type { LabelKind } from './types';

const INTEGER = /^[+-]?\d+$/;

export interface LabelMap {
  kind: LabelKind;
  /** Labels in id order. */
  labels: string[];
  /** A Map: labels are data, and "__proto__" or "constructor" are labels like any other. */
  label2id: ReadonlyMap<string, number>;
  /** Keys are ids written in decimal, as in a Hugging Face config.json. */
  id2label: Record<string, string>;
}

/** Whether every label looks like an integer (then they sort numerically). */
export function labelKindOf(labels: Iterable<string>): LabelKind {
  for (const l of labels) if (!INTEGER.test(l)) return 'string';
  return 'integer';
}

/** "007" → "7", "+3" → "3": one spelling per integer label. Non-integers are returned as they are. */
export function canonicalLabel(label: string): string {
  if (!INTEGER.test(label)) return label;
  const n = BigInt(label);
  return n.toString();
}

export function compareLabels(kind: LabelKind): (a: string, b: string) => number {
  if (kind === 'integer') return (a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);
  return (a, b) => (a < b ? -1 : a > b ? 1 : 0);
}

/** The label map for a set of labels (duplicates allowed), sorted for determinism. */
export function buildLabelMap(labels: Iterable<string>): LabelMap {
  const unique = [...new Set(labels)];
  const kind = labelKindOf(unique);
  unique.sort(compareLabels(kind));
  return labelMapOf(kind, unique);
}

function labelMapOf(kind: LabelKind, labels: string[]): LabelMap {
  return {
    kind,
    labels,
    label2id: new Map(labels.map((l, i) => [l, i])),
    id2label: recordOf(labels.map((l, i) => [String(i), l])),
  };
}

/** The id of `label`, or a DataError naming the label, file and line. */
export function labelId(map: LabelMap, label: string, file = '', line?: number): number {
  const id = map.label2id.get(label);
  if (id === undefined) {
    throw new DataError(`The label "${label}" is not one of the ${map.labels.length} labels the model knows.`, {
      file,
      line,
      code: 'DATA_UNKNOWN_LABEL',
      fix: `Use one of: ${map.labels.slice(0, 20).join(', ')}${map.labels.length > 20 ? ', …' : ''}.`,
    });
  }
  return id;
}

/** Class ids of `examples` (for encodeDocuments); a label the map lacks is a DataError naming its file and line. */
export function labelIdsOf(
  map: LabelMap,
  examples: ReadonlyArray<{ label: string; file: string; line: number }>,
): Int32Array {
  return Int32Array.from(examples, (e) => labelId(map, e.label, e.file, e.line));
}

/**
 * The labels of a classifier's config.json `id2label` (written by us or by transformers), in id order. The object
 * comes from a model file: it must map exactly the ids 0..n-1 to strings (integer labels are kept as text).
 */
export function labelsFromId2Label(id2label: unknown, source = ''): string[] {
  const bad = (message: string) =>
    new DataError(message, {
      file: source,
      code: 'DATA_BAD_LABEL_MAP',
      fix: "Fix id2label in the model's config.json (ids 0..n-1, one label each), or train again.",
    });
  if (typeof id2label !== 'object' || id2label === null || Array.isArray(id2label))
    throw bad('id2label is not an object of id → label.');
  const byId = new Map(Object.entries(id2label as Record<string, unknown>));
  const labels: string[] = [];
  for (let i = 0; i < byId.size; i++) {
    if (!byId.has(String(i))) throw bad(`id2label has no entry for id ${i}; ids must be 0..${byId.size - 1}.`);
    const value = byId.get(String(i));
    if (typeof value !== 'string' && typeof value !== 'number')
      throw bad(`id2label's entry for id ${i} is not a label (a string).`);
    labels.push(String(value));
  }
  if (new Set(labels).size !== labels.length) throw bad('id2label names the same label twice.');
  return labels;
}

/** Restore a map saved with a run (id2label as in config.json); checks that ids are 0..n-1. */
export function labelMapFromId2Label(id2label: Record<string, string>, source = ''): LabelMap {
  const labels = labelsFromId2Label(id2label, source);
  return labelMapOf(labelKindOf(labels), labels);
}

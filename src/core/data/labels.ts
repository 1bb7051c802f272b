/**
 * Label values and the label ↔ id maps kept with a run. Labels are strings or integers; ids are assigned in sorted
 * order so that the same data always gives the same ids (integers numerically, strings by code point).
 */
import { DataError } from '../errors';
import type { LabelKind } from './types';

const INTEGER = /^[+-]?\d+$/;

export interface LabelMap {
  kind: LabelKind;
  /** Labels in id order. */
  labels: string[];
  label2id: Record<string, number>;
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
  const label2id: Record<string, number> = {};
  const id2label: Record<string, string> = {};
  unique.forEach((l, i) => {
    label2id[l] = i;
    id2label[String(i)] = l;
  });
  return { kind, labels: unique, label2id, id2label };
}

/** The id of `label`, or a DataError naming the label, file and line. */
export function labelId(map: LabelMap, label: string, file = '', line?: number): number {
  const id = map.label2id[label];
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
export function labelIdsOf(map: LabelMap, examples: ReadonlyArray<{ label: string; file: string; line: number }>): Int32Array {
  return Int32Array.from(examples, (e) => labelId(map, e.label, e.file, e.line));
}

/** Restore a map saved with a run (id2label as in config.json); checks that ids are 0..n-1. */
export function labelMapFromId2Label(id2label: Record<string, string>, source = ''): LabelMap {
  const n = Object.keys(id2label).length;
  const labels: string[] = [];
  for (let i = 0; i < n; i++) {
    const l = id2label[String(i)];
    if (typeof l !== 'string') {
      throw new DataError(`id2label has no entry for id ${i}; ids must be 0..${n - 1}.`, {
        file: source,
        code: 'DATA_BAD_LABEL_MAP',
        fix: 'Fix id2label in the run\'s config.json, or train again.',
      });
    }
    labels.push(l);
  }
  const label2id: Record<string, number> = {};
  labels.forEach((l, i) => (label2id[l] = i));
  return { kind: labelKindOf(labels), labels, label2id, id2label: { ...id2label } };
}

/**
 * The Fine-tune flow's long-texts step: when the data check finds many texts longer than training will read, the
 * choices it offers (the default first length, head+tail, a longer maximum, the model's whole context, windows over
 * the whole text), each with its share of texts cut and its rough cost. No VS Code here, so it is unit-tested.
 */
import type { CheckReport } from '../../core/data';
import { catalogContext } from '../../core/model/catalog';
import { modelDirContext } from '../../core/model/load';
import { FROM_SCRATCH, type Truncation } from '../../core/train/presets';
import { say, type Message } from '../display/text';

export interface LengthChoice {
  maxLength?: number;
  truncation?: Truncation;
}

export interface LengthItem {
  label: Message;
  description: Message;
  detail: Message;
  value: LengthChoice;
}

/** Share of texts longer than `length` tokens, from the check's histogram (exact at its bin edges). */
function longerThan(report: CheckReport, length: number): number {
  const t = report.tokenLengths;
  if (!t) return 0;
  const total = t.histogram.reduce((n, b) => n + b.count, 0);
  const longer = t.histogram.filter((b) => b.upTo === null || b.upTo > length).reduce((n, b) => n + b.count, 0);
  return total === 0 ? 0 : longer / total;
}

/** Tokens a run processes per text at `length` (window: every window), relative to `base`: its time, roughly. */
function relativeCost(report: CheckReport, length: number, base: number, window = false): number {
  const t = report.tokenLengths;
  if (!t) return 1;
  let from = 1;
  let tokens = 0;
  let baseTokens = 0;
  for (const b of t.histogram) {
    const mid = b.upTo === null ? Math.max(from, 2 * from) : (from + b.upTo) / 2;
    tokens += b.count * (window ? Math.ceil(mid / (0.75 * length)) * length : Math.min(mid, length));
    baseTokens += b.count * Math.min(mid, base);
    if (b.upTo !== null) from = b.upTo + 1;
  }
  return baseTokens === 0 ? 1 : tokens / baseTokens;
}

/** The chosen model's context when it is known before the run: a suggested model's, or its folder's config.json. */
export async function modelContext(model: string): Promise<number> {
  // Neither (a Hub id not in the table, random:…): the common context.
  return catalogContext(model) ?? (await modelDirContext(model)) ?? 512;
}

/**
 * The step's items and placeholder, or undefined when fewer than 20% of the texts are longer than training reads by
 * default (then there is no step). `context` is the model's; from scratch the default reads fewer tokens.
 */
export function lengthStep(
  report: CheckReport,
  scratch: boolean,
  context: number,
): { items: LengthItem[]; placeHolder: Message } | undefined {
  const cap = scratch ? FROM_SCRATCH.maxLengthCap : 512;
  const base = Math.min(cap, report.tokenLengths ? Math.max(16, Math.ceil(report.tokenLengths.p90 / 8) * 8) : cap);
  if (longerThan(report, cap) < 0.2) return undefined;
  const percentCut = (length: number) => `${(100 * longerThan(report, length)).toFixed(0)}% of texts cut`;
  const times = (x: number) => (x < 1.05 ? 'about the same time' : `about ${x.toFixed(1)}× the time`);
  const items: LengthItem[] = [
    {
      label: say`Default: the first ${cap} tokens`,
      description: say`${percentCut(cap)}`,
      detail: say`The fastest: most of a long text is not read.`,
      value: {},
    },
    {
      label: say`Head + tail`,
      description: say`${percentCut(cap)}, ${times(1)}`,
      detail: say`Reads the start and the end of long texts (a quarter from the start): often better for mail and reviews.`,
      value: { truncation: 'head+tail' },
    },
    ...(cap < 512
      ? [
          {
            label: say`The first 512 tokens`,
            description: say`${percentCut(512)}, ${times(relativeCost(report, 512, cap))}`,
            detail: say`Reads more of each text; longer sequences cost more than linearly.`,
            value: { maxLength: 512 },
          },
        ]
      : []),
    ...(!scratch && context > 512
      ? [
          {
            label: say`The model's whole context: up to ${context} tokens`,
            description: say`nothing cut up to ${context} tokens; ${times(relativeCost(report, context, cap))} or more`,
            detail: say`Reads long documents whole; memory grows with the length (a ModernBERT-base step on one text of 8,192 tokens peaked at 9.7 GB on a CPU).`,
            value: { maxLength: context },
          },
        ]
      : []),
    {
      label: say`Windows over the whole text`,
      description: say`nothing cut, ${times(relativeCost(report, cap, cap, true))}`,
      detail: say`Every part of a long text is read as its own window; the windows' predictions are averaged.`,
      value: { truncation: 'window' },
    },
  ];
  return {
    items,
    placeHolder: say`${percentCut(cap)} at ${cap} tokens (median ${report.tokenLengths?.median ?? 0}, p90 ${report.tokenLengths?.p90 ?? base}). Settings: bert.maxLength, bert.truncation.`,
  };
}

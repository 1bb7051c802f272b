/**
 * Pure text helpers of the inference UI (no `vscode`): which text a hover classifies, and how a result is written
 * (notification line, hover markdown with bars). Labels and model names are data: they go into Messages as values.
 */
import type { Evaluation } from '../../core/infer/batch-predict';
import type { Explanation, TokenAttribution } from '../../core/infer/explain';
import { tokenSurface } from '../../core/infer/token-surface';
import type { Prediction } from '../../core/infer/predictor';
import type { QuantizedComparison } from '../../core/infer/quantize';
import { commandLink, join, say, type Message } from '../display/text';

export type HoverScope = 'selection' | 'sentence' | 'paragraph';
export const HOVER_SCOPES: readonly HoverScope[] = ['selection', 'sentence', 'paragraph'];

/** [start, end) offsets of the paragraph (text between blank lines) around `offset`. */
export function paragraphAt(text: string, offset: number): [number, number] {
  const blank = /\n[ \t]*\r?\n/g;
  let start = 0;
  let end = text.length;
  for (let m = blank.exec(text); m; m = blank.exec(text)) {
    if (m.index + m[0].length <= offset) start = m.index + m[0].length;
    else if (m.index >= offset) {
      end = m.index;
      break;
    }
  }
  return [start, end];
}

/** [start, end) of the sentence around `offset`: ends at . ! ? (followed by space) or a paragraph break. */
export function sentenceAt(text: string, offset: number): [number, number] {
  const [pStart, pEnd] = paragraphAt(text, offset);
  const para = text.slice(pStart, pEnd);
  const local = offset - pStart;
  const boundary = /[.!?]+["')\]]*(?=\s)|\n/g;
  let start = 0;
  let end = para.length;
  for (let m = boundary.exec(para); m; m = boundary.exec(para)) {
    const after = m.index + m[0].length;
    if (after <= local) start = after;
    else {
      end = after;
      break;
    }
  }
  return [pStart + start, pStart + end];
}

/** The trimmed text the hover classifies for `scope` at `offset`, with its range; undefined when blank. */
export function hoverTarget(
  text: string,
  offset: number,
  scope: Exclude<HoverScope, 'selection'>,
): { text: string; start: number; end: number } | undefined {
  const [s, e] = scope === 'sentence' ? sentenceAt(text, offset) : paragraphAt(text, offset);
  const raw = text.slice(s, e);
  const lead = raw.length - raw.trimStart().length;
  const trimmed = raw.trim();
  return trimmed === '' ? undefined : { text: trimmed, start: s + lead, end: s + lead + trimmed.length };
}

/** Labels by falling probability, at most `k`. */
export function topK(p: Prediction, k: number): [string, number][] {
  return Object.entries(p.scores)
    .sort((a, b) => b[1] - a[1])
    .slice(0, k);
}

export function percent(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

/** How the int8 model compared with the fp32 one on the run's validation rows, in the task's own terms. */
export function comparisonText(c: QuantizedComparison): string {
  if (c.fp32Score === undefined || c.int8Score === undefined) return 'no validation set to measure it on';
  const on = `on ${c.labelled} validation texts`;
  if (c.metric === 'MSE') {
    return `MSE ${c.fp32Score.toFixed(4)} → ${c.int8Score.toFixed(4)} ${on} (predictions differ by at most ${c.maxLogitDiff.toFixed(4)})`;
  }
  const same = c.metric === 'accuracy' ? 'same label' : 'same labels';
  return `${c.metric} ${percent(c.fp32Score)} → ${percent(c.int8Score)} ${on} (${same} for ${percent(c.agreement ?? 1)})`;
}

/** A regression model's predicted number as shown: three decimals, like a score. */
export function formatValue(value: number): string {
  return value.toFixed(3);
}

/** A multi-label prediction's labels at or above their thresholds: `animal 91.2% · nature 64.0%`, or that none is. */
function describeLabelSet(predicted: NonNullable<Prediction['predicted']>): Message {
  if (predicted.length === 0) return say`no label at or above its threshold`;
  return join(
    predicted.map((l) => say`${l.label} ${percent(l.score)}`),
    ' · ',
  );
}

/**
 * What a prediction says, in a line: `pos 92.1% · neg 7.9%` (the `k` most probable labels); a multi-label model's
 * labels at or above their thresholds; a regression model's number.
 */
export function describePrediction(p: Prediction, k = 5): Message {
  if (p.value !== undefined) return say`${formatValue(p.value)}`;
  if (p.predicted !== undefined) return describeLabelSet(p.predicted);
  return join(
    topK(p, k).map(([l, s]) => say`${l} ${percent(s)}`),
    ' · ',
  );
}

/**
 * One line for a notification: `spam (97.1%) — spam 97.1% · ham 2.9%`; a multi-label model's labels at or above
 * their thresholds; a regression model's number; with several texts, that of each.
 */
export function describePredictions(predictions: readonly Prediction[]): Message {
  const headline = (p: Prediction) =>
    p.value !== undefined || p.predicted !== undefined ? describePrediction(p) : say`${p.label} ${percent(p.score)}`;
  if (predictions.length === 1) {
    const [p] = predictions;
    return p.value !== undefined || p.predicted !== undefined
      ? describePrediction(p)
      : say`${p.label} (${percent(p.score)}) — ${describePrediction(p)}`;
  }
  return say`${predictions.length} selections: ${join(predictions.map(headline), ', ')}`;
}

/**
 * The `k` tokens pushing hardest toward the explained label, largest first: positive scores that Explain Selection
 * would colour (a tenth of the largest |score| or more; see attributionLevel). With `segment`, only a pair's first (0)
 * or second (1) text's tokens.
 */
export function topTokens(e: Explanation, k: number, segment?: 0 | 1): TokenAttribution[] {
  const maxAbs = Math.max(0, ...e.tokens.map((t) => Math.abs(t.score)));
  return e.tokens
    .filter((t) => segment === undefined || (t.segment ?? 0) === segment)
    .filter((t) => t.score > 0 && attributionLevel(t.score, maxAbs) !== undefined)
    .sort((a, b) => b.score - a.score)
    .slice(0, k);
}

/**
 * A token as the editor names it: its text in `texts` (the explained text; a pair's two texts), and for a pair which
 * text it came from: `superb (2nd)`.
 */
export function tokenLabel(texts: readonly string[], t: TokenAttribution): Message {
  const surface = tokenSurface(texts, t);
  if (t.segment === undefined) return say`${surface}`;
  return t.segment === 0 ? say`${surface} (1st)` : say`${surface} (2nd)`;
}

/**
 * `wonderful +0.341 · superb +0.049` (a pair's: `wonderful (1st) +0.341 · superb (2nd) +0.049`), or `(none)`: what
 * pushes `texts` toward the explained label; with `segment`, only that text of a pair (its tokens not marked).
 */
export function describeTopTokens(texts: readonly string[], e: Explanation, k = 3, segment?: 0 | 1): Message {
  const top = topTokens(e, k, segment);
  if (top.length === 0) return say`(none)`;
  const name = (t: TokenAttribution) => (segment === undefined ? tokenLabel(texts, t) : say`${tokenSurface(texts, t)}`);
  return join(
    top.map((t) => say`${name(t)} +${t.score.toFixed(3)}`),
    ' · ',
  );
}

export type AttributionLevel = 'towardStrong' | 'toward' | 'against' | 'againstStrong';

/**
 * How a token is coloured: by the sign of its score and its size against the largest |score| of the text (half or
 * more: strong); tokens under a tenth of it stay uncoloured.
 */
export function attributionLevel(score: number, maxAbs: number): AttributionLevel | undefined {
  const r = maxAbs > 0 ? Math.abs(score) / maxAbs : 0;
  if (r < 0.1) return undefined;
  if (score > 0) return r >= 0.5 ? 'towardStrong' : 'toward';
  return r >= 0.5 ? 'againstStrong' : 'against';
}

const BAR_WIDTH = 20;

function bar(score: number): string {
  const filled = Math.round(score * BAR_WIDTH);
  return `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
}

/**
 * Hover markdown: the label in bold, one bar per label (█ blocks), the model's name and a link to the run's dashboard
 * (`runDir`, when the model belongs to a run). A multi-label model: every label at or above its threshold in bold,
 * then a bar for each of them, marked ✓ with its threshold, and for the most probable others up to `k` bars. A
 * regression model: its number. Labels and the model name are values, escaped by asMarkdown.
 */
export function hoverMarkdown(
  p: Prediction,
  modelName: string,
  runDir: string | undefined,
  k = 5,
  explained?: { texts: readonly string[]; explanation: Explanation },
): Message {
  const dashboard = runDir ? say` · ${commandLink('Dashboard', 'bert.openDashboard', [runDir])}` : say``;
  const footer = [say``, say`*${modelName}*${dashboard}`];
  if (p.value !== undefined) return join([say`**${formatValue(p.value)}** predicted value`, ...footer], '\n');
  const why = explained
    ? [say``, say`Toward ${explained.explanation.label}: ${describeTopTokens(explained.texts, explained.explanation)}`]
    : [];
  if (p.predicted !== undefined) {
    const predicted = new Map(p.predicted.map((l) => [l.label, l]));
    const head =
      p.predicted.length === 0
        ? say`*No label at or above its threshold*`
        : join(
            p.predicted.map((l) => say`**${l.label}** ${percent(l.score)}`),
            ' · ',
          );
    // Every predicted label, then the most probable others up to k (a predicted label may be less probable than a
    // label under its own, higher threshold).
    const others = topK(p, Object.keys(p.scores).length).filter(([label]) => !predicted.has(label));
    const shown: [string, number][] = [...p.predicted.map((l): [string, number] => [l.label, l.score]), ...others];
    const rows = shown
      .slice(0, Math.max(k, p.predicted.length))
      .map(([label, score]) =>
        predicted.has(label)
          ? say`\`${bar(score)}\` ${percent(score)} ✓ ${label} (threshold ${percent(predicted.get(label)!.threshold)})  `
          : say`\`${bar(score)}\` ${percent(score)} ${label}  `,
      );
    return join([head, say``, ...rows, ...why, ...footer], '\n');
  }
  const rows = topK(p, k).map(([label, score]) => say`\`${bar(score)}\` ${percent(score)} ${label}  `);
  return join([say`**${p.label}** ${percent(p.score)}`, say``, ...rows, ...why, ...footer], '\n');
}

/** A plain-text confusion matrix for the log (rows: true label, columns: predicted). */
export function formatConfusion(e: Evaluation): string {
  const { trueLabels, predictedLabels, counts } = e.confusion;
  const width = Math.max(9, ...trueLabels.map((l) => l.length), ...predictedLabels.map((l) => l.length));
  const cell = (s: string | number) => String(s).padStart(width);
  const head = `${cell('true\\pred')} ${predictedLabels.map(cell).join(' ')}`;
  return [head, ...trueLabels.map((t, i) => `${cell(t)} ${counts[i].map(cell).join(' ')}`)].join('\n');
}

/** An explanation this many hover time budgets long is too slow to start from a hover again. */
export const SLOW_EXPLANATION_BUDGETS = 10;

/**
 * Which models' hovers may start an explanation. A model whose hover-started explanation took more than
 * SLOW_EXPLANATION_BUDGETS time budgets starts no more from hovers (the worker keeps classifications waiting behind an
 * explanation: tens of seconds with BERT-base); explanations made by Explain Selection or Classify Selection still
 * show from the cache. Forgets nothing until the window reloads: a model does not get faster.
 */
export class HoverExplanationGate {
  private readonly slow = new Set<string>();

  mayStart(modelDir: string): boolean {
    return !this.slow.has(modelDir);
  }

  finished(modelDir: string, elapsedMs: number, timeBudgetMs: number): void {
    if (elapsedMs > SLOW_EXPLANATION_BUDGETS * timeBudgetMs) this.slow.add(modelDir);
  }
}

/** Why a selection is not a text pair: one text only, lines without the tab the others have, or too many lines. */
export type UnsplitReason = { kind: 'one-text' } | { kind: 'no-tab'; line: number } | { kind: 'lines'; lines: number };

/** Where a text of a pair is in the selections: the selection (an index, document order) and [start, end) in its text. */
export interface TextSpan {
  selection: number;
  start: number;
  end: number;
}

/**
 * The text pairs of a pair model's selections (with where each text is: spans[i] holds texts[i]'s and pairs[i]'s),
 * or the first selection that is none (1-based, in document order).
 */
export type PairSplit =
  | { ok: true; texts: string[]; pairs: string[]; spans: [TextSpan, TextSpan][] }
  | { ok: false; selection: number; reason: UnsplitReason };

/** The span of `selection`'s text from `start` to `end`, whitespace at both ends left out. */
export function trimmedSpan(text: string, selection: number, start: number, end: number): TextSpan {
  const raw = text.slice(start, end);
  const from = start + raw.length - raw.trimStart().length;
  return { selection, start: from, end: from + raw.trim().length };
}

/** The lines of `text` that are not blank, as [start, end) without their line break. */
function nonBlankLines(text: string): { start: number; end: number }[] {
  const lines: { start: number; end: number }[] = [];
  let start = 0;
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() !== '') lines.push({ start, end: start + line.length });
    start += raw.length + 1;
  }
  return lines;
}

/**
 * How Classify Selection, Explain Selection and the hover read text pairs from `selections` (their texts in document
 * order, blanks left out):
 * exactly two selections are one pair (the first as text, the second as text_pair); otherwise each selection is split
 * on its own: lines with a tab (a TSV excerpt) are one pair per line, cut at the first tab; two lines without a tab
 * are one pair. Anything else is reported, not guessed.
 */
export function splitPairs(selections: readonly string[]): PairSplit {
  const spans: [TextSpan, TextSpan][] = [];
  if (selections.length === 2) {
    spans.push([
      trimmedSpan(selections[0], 0, 0, selections[0].length),
      trimmedSpan(selections[1], 1, 0, selections[1].length),
    ]);
  } else {
    for (const [i, selection] of selections.entries()) {
      const lines = nonBlankLines(selection);
      const tabs = lines.map((l) => selection.slice(l.start, l.end).indexOf('\t'));
      if (tabs.some((tab) => tab >= 0)) {
        const missing = tabs.findIndex((tab) => tab < 0);
        if (missing >= 0) return { ok: false, selection: i + 1, reason: { kind: 'no-tab', line: missing + 1 } };
        lines.forEach((l, n) => {
          const tab = l.start + tabs[n];
          spans.push([trimmedSpan(selection, i, l.start, tab), trimmedSpan(selection, i, tab + 1, l.end)]);
        });
      } else if (lines.length === 2) {
        spans.push([
          trimmedSpan(selection, i, lines[0].start, lines[0].end),
          trimmedSpan(selection, i, lines[1].start, lines[1].end),
        ]);
      } else {
        const reason: UnsplitReason =
          lines.length === 1 ? { kind: 'one-text' } : { kind: 'lines', lines: lines.length };
        return { ok: false, selection: i + 1, reason };
      }
    }
  }
  const textOf = (span: TextSpan) => selections[span.selection].slice(span.start, span.end);
  return { ok: true, texts: spans.map(([a]) => textOf(a)), pairs: spans.map(([, b]) => textOf(b)), spans };
}

/** Why a selection is not a pair, in words, ending with how to select one. */
export function describeUnsplit(split: Extract<PairSplit, { ok: false }>, selections: number): Message {
  const which = selections > 1 ? say`selection ${split.selection} of ${selections}` : say`the selection`;
  const { reason } = split;
  const why =
    reason.kind === 'one-text'
      ? say`${which} is one text`
      : reason.kind === 'no-tab'
        ? say`line ${reason.line} of ${which} has no tab while other lines do`
        : say`${which} has ${reason.lines} lines and no tab`;
  return say`BERT: this model classifies text pairs, and ${why}. Select the two texts (Alt+click adds the second selection), two lines, or one line per pair with a tab between the two texts.`;
}

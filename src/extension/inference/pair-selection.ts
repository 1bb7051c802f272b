/**
 * A text-pair model's pairs in the editor, as Classify Selection, Explain Selection and the hover read them from the
 * selections (splitPairs), with where each text is in the document; for one selection that is one text, the second
 * text given or typed in an input box.
 */
import * as vscode from 'vscode';
import { input, say, snippet, warn } from '../display/ui';
import type { ActiveModel } from './controller';
import { describeUnsplit, splitPairs, trimmedSpan, type PairSplit, type TextSpan } from './text';

/** [start, end) document offsets of a text. */
export interface OffsetRange {
  start: number;
  end: number;
}

export interface SelectedPairs {
  texts: string[];
  pairs: string[];
  /** Where texts[i] and pairs[i] are in the document; a second text that was typed in is in none (undefined). */
  ranges: [OffsetRange, OffsetRange | undefined][];
}

/** The editor's selections that hold more than whitespace, in document order, with their text. */
function selectedTexts(editor: vscode.TextEditor): { selection: vscode.Selection; text: string }[] {
  return [...editor.selections]
    .filter((s) => !s.isEmpty)
    .sort((a, b) => a.start.compareTo(b.start))
    .map((selection) => ({ selection, text: editor.document.getText(selection) }))
    .filter((s) => s.text.trim() !== '');
}

type Selected = { selection: vscode.Selection; text: string }[];

/** The pairs `selected` holds, with their document ranges; or why they hold none. */
function pairsOf(
  document: vscode.TextDocument,
  selected: Selected,
): { ok: true; pairs: SelectedPairs } | Extract<PairSplit, { ok: false }> {
  const split = splitPairs(selected.map((s) => s.text));
  if (!split.ok) return split;
  const range = (span: TextSpan): OffsetRange => {
    const base = document.offsetAt(selected[span.selection].selection.start);
    return { start: base + span.start, end: base + span.end };
  };
  return {
    ok: true,
    pairs: { texts: split.texts, pairs: split.pairs, ranges: split.spans.map(([a, b]) => [range(a), range(b)]) },
  };
}

/** The pairs the editor's selections hold, with their document ranges (no question asked); undefined if none. */
export function pairsInSelections(editor: vscode.TextEditor): SelectedPairs | undefined {
  const found = pairsOf(editor.document, selectedTexts(editor));
  return found.ok ? found.pairs : undefined;
}

/**
 * The pairs of the selections (see splitPairs); one selection that is one text is the first text, and the second is
 * `textPair` or asked for. Undefined (after saying why) when the selections are not pairs or nothing was typed.
 */
export async function readSelectedPairs(
  editor: vscode.TextEditor,
  model: ActiveModel,
  textPair: string | undefined,
): Promise<SelectedPairs | undefined> {
  const selected = selectedTexts(editor);
  const found = pairsOf(editor.document, selected);
  if (found.ok) return found.pairs;
  if (selected.length !== 1 || found.reason.kind === 'no-tab') {
    void warn(describeUnsplit(found, selected.length));
    return undefined;
  }
  const [{ selection, text }] = selected;
  const span = trimmedSpan(text, 0, 0, text.length);
  const first = text.slice(span.start, span.end);
  // Where the first text is, before the input box: the selection may move while the second is typed.
  const start = editor.document.offsetAt(selection.start);
  const second =
    textPair ??
    (await input({
      title: say`BERT: the second text of the pair`,
      prompt: say`${model.name} classifies text pairs. The selection is the first text (${snippet(first, 40)}); type the second (${model.textPairColumn ?? ''}), or press Escape and select both texts.`,
      placeHolder: say`${model.textPairColumn ?? ''}`,
      ignoreFocusOut: true,
      validate: (v) => (v.trim() === '' ? say`Type the second text of the pair.` : undefined),
    }));
  if (second === undefined || second.trim() === '') return undefined;
  return {
    texts: [first],
    pairs: [second.trim()],
    ranges: [[{ start: start + span.start, end: start + span.end }, undefined]],
  };
}

/**
 * BERT: Explain Selection. Each token of the selection is coloured by its integrated gradient toward the predicted
 * label (core/infer/explain.ts, computed in the inference worker): the `bert.explain.*` theme colours, toward and
 * against the label, stronger for a score of at least half the largest; a legend after the selection; each token's
 * hover gives its score. A text-pair model's pair (read from the selections as Classify Selection reads it) has both
 * texts' tokens coloured; a second text typed in is not in the editor, so the legend lists its top tokens. Editing the
 * document, or explaining again, clears them.
 */
import * as vscode from 'vscode';
import type { Explanation } from '../../core/infer/explain';
import { tokenSurface } from '../../core/infer/token-surface';
import type { Ctx } from '../context';
import { asLog, decorate, decorationType, info, join, say, warn, withProgress, type Decoration } from '../display/ui';
import type { InferenceController } from './controller';
import type { ModelChoice } from './model-commands';
import { readSelectedPairs, type OffsetRange } from './pair-selection';
import { attributionLevel, describeTopTokens, tokenLabel, type AttributionLevel } from './text';

/** Integrated-gradients steps of the editor's explanations (`bert.explain.steps`). */
export function explainSteps(scope?: vscode.ConfigurationScope): number {
  const steps = vscode.workspace.getConfiguration('bert.explain', scope).get<number>('steps', 50);
  return Number.isInteger(steps) && steps >= 1 ? Math.min(steps, 1000) : 50;
}

export interface ExplainResult {
  model: string;
  modelDir: string;
  text: string;
  /** A text-pair model's second text (from the editor or typed in). */
  textPair?: string;
  explanation: Explanation;
  /**
   * What was coloured: each token's level and its span in the document (offsets); a pair's tokens say which text they
   * came from (`segment`), and a second text that was typed in has none coloured.
   */
  decorated: { level: AttributionLevel; start: number; end: number; text: string; score: number; segment?: 0 | 1 }[];
}

const LEVEL_COLORS: Record<AttributionLevel, string> = {
  towardStrong: 'bert.explain.towardStrongBackground',
  toward: 'bert.explain.towardBackground',
  against: 'bert.explain.againstBackground',
  againstStrong: 'bert.explain.againstStrongBackground',
};
const LEVELS = Object.keys(LEVEL_COLORS) as AttributionLevel[];

export function registerExplainCommands(
  ctx: Ctx,
  controller: InferenceController,
  { requireModel }: ModelChoice,
): void {
  const types = new Map(LEVELS.map((level) => [level, decorationType({ background: LEVEL_COLORS[level] })]));
  const legend = decorationType(
    { background: 'bert.explain.legendBackground' },
    { color: 'bert.explain.legendForeground', fontStyle: 'italic' },
  );
  let decorated: vscode.TextEditor | undefined;
  const clear = (): void => {
    if (!decorated) return;
    for (const type of [...types.values(), legend]) decorate(decorated, type, []);
    decorated = undefined;
  };
  ctx.own(
    ...types.values(),
    legend,
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.contentChanges.length > 0 && e.document === decorated?.document) clear();
    }),
    controller.onDidChangeActiveModel(clear),
  );

  /**
   * What to explain: the selection, or a pair model's pair (see readSelectedPairs), each text with its range in the
   * document (none for a second text typed in). Undefined, after saying why, when there is nothing to explain.
   */
  async function target(
    editor: vscode.TextEditor,
    selection: vscode.Selection,
    textPair: string | undefined,
  ): Promise<{ texts: string[]; ranges: (OffsetRange | undefined)[] } | undefined> {
    const model = await withProgress(
      { location: vscode.ProgressLocation.Window, title: say`BERT: loading the model` },
      () => controller.model(),
    );
    if (!model) return undefined;
    const document = editor.document;
    if (model.textPairColumn === undefined) {
      const range = { start: document.offsetAt(selection.start), end: document.offsetAt(selection.end) };
      return { texts: [document.getText(selection)], ranges: [range] };
    }
    const selected = await readSelectedPairs(editor, model, textPair);
    if (!selected) return undefined;
    if (selected.texts.length > 1) {
      void warn(
        say`BERT: Explain Selection explains one text pair at a time, and the selections hold ${selected.texts.length}. Select one pair: its two texts (Alt+click adds the second selection), two lines, or one line with a tab between the two texts.`,
      );
      return undefined;
    }
    return { texts: [selected.texts[0], selected.pairs[0]], ranges: selected.ranges[0] };
  }

  ctx.command('bert.explainSelection', async (options?: { textPair?: string }): Promise<ExplainResult | undefined> => {
    const editor = vscode.window.activeTextEditor;
    const selection = editor?.selections.find((s) => !s.isEmpty && editor.document.getText(s).trim() !== '');
    if (!editor || !selection) {
      void info(say`BERT: select the text to explain first.`);
      return undefined;
    }
    if (!(await requireModel())) return undefined;
    const explained = await target(editor, selection, options?.textPair);
    if (!explained) return undefined;
    const { texts, ranges } = explained;
    const document = editor.document;
    const steps = explainSteps(document);
    const result = await withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: say`BERT: explaining the selection`,
        cancellable: true,
      },
      async (_progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        return controller.explain(texts[0], steps, abort.signal, texts[1]);
      },
    );
    if (!result) return undefined;
    const { model, explanation: e } = result;
    const maxAbs = Math.max(0, ...e.tokens.map((t) => Math.abs(t.score)));
    const byLevel = new Map<AttributionLevel, Decoration[]>(LEVELS.map((l) => [l, []]));
    const coloured: ExplainResult['decorated'] = [];
    for (const t of e.tokens) {
      const level = attributionLevel(t.score, maxAbs);
      // A token's offsets are into its own text: a pair's second text starts where its range does.
      const within = ranges[t.segment ?? 0];
      if (!level || !within || t.start === null || t.end === null) continue;
      const [start, end] = [within.start + t.start, within.start + t.end];
      const sign = t.score >= 0 ? '+' : '';
      byLevel.get(level)!.push({
        range: new vscode.Range(document.positionAt(start), document.positionAt(end)),
        hover: say`BERT: ${tokenLabel(texts, t)} ${sign}${t.score.toFixed(3)} toward ${e.label}`,
      });
      const segment = t.segment === undefined ? {} : { segment: t.segment };
      coloured.push({ level, start, end, text: tokenSurface(texts, t), score: t.score, ...segment });
    }
    clear();
    for (const level of LEVELS) decorate(editor, types.get(level)!, byLevel.get(level)!);
    // The legend after the last explained text; a second text typed in is not in the editor: its tokens are listed.
    const end = document.positionAt(Math.max(...ranges.map((r) => r?.end ?? 0)));
    const key = say`BERT → ${e.label}: green toward it, red against; darker is stronger`;
    const typed = texts.length > 1 && ranges[1] === undefined;
    decorate(editor, legend, [
      {
        range: new vscode.Range(end, end),
        after: typed ? say`${key}. The typed second text: ${describeTopTokens(texts, e, 3, 1)}` : key,
      },
    ]);
    decorated = editor;
    ctx.log.info(
      asLog(
        say`explain (${model.name}, ${e.steps} steps, ${e.label}, logit ${e.logit.toFixed(3)} vs baseline ${e.baselineLogit.toFixed(3)}): ${join(
          e.tokens.map((t) => say`${tokenLabel(texts, t)} ${t.score.toFixed(4)}`),
          ', ',
        )}`,
      ),
    );
    void info(say`BERT ${model.name}: ${e.label}. Toward it: ${describeTopTokens(texts, e)}`);
    return {
      model: model.name,
      modelDir: model.dir,
      text: texts[0],
      ...(texts.length > 1 ? { textPair: texts[1] } : {}),
      explanation: e,
      decorated: coloured,
    };
  });
}

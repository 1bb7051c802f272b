/**
 * BERT: Explain Selection. Each token of the selection is coloured by its integrated gradient toward the predicted
 * label (core/infer/explain.ts, computed in the inference worker): the `bert.explain.*` theme colours, toward and
 * against the label, stronger for a score of at least half the largest; a legend after the selection; each token's
 * hover gives its score. Editing the document, or explaining again, clears them.
 */
import * as vscode from 'vscode';
import type { Explanation } from '../../core/infer/explain';
import type { Ctx } from '../context';
import { asLog, decorate, decorationType, info, say, withProgress, type Decoration } from '../display/ui';
import type { InferenceController } from './controller';
import type { ModelChoice } from './model-commands';
import { attributionLevel, describeTopTokens, tokenSurface, type AttributionLevel } from './text';

/** Integrated-gradients steps of the editor's explanations (`bert.explain.steps`). */
export function explainSteps(scope?: vscode.ConfigurationScope): number {
  const steps = vscode.workspace.getConfiguration('bert.explain', scope).get<number>('steps', 50);
  return Number.isInteger(steps) && steps >= 1 ? Math.min(steps, 1000) : 50;
}

export interface ExplainResult {
  model: string;
  modelDir: string;
  text: string;
  explanation: Explanation;
  /** What was coloured: each token's level and its span in the document (offsets). */
  decorated: { level: AttributionLevel; start: number; end: number; text: string; score: number }[];
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

  ctx.command('bert.explainSelection', async (): Promise<ExplainResult | undefined> => {
    const editor = vscode.window.activeTextEditor;
    const selection = editor?.selections.find((s) => !s.isEmpty && editor.document.getText(s).trim() !== '');
    if (!editor || !selection) {
      void info(say`BERT: select the text to explain first.`);
      return undefined;
    }
    if (!(await requireModel())) return undefined;
    const active = await controller.model();
    if (active?.textPairColumn !== undefined) {
      void info(
        say`BERT: ${active.name} classifies text pairs; Explain Selection explains single texts only. Classify Selection classifies a pair.`,
      );
      return undefined;
    }
    const document = editor.document;
    const text = document.getText(selection);
    const steps = explainSteps(document);
    const result = await withProgress(
      { location: vscode.ProgressLocation.Notification, title: say`BERT: explaining the selection`, cancellable: true },
      async (_progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        return controller.explain(text, steps, abort.signal);
      },
    );
    if (!result) return undefined;
    const { model, explanation: e } = result;
    const base = document.offsetAt(selection.start);
    const maxAbs = Math.max(0, ...e.tokens.map((t) => Math.abs(t.score)));
    const byLevel = new Map<AttributionLevel, Decoration[]>(LEVELS.map((l) => [l, []]));
    const coloured: ExplainResult['decorated'] = [];
    for (const t of e.tokens) {
      const level = attributionLevel(t.score, maxAbs);
      if (!level || t.start === null || t.end === null) continue;
      const range = new vscode.Range(document.positionAt(base + t.start), document.positionAt(base + t.end));
      const sign = t.score >= 0 ? '+' : '';
      byLevel.get(level)!.push({
        range,
        hover: say`BERT: ${tokenSurface(text, t)} ${sign}${t.score.toFixed(3)} toward ${e.label}`,
      });
      coloured.push({ level, start: base + t.start, end: base + t.end, text: tokenSurface(text, t), score: t.score });
    }
    clear();
    for (const level of LEVELS) decorate(editor, types.get(level)!, byLevel.get(level)!);
    const end = new vscode.Range(selection.end, selection.end);
    decorate(editor, legend, [
      {
        range: end,
        after: say`BERT → ${e.label}: green toward it, red against; darker is stronger`,
      },
    ]);
    decorated = editor;
    ctx.log.info(
      asLog(
        say`explain (${model.name}, ${e.steps} steps, ${e.label}, logit ${e.logit.toFixed(3)} vs baseline ${e.baselineLogit.toFixed(3)}): ${e.tokens
          .map((t) => `${tokenSurface(text, t)} ${t.score.toFixed(4)}`)
          .join(', ')}`,
      ),
    );
    void info(say`BERT ${model.name}: ${e.label}. Toward it: ${describeTopTokens(text, e)}`);
    return { model: model.name, modelDir: model.dir, text, explanation: e, decorated: coloured };
  });
}

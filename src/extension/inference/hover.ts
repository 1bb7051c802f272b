/**
 * Hover classification, opt-in (`bert.hover.enabled`, per language id in `bert.hover.languages`). It classifies the
 * selection under the mouse, or the sentence/paragraph there (`bert.hover.scope`). Typing must never feel slow:
 * results are cached per text, inference runs in the worker, the request is cancelled with the hover's token, and
 * after `bert.hover.timeBudgetMs` the hover shows nothing (a late result still lands in the cache). Within the same
 * budget it shows the tokens pushing toward the label (integrated gradients, `bert.explain.steps`), unless the
 * model's explanations proved too slow for hovers (HoverExplanationGate). A text-pair model's hover is that of the
 * pair the selections hold (as Classify Selection reads it) under the mouse: the pair's label and both texts' tokens.
 */
import * as vscode from 'vscode';
import type { Ctx } from '../context';
import { markdown } from '../display/ui';
import type { InferenceController } from './controller';
import { runDirOfModel } from '../../core/run/paths';
import { explainSteps } from './explain-commands';
import { pairsInSelections } from './pair-selection';
import { HOVER_SCOPES, HoverExplanationGate, hoverMarkdown, hoverTarget, type HoverScope } from './text';

export interface HoverSettings {
  enabled: boolean;
  languages: string[];
  scope: HoverScope;
  timeBudgetMs: number;
}

export function readHoverSettings(scope?: vscode.ConfigurationScope): HoverSettings {
  const c = vscode.workspace.getConfiguration('bert.hover', scope);
  const s = c.get<string>('scope', 'sentence');
  return {
    enabled: c.get<boolean>('enabled', false),
    languages: c.get<string[]>('languages', ['plaintext', 'markdown']),
    scope: (HOVER_SCOPES as readonly string[]).includes(s) ? (s as HoverScope) : 'sentence',
    timeBudgetMs: Math.max(10, c.get<number>('timeBudgetMs', 300)),
  };
}

export class ClassifyHoverProvider implements vscode.HoverProvider {
  /** The explanation a hover started, still running (see provideHover). */
  private explaining: Promise<unknown> | undefined;
  /** Whether a hover may start an explanation with the active model (slow ones do not). */
  private readonly explanations = new HoverExplanationGate();

  constructor(
    private readonly controller: InferenceController,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  async provideHover(
    document: vscode.TextDocument,
    position: vscode.Position,
    token: vscode.CancellationToken,
  ): Promise<vscode.Hover | undefined> {
    const settings = readHoverSettings(document);
    if (!settings.enabled || !settings.languages.includes(document.languageId)) return undefined;
    const modelDir = this.controller.activeModelDir();
    if (modelDir === undefined) return undefined;
    // A text-pair model scores two texts together: the pair selected under the pointer, never one text.
    const pairModel = this.controller.client.model?.textPairColumn !== undefined;
    const target = pairModel ? this.pairTarget(document, position) : this.target(document, position, settings.scope);
    if (!target) return undefined;
    const { text, textPair } = target;

    const steps = explainSteps(document);
    let prediction = this.controller.cached(text, textPair);
    let explanation = this.controller.cachedExplanation(text, steps, textPair);
    if (!prediction || (!explanation && prediction.value === undefined)) {
      // One time budget for both: the prediction, then the tokens behind it. What misses the budget still lands in
      // the cache, for the next hover over the same text.
      const abort = new AbortController();
      const cancel = token.onCancellationRequested(() => abort.abort());
      const timer = setTimeout(() => abort.abort(), settings.timeBudgetMs);
      const budget = new Promise<undefined>((resolve) =>
        abort.signal.addEventListener('abort', () => resolve(undefined), { once: true }),
      );
      const quietly = <T>(p: Promise<T>) =>
        p.catch((e: unknown) => {
          if ((e as { code?: string }).code !== 'CANCELLED') this.log.warn(`hover: ${(e as Error).message}`);
          return undefined;
        });
      try {
        if (!prediction) {
          const pairs = textPair === undefined ? undefined : [textPair];
          const result = await Promise.race([quietly(this.controller.predict([text], abort.signal, pairs)), budget]);
          prediction = result?.predictions[0];
        }
        if (
          prediction &&
          prediction.value === undefined &&
          !explanation &&
          !abort.signal.aborted &&
          !this.explaining &&
          this.explanations.mayStart(modelDir)
        ) {
          // Not cancelled with the hover: it finishes and is cached for the next one. One at a time, as an explanation
          // is steps + 1 passes and the worker runs one request at a time (the classifications wait behind it).
          const started = performance.now();
          const explained = quietly(this.controller.explain(text, steps, undefined, textPair));
          this.explaining = explained;
          void explained.finally(() => {
            if (this.explaining === explained) this.explaining = undefined;
            this.explanations.finished(modelDir, performance.now() - started, settings.timeBudgetMs);
          });
          explanation = (await Promise.race([explained, budget]))?.explanation;
        }
      } finally {
        clearTimeout(timer);
        cancel.dispose();
      }
    }
    if (!prediction || token.isCancellationRequested) return undefined;
    const model = await this.controller.model().catch(() => undefined);
    // The model changed kind while this hover waited: what it computed is not that model's.
    if ((model?.textPairColumn !== undefined) !== pairModel) return undefined;
    const name = model?.name ?? '';
    const texts = textPair === undefined ? [text] : [text, textPair];
    const explained = explanation ? { texts, explanation } : undefined;
    return new vscode.Hover(
      markdown(hoverMarkdown(prediction, name, runDirOfModel(modelDir), 5, explained), ['bert.openDashboard']),
      target.range,
    );
  }

  /** A pair model's: the one pair the selections hold (see splitPairs) where one of its texts is under the pointer. */
  private pairTarget(
    document: vscode.TextDocument,
    position: vscode.Position,
  ): { text: string; textPair: string; range: vscode.Range } | undefined {
    const editor = vscode.window.activeTextEditor;
    const found = editor?.document === document ? pairsInSelections(editor) : undefined;
    if (!found) return undefined;
    const offset = document.offsetAt(position);
    for (const [i, pair] of found.ranges.entries()) {
      const under = pair.find((r) => r !== undefined && r.start <= offset && offset <= r.end);
      if (!under) continue;
      const range = new vscode.Range(document.positionAt(under.start), document.positionAt(under.end));
      return { text: found.texts[i], textPair: found.pairs[i], range };
    }
    return undefined;
  }

  private target(
    document: vscode.TextDocument,
    position: vscode.Position,
    scope: HoverScope,
  ): { text: string; textPair?: string; range: vscode.Range } | undefined {
    const editor = vscode.window.activeTextEditor;
    const selection =
      editor?.document === document ? editor.selections.find((s) => !s.isEmpty && s.contains(position)) : undefined;
    if (selection) {
      const text = document.getText(selection).trim();
      return text ? { text, range: selection } : undefined;
    }
    if (scope === 'selection') return undefined;
    const found = hoverTarget(document.getText(), document.offsetAt(position), scope);
    return found
      ? { text: found.text, range: new vscode.Range(document.positionAt(found.start), document.positionAt(found.end)) }
      : undefined;
  }
}

/** The hover, registered only while enabled and for the configured languages: when off, VS Code never calls us. */
export function registerHover(ctx: Ctx, controller: InferenceController): void {
  const hoverProvider = new ClassifyHoverProvider(controller, ctx.log);
  let hoverRegistration: vscode.Disposable | undefined;
  const update = (): void => {
    hoverRegistration?.dispose();
    const settings = readHoverSettings();
    hoverRegistration =
      settings.enabled && settings.languages.length > 0
        ? vscode.languages.registerHoverProvider(
            settings.languages.map((language) => ({ language })),
            hoverProvider,
          )
        : undefined;
  };
  update();
  ctx.own(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('bert.hover')) update();
    }),
    {
      dispose: () => {
        hoverRegistration?.dispose();
      },
    },
  );
}

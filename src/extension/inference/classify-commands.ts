/**
 * Classifying: Classify Selection (each selection, a notification and the log) and Predict Dataset (a file's texts
 * to a predictions CSV, with accuracy and a confusion matrix when it has labels). Each returns what it did.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { predictDataset, readColumns, type DatasetPredictionReport } from '../../core/infer/batch-predict';
import type { Explanation } from '../../core/infer/explain';
import type { Prediction } from '../../core/infer/predictor';
import type { Ctx } from '../context';
import { asLog, info, pick, say, snippet, withProgress } from '../display/ui';
import { requireTrust } from '../trust';
import type { ActiveModel, InferenceController } from './controller';
import type { ModelChoice } from './model-commands';
import { explainSteps } from './explain-commands';
import { readSelectedPairs } from './pair-selection';
import { describePrediction, describePredictions, describeTopTokens, formatConfusion, percent } from './text';

export interface ClassifyResult {
  model: string;
  modelDir: string;
  texts: string[];
  /** A text-pair model's second texts, pairs[i] classified with texts[i]. */
  pairs?: string[];
  predictions: Prediction[];
  /**
   * One selection (or one pair): its tokens' integrated gradients toward the predicted label (the notification's top
   * tokens); a pair's, both texts' tokens.
   */
  explanation?: Explanation;
}

export function registerClassifyCommands(
  ctx: Ctx,
  controller: InferenceController,
  { requireModel }: ModelChoice,
): void {
  const { log } = ctx;

  /**
   * Classify text pairs: the log has each pair, the notification the result and, for one pair, how it was read and
   * the tokens of both texts that push it toward its label.
   */
  async function classifyPairs(
    model: ActiveModel,
    texts: string[],
    pairs: string[],
    steps: number,
  ): Promise<ClassifyResult | undefined> {
    const result = await withProgress(
      { location: vscode.ProgressLocation.Window, title: say`BERT: classifying` },
      async () => {
        const classified = await controller.predict(texts, undefined, pairs);
        const explained =
          classified && texts.length === 1 && classified.predictions[0].value === undefined
            ? await explainQuietly(texts[0], steps, pairs[0])
            : undefined;
        return classified && { ...classified, explanation: explained?.explanation };
      },
    );
    if (!result) return undefined;
    const { predictions, explanation } = result;
    predictions.forEach((p, i) =>
      log.info(
        asLog(say`classify (${model.name}): ${describePrediction(p)} ← ${snippet(texts[i])} ⇄ ${snippet(pairs[i])}`),
      ),
    );
    const read = texts.length === 1 ? say` — for ${snippet(texts[0], 40)} ⇄ ${snippet(pairs[0], 40)}` : say``;
    const why = explanation
      ? say` — toward ${explanation.label}: ${describeTopTokens([texts[0], pairs[0]], explanation)}`
      : say``;
    void info(say`BERT ${model.name}: ${describePredictions(predictions)}${read}${why}`);
    return { model: model.name, modelDir: model.dir, texts, pairs, predictions, explanation };
  }

  /** An explanation for the notification; a model that cannot be explained (an int8 copy) still classifies. */
  function explainQuietly(text: string, steps: number, textPair?: string) {
    return controller.explain(text, steps, undefined, textPair).catch((e: unknown) => {
      log.warn(`explain: ${(e as Error).message}`);
      return undefined;
    });
  }

  ctx.command(
    'bert.classifySelection',
    async (options?: { textPair?: string }): Promise<ClassifyResult | undefined> => {
      const editor = vscode.window.activeTextEditor;
      const texts = (editor?.selections ?? [])
        .filter((s) => !s.isEmpty)
        .map((s) => editor!.document.getText(s))
        .filter((t) => t.trim() !== '');
      if (!editor || texts.length === 0) {
        void info(say`BERT: select the text to classify first.`);
        return undefined;
      }
      if (!(await requireModel())) return undefined;
      const active = await withProgress(
        { location: vscode.ProgressLocation.Window, title: say`BERT: loading the model` },
        () => controller.model(),
      );
      if (!active) return undefined;
      if (active.textPairColumn !== undefined) {
        const paired = await readSelectedPairs(editor, active, options?.textPair);
        if (!paired) return undefined;
        return classifyPairs(active, paired.texts, paired.pairs, explainSteps(editor.document));
      }
      const result = await withProgress(
        { location: vscode.ProgressLocation.Window, title: say`BERT: classifying` },
        async () => {
          const classified = await controller.predict(texts);
          // One selection also gets the tokens that push it toward its label (a regression value has no label to show).
          const explained =
            classified && texts.length === 1 && classified.predictions[0].value === undefined
              ? await explainQuietly(texts[0], explainSteps(editor.document))
              : undefined;
          return classified && { ...classified, explanation: explained?.explanation };
        },
      );
      if (!result) return undefined;
      const { model, predictions, explanation } = result;
      predictions.forEach((p, i) =>
        log.info(asLog(say`classify (${model.name}): ${describePrediction(p)} ← ${snippet(texts[i])}`)),
      );
      const why = explanation
        ? say` — toward ${explanation.label}: ${describeTopTokens([texts[0]], explanation)}`
        : say``;
      void info(say`BERT ${model.name}: ${describePredictions(predictions)}${why}`);
      return { model: model.name, modelDir: model.dir, texts, predictions, explanation };
    },
  );

  /** The text column (and an optional label column) of a file whose columns cannot be detected. */
  async function pickColumns(file: string): Promise<{ textColumn: string; labelColumn?: string } | undefined> {
    const all = await readColumns(file);
    const text = await pick(
      all.map((c) => ({ label: say`${c}`, value: c })),
      {
        title: say`BERT: Predict Dataset: text column`,
        placeHolder: say`The column of ${path.basename(file)} holding the texts to classify`,
      },
    );
    if (!text) return undefined;
    const label = await pick<string | undefined>(
      [
        { label: say`No label column`, description: say`predict only`, value: undefined },
        ...all
          .filter((c) => c !== text.value)
          .map((c) => ({ label: say`${c}`, description: say`true labels: accuracy and a confusion matrix`, value: c })),
      ],
      { title: say`BERT: Predict Dataset: label column (optional)` },
    );
    if (!label) return undefined;
    return { textColumn: text.value, ...(label.value !== undefined ? { labelColumn: label.value } : {}) };
  }

  ctx.command(
    'bert.predictDataset',
    async (
      target?: vscode.Uri,
      options?: { out?: string; textColumn?: string; labelColumn?: string },
    ): Promise<DatasetPredictionReport | undefined> => {
      if (!requireTrust('Predict Dataset')) return undefined;
      const dataFile =
        target?.fsPath ??
        (
          await vscode.window.showOpenDialog({
            canSelectFiles: true,
            canSelectFolders: true,
            openLabel: 'Predict',
            filters: { Datasets: ['csv', 'tsv', 'jsonl', 'ndjson', 'json'] },
          })
        )?.[0]?.fsPath;
      if (!dataFile || !(await requireModel())) return undefined;
      let columns: { textColumn?: string; labelColumn?: string } = {
        textColumn: options?.textColumn,
        labelColumn: options?.labelColumn,
      };
      const predict = () =>
        withProgress(
          {
            location: vscode.ProgressLocation.Notification,
            title: say`BERT: predicting ${path.basename(dataFile)}`,
            cancellable: true,
          },
          async (progress, token) => {
            const model = await controller.model();
            if (!model) return undefined;
            const abort = new AbortController();
            token.onCancellationRequested(() => abort.abort());
            let last = 0;
            return predictDataset(
              {
                labels: model.labels,
                regression: model.task === 'regression',
                thresholds: model.thresholds,
                predict: (texts) => controller.client.predict(texts, abort.signal),
              },
              dataFile,
              {
                ...columns,
                out: options?.out,
                signal: abort.signal,
                onProgress: (done, total) => {
                  progress({ message: say`${done} / ${total}`, increment: ((done - last) / total) * 100 });
                  last = done;
                },
              },
            );
          },
        );
      let report: DatasetPredictionReport | undefined;
      try {
        report = await predict();
      } catch (error) {
        // The text column could not be detected: let the user choose it among the file's columns, then go on.
        if ((error as { code?: string }).code !== 'DATA_NO_TEXT_COLUMN') throw error;
        const chosen = await pickColumns(dataFile);
        if (!chosen) return undefined;
        columns = chosen;
        report = await predict();
      }
      if (!report) return undefined;
      const accuracy = report.evaluation
        ? ` Accuracy ${percent(report.evaluation.accuracy)} on ${report.evaluation.evaluated} labelled rows.`
        : '';
      log.info(`Predicted ${report.rows} rows of ${dataFile} → ${report.output}.${accuracy}`);
      if (report.evaluation)
        log.info(`Confusion matrix (rows: true label, columns: predicted):\n${formatConfusion(report.evaluation)}`);
      // A multi-label or regression model's file is not scored here: no confusion matrix to show.
      const matrix: 'Show Confusion Matrix'[] = report.evaluation ? ['Show Confusion Matrix'] : [];
      void info(
        say`BERT: wrote ${path.basename(report.output)} (${report.rows} rows).${accuracy}`,
        'Open',
        ...matrix,
      ).then((choice) => {
        if (choice === 'Open') void vscode.window.showTextDocument(vscode.Uri.file(report.output));
        if (choice === 'Show Confusion Matrix') log.show(true);
      });
      return report;
    },
  );
}

/**
 * Inference commands: Classify Selection, Select Model, Use Model (for the dashboard's "Classify with this model"),
 * Predict Dataset, Make Int8 Model, and the hover. Every command returns what it did, so integration tests (and the
 * dashboard) can check it without reading notifications.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { predictDataset, runValidationExamples, type DatasetPredictionReport } from '../../core/infer/batch-predict';
import type { Prediction } from '../../core/infer/predictor';
import type { QuantizedComparison } from '../../core/infer/quantize';
import { resolveModel } from '../../core/model/hub';
import type { ExtensionServices } from '../commands';
import { listRuns, describeRun } from '../runs/runStore';
import { runFolders } from '../runs/view';
import { describeError } from '../training/controller';
import { InferenceController } from './controller';
import { ClassifyHoverProvider, readHoverSettings } from './hover';
import { runDirOfModel } from './models';
import { describePrediction, formatConfusion, percent } from './text';

export interface ClassifyResult {
  model: string;
  modelDir: string;
  texts: string[];
  predictions: Prediction[];
}

export interface QuantizeChoice {
  comparison: QuantizedComparison;
  /** The model now active (the int8 folder when the user chose it). */
  active: string;
}

export function registerInferenceCommands(context: vscode.ExtensionContext, services: ExtensionServices): InferenceController {
  const { log } = services;
  const controller = new InferenceController(log);
  context.subscriptions.push(controller);

  const command = (id: string, handler: (...args: never[]) => unknown) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, async (...args: never[]) => {
      try {
        return await handler(...args);
      } catch (error) {
        if ((error as { code?: string }).code === 'CANCELLED') return undefined;
        log.error(`${id} failed: ${describeError(error)}`);
        void vscode.window.showErrorMessage(`BERT: ${describeError(error)}`);
        return undefined;
      }
    }));

  async function useModel(arg: string | vscode.Uri | { dir?: string; bestModelDir?: string } | undefined): Promise<string | undefined> {
    const dir = typeof arg === 'string' ? arg : arg instanceof vscode.Uri ? arg.fsPath : arg?.bestModelDir ?? arg?.dir;
    if (!dir) return selectModel();
    const model = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `BERT: loading ${path.basename(dir)}` },
      () => controller.setActiveModel(dir));
    log.info(`Active model: ${model.name} (${dir})`);
    void vscode.window.showInformationMessage(`BERT: classifying with ${model.name} (${model.labels.length} labels).`);
    return dir;
  }

  async function selectModel(): Promise<string | undefined> {
    type Item = vscode.QuickPickItem & { dir?: string; action?: 'folder' | 'hub' };
    const active = controller.activeModelDir();
    const runs = runFolders().flatMap((root) => listRuns(root)).filter((r) => r.bestModelDir !== undefined);
    const items: Item[] = [
      ...(runs.length ? [{ label: 'Runs in this workspace', kind: vscode.QuickPickItemKind.Separator } as Item] : []),
      ...runs.map((r) => ({ label: r.name, description: describeRun(r), detail: r.bestModelDir, dir: r.bestModelDir,
        picked: active !== undefined && path.resolve(active) === path.resolve(r.bestModelDir as string) })),
      { label: 'Other', kind: vscode.QuickPickItemKind.Separator },
      { label: '$(folder-opened) Model folder…', description: 'a folder with config.json (Hugging Face layout)', action: 'folder' },
      { label: '$(cloud-download) Hugging Face Hub model…', description: 'a Hub id such as org/name', action: 'hub' },
    ];
    const pick = await vscode.window.showQuickPick(items, { title: 'BERT: Select the model to classify with', placeHolder: active ? `Active: ${active}` : 'No model is active' });
    if (!pick) return undefined;
    if (pick.dir) return useModel(pick.dir);
    if (pick.action === 'folder') {
      const uri = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Use this model' });
      return uri?.[0] ? useModel(uri[0].fsPath) : undefined;
    }
    const spec = await vscode.window.showInputBox({ title: 'Hugging Face model id', placeHolder: 'org/name or org/name@revision',
      prompt: 'A model fine-tuned for sequence classification (its config.json has id2label).' });
    if (!spec?.trim()) return undefined;
    const resolved = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `BERT: downloading ${spec.trim()}`, cancellable: true },
      (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        return resolveModel(spec.trim(), {
          signal: abort.signal,
          onProgress: (p) => progress.report({ message: `${p.file} ${(p.bytes / 1e6).toFixed(1)}${p.total ? ` / ${(p.total / 1e6).toFixed(1)}` : ''} MB` }),
        });
      });
    if (resolved.kind === 'random') throw new Error('A random model cannot classify; train it first.');
    return useModel(resolved.dir);
  }

  /** The active model, asking the user to pick one when none is set. */
  const requireModel = async (): Promise<boolean> => controller.activeModelDir() !== undefined || (await selectModel()) !== undefined;

  command('bert.useModel', useModel);
  command('bert.selectModel', async (arg?: string | vscode.Uri) => (arg !== undefined ? useModel(arg) : selectModel()));

  command('bert.classifySelection', async (): Promise<ClassifyResult | undefined> => {
    const editor = vscode.window.activeTextEditor;
    const texts = (editor?.selections ?? []).filter((s) => !s.isEmpty).map((s) => editor!.document.getText(s)).filter((t) => t.trim() !== '');
    if (texts.length === 0) {
      void vscode.window.showInformationMessage('BERT: select the text to classify first.');
      return undefined;
    }
    if (!(await requireModel())) return undefined;
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'BERT: classifying' }, () => controller.predict(texts));
    if (!result) return undefined;
    const { model, predictions } = result;
    predictions.forEach((p, i) => log.info(`classify (${model.name}): ${describePrediction(p)} ← ${texts[i].replace(/\s+/g, ' ').slice(0, 80)}`));
    const message = predictions.length === 1
      ? `${predictions[0].label} (${percent(predictions[0].score)}) — ${describePrediction(predictions[0])}`
      : `${predictions.length} selections: ${predictions.map((p) => `${p.label} ${percent(p.score)}`).join(', ')}`;
    void vscode.window.showInformationMessage(`BERT ${model.name}: ${message}`);
    return { model: model.name, modelDir: model.dir, texts, predictions };
  });

  command('bert.predictDataset', async (target?: vscode.Uri, options?: { out?: string }): Promise<DatasetPredictionReport | undefined> => {
    const input = target?.fsPath ?? (await vscode.window.showOpenDialog({
      canSelectFiles: true, canSelectFolders: true, openLabel: 'Predict',
      filters: { Datasets: ['csv', 'tsv', 'jsonl', 'ndjson', 'json'] },
    }))?.[0]?.fsPath;
    if (!input || !(await requireModel())) return undefined;
    const report = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `BERT: predicting ${path.basename(input)}`, cancellable: true },
      async (progress, token) => {
        const model = await controller.model();
        if (!model) return undefined;
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        let last = 0;
        return predictDataset({ labels: model.labels, predict: (texts) => controller.client.predict(texts, abort.signal) }, input, {
          out: options?.out, signal: abort.signal,
          onProgress: (done, total) => {
            progress.report({ message: `${done} / ${total}`, increment: ((done - last) / total) * 100 });
            last = done;
          },
        });
      });
    if (!report) return undefined;
    const accuracy = report.evaluation ? ` Accuracy ${percent(report.evaluation.accuracy)} on ${report.evaluation.evaluated} labelled rows.` : '';
    log.info(`Predicted ${report.rows} rows of ${input} → ${report.output}.${accuracy}`);
    if (report.evaluation) log.info(`Confusion matrix (rows: true label, columns: predicted):\n${formatConfusion(report.evaluation)}`);
    void vscode.window.showInformationMessage(`BERT: wrote ${path.basename(report.output)} (${report.rows} rows).${accuracy}`, 'Open', 'Show Confusion Matrix')
      .then((choice) => {
        if (choice === 'Open') void vscode.window.showTextDocument(vscode.Uri.file(report.output));
        if (choice === 'Show Confusion Matrix') log.show(true);
      });
    return report;
  });

  command('bert.quantizeModel', async (options?: { use?: boolean }): Promise<QuantizeChoice | undefined> => {
    if (!(await requireModel())) return undefined;
    const model = await controller.model();
    if (!model) return undefined;
    const run = runDirOfModel(model.dir);
    const examples = run ? await runValidationExamples(JSON.parse(fs.readFileSync(path.join(run, 'run.json'), 'utf8'))) : [];
    const comparison = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `BERT: making an int8 model of ${model.name} and measuring it` },
      () => controller.client.quantize(model.dir, examples.map((e) => e.text), examples.map((e) => e.label)));
    const c = comparison;
    const accuracy = c.fp32Accuracy !== undefined && c.int8Accuracy !== undefined
      ? `accuracy ${percent(c.fp32Accuracy)} → ${percent(c.int8Accuracy)} on ${c.labelled} validation texts (same label for ${percent(c.agreement)})`
      : 'no validation set to measure accuracy on';
    const summary = `Int8 model of ${model.name}: ${accuracy}; ${c.fp32MsPerText.toFixed(1)} → ${c.int8MsPerText.toFixed(1)} ms per text; ` +
      `${(c.fp32Bytes / 1e6).toFixed(0)} → ${(c.int8Bytes / 1e6).toFixed(0)} MB.`;
    log.info(summary);
    const use = options?.use ?? (await vscode.window.showInformationMessage(summary, { modal: true }, 'Use Int8 Model', 'Keep Float32')) === 'Use Int8 Model';
    if (use) await controller.setActiveModel(c.int8Dir);
    return { comparison, active: use ? c.int8Dir : model.dir };
  });

  // Registered only while enabled, for the configured languages: when off, VS Code never calls us on hover.
  const hoverProvider = new ClassifyHoverProvider(controller, log);
  let hoverRegistration: vscode.Disposable | undefined;
  const registerHover = () => {
    hoverRegistration?.dispose();
    const settings = readHoverSettings();
    hoverRegistration = settings.enabled && settings.languages.length > 0
      ? vscode.languages.registerHoverProvider(settings.languages.map((language) => ({ language })), hoverProvider)
      : undefined;
  };
  registerHover();
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => { if (e.affectsConfiguration('bert.hover')) registerHover(); }),
    { dispose: () => hoverRegistration?.dispose() },
  );
  return controller;
}

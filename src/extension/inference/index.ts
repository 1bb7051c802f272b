/**
 * Inference commands: Classify Selection, Select Model, Use Model (for the dashboard's "Classify with this model"),
 * Predict Dataset, Make Int8 Model, and the hover. Every command returns what it did, so integration tests (and the
 * dashboard) can check it without reading notifications.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { predictDataset, readColumns, runValidationExamples, type DatasetPredictionReport } from '../../core/infer/batch-predict';
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
import { asLog, error as showError, info, input, long, notify, pick, say, snippet, withProgress, type PickItem } from '../display/ui';
import { requireTrust } from '../trust';
import { describePrediction, describePredictions, formatConfusion, percent } from './text';

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
  const controller = new InferenceController(log, context.workspaceState);
  context.subscriptions.push(controller);

  const command = (id: string, handler: (...args: never[]) => unknown) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, async (...args: never[]) => {
      try {
        return await handler(...args);
      } catch (error) {
        if ((error as { code?: string }).code === 'CANCELLED') return undefined;
        log.error(`${id} failed: ${describeError(error)}`);
        void showError(say`BERT: ${long(describeError(error))}`);
        return undefined;
      }
    }));

  async function useModel(arg: string | vscode.Uri | { dir?: string; bestModelDir?: string } | undefined): Promise<string | undefined> {
    const dir = typeof arg === 'string' ? arg : arg instanceof vscode.Uri ? arg.fsPath : arg?.bestModelDir ?? arg?.dir;
    if (!dir) return selectModel();
    const model = await withProgress({ location: vscode.ProgressLocation.Window, title: say`BERT: loading ${path.basename(dir)}` },
      () => controller.setActiveModel(dir));
    log.info(`Active model: ${model.name} (${dir})`);
    void info(say`BERT: classifying with ${model.name} (${model.labels.length} labels).`);
    return dir;
  }

  async function selectModel(): Promise<string | undefined> {
    type Choice = { dir: string } | { action: 'folder' | 'hub' } | undefined;
    const active = controller.activeModelDir();
    // Restricted Mode: the workspace's runs are not listed (a model folder or a Hub id the user picks still is).
    const runs = vscode.workspace.isTrusted ? runFolders().flatMap((root) => listRuns(root)).filter((r) => r.bestModelDir !== undefined) : [];
    const items: PickItem<Choice>[] = [
      ...(runs.length ? [{ label: say`Runs in this workspace`, separator: true, value: undefined }] : []),
      ...runs.map((r) => ({ label: say`${r.name}`, description: say`${describeRun(r)}`, detail: say`${long(r.bestModelDir ?? '')}`,
        value: { dir: r.bestModelDir as string },
        picked: active !== undefined && path.resolve(active) === path.resolve(r.bestModelDir as string) })),
      { label: say`Other`, separator: true, value: undefined },
      { label: say`$(folder-opened) Model folder…`, description: say`a folder with config.json (Hugging Face layout)`, value: { action: 'folder' } },
      { label: say`$(cloud-download) Hugging Face Hub model…`, description: say`a Hub id such as org/name`, value: { action: 'hub' } },
    ];
    const chosen = (await pick(items, {
      title: say`BERT: Select the model to classify with`, placeHolder: active ? say`Active: ${long(active)}` : say`No model is active` }))?.value;
    if (!chosen) return undefined;
    if ('dir' in chosen) return useModel(chosen.dir);
    if (chosen.action === 'folder') {
      const uri = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Use this model' });
      return uri?.[0] ? useModel(uri[0].fsPath) : undefined;
    }
    const spec = await input({ title: say`Hugging Face model id`, placeHolder: say`org/name or org/name@revision`,
      prompt: say`A model fine-tuned for sequence classification (its config.json has id2label).` });
    if (!spec?.trim()) return undefined;
    const resolved = await withProgress(
      { location: vscode.ProgressLocation.Notification, title: say`BERT: downloading ${spec.trim()}`, cancellable: true },
      (report, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        return resolveModel(spec.trim(), {
          signal: abort.signal,
          onProgress: (p) => report({ message: say`${p.file} ${(p.bytes / 1e6).toFixed(1)}${p.total ? ` / ${(p.total / 1e6).toFixed(1)}` : ''} MB` }),
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
      void info(say`BERT: select the text to classify first.`);
      return undefined;
    }
    if (!(await requireModel())) return undefined;
    const result = await withProgress({ location: vscode.ProgressLocation.Window, title: say`BERT: classifying` }, () => controller.predict(texts));
    if (!result) return undefined;
    const { model, predictions } = result;
    predictions.forEach((p, i) => log.info(asLog(say`classify (${model.name}): ${describePrediction(p)} ← ${snippet(texts[i])}`)));
    void info(say`BERT ${model.name}: ${describePredictions(predictions)}`);
    return { model: model.name, modelDir: model.dir, texts, predictions };
  });

  /** The text column (and an optional label column) of a file whose columns cannot be detected. */
  async function pickColumns(file: string): Promise<{ textColumn: string; labelColumn?: string } | undefined> {
    const all = await readColumns(file);
    const text = await pick(all.map((c) => ({ label: say`${c}`, value: c })), {
      title: say`BERT: Predict Dataset: text column`, placeHolder: say`The column of ${path.basename(file)} holding the texts to classify` });
    if (!text) return undefined;
    const label = await pick<string | undefined>([
      { label: say`No label column`, description: say`predict only`, value: undefined },
      ...all.filter((c) => c !== text.value).map((c) => ({ label: say`${c}`, description: say`true labels: accuracy and a confusion matrix`, value: c })),
    ], { title: say`BERT: Predict Dataset: label column (optional)` });
    if (!label) return undefined;
    return { textColumn: text.value, ...(label.value !== undefined ? { labelColumn: label.value } : {}) };
  }

  command('bert.predictDataset', async (target?: vscode.Uri, options?: { out?: string; textColumn?: string; labelColumn?: string })
    : Promise<DatasetPredictionReport | undefined> => {
    if (!requireTrust('Predict Dataset')) return undefined;
    const dataFile = target?.fsPath ?? (await vscode.window.showOpenDialog({
      canSelectFiles: true, canSelectFolders: true, openLabel: 'Predict',
      filters: { Datasets: ['csv', 'tsv', 'jsonl', 'ndjson', 'json'] },
    }))?.[0]?.fsPath;
    if (!dataFile || !(await requireModel())) return undefined;
    let columns: { textColumn?: string; labelColumn?: string } = { textColumn: options?.textColumn, labelColumn: options?.labelColumn };
    const predict = () => withProgress(
      { location: vscode.ProgressLocation.Notification, title: say`BERT: predicting ${path.basename(dataFile)}`, cancellable: true },
      async (progress, token) => {
        const model = await controller.model();
        if (!model) return undefined;
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        let last = 0;
        return predictDataset({ labels: model.labels, predict: (texts) => controller.client.predict(texts, abort.signal) }, dataFile, {
          ...columns, out: options?.out, signal: abort.signal,
          onProgress: (done, total) => {
            progress({ message: say`${done} / ${total}`, increment: ((done - last) / total) * 100 });
            last = done;
          },
        });
      });
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
    const accuracy = report.evaluation ? ` Accuracy ${percent(report.evaluation.accuracy)} on ${report.evaluation.evaluated} labelled rows.` : '';
    log.info(`Predicted ${report.rows} rows of ${dataFile} → ${report.output}.${accuracy}`);
    if (report.evaluation) log.info(`Confusion matrix (rows: true label, columns: predicted):\n${formatConfusion(report.evaluation)}`);
    void info(say`BERT: wrote ${path.basename(report.output)} (${report.rows} rows).${accuracy}`, 'Open', 'Show Confusion Matrix')
      .then((choice) => {
        if (choice === 'Open') void vscode.window.showTextDocument(vscode.Uri.file(report.output));
        if (choice === 'Show Confusion Matrix') log.show(true);
      });
    return report;
  });

  command('bert.quantizeModel', async (options?: { use?: boolean }): Promise<QuantizeChoice | undefined> => {
    if (!requireTrust('Make Int8 Model')) return undefined;
    if (!(await requireModel())) return undefined;
    const model = await controller.model();
    if (!model) return undefined;
    const run = runDirOfModel(model.dir);
    const examples = run ? await runValidationExamples(JSON.parse(fs.readFileSync(path.join(run, 'run.json'), 'utf8'))) : [];
    const comparison = await withProgress(
      { location: vscode.ProgressLocation.Notification, title: say`BERT: making an int8 model of ${model.name} and measuring it` },
      () => controller.client.quantize(model.dir, examples.map((e) => e.text), examples.map((e) => e.label)));
    const c = comparison;
    const accuracy = c.fp32Accuracy !== undefined && c.int8Accuracy !== undefined
      ? `accuracy ${percent(c.fp32Accuracy)} → ${percent(c.int8Accuracy)} on ${c.labelled} validation texts (same label for ${percent(c.agreement)})`
      : 'no validation set to measure accuracy on';
    const summary = say`Int8 model of ${model.name}: ${accuracy}; ${c.fp32MsPerText.toFixed(1)} → ${c.int8MsPerText.toFixed(1)} ms per text; ${(c.fp32Bytes / 1e6).toFixed(0)} → ${(c.int8Bytes / 1e6).toFixed(0)} MB.`;
    log.info(asLog(summary));
    const use = options?.use ?? (await notify('info', summary, { modal: true }, 'Use Int8 Model', 'Keep Float32')) === 'Use Int8 Model';
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

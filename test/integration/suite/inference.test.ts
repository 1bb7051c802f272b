/**
 * Inference in the real extension host: a tiny model trained here, made active with bert.useModel, then Classify
 * Selection, Explain Selection, the hover (off by default, on by setting), Predict Dataset and Make Int8 Model, each
 * checked against the in-process predictor (or explainer).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { loadPredictor } from '../../../src/core/infer/predictor';
import type { DatasetPredictionReport } from '../../../src/core/infer/batch-predict';
import { loadExplainer } from '../../../src/core/infer/explain';
import type { ClassifyResult, ExplainResult, QuantizeChoice } from '../../../src/extension/inference';
import { runTrainingSession } from '../../../src/core/finetune/session';
import { writeSentimentCsv } from '../../unit/runner/fixtures';
import type { BertExtensionApi } from '../../../src/extension/extension';
import { TINY_RUN_SETTINGS } from '../../helpers/tiny-run';

const TEXT = 'the plot was wonderful and superb, truly lovely';

suite('inference: classify, hover, predict dataset, int8', function () {
  this.timeout(120_000);
  const root = (): string => vscode.workspace.workspaceFolders![0].uri.fsPath;
  const bert = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('bert');
  let run: string;
  let data: string;

  suiteSetup(async () => {
    await vscode.extensions.getExtension('bertft.bert-finetune')!.activate();
    const dir = path.join(root(), 'inference-data');
    fs.mkdirSync(dir, { recursive: true });
    data = writeSentimentCsv(dir, 96);
    run = path.join(root(), '.bert', 'runs', 'inference-run');
    await runTrainingSession(
      {
        data,
        out: run,
        ...TINY_RUN_SETTINGS,
      },
      { emit: () => {}, shouldStop: () => false },
    );
  });

  suiteTeardown(async () => {
    for (const key of ['activeModel', 'hover.enabled', 'hover.timeBudgetMs'])
      await bert().update(key, undefined, vscode.ConfigurationTarget.Workspace);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  async function selectText(text: string): Promise<vscode.TextEditor> {
    const doc = await vscode.workspace.openTextDocument({ language: 'plaintext', content: `${text}\n\nrain.` });
    const editor = await vscode.window.showTextDocument(doc);
    editor.selection = new vscode.Selection(0, 0, 0, text.length);
    return editor;
  }

  async function hoverTexts(editor: vscode.TextEditor): Promise<string> {
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
      'vscode.executeHoverProvider',
      editor.document.uri,
      new vscode.Position(0, 5),
    );
    return hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
  }

  const api = (): BertExtensionApi => vscode.extensions.getExtension<BertExtensionApi>('bertft.bert-finetune')!.exports;

  test('bert.useModel makes a run the active model of the workspace without writing its settings; the status bar shows it', async () => {
    const dir = await vscode.commands.executeCommand<string>('bert.useModel', run);
    assert.equal(dir, run);
    assert.equal(api().activeModelDir(), run);
    assert.equal(api().statusBar.visible, true, 'a selected model puts the item in the status bar');
    assert.match(api().statusBar.tooltip, /classifying with inference-run/);
    assert.equal(
      bert().inspect('activeModel')?.workspaceValue,
      undefined,
      'no bert.activeModel written to .vscode/settings.json',
    );
  });

  test('a folder that is not a model is refused and leaves the active model as it was', async () => {
    const notAModel = path.join(root(), 'inference-data');
    assert.equal(await vscode.commands.executeCommand('bert.useModel', notAModel), undefined);
    assert.equal(api().activeModelDir(), run);
  });

  test('Classify Selection gives the same probabilities as the predictor (and so as `bertft predict`)', async () => {
    await selectText(TEXT);
    const result = await vscode.commands.executeCommand<ClassifyResult>('bert.classifySelection');
    assert.ok(result, 'no result');
    assert.equal(result.model, 'inference-run');
    assert.deepEqual(result.texts, [TEXT]);
    const predictor = await loadPredictor(run, { device: 'cpu' });
    const [expected] = await predictor.predict([TEXT]);
    await predictor.dispose();
    assert.equal(result.predictions[0].label, expected.label);
    assert.equal(expected.label, 'pos');
    for (const label of ['neg', 'pos'])
      assert.ok(Math.abs(result.predictions[0].scores[label] - expected.scores[label]) < 1e-6);
  });

  test("Explain Selection: the core explainer's explanation, coloured at its tokens' spans; Classify Selection has it too", async () => {
    const editor = await selectText(TEXT);
    const result = await vscode.commands.executeCommand<ExplainResult>('bert.explainSelection');
    assert.ok(result, 'no result');
    const explainer = await loadExplainer(run);
    const expected = await explainer.explain(TEXT, { steps: 50 });
    await explainer.dispose();
    assert.deepEqual(result.explanation, expected);
    assert.equal(result.explanation.label, 'pos');
    assert.ok(result.decorated.length > 0, 'some tokens are coloured');
    for (const d of result.decorated) {
      const range = new vscode.Range(editor.document.positionAt(d.start), editor.document.positionAt(d.end));
      assert.equal(editor.document.getText(range), d.text);
    }
    await selectText(TEXT);
    const classified = await vscode.commands.executeCommand<ClassifyResult>('bert.classifySelection');
    assert.deepEqual(classified?.explanation, expected);
  });

  test("a long multi-line selection is classified as one text (the model's truncation applies)", async () => {
    const long = Array.from({ length: 400 }, (_, i) => `line ${i}: the music was superb and lovely`).join('\n');
    const doc = await vscode.workspace.openTextDocument({ language: 'plaintext', content: long });
    const editor = await vscode.window.showTextDocument(doc);
    editor.selection = new vscode.Selection(0, 0, doc.lineCount - 1, 1000);
    const result = await vscode.commands.executeCommand<ClassifyResult>('bert.classifySelection');
    assert.equal(result?.predictions.length, 1);
    assert.equal(result?.texts[0].length, long.length);
    assert.equal(result?.predictions[0].label, 'pos');
  });

  test('no hover while bert.hover.enabled is off (the default); label and bars once it is on', async () => {
    const editor = await selectText(TEXT);
    assert.equal(bert().get('hover.enabled'), false);
    assert.doesNotMatch(await hoverTexts(editor), /█|inference\\?-run/);
    await bert().update('hover.timeBudgetMs', 5000, vscode.ConfigurationTarget.Workspace);
    await bert().update('hover.enabled', true, vscode.ConfigurationTarget.Workspace);
    const shown = await hoverTexts(editor);
    // Markdown source: the data (label, percent, model name) is backslash-escaped.
    assert.match(shown, /\*\*pos\*\* \d+\\\.\d\\%/);
    assert.match(shown, /█/);
    assert.match(shown, /inference\\-run/);
    assert.match(shown, /command:bert\.openDashboard/);
    await bert().update('hover.enabled', undefined, vscode.ConfigurationTarget.Workspace);
    assert.doesNotMatch(await hoverTexts(editor), /█/);
  });

  test('hover time budget: while a newly chosen model loads, the hover shows nothing at once; later it shows', async () => {
    const editor = await selectText(TEXT);
    await bert().update('hover.enabled', true, vscode.ConfigurationTarget.Workspace);
    await bert().update('hover.timeBudgetMs', 10, vscode.ConfigurationTarget.Workspace);
    // Another folder of the same model: the worker must load it first, which takes far longer than 10 ms.
    await bert().update('activeModel', path.join(run, 'best'), vscode.ConfigurationTarget.Workspace);
    const started = Date.now();
    assert.doesNotMatch(await hoverTexts(editor), /█/);
    assert.ok(Date.now() - started < 2000, `the hover took ${Date.now() - started} ms`);
    await vscode.commands.executeCommand('bert.useModel', path.join(run, 'best'));
    await bert().update('hover.timeBudgetMs', 5000, vscode.ConfigurationTarget.Workspace);
    // "Later" as a user sees it: hovering again until the label shows. The worker may still be busy with the
    // explanation the first hover started, and on a loaded machine that can outlast one budget; a late result lands in
    // the cache, so a later hover shows it.
    let texts = '';
    for (const until = Date.now() + 60_000; !/█/.test(texts) && Date.now() < until;) texts = await hoverTexts(editor);
    assert.match(texts, /█/, 'the hover never showed the label once the model was loaded');
    await bert().update('hover.enabled', undefined, vscode.ConfigurationTarget.Workspace);
  });

  test('Predict Dataset writes predictions next to the file and reports accuracy and the confusion matrix', async () => {
    const report = await vscode.commands.executeCommand<DatasetPredictionReport>(
      'bert.predictDataset',
      vscode.Uri.file(data),
    );
    assert.ok(report, 'no report');
    assert.equal(report.output, data.replace(/\.csv$/, '.predictions.csv'));
    assert.equal(report.rows, 96);
    assert.ok(fs.existsSync(report.output));
    assert.ok(report.evaluation && report.evaluation.accuracy > 0.9, `accuracy ${report.evaluation?.accuracy}`);
    assert.equal(
      report.evaluation.confusion.counts.flat().reduce((a, b) => a + b, 0),
      96,
    );
  });

  test('Make Int8 Model measures it on the validation set, and the int8 model then classifies', async () => {
    const choice = await vscode.commands.executeCommand<QuantizeChoice>('bert.quantizeModel', { use: true });
    assert.ok(choice, 'no result');
    const c = choice.comparison;
    assert.equal(c.labelled, 24);
    assert.equal(c.metric, 'accuracy');
    assert.ok(c.agreement !== undefined && c.agreement >= 0.95, `agreement ${c.agreement}`);
    assert.ok(c.int8Bytes < c.fp32Bytes);
    assert.equal(choice.active, path.join(run, 'best', 'int8'));
    await selectText(TEXT);
    const result = await vscode.commands.executeCommand<ClassifyResult>('bert.classifySelection');
    assert.equal(result?.model, 'inference-run (int8)');
    assert.equal(result?.predictions[0].label, 'pos');
  });
});

/**
 * The training UI inside the VS Code extension host (mocha, tdd), against a run folder written from the trainer's
 * event types: Open Training Dashboard, one panel per run, Stop on a finished run, the Runs view's settings.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { finishedRun, toJsonl } from '../../unit/extension-ui/sampleRun';
import { eventually } from '../eventually';

const EXTENSION_ID = 'bertft.bert-finetune';

function dashboardTabs(): vscode.Tab[] {
  return vscode.window.tabGroups.all
    .flatMap((g) => g.tabs)
    .filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('bert.dashboard'));
}

suite('Training UI in the extension host', () => {
  let runDir: string;

  suiteSetup(async () => {
    await vscode.extensions.getExtension(EXTENSION_ID)!.activate();
    const root = vscode.workspace.workspaceFolders![0].uri.fsPath;
    runDir = path.join(root, '.bert', 'runs', 'it-finished');
    fs.mkdirSync(runDir, { recursive: true });
    fs.writeFileSync(path.join(runDir, 'metrics.jsonl'), toJsonl(finishedRun()));
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    fs.rmSync(runDir, { recursive: true, force: true });
  });

  test('Open Training Dashboard opens one panel per run, titled with the run', async () => {
    const opened = await vscode.commands.executeCommand<string>('bert.openDashboard', runDir);
    assert.equal(opened, runDir);
    const tabs = await eventually(dashboardTabs, (t) => t.length === 1);
    assert.equal(tabs.length, 1);
    assert.equal(tabs[0].label, 'BERT: it-finished');
    await vscode.commands.executeCommand('bert.openDashboard', runDir);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(dashboardTabs().length, 1, 'the same run reuses its panel');
  });

  test('without an argument it opens a run from the run folder', async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await eventually(dashboardTabs, (t) => t.length === 0);
    // Other suites may add runs to the same workspace, so only where the run lives is fixed here.
    const opened = await vscode.commands.executeCommand<string>('bert.openDashboard');
    assert.equal(path.dirname(opened), path.dirname(runDir));
    await eventually(dashboardTabs, (t) => t.length === 1);
    assert.equal(dashboardTabs()[0].label, `BERT: ${path.basename(opened)}`);
  });

  test('Stop Training on a finished run changes nothing', async () => {
    const before = fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8');
    assert.equal(await vscode.commands.executeCommand<string>('bert.stopTraining', runDir), runDir);
    assert.equal(fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8'), before);
  });

  test('max length and batch size settings default to "from the preset"', () => {
    const config = vscode.workspace.getConfiguration('bert');
    assert.equal(config.get('maxLength'), null);
    assert.equal(config.get('batchSize'), null);
    assert.equal(config.inspect('runsDirectory')?.defaultValue, '.bert/runs');
  });
});

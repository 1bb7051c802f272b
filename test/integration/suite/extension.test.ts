import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { BertExtensionApi } from '../../../src/extension/extension';
import { say } from '../../../src/extension/display/text';
import { eventually } from '../eventually';

const EXTENSION_ID = 'bertft.bert-finetune';

async function activated(): Promise<BertExtensionApi> {
  const ext = vscode.extensions.getExtension<BertExtensionApi>(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is not loaded`);
  return ext.activate();
}

suite('BERT extension in the VS Code extension host', () => {
  test('runs in the Node extension host of VS Code 1.100 and activates', async () => {
    assert.match(vscode.version, /^1\.100\./);
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext);
    await ext.activate();
    assert.equal(ext.isActive, true);
    assert.equal(ext.extensionKind, vscode.ExtensionKind.Workspace);
  });

  test('every command in package.json is registered', async () => {
    await activated();
    const manifest = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as {
      contributes: { commands: { command: string }[] };
    };
    const declared = manifest.contributes.commands.map((c) => c.command);
    for (const id of [
      'bert.fineTune',
      'bert.classifySelection',
      'bert.openDashboard',
      'bert.stopTraining',
      'bert.selectModel',
    ]) {
      assert.ok(declared.includes(id), `${id} is not declared`);
    }
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(
      declared.filter((c) => !registered.has(c)),
      [],
      'declared but not registered',
    );
  });

  test('the activation line is written to the BERT log channel', async () => {
    const api = await activated();
    const logFile = path.join(api.logUri.fsPath, 'BERT.log');
    const log = await eventually(
      () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : ''),
      (text) => text.includes('activated'),
    );
    assert.match(log, /\[info\] BERT Fine-tune \d+\.\d+\.\d+ activated \(VS Code 1\.100\.\d+\)/);
  });

  test('status bar item: hidden while idle with no model, shown for busy and error states and for a selected model', async () => {
    const { statusBar } = await activated();
    assert.deepEqual(statusBar.state, { kind: 'idle' });
    assert.equal(statusBar.text, '$(beaker) BERT');
    assert.equal(statusBar.visible, false, 'no run and no model: nothing to say');
    try {
      statusBar.set({ kind: 'busy', text: say`epoch 1/3`, tooltip: say`Training reviews.csv` });
      assert.equal(statusBar.text, '$(sync~spin) BERT: epoch 1/3');
      assert.equal(statusBar.visible, true);
      statusBar.set({ kind: 'error', text: say`failed` });
      assert.equal(statusBar.text, '$(error) BERT: failed');
      statusBar.set({ kind: 'idle' });
      assert.equal(statusBar.visible, false);
      statusBar.setModel('[evil](command:x) $(alert)');
      assert.equal(statusBar.visible, true);
      // The model's name is data: shown through the display helper, inert (no link, no icon).
      assert.equal(
        statusBar.tooltip,
        'BERT Fine-tune: classifying with [evil] (command:x) $(alert). Click to choose another model.',
      );
    } finally {
      statusBar.setModel(undefined);
      statusBar.set({ kind: 'idle' });
    }
    assert.equal(statusBar.text, '$(beaker) BERT');
    assert.equal(statusBar.visible, false);
  });

  test('the workspace is trusted here, so Fine-tune BERT is enabled (it is gated on isWorkspaceTrusted)', async () => {
    await activated();
    assert.equal(vscode.workspace.isTrusted, true);
    const manifest = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as {
      contributes: { commands: { command: string; enablement?: string }[] };
    };
    const fineTune = manifest.contributes.commands.find((c) => c.command === 'bert.fineTune');
    assert.equal(fineTune?.enablement, 'isWorkspaceTrusted');
  });

  test('opens the workspace folder with the sample dataset', async () => {
    const folders = vscode.workspace.workspaceFolders ?? [];
    assert.equal(folders.length, 1);
    const files = await vscode.workspace.findFiles('*.csv');
    assert.deepEqual(
      files.map((f) => path.basename(f.fsPath)),
      ['reviews.csv'],
    );
  });
});

import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { readSettings } from '../../../src/extension/config';

suite('settings (bert.*)', () => {
  const folder = (): vscode.WorkspaceFolder => vscode.workspace.workspaceFolders![0];
  const bert = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('bert', folder());
  const keys = ['model', 'device', 'runsDirectory'];

  teardown(async () => {
    for (const key of keys) await bert().update(key, undefined, vscode.ConfigurationTarget.Workspace);
    // A machine-scoped setting lives in the user settings only.
    await bert().update('trainingMemory', undefined, vscode.ConfigurationTarget.Global);
  });

  test('defaults come from package.json', () => {
    assert.deepEqual(readSettings(folder()), {
      model: '',
      device: 'auto',
      runsDirectory: '.bert/runs',
      trainingMemory: 'lean',
    });
  });

  test('workspace values are read, trimmed, and a bad device or blank folder falls back', async () => {
    await bert().update('model', '  google/bert_uncased_L-2_H-128_A-2 ', vscode.ConfigurationTarget.Workspace);
    await bert().update('device', 'cuda', vscode.ConfigurationTarget.Workspace);
    assert.deepEqual(readSettings(folder()), {
      model: 'google/bert_uncased_L-2_H-128_A-2',
      device: 'cuda',
      runsDirectory: '.bert/runs',
      trainingMemory: 'lean',
    });

    await bert().update('device', 'tpu', vscode.ConfigurationTarget.Workspace);
    await bert().update('runsDirectory', '   ', vscode.ConfigurationTarget.Workspace);
    const settings = readSettings(folder());
    assert.equal(settings.device, 'auto');
    assert.equal(settings.runsDirectory, '.bert/runs');
  });

  test('the trainer memory mode is read from the user settings; an unknown one falls back to lean', async () => {
    await bert().update('trainingMemory', 'fast', vscode.ConfigurationTarget.Global);
    assert.equal(readSettings(folder()).trainingMemory, 'fast');
    await bert().update('trainingMemory', 'huge', vscode.ConfigurationTarget.Global);
    assert.equal(readSettings(folder()).trainingMemory, 'lean');
  });
});

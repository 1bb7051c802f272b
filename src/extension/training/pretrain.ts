/**
 * "BERT: Pre-train on Workspace Text": quick picks for the unlabelled text and the model, then `bertft pretrain` in a
 * terminal (progress lines, Ctrl-C stops after the step and keeps best/). The result folder is what the
 * fine-tune flow accepts as a model ("Other model…" → the folder).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readSettings } from '../config';

const TITLE = 'Pre-train on Workspace Text';

type Item<T> = vscode.QuickPickItem & { value: T };

async function pickText(): Promise<string | undefined> {
  const folders = (vscode.workspace.workspaceFolders ?? []).map<Item<string | null>>((f) => ({ label: f.name, description: 'every .txt / .md file in this folder', value: f.uri.fsPath }));
  const picked = await vscode.window.showQuickPick<Item<string | null>>(
    [...folders, { label: 'Choose a file or folder…', description: '.txt, .csv, .jsonl, or a folder of .txt files', value: null }],
    { title: `${TITLE} (1/2): unlabelled text`, ignoreFocusOut: true },
  );
  if (!picked) return undefined;
  if (picked.value) return picked.value;
  const uris = await vscode.window.showOpenDialog({ canSelectFiles: true, canSelectFolders: true, canSelectMany: false, title: 'Unlabelled text to pre-train on' });
  return uris?.[0]?.fsPath;
}

async function pickModel(): Promise<string | undefined> {
  const items: Item<string | null>[] = [
    { label: 'bert-base-uncased', description: 'continue pre-training the original BERT (slow on CPU)', value: 'bert-base-uncased' },
    { label: 'random:mini', description: 'a small model from scratch (4 layers, 256 wide)', value: 'random:mini' },
    { label: 'random:tiny', description: 'a tiny model from scratch (2 layers, 64 wide): quick to try', value: 'random:tiny' },
    { label: 'Other Hub id or folder…', value: null },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: `${TITLE} (2/2): model`, ignoreFocusOut: true });
  if (!picked) return undefined;
  if (picked.value) return picked.value;
  const typed = await vscode.window.showInputBox({ title: TITLE, prompt: 'Hub id (org/name) or a BERT model folder', ignoreFocusOut: true });
  return typed?.trim() || undefined;
}

/** Asks for text and model, starts the pre-training terminal, and returns the output folder (undefined if cancelled). */
export async function pretrainFlow(context: vscode.ExtensionContext): Promise<string | undefined> {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showErrorMessage('BERT: Pre-training reads workspace files and starts a process, so it is disabled in an untrusted workspace.');
    return undefined;
  }
  const data = await pickText();
  if (!data) return undefined;
  const model = await pickModel();
  if (!model) return undefined;
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(data)) ?? vscode.workspace.workspaceFolders?.[0];
  const runs = folder ? path.resolve(folder.uri.fsPath, readSettings(folder).runsDirectory) : path.join(path.dirname(data), '.bert', 'runs');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  // Beside the fine-tuning runs, not among them: the Runs view lists classifier runs.
  const out = path.join(path.dirname(runs), 'pretrained', `${path.basename(data).replace(/\.[^.]+$/, '')}-${stamp}`);
  const cli = path.join(context.extensionPath, 'dist', 'cli.js');
  const terminal = vscode.window.createTerminal({
    name: 'BERT pre-training',
    shellPath: process.execPath,
    shellArgs: [cli, 'pretrain', '--data', data, '--model', model, '--out', out],
    env: { ELECTRON_RUN_AS_NODE: '1' },
  });
  terminal.show();
  void vscode.window.showInformationMessage(`BERT: Pre-training into ${out}. When it is done, fine-tune with that folder as the model.`);
  return out;
}

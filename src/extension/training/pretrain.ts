/**
 * The "BERT: Pre-train on Workspace Text" flow: quick picks for the unlabelled text and the model. It returns the
 * choices, or undefined when the user cancels; the controller starts the trainer child with them, like a fine-tuning
 * run (status bar, dashboard, Runs view). A finished run's best/ folder is offered as a model by the fine-tune flow.
 */
import * as vscode from 'vscode';

const TITLE = 'Pre-train on Workspace Text';

type Item<T> = vscode.QuickPickItem & { value: T };

/** What the user picked (or what a caller passed to the command, which skips the questions it answers). */
export interface PretrainChoices {
  /** Absolute file or folder of unlabelled text. */
  data: string;
  /** Hub id, model folder or random:SIZE. */
  model: string;
}

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
    { label: 'distilbert-base-uncased', description: 'DistilBERT: 6 layers, about twice as fast as BERT-base', value: 'distilbert-base-uncased' },
    { label: 'roberta-base', description: 'continue pre-training RoBERTa (slow on CPU)', value: 'roberta-base' },
    { label: 'random:mini', description: 'a small model from scratch (4 layers, 256 wide)', value: 'random:mini' },
    { label: 'random:tiny', description: 'a tiny model from scratch (2 layers, 64 wide): quick to try', value: 'random:tiny' },
    { label: 'Other Hub id or folder…', value: null },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: `${TITLE} (2/2): model`, ignoreFocusOut: true });
  if (!picked) return undefined;
  if (picked.value) return picked.value;
  const typed = await vscode.window.showInputBox({ title: TITLE, prompt: 'Hub id (org/name) or model folder: BERT, DistilBERT, RoBERTa / XLM-R or ELECTRA', ignoreFocusOut: true });
  return typed?.trim() || undefined;
}

/** Asks for what `given` does not say; undefined when the user cancels. */
export async function pretrainFlow(given: Partial<PretrainChoices> = {}): Promise<PretrainChoices | undefined> {
  const data = given.data ?? await pickText();
  if (!data) return undefined;
  const model = given.model ?? await pickModel();
  if (!model) return undefined;
  return { data, model };
}

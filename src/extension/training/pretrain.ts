/**
 * The "BERT: Pre-train on Workspace Text" flow: quick picks for the unlabelled text and the model. It returns the
 * choices, or undefined when the user cancels; the controller starts the trainer child with them, like a fine-tuning
 * run (status bar, dashboard, Runs view). A finished run's best/ folder is offered as a model by the fine-tune flow.
 */
import * as vscode from 'vscode';
import { input, pick, say, type PickItem } from '../display/ui';

const TITLE = 'Pre-train on Workspace Text';

/** What the user picked (or what a caller passed to the command, which skips the questions it answers). */
export interface PretrainChoices {
  /** Absolute file or folder of unlabelled text. */
  data: string;
  /** Hub id, model folder or random:SIZE. */
  model: string;
}

async function pickText(): Promise<string | undefined> {
  const folders = (vscode.workspace.workspaceFolders ?? []).map<PickItem<string | null>>((f) => ({
    label: say`${f.name}`,
    description: say`every .txt / .md file in this folder`,
    value: f.uri.fsPath,
  }));
  const picked = await pick<string | null>(
    [
      ...folders,
      {
        label: say`Choose a file or folder…`,
        description: say`.txt, .csv, .jsonl, or a folder of .txt files`,
        value: null,
      },
    ],
    { title: say`${TITLE} (1/2): unlabelled text`, ignoreFocusOut: true },
  );
  if (!picked) return undefined;
  if (picked.value) return picked.value;
  const uris = await vscode.window.showOpenDialog({
    canSelectFiles: true,
    canSelectFolders: true,
    canSelectMany: false,
    title: 'Unlabelled text to pre-train on',
  });
  return uris?.[0]?.fsPath;
}

async function pickModel(): Promise<string | undefined> {
  const items: PickItem<string | null>[] = [
    {
      label: say`bert-base-uncased`,
      description: say`continue pre-training the original BERT (slow on CPU)`,
      value: 'bert-base-uncased',
    },
    {
      label: say`distilbert-base-uncased`,
      description: say`DistilBERT: 6 layers, about twice as fast as BERT-base`,
      value: 'distilbert-base-uncased',
    },
    { label: say`roberta-base`, description: say`continue pre-training RoBERTa (slow on CPU)`, value: 'roberta-base' },
    {
      label: say`random:mini`,
      description: say`a small model from scratch (4 layers, 256 wide)`,
      value: 'random:mini',
    },
    {
      label: say`random:tiny`,
      description: say`a tiny model from scratch (2 layers, 64 wide): quick to try`,
      value: 'random:tiny',
    },
    { label: say`Other Hub id or folder…`, value: null },
  ];
  const picked = await pick(items, { title: say`${TITLE} (2/2): model`, ignoreFocusOut: true });
  if (!picked) return undefined;
  if (picked.value) return picked.value;
  const typed = await input({
    title: say`${TITLE}`,
    prompt: say`Hub id (org/name) or model folder: BERT, DistilBERT, RoBERTa / XLM-R or ELECTRA`,
    ignoreFocusOut: true,
  });
  return typed?.trim() || undefined;
}

/** Asks for what `given` does not say; undefined when the user cancels. */
export async function pretrainFlow(given: Partial<PretrainChoices> = {}): Promise<PretrainChoices | undefined> {
  const data = given.data ?? (await pickText());
  if (!data) return undefined;
  const model = given.model ?? (await pickModel());
  if (!model) return undefined;
  return { data, model };
}

/**
 * The "Fine-tune BERT" guided flow: a few quick picks, each pre-filled with the likely answer. It runs the dataset
 * check first (errors stop it; warnings are shown with a choice to continue or stop) and returns the user's choices, or
 * undefined when they cancel at any step. Starting the trainer is the controller's job.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatCheckReport, readDataset, type CheckReport } from '../../core/data';
import type { DeviceName, PresetName } from '../../core/train/presets';
import { readSettings } from '../config';
import { describeRun, type RunInfo } from '../runs/runStore';
import { CheckFailedError, runCheck } from './check';
import { validatePositive, type FineTuneChoices } from './options';

const DATA_GLOB = '**/*.{csv,tsv,jsonl,json}';
const RECENT_MODELS_KEY = 'bert.recentModels';
const TITLE = 'Fine-tune BERT';

type Item<T> = vscode.QuickPickItem & { value: T };

export interface FineTuneGiven {
  /** The model to start from (skips the model question), e.g. a pre-training run's best/ folder. */
  model?: string;
  /** Finished pre-training runs of the workspace, offered as models. */
  pretrained?: readonly RunInfo[];
}

export async function fineTuneFlow(context: vscode.ExtensionContext, log: vscode.LogOutputChannel, target?: vscode.Uri,
  given: FineTuneGiven = {}): Promise<FineTuneChoices | undefined> {
  const data = target?.scheme === 'file' ? target.fsPath : await pickDataset();
  if (!data) return undefined;
  const scope = vscode.Uri.file(data);
  const config = vscode.workspace.getConfiguration('bert', scope);
  const maxLength = config.get<number | null>('maxLength') ?? undefined;
  const checked = await checkWithColumns(path.join(context.extensionPath, 'dist', 'cli.js'), data, maxLength, log);
  if (!checked) return undefined;
  if (!(await acceptProblems(checked.report, log))) return undefined;
  const settings = readSettings(scope);
  const model = given.model ?? await pickModel(context, settings.model, given.pretrained ?? []);
  if (!model) return undefined;
  const preset = await pickPreset();
  if (!preset) return undefined;
  const device = await pickDevice(settings.device);
  if (!device) return undefined;
  const choices: FineTuneChoices = {
    data, model, preset: preset.name, device,
    textColumn: checked.textColumn, labelColumn: checked.labelColumn,
    maxLength,
    batchSize: config.get<number | null>('batchSize') ?? undefined,
    ...preset.custom,
  };
  await rememberModel(context, model);
  return choices;
}

async function pickDataset(): Promise<string | undefined> {
  const files = await vscode.workspace.findFiles(DATA_GLOB, '{**/node_modules/**,**/.bert/**,**/.git/**}', 200);
  const browse: Item<string | undefined> = { label: '$(folder-opened) Browse…', description: 'a file, or a folder with one sub-folder per class', value: undefined };
  // The file open in the editor, when it is a dataset, is the likely answer: offer it first.
  const active = vscode.window.activeTextEditor?.document.uri;
  const activeData = active?.scheme === 'file' && /\.(csv|tsv|jsonl|json)$/i.test(active.fsPath) ? active.fsPath : undefined;
  const items: Item<string | undefined>[] = files
    .map((uri) => ({ label: vscode.workspace.asRelativePath(uri), value: uri.fsPath as string | undefined }))
    .sort((a, b) => Number(b.value === activeData) - Number(a.value === activeData) || a.label.localeCompare(b.label));
  if (activeData && items[0]?.value === activeData) items[0].description = 'open in the editor';
  const picked = await vscode.window.showQuickPick([...items, browse], {
    title: `${TITLE} (1/5): dataset`, placeHolder: 'The labelled examples to train on (CSV, TSV, JSONL, JSON, or a folder per class)', ignoreFocusOut: true,
  });
  if (!picked) return undefined;
  if (picked.value) return picked.value;
  const chosen = await vscode.window.showOpenDialog({
    title: `${TITLE}: dataset`, canSelectFiles: true, canSelectFolders: true, canSelectMany: false,
    filters: { 'Datasets': ['csv', 'tsv', 'jsonl', 'json'], 'All files': ['*'] },
  });
  return chosen?.[0]?.fsPath;
}

const COLUMN_CODES = new Set(['DATA_NO_TEXT_COLUMN', 'DATA_NO_LABEL_COLUMN', 'DATA_UNKNOWN_COLUMN']);

interface CheckedData {
  report: CheckReport;
  textColumn?: string;
  labelColumn?: string;
}

/**
 * Runs the dataset check (the same one as `bertft check`), letting the user confirm the detected columns or pick
 * others, and name them when they cannot be detected.
 */
async function checkWithColumns(cli: string, data: string, maxLength: number | undefined, log: vscode.LogOutputChannel): Promise<CheckedData | undefined> {
  let columns: { textColumn?: string; labelColumn?: string } = {};
  for (;;) {
    const report = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `BERT: checking ${path.basename(data)}…`, cancellable: true },
      async (_progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        try {
          return await runCheck({ cli, data, ...columns, maxLength, signal: abort.signal });
        } catch (error) {
          if (abort.signal.aborted) return undefined;
          if (error instanceof CheckFailedError) log.error(`Dataset check output:\n${error.output}`);
          throw error;
        }
      },
    );
    if (!report) return undefined;
    const columnProblem = report.problems.find((p) => p.code !== undefined && COLUMN_CODES.has(p.code));
    if (columnProblem) {
      const typed = await askColumns(columnProblem.message);
      if (!typed) return undefined;
      columns = typed;
      continue;
    }
    if (report.format === 'folder' || report.textColumn === undefined || columns.textColumn !== undefined) {
      return { report, ...columns };
    }
    const confirmed = await confirmColumns(data, report);
    if (confirmed === undefined) return undefined;
    if (confirmed === 'ok') return { report, textColumn: report.textColumn, labelColumn: report.labelColumn };
    columns = confirmed;
  }
}

async function confirmColumns(data: string, report: CheckReport): Promise<'ok' | { textColumn: string; labelColumn: string } | undefined> {
  const classes = Object.keys(report.labels).length;
  const use: Item<'ok' | 'choose'> = {
    label: `$(check) Text: "${report.textColumn}", label: "${report.labelColumn}"`,
    description: `${report.rows} rows, ${classes} classes`, value: 'ok',
  };
  const choose: Item<'ok' | 'choose'> = { label: '$(list-selection) Choose other columns…', value: 'choose' };
  const picked = await vscode.window.showQuickPick([use, choose], { title: `${TITLE} (2/5): columns`, ignoreFocusOut: true });
  if (!picked) return undefined;
  if (picked.value === 'ok') return 'ok';
  // Only this path needs the full column list; the check reports just the two it chose.
  const all = (await readDataset(data, { lenient: true, textColumn: report.textColumn, labelColumn: report.labelColumn })).columns;
  const text = await vscode.window.showQuickPick(all, { title: `${TITLE}: text column`, placeHolder: 'The column holding the text to classify', ignoreFocusOut: true });
  if (!text) return undefined;
  const label = await vscode.window.showQuickPick(all.filter((c) => c !== text), { title: `${TITLE}: label column`, placeHolder: 'The column holding the class label', ignoreFocusOut: true });
  if (!label) return undefined;
  return { textColumn: text, labelColumn: label };
}

/** When the columns cannot be detected, the problem lists the columns found; the user types the two names. */
async function askColumns(problem: string): Promise<{ textColumn: string; labelColumn: string } | undefined> {
  const textColumn = await vscode.window.showInputBox({ title: `${TITLE}: text column`, prompt: problem, placeHolder: 'name of the text column', ignoreFocusOut: true });
  if (!textColumn) return undefined;
  const labelColumn = await vscode.window.showInputBox({ title: `${TITLE}: label column`, prompt: problem, placeHolder: 'name of the label column', ignoreFocusOut: true });
  if (!labelColumn) return undefined;
  return { textColumn, labelColumn };
}

async function openAt(file: string, line: number | undefined): Promise<void> {
  const position = new vscode.Position(Math.max(0, (line ?? 1) - 1), 0);
  await vscode.window.showTextDocument(vscode.Uri.file(file), { selection: new vscode.Range(position, position) });
}

/**
 * Shows what the check found. Errors are what would stop training, so they only offer to open the first one;
 * warnings (imbalance, duplicates, leakage, truncation…) ask whether to train anyway.
 */
async function acceptProblems(report: CheckReport, log: vscode.LogOutputChannel): Promise<boolean> {
  const problems = report.problems.filter((p) => p.severity !== 'info');
  if (problems.length === 0) return true;
  log.info(`Dataset check of ${report.path}:\n${formatCheckReport(report)}`);
  const lines = problems.slice(0, 8).map((p) => `• ${path.basename(p.file)}${p.line ? `:${p.line}` : ''}: ${p.message}${p.fix ? ` ${p.fix}` : ''}`);
  if (problems.length > 8) lines.push(`… and ${problems.length - 8} more (full report in the BERT log).`);
  const first = problems.find((p) => p.severity === 'error') ?? problems[0];
  const open = first.file && first.line !== null ? ['Open First Problem'] : [];
  if (report.fatal) {
    const errors = problems.filter((p) => p.severity === 'error').length;
    const choice = await vscode.window.showErrorMessage(
      `BERT: ${path.basename(report.path)} cannot be trained on yet: ${errors} problem${errors === 1 ? '' : 's'} to fix.`,
      { modal: true, detail: lines.join('\n') }, ...open);
    if (choice === 'Open First Problem') await openAt(first.file, first.line ?? undefined);
    return false;
  }
  const choice = await vscode.window.showWarningMessage(
    `The dataset check found ${problems.length} warning${problems.length === 1 ? '' : 's'} in ${path.basename(report.path)}.`,
    { modal: true, detail: lines.join('\n') },
    'Train Anyway', ...open,
  );
  if (choice === 'Open First Problem') {
    await openAt(first.file, first.line ?? undefined);
    return false;
  }
  return choice === 'Train Anyway';
}

async function pickModel(context: vscode.ExtensionContext, configured: string, pretrained: readonly RunInfo[]): Promise<string | undefined> {
  const recent = context.globalState.get<string[]>(RECENT_MODELS_KEY, []);
  const items: Item<string>[] = [];
  const seen = new Set<string>();
  const known: Record<string, { label: string; description: string; detail: string }> = {
    'bert-base-uncased': { label: 'bert-base-uncased', description: 'Hugging Face Hub', detail: '110M parameters; downloaded once, then cached. Slow on CPU.' },
    'random:tiny': { label: 'Small random model', description: 'try-out', detail: 'A tiny BERT with random weights: trains in seconds, proves the pipeline, predicts poorly.' },
  };
  const add = (value: string, why?: string, detail?: string) => {
    if (seen.has(value)) return;
    seen.add(value);
    const k = known[value];
    const label = k?.label ?? (path.isAbsolute(value) ? vscode.workspace.asRelativePath(value) : value);
    items.push({ label, description: why ?? k?.description, detail: detail ?? k?.detail, value });
  };
  if (configured) add(configured, 'from the bert.model setting');
  for (const run of pretrained) if (run.bestModelDir) add(run.bestModelDir, 'pre-trained in this workspace', describeRun(run));
  for (const m of recent) add(m, 'recent');
  for (const m of Object.keys(known)) add(m);
  items.push({ label: '$(cloud-download) Other Hugging Face model…', description: 'e.g. google/bert_uncased_L-4_H-256_A-4', value: '<hub>' });
  items.push({ label: '$(folder-opened) Local model folder…', description: 'config.json + model.safetensors + tokenizer', value: '<folder>' });
  const picked = await vscode.window.showQuickPick(items, { title: `${TITLE} (3/5): model`, ignoreFocusOut: true });
  if (!picked) return undefined;
  if (picked.value === '<hub>') {
    return (await vscode.window.showInputBox({
      title: `${TITLE}: Hugging Face model id`, placeHolder: 'owner/name', ignoreFocusOut: true,
      validateInput: (v) => (/^[\w.-]+(\/[\w.-]+)?$/.test(v.trim()) ? undefined : 'A model id looks like owner/name.'),
    }))?.trim() || undefined;
  }
  if (picked.value === '<folder>') {
    const folder = await vscode.window.showOpenDialog({ title: `${TITLE}: model folder`, canSelectFolders: true, canSelectFiles: false });
    return folder?.[0]?.fsPath;
  }
  return picked.value;
}

async function rememberModel(context: vscode.ExtensionContext, model: string): Promise<void> {
  const recent = context.globalState.get<string[]>(RECENT_MODELS_KEY, []).filter((m) => m !== model);
  await context.globalState.update(RECENT_MODELS_KEY, [model, ...recent].slice(0, 5));
}

interface PresetChoice {
  name: PresetName;
  custom?: { epochs: number; batchSize: number; lr: number };
}

async function pickPreset(): Promise<PresetChoice | undefined> {
  const items: Item<'fast' | 'tutorial' | 'custom'>[] = [
    { label: 'Fast', description: 'default', detail: 'Max length from your data, dynamic padding, length-grouped batches, 3 epochs.', value: 'fast' },
    { label: 'Tutorial settings', detail: 'The Hugging Face course recipe: max length 512, batch 8, lr 5e-5, 3 epochs.', value: 'tutorial' },
    { label: 'Custom…', detail: 'Fast, with your epochs, batch size and learning rate.', value: 'custom' },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: `${TITLE} (4/5): settings`, ignoreFocusOut: true });
  if (!picked) return undefined;
  if (picked.value !== 'custom') return { name: picked.value };
  const ask = async (title: string, value: string, integer: boolean) => {
    const typed = await vscode.window.showInputBox({ title: `${TITLE}: ${title}`, value, ignoreFocusOut: true, validateInput: (v) => validatePositive(v, integer) });
    return typed === undefined ? undefined : Number(typed.trim());
  };
  const epochs = await ask('epochs', '3', true);
  if (epochs === undefined) return undefined;
  const batchSize = await ask('batch size', '16', true);
  if (batchSize === undefined) return undefined;
  const lr = await ask('learning rate', '5e-5', false);
  if (lr === undefined) return undefined;
  return { name: 'fast', custom: { epochs, batchSize, lr } };
}

async function pickDevice(configured: DeviceName): Promise<DeviceName | undefined> {
  const all: { value: DeviceName; label: string; detail: string }[] = [
    { value: 'auto', label: 'Automatic', detail: 'CUDA, then WebGPU, then CPU: the first that works' },
    { value: 'cpu', label: 'CPU', detail: 'Works everywhere' },
    { value: 'cuda', label: 'CUDA', detail: 'NVIDIA GPU' },
    { value: 'webgpu', label: 'WebGPU', detail: 'GPU through Vulkan, Metal or Direct3D 12' },
  ];
  const items: Item<DeviceName>[] = all.map((d) => ({ ...d, description: d.value === configured ? 'from settings' : undefined }));
  items.sort((a, b) => Number(b.value === configured) - Number(a.value === configured));
  const picked = await vscode.window.showQuickPick(items, { title: `${TITLE} (5/5): device`, ignoreFocusOut: true });
  return picked?.value;
}

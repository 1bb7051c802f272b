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
import { input, join, long, notify, pick, say, withProgress, type Message, type PickItem } from '../display/ui';
import { mapOfRecord } from '../../core/util/records';
import { CheckFailedError, runCheck } from './check';
import { validatePositive, type FineTuneChoices } from './options';

const DATA_GLOB = '**/*.{csv,tsv,jsonl,json}';
const RECENT_MODELS_KEY = 'bert.recentModels';
const TITLE = 'Fine-tune BERT';

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
  const browse: PickItem<string | undefined> = { label: say`$(folder-opened) Browse…`, description: say`a file, or a folder with one sub-folder per class`, value: undefined };
  // The file open in the editor, when it is a dataset, is the likely answer: offer it first.
  const active = vscode.window.activeTextEditor?.document.uri;
  const activeData = active?.scheme === 'file' && /\.(csv|tsv|jsonl|json)$/i.test(active.fsPath) ? active.fsPath : undefined;
  const items: PickItem<string | undefined>[] = files
    .map((uri) => ({ name: vscode.workspace.asRelativePath(uri), value: uri.fsPath }))
    .sort((a, b) => Number(b.value === activeData) - Number(a.value === activeData) || a.name.localeCompare(b.name))
    .map(({ name, value }) => ({ label: say`${name}`, value, ...(value === activeData ? { description: say`open in the editor` } : {}) }));
  const picked = await pick([...items, browse], {
    title: say`${TITLE} (1/5): dataset`, placeHolder: say`The labelled examples to train on (CSV, TSV, JSONL, JSON, or a folder per class)`, ignoreFocusOut: true,
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
    const report = await withProgress(
      { location: vscode.ProgressLocation.Notification, title: say`BERT: checking ${path.basename(data)}…`, cancellable: true },
      async (_report, token) => {
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
  const classes = mapOfRecord(report.labels).size;
  const use: PickItem<'ok' | 'choose'> = {
    label: say`$(check) Text: "${report.textColumn ?? ''}", label: "${report.labelColumn ?? ''}"`,
    description: say`${report.rows} rows, ${classes} classes`, value: 'ok',
  };
  const choose: PickItem<'ok' | 'choose'> = { label: say`$(list-selection) Choose other columns…`, value: 'choose' };
  const picked = await pick([use, choose], { title: say`${TITLE} (2/5): columns`, ignoreFocusOut: true });
  if (!picked) return undefined;
  if (picked.value === 'ok') return 'ok';
  // Only this path needs the full column list; the check reports just the two it chose.
  const all = (await readDataset(data, { lenient: true, textColumn: report.textColumn, labelColumn: report.labelColumn })).columns;
  const columnItems = (columns: string[]): PickItem<string>[] => columns.map((c) => ({ label: say`${c}`, value: c }));
  const text = await pick(columnItems(all), { title: say`${TITLE}: text column`, placeHolder: say`The column holding the text to classify`, ignoreFocusOut: true });
  if (!text) return undefined;
  const label = await pick(columnItems(all.filter((c) => c !== text.value)),
    { title: say`${TITLE}: label column`, placeHolder: say`The column holding the class label`, ignoreFocusOut: true });
  if (!label) return undefined;
  return { textColumn: text.value, labelColumn: label.value };
}

/** When the columns cannot be detected, the problem lists the columns found; the user types the two names. */
async function askColumns(problem: string): Promise<{ textColumn: string; labelColumn: string } | undefined> {
  const prompt = say`${long(problem)}`;
  const textColumn = await input({ title: say`${TITLE}: text column`, prompt, placeHolder: say`name of the text column`, ignoreFocusOut: true });
  if (!textColumn) return undefined;
  const labelColumn = await input({ title: say`${TITLE}: label column`, prompt, placeHolder: say`name of the label column`, ignoreFocusOut: true });
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
  const lines: Message[] = problems.slice(0, 8).map((p) =>
    say`• ${path.basename(p.file)}${p.line ? `:${p.line}` : ''}: ${long(p.message, 300)}${p.fix ? say` ${long(p.fix, 300)}` : ''}`);
  if (problems.length > 8) lines.push(say`… and ${problems.length - 8} more (full report in the BERT log).`);
  const detail = join(lines, '\n');
  const first = problems.find((p) => p.severity === 'error') ?? problems[0];
  const open: 'Open First Problem'[] = first.file && first.line !== null ? ['Open First Problem'] : [];
  if (report.fatal) {
    const errors = problems.filter((p) => p.severity === 'error').length;
    const choice = await notify('error',
      say`BERT: ${path.basename(report.path)} cannot be trained on yet: ${errors} problem${errors === 1 ? '' : 's'} to fix.`,
      { modal: true, detail }, ...open);
    if (choice === 'Open First Problem') await openAt(first.file, first.line ?? undefined);
    return false;
  }
  const choice = await notify('warning',
    say`The dataset check found ${problems.length} warning${problems.length === 1 ? '' : 's'} in ${path.basename(report.path)}.`,
    { modal: true, detail }, 'Train Anyway', ...open);
  if (choice === 'Open First Problem') {
    await openAt(first.file, first.line ?? undefined);
    return false;
  }
  return choice === 'Train Anyway';
}

async function pickModel(context: vscode.ExtensionContext, configured: string, pretrained: readonly RunInfo[]): Promise<string | undefined> {
  const recent = context.globalState.get<string[]>(RECENT_MODELS_KEY, []);
  const items: PickItem<string>[] = [];
  const seen = new Set<string>();
  const known = new Map<string, { label: Message; description: Message; detail: Message }>([
    ['bert-base-uncased', { label: say`bert-base-uncased`, description: say`Hugging Face Hub`, detail: say`110M parameters; downloaded once, then cached. Slow on CPU.` }],
    ['random:tiny', { label: say`Small random model`, description: say`try-out`, detail: say`A tiny BERT with random weights: trains in seconds, proves the pipeline, predicts poorly.` }],
  ]);
  const add = (value: string, why?: Message, detail?: Message) => {
    if (seen.has(value)) return;
    seen.add(value);
    const k = known.get(value);
    const label = k?.label ?? say`${path.isAbsolute(value) ? vscode.workspace.asRelativePath(value) : value}`;
    items.push({ label, description: why ?? k?.description, detail: detail ?? k?.detail, value });
  };
  if (configured) add(configured, say`from the bert.model setting`);
  for (const run of pretrained) if (run.bestModelDir) add(run.bestModelDir, say`pre-trained in this workspace`, say`${describeRun(run)}`);
  for (const m of recent) add(m, say`recent`);
  for (const m of known.keys()) add(m);
  items.push({ label: say`$(cloud-download) Other Hugging Face model…`, description: say`e.g. google/bert_uncased_L-4_H-256_A-4`, value: '<hub>' });
  items.push({ label: say`$(folder-opened) Local model folder…`, description: say`config.json + model.safetensors + tokenizer`, value: '<folder>' });
  const picked = await pick(items, { title: say`${TITLE} (3/5): model`, ignoreFocusOut: true });
  if (!picked) return undefined;
  if (picked.value === '<hub>') {
    return (await input({
      title: say`${TITLE}: Hugging Face model id`, placeHolder: say`owner/name`, ignoreFocusOut: true,
      validate: (v) => (/^[\w.-]+(\/[\w.-]+)?$/.test(v.trim()) ? undefined : say`A model id looks like owner/name.`),
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
  const items: PickItem<'fast' | 'tutorial' | 'custom'>[] = [
    { label: say`Fast`, description: say`default`, detail: say`Max length from your data, dynamic padding, length-grouped batches, 3 epochs.`, value: 'fast' },
    { label: say`Tutorial settings`, detail: say`The Hugging Face course recipe: max length 512, batch 8, lr 5e-5, 3 epochs.`, value: 'tutorial' },
    { label: say`Custom…`, detail: say`Fast, with your epochs, batch size and learning rate.`, value: 'custom' },
  ];
  const picked = await pick(items, { title: say`${TITLE} (4/5): settings`, ignoreFocusOut: true });
  if (!picked) return undefined;
  if (picked.value !== 'custom') return { name: picked.value };
  const ask = async (title: string, value: string, integer: boolean) => {
    const typed = await input({ title: say`${TITLE}: ${title}`, value, ignoreFocusOut: true, validate: (v) => {
      const why = validatePositive(v, integer);
      return why === undefined ? undefined : say`${why}`;
    } });
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
  const all: { value: DeviceName; label: Message; detail: Message }[] = [
    { value: 'auto', label: say`Automatic`, detail: say`CUDA, then WebGPU, then CPU: the first that works` },
    { value: 'cpu', label: say`CPU`, detail: say`Works everywhere` },
    { value: 'cuda', label: say`CUDA`, detail: say`NVIDIA GPU` },
    { value: 'webgpu', label: say`WebGPU`, detail: say`GPU through Vulkan, Metal or Direct3D 12` },
  ];
  const items: PickItem<DeviceName>[] = all.map((d) => ({ ...d, description: d.value === configured ? say`from settings` : undefined }));
  items.sort((a, b) => Number(b.value === configured) - Number(a.value === configured));
  const picked = await pick(items, { title: say`${TITLE} (5/5): device`, ignoreFocusOut: true });
  return picked?.value;
}

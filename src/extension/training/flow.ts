/**
 * The "Fine-tune BERT" guided flow: a few quick picks, each pre-filled with the likely answer. It runs the dataset
 * check first (errors stop it; warnings are shown with a choice to continue or stop), then, once everything is
 * chosen, measures the run's expected time and peak memory (a trainer child's warm-up steps) and asks to start. It
 * returns the user's choices, or undefined when they cancel at any step. Starting the trainer is the controller's job.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatCheckReport, readDataset, type CheckReport } from '../../core/data';
import { deviceChoices, deviceName, platformDevices, type Device, type DeviceChoice } from '../../core/runtime/devices';
import { readSettings } from '../config';
import { describeRun, type RunInfo } from '../runs/runStore';
import { asLog, input, join, long, notify, pick, say, withProgress, type Message, type PickItem } from '../display/ui';
import { isUserError } from '../../core/errors';
import { modelDirOf } from '../../core/run/paths';
import { checkModelDir } from '../../core/model/load';
import { cachedHubModel, parseModelSpec, probeHub, resolveModel } from '../../core/model/hub';
import {
  isFromScratch,
  type FineTuneTask,
  type PresetName,
  type TrainOverrides,
  type Truncation,
} from '../../core/train/presets';
import { LR_SCHEDULES } from '../../core/train/schedule';
import type { EstimateEvent } from '../../core/train/estimate';
import { bundledExample, markWalkthroughStep } from '../walkthrough';
import type { Scheduler } from '../../core/scheduler/scheduler';
import { CheckFailedError, runCheck } from './check';
import { gpuChoices, partitionStep, validateTime, type ClusterChoice } from './cluster';
import { confirmationText, estimateSummary, type EstimateOutcome } from './estimateText';
import { catalogModels, otherModelDetail } from './modelItems';
import { lengthStep, modelContext, type LengthChoice } from './lengthStep';
import {
  advancedDefaults,
  advancedScope,
  changedSettings,
  describeTask,
  taskOptions,
  validateNumber,
  type AdvancedScope,
  type AdvancedSettings,
  fastShape,
  type FineTuneChoices,
} from './options';

const DATA_GLOB = '**/*.{csv,tsv,jsonl,json}';
const RECENT_MODELS_KEY = 'bert.recentModels';
const TITLE = 'Fine-tune BERT';

export interface FineTuneGiven {
  /** The model to start from (skips the model question), e.g. a pre-training run's best/ folder. */
  model?: string;
  /** Finished pre-training runs of the workspace, offered as models. */
  pretrained?: readonly RunInfo[];
  /** The stored Hugging Face token, for a Hub model downloaded before the run. */
  hubToken?: () => Promise<string | undefined>;
  /** The cluster scheduler when `sbatch` is on this host's PATH: the last step then offers to submit the run to it. */
  cluster?: Pick<Scheduler, 'partitions'>;
}

/** Measures the run `choices` describe (in a trainer child); rejects when it fails or `signal` cancels it. */
export type Estimator = (choices: FineTuneChoices, signal: AbortSignal) => Promise<EstimateEvent>;

export async function fineTuneFlow(
  context: vscode.ExtensionContext,
  log: vscode.LogOutputChannel,
  estimate: Estimator,
  target?: vscode.Uri,
  given: FineTuneGiven = {},
): Promise<FineTuneChoices | undefined> {
  const data = target?.scheme === 'file' ? target.fsPath : await pickDataset(context);
  if (!data) return undefined;
  const scope = vscode.Uri.file(data);
  const config = vscode.workspace.getConfiguration('bert', scope);
  const settingLength = config.get<number | null>('maxLength') ?? undefined;
  const settingTruncation = config.get<Truncation | null>('truncation') ?? undefined;
  const checked = await checkWithColumns(path.join(context.extensionPath, 'dist', 'cli.js'), data, settingLength, log);
  if (!checked) return undefined;
  markWalkthroughStep('bert.datasetChecked');
  log.info(`${path.basename(data)}: ${asLog(describeTask(checked.report))}`);
  if (!(await acceptProblems(checked.report, log))) return undefined;
  const settings = readSettings(scope);
  const model = given.model ?? (await pickModel(context, settings.model, given.pretrained ?? [], log, given.hubToken));
  if (!model) return undefined;
  const length =
    settingLength === undefined && settingTruncation === undefined
      ? await pickLength(checked.report, isFromScratch(model), await modelContext(model))
      : { maxLength: settingLength, truncation: settingTruncation };
  if (!length) return undefined;
  const task = taskOptions(checked.report);
  const preset = await pickPreset(model, config.get<number | null>('batchSize') ?? undefined, task.problemType);
  if (!preset) return undefined;
  const device = await pickDevice(settings.device);
  if (!device) return undefined;
  const choices: FineTuneChoices = {
    data,
    model,
    preset: preset.name,
    device,
    textColumn: checked.textColumn,
    labelColumn: checked.labelColumn,
    ...length,
    batchSize: config.get<number | null>('batchSize') ?? undefined,
    advanced: preset.advanced,
    task,
  };
  const where = await confirmStart(await estimateRun(choices, estimate, log), given.cluster !== undefined);
  if (where !== 'cluster' || !given.cluster) return where === 'local' ? choices : undefined;
  const cluster = await pickCluster(given.cluster);
  return cluster && { ...choices, cluster };
}

async function pickDataset(context: vscode.ExtensionContext): Promise<string | undefined> {
  const files = await vscode.workspace.findFiles(DATA_GLOB, '{**/node_modules/**,**/.bert/**,**/.git/**}', 200);
  const browse: PickItem<string | undefined> = {
    label: say`$(folder-opened) Browse…`,
    description: say`a file, or a folder with one sub-folder per class`,
    value: undefined,
  };
  const example: PickItem<string | undefined> = {
    label: say`$(beaker) Use the bundled example`,
    description: say`400 real e-mails labelled spam or ham`,
    detail: say`SpamAssassin public corpus (CC0): a first run in about a minute`,
    value: bundledExample(context),
  };
  // The file open in the editor, when it is a dataset, is the likely answer: offer it first.
  const active = vscode.window.activeTextEditor?.document.uri;
  const activeData =
    active?.scheme === 'file' && /\.(csv|tsv|jsonl|json)$/i.test(active.fsPath) ? active.fsPath : undefined;
  const items: PickItem<string | undefined>[] = files
    .map((uri) => ({ name: vscode.workspace.asRelativePath(uri), value: uri.fsPath }))
    .sort((a, b) => Number(b.value === activeData) - Number(a.value === activeData) || a.name.localeCompare(b.name))
    .map(({ name, value }) => ({
      label: say`${name}`,
      value,
      ...(value === activeData ? { description: say`open in the editor` } : {}),
    }));
  const placeHolder =
    items.length > 0
      ? say`The labelled examples to train on (CSV, TSV, JSONL, JSON, or a folder per class)`
      : say`No CSV, TSV, JSONL or JSON file in this workspace: browse for one (a text and a label column) or a folder per class, or try the example`;
  const picked = await pick([...items, browse, example], {
    title: say`${TITLE} (1/5): dataset`,
    placeHolder,
    ignoreFocusOut: true,
  });
  if (!picked) return undefined;
  if (picked.value) return picked.value;
  const chosen = await vscode.window.showOpenDialog({
    title: `${TITLE}: dataset`,
    canSelectFiles: true,
    canSelectFolders: true,
    canSelectMany: false,
    filters: { Datasets: ['csv', 'tsv', 'jsonl', 'json'], 'All files': ['*'] },
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
async function checkWithColumns(
  cli: string,
  data: string,
  maxLength: number | undefined,
  log: vscode.LogOutputChannel,
): Promise<CheckedData | undefined> {
  let columns: { textColumn?: string; labelColumn?: string } = {};
  for (;;) {
    const report = await withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: say`BERT: checking ${path.basename(data)}…`,
        cancellable: true,
      },
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
    if (confirmed === 'ok') {
      // Label sets in 0/1 columns have no label column (labelColumns, from taskOptions, name them).
      return { report, textColumn: report.textColumn, labelColumn: report.labelColumn || undefined };
    }
    columns = confirmed;
  }
}

async function confirmColumns(
  data: string,
  report: CheckReport,
): Promise<'ok' | { textColumn: string; labelColumn: string } | undefined> {
  const labelColumns = report.multiLabel?.format.labelColumns;
  const use: PickItem<'ok' | 'choose'> = {
    label: labelColumns
      ? say`$(check) Text: "${report.textColumn ?? ''}", labels: ${labelColumns.length} 0/1 columns`
      : say`$(check) Text: "${report.textColumn ?? ''}", label: "${report.labelColumn ?? ''}"`,
    description: say`${report.rows} rows`,
    // What the data asks to train, from the check: the trainer is told the same (taskOptions).
    detail: describeTask(report),
    value: 'ok',
  };
  const choose: PickItem<'ok' | 'choose'> = { label: say`$(list-selection) Choose other columns…`, value: 'choose' };
  const picked = await pick([use, choose], { title: say`${TITLE} (2/5): columns and task`, ignoreFocusOut: true });
  if (!picked) return undefined;
  if (picked.value === 'ok') return 'ok';
  // Only this path needs the full column list; the check reports just the two it chose.
  const all = (
    await readDataset(data, { lenient: true, textColumn: report.textColumn, labelColumn: report.labelColumn })
  ).columns;
  const columnItems = (columns: string[]): PickItem<string>[] => columns.map((c) => ({ label: say`${c}`, value: c }));
  const text = await pick(columnItems(all), {
    title: say`${TITLE}: text column`,
    placeHolder: say`The column holding the text to classify`,
    ignoreFocusOut: true,
  });
  if (!text) return undefined;
  const label = await pick(columnItems(all.filter((c) => c !== text.value)), {
    title: say`${TITLE}: label column`,
    placeHolder: say`The column holding the class label`,
    ignoreFocusOut: true,
  });
  if (!label) return undefined;
  return { textColumn: text.value, labelColumn: label.value };
}

/** When the columns cannot be detected, the problem lists the columns found; the user types the two names. */
async function askColumns(problem: string): Promise<{ textColumn: string; labelColumn: string } | undefined> {
  const prompt = say`${long(problem)}`;
  const textColumn = await input({
    title: say`${TITLE}: text column`,
    prompt,
    placeHolder: say`name of the text column`,
    ignoreFocusOut: true,
  });
  if (!textColumn) return undefined;
  const labelColumn = await input({
    title: say`${TITLE}: label column`,
    prompt,
    placeHolder: say`name of the label column`,
    ignoreFocusOut: true,
  });
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
  // Long texts are not a warning here: the flow's long-text step offers what to do about them, with its cost.
  const problems = report.problems.filter((p) => p.severity !== 'info' && p.code !== 'DATA_TRUNCATION');
  if (problems.length === 0) return true;
  log.info(`Dataset check of ${report.path}:\n${formatCheckReport(report)}`);
  const lines: Message[] = problems
    .slice(0, 8)
    .map(
      (p) =>
        say`• ${path.basename(p.file)}${p.line ? `:${p.line}` : ''}: ${long(p.message, 300)}${p.fix ? say` ${long(p.fix, 300)}` : ''}`,
    );
  if (problems.length > 8) lines.push(say`… and ${problems.length - 8} more (full report in the BERT log).`);
  const detail = join(lines, '\n');
  const first = problems.find((p) => p.severity === 'error') ?? problems[0];
  const open: 'Open First Problem'[] = first.file && first.line !== null ? ['Open First Problem'] : [];
  if (report.fatal) {
    const errors = problems.filter((p) => p.severity === 'error').length;
    const choice = await notify(
      'error',
      say`BERT: ${path.basename(report.path)} cannot be trained on yet: ${errors} problem${errors === 1 ? '' : 's'} to fix.`,
      { modal: true, detail },
      ...open,
    );
    if (choice === 'Open First Problem') await openAt(first.file, first.line ?? undefined);
    return false;
  }
  const choice = await notify(
    'warning',
    say`The dataset check found ${problems.length} warning${problems.length === 1 ? '' : 's'} in ${path.basename(report.path)}.`,
    { modal: true, detail },
    'Train Anyway',
    ...open,
  );
  if (choice === 'Open First Problem') {
    await openAt(first.file, first.line ?? undefined);
    return false;
  }
  return choice === 'Train Anyway';
}

/** Whether the Hub answered, asked once per window (a quick probe: a dead network must not stall the flow). */
let hubProbe: Promise<{ reachable: boolean; reason?: string }> | undefined;

async function pickModel(
  context: vscode.ExtensionContext,
  configured: string,
  pretrained: readonly RunInfo[],
  log: vscode.LogOutputChannel,
  hubToken?: () => Promise<string | undefined>,
): Promise<string | undefined> {
  hubProbe ??= probeHub();
  const hub = await hubProbe;
  if (!hub.reachable)
    log.info(
      `The Hugging Face Hub cannot be reached (${hub.reason ?? 'no answer'}): local and random-init models are listed first.`,
    );
  const recent = context.globalState.get<string[]>(RECENT_MODELS_KEY, []);
  const items: PickItem<string>[] = [];
  const seen = new Set<string>();
  /** A Hub model that must be downloaded (not in the cache) while the Hub cannot be reached. */
  const unavailable = (value: string) =>
    !hub.reachable && !value.startsWith('random:') && !path.isAbsolute(value) && cachedHubModel(value) === undefined;
  const known = catalogModels();
  const add = (value: string, why?: Message, detail?: Message) => {
    if (seen.has(value)) return;
    seen.add(value);
    const k = known.get(value);
    const label = k?.label ?? say`${path.isAbsolute(value) ? vscode.workspace.asRelativePath(value) : value}`;
    const offline = unavailable(value);
    items.push({
      label,
      description: offline ? say`needs a download: the Hub cannot be reached` : (why ?? k?.description),
      detail: offline ? say`${hub.reason ?? 'no answer'}` : (detail ?? k?.detail),
      value,
    });
  };
  if (configured) add(configured, say`from the bert.model setting`);
  for (const run of pretrained)
    if (run.bestModelDir) add(run.bestModelDir, say`pre-trained in this workspace`, say`${describeRun(run)}`);
  for (const m of recent) add(m, say`recent`);
  for (const m of known.keys()) add(m);
  // Offline, what works comes first; online, the order above (the setting, this workspace's models, recent ones).
  if (!hub.reachable) items.sort((a, b) => Number(unavailable(a.value)) - Number(unavailable(b.value)));
  items.push({
    label: say`$(cloud-download) Other Hugging Face model…`,
    description: say`owner/name`,
    detail: otherModelDetail(),
    value: '<hub>',
  });
  items.push({
    label: say`$(folder-opened) Local model folder…`,
    description: say`config.json + safetensors or pytorch_model.bin + tokenizer`,
    value: '<folder>',
  });
  const picked = await pick(items, {
    title: say`${TITLE} (3/5): model`,
    ignoreFocusOut: true,
    ...(hub.reachable
      ? {}
      : {
          placeHolder: say`Offline: the Hugging Face Hub cannot be reached, so models that need a download are listed last`,
        }),
  });
  if (!picked) return undefined;
  let model: string | undefined = picked.value;
  if (picked.value === '<hub>') {
    model =
      (
        await input({
          title: say`${TITLE}: Hugging Face model id`,
          placeHolder: say`owner/name`,
          ignoreFocusOut: true,
          validate: (v) =>
            /^[\w.-]+(\/[\w.-]+)?$/.test(v.trim()) ? undefined : say`A model id looks like owner/name.`,
        })
      )?.trim() || undefined;
  } else if (picked.value === '<folder>') {
    const folder = await vscode.window.showOpenDialog({
      title: `${TITLE}: model folder`,
      canSelectFolders: true,
      canSelectFiles: false,
    });
    model = folder?.[0]?.fsPath;
  }
  return model === undefined ? undefined : await usableModel(model, log, hubToken);
}

/**
 * The model, made ready before any run exists: a local folder must hold a model's config.json, and a Hub model is
 * downloaded now (with progress, cancellable). A model that cannot be had leaves no run behind and is not "recent".
 */
async function usableModel(
  model: string,
  log: vscode.LogOutputChannel,
  hubToken?: () => Promise<string | undefined>,
): Promise<string | undefined> {
  try {
    const spec = parseModelSpec(model);
    if (spec.kind === 'random') return model;
    if (spec.kind === 'local') {
      await checkModelDir(modelDirOf(spec.dir));
      return model;
    }
    if (cachedHubModel(model) !== undefined) return model;
    const storedToken = await hubToken?.();
    await withProgress(
      { location: vscode.ProgressLocation.Notification, title: say`BERT: downloading ${model}`, cancellable: true },
      (report, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        return resolveModel(model, {
          token: storedToken,
          signal: abort.signal,
          onProgress: (p) =>
            report({
              message: say`${p.file} ${(p.bytes / 1e6).toFixed(1)}${p.total ? ` / ${(p.total / 1e6).toFixed(1)}` : ''} MB`,
            }),
        });
      },
    );
    return model;
  } catch (error) {
    const message = isUserError(error) ? error.describe() : (error as Error).message;
    log.error(`Model ${model} cannot be used: ${message}`);
    // A gated or private model: the token is one command away.
    const setToken = isUserError(error) && error.code === 'HUB_GATED' ? ['Set Hugging Face Token'] : [];
    void notify('error', say`BERT: ${model} cannot be used: ${long(message)}`, {}, ...setToken).then((choice) =>
      choice ? vscode.commands.executeCommand('bert.setHubToken') : undefined,
    );
    return undefined;
  }
}

/** Remembered for the model step once a run with it has started. */
export async function rememberModel(context: vscode.ExtensionContext, model: string): Promise<void> {
  const recent = context.globalState.get<string[]>(RECENT_MODELS_KEY, []).filter((m) => m !== model);
  await context.globalState.update(RECENT_MODELS_KEY, [model, ...recent].slice(0, 5));
}

async function pickLength(report: CheckReport, scratch: boolean, context: number): Promise<LengthChoice | undefined> {
  const step = lengthStep(report, scratch, context);
  if (!step) return {};
  const picked = await pick(step.items, {
    title: say`${TITLE}: long texts`,
    ignoreFocusOut: true,
    placeHolder: step.placeHolder,
  });
  return picked?.value;
}

interface PresetChoice {
  name: PresetName;
  /** The Advanced step's changes to the Fast preset. */
  advanced?: Partial<TrainOverrides>;
}

/** The Fast item's detail: what differs between models first, and short (the quick pick cuts a long detail at its end). */
function fastDetail(
  fast: { epochs: number; lr: number },
  shape: { groupByLength: boolean; ensembleSize: number },
): Message {
  const batches = shape.groupByLength ? say`length-grouped batches` : say`batches in random order`;
  return shape.ensembleSize > 1
    ? say`${shape.ensembleSize} seeds' models averaged, ${fast.epochs} epochs each, lr ${fast.lr}, ${batches}, max length from your data.`
    : say`${fast.epochs} epochs, lr ${fast.lr}, ${batches}, max length from your data, dynamic padding.`;
}

/** The settings step; its Advanced… list has only the options of the detected `task` (advancedScope). */
async function pickPreset(
  model: string,
  batchSizeSetting: number | undefined,
  task: FineTuneTask | undefined,
): Promise<PresetChoice | undefined> {
  const fast = advancedDefaults(model, task);
  const scope = advancedScope(task);
  const offered = [
    say`epochs, learning rate and schedule, batch size and accumulation`,
    ...(scope.labelSmoothing ? [say`label smoothing`] : []),
    ...(scope.classWeights ? [say`class weights`] : []),
    say`early stopping`,
    ...(scope.metrics.length > 0 ? [say`best-model metric`] : []),
  ];
  const items: PickItem<'fast' | 'tutorial' | 'advanced'>[] = [
    {
      label: say`Fast`,
      description: say`default`,
      // What differs between models first, and short: the quick pick cuts a long detail at its end.
      detail: fastDetail(fast, fastShape(model, task)),
      value: 'fast',
    },
    {
      label: say`Tutorial settings`,
      detail: say`The Hugging Face course recipe: max length 512, batch 8, lr 5e-5, 3 epochs.`,
      value: 'tutorial',
    },
    {
      label: say`Advanced…`,
      detail: say`Fast, with your ${join(offered, ', ')}.`,
      value: 'advanced',
    },
  ];
  const picked = await pick(items, { title: say`${TITLE} (4/5): settings`, ignoreFocusOut: true });
  if (!picked) return undefined;
  if (picked.value !== 'advanced') return { name: picked.value };
  const defaults = { ...fast, batchSize: batchSizeSetting ?? fast.batchSize };
  const chosen = await editAdvanced(defaults, scope, task);
  return chosen && { name: 'fast', advanced: changedSettings(defaults, chosen) };
}

type NumberSetting = {
  [K in keyof AdvancedSettings]: AdvancedSettings[K] extends number ? K : never;
}[keyof AdvancedSettings];

/** The Advanced step's numbers: the label, what a value may be, and a hint. */
const NUMBER_SETTINGS: readonly {
  key: NumberSetting;
  label: string;
  range: Parameters<typeof validateNumber>[1];
  hint: string;
  /** Shown as 2e-3 rather than 0.002. */
  exponent?: boolean;
}[] = [
  { key: 'epochs', label: 'Epochs', range: { min: 0, integer: true }, hint: 'passes over the training data' },
  { key: 'lr', label: 'Learning rate', range: { min: 0, max: 1 }, hint: 'peak, after warmup', exponent: true },
  { key: 'batchSize', label: 'Batch size', range: { min: 0, integer: true }, hint: 'examples per batch' },
  {
    key: 'gradientAccumulationSteps',
    label: 'Gradient accumulation',
    range: { min: 0, integer: true },
    hint: 'batches per optimizer step: the effective batch is batch size × this',
  },
  { key: 'warmupRatio', label: 'Warmup', range: { min: 0, max: 1, minIncluded: true }, hint: 'share of steps' },
  {
    key: 'labelSmoothing',
    label: 'Label smoothing',
    range: { min: 0, max: 1, minIncluded: true },
    hint: 'ε of the cross-entropy; 0 = off',
  },
  {
    key: 'earlyStoppingPatience',
    label: 'Early stopping',
    range: { min: 0, integer: true, minIncluded: true },
    hint: 'evaluations without improvement before stopping; 0 = off',
  },
];

type AdvancedItem =
  | { kind: 'start' }
  | { kind: 'number'; setting: (typeof NUMBER_SETTINGS)[number] }
  | { kind: 'schedule' }
  | { kind: 'metric' }
  | { kind: 'classWeights' };

function shownNumber(value: number, exponent = false): string {
  return exponent ? value.toExponential() : String(value);
}

/**
 * A list of the settings with their values; picking one edits it, "Continue" keeps them. Only the options of the
 * task are listed (`scope`): no label smoothing for label sets or numbers, no class weights or metric for numbers.
 */
async function editAdvanced(
  defaults: AdvancedSettings,
  scope: AdvancedScope,
  task: FineTuneTask | undefined,
): Promise<AdvancedSettings | undefined> {
  const chosen = { ...defaults };
  const mark = (changed: boolean) => (changed ? say`changed` : say`preset`);
  const numbers = NUMBER_SETTINGS.filter((setting) => setting.key !== 'labelSmoothing' || scope.labelSmoothing);
  for (;;) {
    const items: PickItem<AdvancedItem>[] = [
      {
        label: say`$(play) Continue with these settings`,
        // A regression run has no metric to choose: say which model it keeps.
        ...(scope.metrics.length === 0 ? { detail: say`the model with the lowest validation MSE is kept` } : {}),
        value: { kind: 'start' },
      },
      ...numbers.map((setting) => ({
        label: say`${setting.label}: ${shownNumber(chosen[setting.key], setting.exponent)}`,
        description: mark(chosen[setting.key] !== defaults[setting.key]),
        detail: say`${setting.hint}`,
        value: { kind: 'number' as const, setting },
      })),
      {
        label: say`Learning-rate schedule: ${chosen.lrSchedule}`,
        description: mark(chosen.lrSchedule !== defaults.lrSchedule),
        detail: say`after warmup: linear decay, cosine, or constant`,
        value: { kind: 'schedule' },
      },
      ...(scope.classWeights
        ? [
            {
              label: say`Class weights: ${chosen.classWeights ? 'on' : 'off'}`,
              description: mark(chosen.classWeights !== defaults.classWeights),
              detail:
                task === 'multi-label'
                  ? say`weigh each label's positive rows by their rarity (BCE pos_weight)`
                  : say`weigh each class's loss by its rarity (imbalanced data)`,
              value: { kind: 'classWeights' as const },
            },
          ]
        : []),
      ...(scope.metrics.length > 0
        ? [
            {
              label: say`Best model by: ${chosen.metric}`,
              description: mark(chosen.metric !== defaults.metric),
              detail: say`the validation metric that picks best/ and drives early stopping`,
              value: { kind: 'metric' as const },
            },
          ]
        : []),
    ];
    const picked = await pick(items, { title: say`${TITLE}: advanced settings`, ignoreFocusOut: true });
    if (!picked) return undefined;
    const item = picked.value;
    if (item.kind === 'start') return chosen;
    if (item.kind === 'number') {
      const { key, label, range } = item.setting;
      const typed = await input({
        title: say`${TITLE}: ${label.toLowerCase()}`,
        value: shownNumber(chosen[key], item.setting.exponent),
        ignoreFocusOut: true,
        validate: (v) => {
          const why = validateNumber(v, range);
          return why === undefined ? undefined : say`${why}`;
        },
      });
      if (typed !== undefined) chosen[key] = Number(typed.trim());
    } else if (item.kind === 'schedule') {
      const schedule = await pick(
        LR_SCHEDULES.map((value) => ({ label: say`${value}`, value })),
        { title: say`${TITLE}: learning-rate schedule`, ignoreFocusOut: true },
      );
      if (schedule) chosen.lrSchedule = schedule.value;
    } else if (item.kind === 'metric') {
      const metric = await pick(
        scope.metrics.map((value) => ({ label: say`${value}`, value })),
        { title: say`${TITLE}: best model by`, ignoreFocusOut: true },
      );
      if (metric) chosen.metric = metric.value;
    } else {
      chosen.classWeights = !chosen.classWeights;
    }
  }
}

const DEVICE_DETAILS: ReadonlyMap<Device, Message> = new Map([
  ['cpu', say`Works everywhere`],
  ['cuda', say`NVIDIA GPU`],
  ['directml', say`Any Direct3D 12 GPU on Windows`],
  ['webgpu', say`GPU through Vulkan, Metal or Direct3D 12`],
]);

/** The devices this platform's onnxruntime binding has (core/runtime/devices.ts), 'auto' first. */
async function pickDevice(configured: DeviceChoice): Promise<DeviceChoice | undefined> {
  const devices = platformDevices(process.platform, process.arch);
  const order = devices.map(deviceName).join(', then ');
  const items: PickItem<DeviceChoice>[] = deviceChoices(process.platform, process.arch).map((value) => ({
    value,
    label: value === 'auto' ? say`Automatic` : say`${deviceName(value)}`,
    detail: value === 'auto' ? say`${order}: the first that works` : DEVICE_DETAILS.get(value),
    description: value === configured ? say`from settings` : undefined,
  }));
  items.sort((a, b) => Number(b.value === configured) - Number(a.value === configured));
  const picked = await pick(items, { title: say`${TITLE} (5/5): device`, ignoreFocusOut: true });
  return picked?.value;
}

/**
 * The run's estimate, with cancellable progress: a few seconds (the child loads the model, reads the data and times
 * warm-up steps). Cancelling skips it; a failure is logged and shown in the next step, which still offers to start.
 */
async function estimateRun(
  choices: FineTuneChoices,
  estimate: Estimator,
  log: vscode.LogOutputChannel,
): Promise<EstimateOutcome> {
  return withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: say`BERT: estimating the run's time and memory`,
      cancellable: true,
    },
    async (report, token): Promise<EstimateOutcome> => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      report({ message: say`loading the model and timing a few warm-up steps (Cancel skips this)` });
      try {
        const result = await estimate(choices, abort.signal);
        log.info(`Estimate: ${asLog(estimateSummary(result))}`);
        return { estimate: result };
      } catch (error) {
        if (abort.signal.aborted) return { skipped: true };
        const message = isUserError(error) ? error.describe() : (error as Error).message;
        const detail = (error as { detail?: unknown }).detail;
        log.warn(`The estimate failed: ${message}${typeof detail === 'string' ? `\n${detail}` : ''}`);
        return { failed: message };
      }
    },
  );
}

/**
 * The last step: what the run will cost, then Start training on this machine (the default: Enter) or Cancel. Where
 * `sbatch` is on PATH, also "Slurm cluster": the run is submitted as a job instead (its partition, GPU and time limit
 * asked next).
 */
async function confirmStart(
  outcome: EstimateOutcome,
  clusterOffered: boolean,
): Promise<'local' | 'cluster' | undefined> {
  const text = confirmationText(outcome);
  const items: PickItem<'local' | 'cluster' | undefined>[] = [
    {
      label: say`$(play) Start training`,
      description: text.startDescription,
      detail: text.startDetail,
      value: 'local',
    },
    ...(clusterOffered
      ? [
          {
            label: say`$(server-environment) Slurm cluster: submit a job…`,
            description: say`choose the partition, GPU and time limit`,
            detail: say`The same run as a Slurm job: it checkpoints before its time limit and requeues itself`,
            value: 'cluster' as const,
          },
        ]
      : []),
    { label: say`$(close) Cancel`, description: say`no run is created`, value: undefined },
  ];
  const picked = await pick(items, {
    title: clusterOffered
      ? say`${TITLE}: start training on this machine or on the Slurm cluster?`
      : say`${TITLE}: start training?`,
    placeHolder: text.placeHolder,
    ignoreFocusOut: true,
  });
  return picked?.value;
}

/** The cluster's questions: the partition (from sinfo), a GPU of one of its types or none, the time limit. */
async function pickCluster(scheduler: Pick<Scheduler, 'partitions'>): Promise<ClusterChoice | undefined> {
  const partitions = await withProgress(
    { location: vscode.ProgressLocation.Window, title: say`BERT: asking Slurm for its partitions…` },
    () => partitionStep(scheduler),
  );
  const partition = await pick(partitions, {
    title: say`${TITLE}: Slurm partition`,
    placeHolder: say`The partition (queue) the job waits in`,
    ignoreFocusOut: true,
  });
  if (!partition) return undefined;
  const p = partition.value;
  const gpu = await pick(gpuChoices(p), {
    title: say`${TITLE}: GPU on ${p.name}`,
    placeHolder: p.gpus.length > 0 ? say`bertft trains on one GPU` : say`${p.name} lists no GPUs`,
    ignoreFocusOut: true,
  });
  if (!gpu) return undefined;
  const time = await input({
    title: say`${TITLE}: time limit on ${p.name}`,
    prompt:
      p.defaultTime === undefined
        ? say`Slurm notation: minutes (90), HH:MM:SS, D-HH:MM. Empty: the partition's default. Before the limit the run checkpoints and the job requeues itself.`
        : say`Slurm notation: minutes (90), HH:MM:SS, D-HH:MM. Empty: the partition's default, ${p.defaultTime}. Before the limit the run checkpoints and the job requeues itself.`,
    placeHolder: p.maxTime === undefined ? say`no limit on ${p.name}` : say`at most ${p.maxTime}`,
    ignoreFocusOut: true,
    validate: (v) => {
      const why = validateTime(v, p);
      return why === undefined ? undefined : say`${why}`;
    },
  });
  if (time === undefined) return undefined;
  return { partition: p.name, gpuType: gpu.value, time: time.trim() === '' ? undefined : time.trim() };
}

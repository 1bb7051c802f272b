/**
 * Training commands: Fine-tune BERT, Pre-train on Workspace Text, Open Training Dashboard, Stop Training, Find Likely
 * Mislabeled Rows (suspects.ts), and the Runs view's commands.
 * Each command returns what it did (a run folder, or undefined) so integration tests can check it.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunInfo } from '../runs/runStore';
import { registerJobCommands } from '../runs/commands';
import { runFolders } from '../runs/view';
import { readSettings } from '../config';
import { info, long, say, warn, withProgress } from '../display/ui';
import { nodeLocalWarning } from '../../core/scheduler/scheduler';
import { Slurm } from '../../core/scheduler/slurm';
import { submitNewRun } from '../../core/scheduler/submit';
import { packageVersion } from '../../core/util/package-version';
import { clusterAvailable, clusterCommand, clusterJob, type ClusterChoice } from './cluster';
import { requireTrust } from '../trust';
import type { Ctx } from '../context';
import { TrainingController } from './controller';
import { fineTuneFlow, rememberModel } from './flow';
import { estimateOptions, pretrainRequest, runFolderName, sessionOptions, type FineTuneChoices } from './options';
import { pretrainFlow, type PretrainChoices } from './pretrain';
import { registerSuspectsCommands } from './suspects';

/** A run argument as commands receive it: a RunInfo from the Runs view, a run folder path or Uri, or nothing. */
type RunArgument = RunInfo | string | vscode.Uri | undefined;

function runDirOf(arg: RunArgument): string | undefined {
  if (arg === undefined) return undefined;
  if (typeof arg === 'string') return arg;
  if (arg instanceof vscode.Uri) return arg.fsPath;
  return typeof arg.dir === 'string' ? arg.dir : undefined;
}

export function registerTrainingCommands(ctx: Ctx): TrainingController {
  const controller = new TrainingController(ctx);
  const { log, extension: context } = ctx;
  const command = ctx.command.bind(ctx);

  ctx.own(
    controller,
    vscode.window.createTreeView('bert.runs', { treeDataProvider: controller.runs, showCollapseAll: false }),
  );

  /** The runs folder for data in (or else beside) a workspace folder: one place for fine-tuning and pre-training runs. */
  const runsRootFor = (data: string): string => {
    const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(data)) ?? vscode.workspace.workspaceFolders?.[0];
    return folder
      ? path.resolve(folder.uri.fsPath, readSettings(folder).runsDirectory)
      : path.join(path.dirname(data), '.bert', 'runs');
  };

  // `model` (e.g. a pre-training run's best/ folder, from its dashboard) skips the model question.
  command('bert.fineTune', async (target?: vscode.Uri, given?: { model?: string }) => {
    if (!requireTrust('Fine-tuning')) return undefined;
    const pretrained = controller.runs
      .list()
      .filter((r) => r.task === 'mlm' && r.bestModelDir !== undefined && r.phase !== 'training');
    const estimate = (c: FineTuneChoices, signal: AbortSignal) => controller.estimate(estimateOptions(c), signal);
    // The last step offers the cluster only where sbatch is on this (the workspace's) host's PATH.
    const cluster = clusterAvailable() ? new Slurm(packageVersion()) : undefined;
    const choices = await fineTuneFlow(context, log, estimate, target instanceof vscode.Uri ? target : undefined, {
      model: given?.model,
      pretrained,
      hubToken: () => ctx.hubToken.get(),
      cluster,
    });
    if (!choices) return undefined;
    const out = path.join(runsRootFor(choices.data), runFolderName(new Date(), choices.data));
    if (choices.cluster && cluster) {
      await submitToCluster(cluster, choices, choices.cluster, out);
      void rememberModel(context, choices.model);
      return out;
    }
    const runDir = controller.start(sessionOptions(choices, out));
    // "Recent" lists only models a run has started with.
    void controller.started(runDir).then((ok) => (ok ? rememberModel(context, choices.model) : undefined));
    return runDir;
  });

  /**
   * Submits the run the flow built as a cluster job (core/scheduler's submitNewRun, as `bertft submit --slurm`), then
   * shows it in the Runs view and opens its dashboard as the view does. A refusal is a user error, shown by the
   * command wrapper; it leaves no run folder behind.
   */
  const submitToCluster = async (
    scheduler: Slurm,
    choices: FineTuneChoices,
    choice: ClusterChoice,
    out: string,
  ): Promise<void> => {
    const cli = path.join(context.extensionPath, 'dist', 'cli.js');
    const workDir =
      vscode.workspace.getWorkspaceFolder(vscode.Uri.file(choices.data))?.uri.fsPath ?? path.dirname(choices.data);
    const job = clusterJob(sessionOptions(choices, out), choice, {
      command: clusterCommand(process.execPath, cli, process.versions.electron !== undefined),
      workDir,
    });
    const nodeLocal = nodeLocalWarning(out);
    if (nodeLocal !== undefined) {
      log.warn(nodeLocal);
      void warn(say`BERT: ${long(nodeLocal)}`);
    }
    log.info(`Submitting ${out} to Slurm: ${JSON.stringify(job)}`);
    const { record } = await withProgress(
      { location: vscode.ProgressLocation.Notification, title: say`BERT: submitting ${path.basename(out)} to Slurm…` },
      () => submitNewRun(scheduler, job),
    );
    log.info(`Submitted Slurm job ${record.jobId} for ${out}`);
    controller.runs.refreshAll();
    controller.updateContext();
    await vscode.commands.executeCommand('bert.runs.openDashboard', out);
    void info(
      say`BERT: Submitted Slurm job ${record.jobId} for ${path.basename(out)} (partition ${choice.partition}). The Runs view follows it.`,
    );
  };

  // Arguments answer the questions (tests, other commands): { data, model }.
  command('bert.pretrain', async (given?: Partial<PretrainChoices>) => {
    if (!requireTrust('Pre-training')) return undefined;
    const choices = await pretrainFlow(given);
    if (!choices) return undefined;
    const scope = vscode.Uri.file(choices.data);
    const config = vscode.workspace.getConfiguration('bert', scope);
    const out = path.join(runsRootFor(choices.data), `${runFolderName(new Date(), choices.data)}-pretrain`);
    return controller.start(
      pretrainRequest(choices, out, {
        device: readSettings(scope).device,
        maxLength: config.get<number | null>('maxLength') ?? undefined,
        batchSize: config.get<number | null>('batchSize') ?? undefined,
      }),
    );
  });

  command('bert.openDashboard', async (arg?: RunArgument) => {
    if (!requireTrust('The training dashboard')) return undefined;
    const runDir = runDirOf(arg) ?? controller.currentRun() ?? controller.runs.list()[0]?.dir;
    if (!runDir) {
      const choice = await info(say`BERT: There are no training runs yet.`, 'Fine-tune BERT');
      if (choice) await vscode.commands.executeCommand('bert.fineTune');
      return undefined;
    }
    controller.showDashboard(runDir);
    return runDir;
  });

  command('bert.stopTraining', (arg?: RunArgument) => {
    if (!requireTrust('Stop Training')) return undefined;
    const runDir = runDirOf(arg) ?? controller.currentRun();
    if (!runDir) {
      void info(say`BERT: No training is running.`);
      return undefined;
    }
    controller.stop(runDir);
    return runDir;
  });

  registerSuspectsCommands(ctx, controller);

  command('bert.runs.refresh', () => controller.runs.refreshAll());
  registerJobCommands(ctx, controller.runs);
  command('bert.runs.openDashboard', (arg: RunArgument) =>
    vscode.commands.executeCommand('bert.openDashboard', runDirOf(arg)),
  );
  command('bert.runs.stop', (arg: RunArgument) => vscode.commands.executeCommand('bert.stopTraining', runDirOf(arg)));
  command('bert.runs.resume', async (arg: RunArgument) => {
    if (!requireTrust('Resuming a run')) return undefined;
    const runDir = runDirOf(arg);
    if (runDir) await controller.resume(runDir);
    return runDir;
  });
  command('bert.runs.delete', async (arg: RunArgument) => {
    if (!requireTrust('Deleting a run')) return false;
    const runDir = runDirOf(arg);
    return runDir ? controller.deleteRun(runDir) : false;
  });
  command('bert.runs.reveal', async (arg: RunArgument) => {
    const runDir = runDirOf(arg);
    if (!runDir) return;
    const uri = vscode.Uri.file(runDir);
    await vscode.commands.executeCommand(
      vscode.workspace.getWorkspaceFolder(uri) ? 'revealInExplorer' : 'revealFileInOS',
      uri,
    );
  });

  log.info(`Runs are read from: ${runFolders().join(', ') || '(no workspace folder)'}`);
  // In Restricted Mode nothing reads the run folders; once the workspace is trusted, the Runs view and status bar do.
  if (vscode.workspace.isTrusted) controller.reattach();
  controller.updateContext();
  context.subscriptions.push(
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      controller.runs.refresh();
      controller.reattach();
      controller.updateContext();
    }),
  );
  return controller;
}

import * as vscode from 'vscode';
import { leaveProxiesToHost } from '../core/net/proxy';
import { nativeRuntimeError } from '../core/runtime/devices';
import { Ctx } from './context';
import { registerGpuCommands } from './gpu';
import { registerPushCommand } from './hub-push';
import { registerInference } from './inference';
import { createLog } from './log';
import { HubTokenStore, registerHubTokenCommands } from './network';
import { TrainingStatusBar } from './statusBar';
import { registerTrainingCommands } from './training';
import type { RunInfo } from './runs/runStore';
import type { RunsTreeProvider } from './runs/view';
import { registerUnsupported } from './unsupported';
import { registerWalkthrough } from './walkthrough';

/** What activate() returns (`extension.exports`): lets the integration tests observe the running extension. */
export interface BertExtensionApi {
  statusBar: TrainingStatusBar;
  /** Folder of this extension's log files; the "BERT" channel writes `BERT.log` there. */
  logUri: vscode.Uri;
  /** The runs the Runs view lists now (fine-tuning and pre-training), newest first. */
  listRuns(): RunInfo[];
  /** The Runs view's rows under `node` (its top level without one) and each row's item, as the view renders them. */
  runsView: Pick<RunsTreeProvider, 'getChildren' | 'getTreeItem' | 'getParent'>;
  /** The items the Likely Mislabeled view shows now, as it renders them, most likely wrong first. */
  suspectItems(): vscode.TreeItem[];
  /** The folder of the model Classify Selection and the hover use, if any. */
  activeModelDir(): string | undefined;
}

export function activate(context: vscode.ExtensionContext): BertExtensionApi | undefined {
  const log = createLog(context);
  const statusBar = new TrainingStatusBar();
  context.subscriptions.push(statusBar);
  // VS Code applies the user's proxy settings to this host's requests; the trainer child gets them as variables.
  leaveProxiesToHost();
  const hubToken = new HubTokenStore(context.secrets);
  context.subscriptions.push(hubToken);
  const ctx = new Ctx(context, log, statusBar, hubToken);
  const unsupported = nativeRuntimeError();
  if (unsupported) {
    registerUnsupported(ctx, unsupported);
    return undefined;
  }
  registerHubTokenCommands(ctx);
  registerGpuCommands(ctx);
  const inference = registerInference(ctx);
  registerPushCommand(ctx, inference);
  const training = registerTrainingCommands(ctx);
  registerWalkthrough(ctx);
  log.info(
    `BERT Fine-tune ${String((context.extension.packageJSON as { version?: string }).version)} activated (VS Code ${vscode.version})`,
  );
  return {
    statusBar,
    logUri: context.logUri,
    listRuns: () => training.runs.list(),
    suspectItems: () => training.suspects.getChildren().map((s) => training.suspects.getTreeItem(s)),
    runsView: training.runs,
    activeModelDir: () => inference.activeModelDir(),
  };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}

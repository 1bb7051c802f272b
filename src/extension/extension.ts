import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { createLog } from './log';
import { TrainingStatusBar } from './statusBar';
import { registerTrainingCommands } from './training';

/** What activate() returns (`extension.exports`): lets the integration tests observe the running extension. */
export interface BertExtensionApi {
  statusBar: TrainingStatusBar;
  /** Folder of this extension's log files; the "BERT" channel writes `BERT.log` there. */
  logUri: vscode.Uri;
}

export function activate(context: vscode.ExtensionContext): BertExtensionApi {
  const log = createLog(context);
  const statusBar = new TrainingStatusBar();
  context.subscriptions.push(statusBar);
  const services = { log, statusBar };
  registerCommands(context, services);
  registerTrainingCommands(context, services);
  log.info(`BERT Fine-tune ${String(context.extension.packageJSON.version)} activated (VS Code ${vscode.version})`);
  return { statusBar, logUri: context.logUri };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}

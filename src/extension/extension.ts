import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { createLog } from './log';
import { TrainingStatusBar } from './statusBar';
import { registerTrainingCommands } from './training';

export function activate(context: vscode.ExtensionContext): void {
  const log = createLog(context);
  const statusBar = new TrainingStatusBar();
  context.subscriptions.push(statusBar);
  const services = { log, statusBar };
  registerCommands(context, services);
  registerTrainingCommands(context, services);
  log.info(`BERT Fine-tune ${String(context.extension.packageJSON.version)} activated (VS Code ${vscode.version})`);
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}

import * as vscode from 'vscode';
import { registerInferenceCommands } from './inference';
import type { TrainingStatusBar } from './statusBar';

/** What every command module receives from `activate`. */
export interface ExtensionServices {
  log: vscode.LogOutputChannel;
  statusBar: TrainingStatusBar;
}

/**
 * Registers `commandId` with a handler that tells the user the feature has not landed yet. The handler returns the
 * message it showed, so tests (and callers) can check it without reading notifications.
 */
export function registerNotAvailableYet(
  context: vscode.ExtensionContext,
  log: vscode.LogOutputChannel,
  commandId: string,
  title: string,
): void {
  context.subscriptions.push(
    vscode.commands.registerCommand(commandId, () => {
      const message = notAvailableYetMessage(title);
      log.info(`${commandId}: ${message}`);
      // Not awaited: the promise only settles when the user dismisses the notification.
      void vscode.window.showInformationMessage(message);
      return message;
    }),
  );
}

export function notAvailableYetMessage(title: string): string {
  return `BERT: ${title} is not available yet.`;
}

/** Inference commands (classify, model choice, hover: see ./inference). Training commands live in ./training. */
export function registerCommands(context: vscode.ExtensionContext, services: ExtensionServices): void {
  registerInferenceCommands(context, services);
}

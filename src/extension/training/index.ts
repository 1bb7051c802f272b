import * as vscode from 'vscode';
import { registerNotAvailableYet } from '../commands';
import type { TrainingStatusBar } from '../statusBar';

/**
 * Training commands: Fine-tune BERT, Open Training Dashboard, Stop Training.
 * Placeholders until the training UI lands; each shows a "not available yet" message.
 */
export function registerTrainingCommands(
  context: vscode.ExtensionContext,
  services: { log: vscode.LogOutputChannel; statusBar: TrainingStatusBar },
): void {
  registerNotAvailableYet(context, services.log, 'bert.fineTune', 'Fine-tune BERT');
  registerNotAvailableYet(context, services.log, 'bert.openDashboard', 'Open Training Dashboard');
  registerNotAvailableYet(context, services.log, 'bert.stopTraining', 'Stop Training');
}

import * as vscode from 'vscode';
import { registerGpuCommands } from './gpu';
import { registerInferenceCommands } from './inference';
import type { InferenceController } from './inference/controller';
import type { TrainingStatusBar } from './statusBar';

/** What every command module receives from `activate`. */
export interface ExtensionServices {
  log: vscode.LogOutputChannel;
  statusBar: TrainingStatusBar;
}

/** Inference commands (classify, model choice, hover: see ./inference) and GPU set-up. Training commands live in ./training. */
export function registerCommands(context: vscode.ExtensionContext, services: ExtensionServices): InferenceController {
  registerGpuCommands(context, services);
  return registerInferenceCommands(context, services);
}

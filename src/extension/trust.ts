/**
 * Restricted Mode (an untrusted workspace). What works there: classifying selected or hovered text with a model the
 * user chose (the model settings are restricted, so only the user's own settings count) and installing CUDA support.
 * What does not: anything that reads workspace data or files written into it (fine-tuning, pre-training, Predict
 * Dataset, the Runs view and its dashboards, resuming or stopping a run by the pid its files name, Make Int8 Model),
 * because a repository can hold crafted datasets, run folders and models. package.json's `enablement` clauses hide
 * these commands; this check stops them when they are run some other way (a keybinding, another extension).
 */
import * as vscode from 'vscode';
import { error as showError, say } from './display/ui';

/** Whether `what` may run now; in Restricted Mode says why not and returns false. */
export function requireTrust(what: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  void showError(
    say`BERT: ${what} is off in Restricted Mode: it reads files of this workspace. Trust the workspace (Manage Workspace Trust) to use it.`,
  );
  return false;
}

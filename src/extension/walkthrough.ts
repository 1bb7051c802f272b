/**
 * The getting-started walkthrough (package.json `contributes.walkthroughs`): pick a dataset, check it, fine-tune,
 * watch the dashboard, classify a selection. Steps whose completion no command of theirs marks (the check runs inside
 * Fine-tune BERT; the dashboard opens by itself when a run starts) are marked through context keys set here.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Ctx } from './context';

/** The dataset shipped with the extension: 400 SpamAssassin mails, spam or ham (CC0, examples/README.md). */
export function bundledExample(context: vscode.ExtensionContext): string {
  return context.asAbsolutePath(path.join('examples', 'spam-ham.csv'));
}

/** Context keys that complete a walkthrough step (`onContext:` completion events in package.json). */
export type WalkthroughMilestone = 'bert.datasetChecked' | 'bert.dashboardShown';

export function markWalkthroughStep(milestone: WalkthroughMilestone): void {
  void vscode.commands.executeCommand('setContext', milestone, true);
}

/** The walkthrough's "Use the bundled example" button: Fine-tune BERT with the example as its dataset. */
export function registerWalkthrough(ctx: Ctx): void {
  ctx.command('bert.fineTuneExample', () =>
    vscode.commands.executeCommand('bert.fineTune', vscode.Uri.file(bundledExample(ctx.extension))),
  );
}

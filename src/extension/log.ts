import * as vscode from 'vscode';

/**
 * The extension's log: one `LogOutputChannel` named "BERT" (View → Output → BERT). Its level follows the user's
 * "Developer: Set Log Level" choice, so modules log freely with `log.debug/info/warn/error`.
 */
export function createLog(context: vscode.ExtensionContext): vscode.LogOutputChannel {
  const log = vscode.window.createOutputChannel('BERT', { log: true });
  context.subscriptions.push(log);
  return log;
}

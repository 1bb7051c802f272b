/**
 * The extension's one context object, made in activate() and handed to every module: VS Code's extension context
 * (whose subscriptions dispose everything at deactivation), the "BERT" log, the training status bar, the Hugging Face
 * token, and the one way to register a command. Settings are read when needed (config.ts), because the user may change them at any time.
 */
import * as vscode from 'vscode';
import { asUserFacing, isUserError } from '../core/errors';
import { error as showError, long, say } from './display/ui';
import type { HubTokenStore } from './network';
import type { TrainingStatusBar } from './statusBar';

/** An error as one line for people: a user error with its fix, else its message. */
export function describeError(error: unknown): string {
  const e = asUserFacing(error);
  return isUserError(e) ? e.describe() : e instanceof Error ? e.message : String(e);
}

export class Ctx {
  constructor(
    readonly extension: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
    readonly statusBar: TrainingStatusBar,
    /** The Hugging Face token from SecretStorage (./network.ts). */
    readonly hubToken: HubTokenStore,
  ) {}

  /** Disposed when the extension deactivates. */
  own(...disposables: vscode.Disposable[]): void {
    this.extension.subscriptions.push(...disposables);
  }

  /**
   * Registers command `id`. It returns what it did (for integration tests and other commands); a failure is logged
   * with its details and shown once as an error message, never left unhandled. A cancelled step returns undefined.
   */
  command(id: string, handler: (...args: never[]) => unknown): void {
    this.own(
      vscode.commands.registerCommand(id, async (...args: never[]) => {
        try {
          return await handler(...args);
        } catch (error) {
          if ((error as { code?: string }).code === 'CANCELLED') return undefined;
          this.log.error(
            `${id} failed: ${error instanceof Error && !isUserError(asUserFacing(error)) ? (error.stack ?? describeError(error)) : describeError(error)}`,
          );
          void showError(say`BERT: ${long(describeError(error))}`);
          return undefined;
        }
      }),
    );
  }
}

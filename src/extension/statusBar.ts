import * as vscode from 'vscode';
import { say, setStatusBarItem, type Message } from './display/ui';

/** What the single BERT status bar item shows. `text` is short (it sits in the status bar); both may hold data. */
export type StatusBarState =
  | { kind: 'idle' }
  | { kind: 'busy'; text: Message; tooltip?: Message }
  | { kind: 'done'; text: Message; tooltip?: Message }
  | { kind: 'error'; text: Message; tooltip?: Message };

const IDLE_TEXT = say`$(beaker) BERT`;
const IDLE_TOOLTIP = say`BERT Fine-tune: no training running. Click to open the training dashboard.`;
const RESTRICTED_TOOLTIP = say`BERT Fine-tune in Restricted Mode: classifying with a model from your user settings works; training and the dashboards wait until you trust the workspace.`;

/** The extension's one status bar item; a click opens the training dashboard. */
export class TrainingStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private current: StatusBarState = { kind: 'idle' };

  constructor() {
    this.item = vscode.window.createStatusBarItem('bert.status', vscode.StatusBarAlignment.Left, 0);
    this.item.name = 'BERT Fine-tune';
    this.item.command = 'bert.openDashboard';
    this.set({ kind: 'idle' });
    this.item.show();
    this.trust = vscode.workspace.onDidGrantWorkspaceTrust(() => this.set(this.current));
  }

  private readonly trust: vscode.Disposable;

  set(state: StatusBarState): void {
    this.current = state;
    if (state.kind === 'idle') {
      setStatusBarItem(this.item, IDLE_TEXT, vscode.workspace.isTrusted ? IDLE_TOOLTIP : RESTRICTED_TOOLTIP);
      return;
    }
    const text =
      state.kind === 'busy'
        ? say`$(sync~spin) BERT: ${state.text}`
        : state.kind === 'done'
          ? say`$(check) BERT: ${state.text}`
          : say`$(error) BERT: ${state.text}`;
    setStatusBarItem(this.item, text, state.tooltip ?? state.text);
  }

  get state(): StatusBarState {
    return this.current;
  }

  /** The text as rendered in the status bar (codicon syntax included). */
  get text(): string {
    return this.item.text;
  }

  /** The tooltip as rendered. */
  get tooltip(): string {
    return typeof this.item.tooltip === 'string' ? this.item.tooltip : (this.item.tooltip?.value ?? '');
  }

  dispose(): void {
    this.trust.dispose();
    this.item.dispose();
  }
}

import * as vscode from 'vscode';

/** What the single BERT status bar item shows. `text` is short (it sits in the status bar). */
export type StatusBarState =
  | { kind: 'idle' }
  | { kind: 'busy'; text: string; tooltip?: string }
  | { kind: 'done'; text: string; tooltip?: string }
  | { kind: 'error'; text: string; tooltip?: string };

const ICONS = { busy: '$(sync~spin)', done: '$(check)', error: '$(error)' } as const;
const IDLE_TEXT = '$(beaker) BERT';
const IDLE_TOOLTIP = 'BERT Fine-tune: no training running. Click to open the training dashboard.';

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
  }

  set(state: StatusBarState): void {
    this.current = state;
    if (state.kind === 'idle') {
      this.item.text = IDLE_TEXT;
      this.item.tooltip = IDLE_TOOLTIP;
    } else {
      this.item.text = `${ICONS[state.kind]} BERT: ${state.text}`;
      this.item.tooltip = state.tooltip ?? state.text;
    }
  }

  get state(): StatusBarState {
    return this.current;
  }

  /** The text as rendered in the status bar (codicon syntax included). */
  get text(): string {
    return this.item.text;
  }

  dispose(): void {
    this.item.dispose();
  }
}

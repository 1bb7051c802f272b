import * as vscode from 'vscode';
import { say, setStatusBarItem, type Message } from './display/ui';

/** What the single BERT status bar item shows. `text` is short (it sits in the status bar); both may hold data. */
export type StatusBarState =
  | { kind: 'idle' }
  | { kind: 'busy'; text: Message; tooltip?: Message }
  | { kind: 'done'; text: Message; tooltip?: Message }
  | { kind: 'error'; text: Message; tooltip?: Message };

const IDLE_TEXT = say`$(beaker) BERT`;
const RESTRICTED_NOTE = say`In Restricted Mode classifying with a model from your user settings works; training and the dashboards wait until you trust the workspace.`;

/**
 * The extension's one status bar item. It is there only while it has something to say, as the best-kept extensions
 * do: a run is training (or has just ended) or a model is selected for classifying. A window with neither shows no
 * item. A click opens the training dashboard, or, with only a model, lets the user pick another.
 */
export class TrainingStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private current: StatusBarState = { kind: 'idle' };
  /** The name of the model Classify Selection and the hover use, if one is selected. */
  private model: string | undefined;

  constructor() {
    this.item = vscode.window.createStatusBarItem('bert.status', vscode.StatusBarAlignment.Left, 0);
    this.item.name = 'BERT Fine-tune';
    this.set({ kind: 'idle' });
    this.trust = vscode.workspace.onDidGrantWorkspaceTrust(() => this.set(this.current));
  }

  private readonly trust: vscode.Disposable;

  /** The selected model's name (data: shown through the display helper), or undefined when none is selected. */
  setModel(name: string | undefined): void {
    this.model = name;
    this.set(this.current);
  }

  /** Whether the item is in the status bar now. */
  get visible(): boolean {
    return this.current.kind !== 'idle' || this.model !== undefined;
  }

  set(state: StatusBarState): void {
    this.current = state;
    if (this.visible) this.item.show();
    else this.item.hide();
    this.item.command = state.kind === 'idle' ? 'bert.selectModel' : 'bert.openDashboard';
    if (state.kind === 'idle') {
      const tooltip =
        this.model === undefined
          ? say`BERT Fine-tune: no training running.`
          : say`BERT Fine-tune: classifying with ${this.model}. Click to choose another model.`;
      setStatusBarItem(this.item, IDLE_TEXT, vscode.workspace.isTrusted ? tooltip : say`${tooltip} ${RESTRICTED_NOTE}`);
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

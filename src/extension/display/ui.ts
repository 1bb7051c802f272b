/**
 * The extension's only door to VS Code's display APIs (notifications, progress, quick picks, input boxes, markdown,
 * the status bar, tree items, panel titles). Each takes `Message`s (./text.ts), never raw strings, and renders them
 * for its surface, so data shown anywhere in the editor is inert. A unit test checks that no other file calls those
 * APIs directly.
 */
import * as vscode from 'vscode';
import { asLabel, asMarkdown, asPlain, setTranslator, translated, type Message } from './text';

export { say, long, snippet, join, commandLink, asLog, Message } from './text';

/**
 * Every message is translated by its template through VS Code's l10n (package.json `l10n`: l10n/bundle.l10n.json and
 * the bundle.l10n.<locale>.json beside it). Each placeholder is passed as itself, so a translation hands them back in
 * its own order and ./text.ts fills in the values.
 */
setTranslator((template) => {
  const count = Math.max(-1, ...[...template.matchAll(/\{(\d+)\}/g)].map((m) => Number(m[1]))) + 1;
  return vscode.l10n.t(template, ...Array.from({ length: count }, (_, i) => `{${i}}`));
});

type Severity = 'info' | 'warning' | 'error';

export interface NotifyOptions {
  /** A modal dialog instead of a toast. */
  modal?: boolean;
  /** The dialog's second paragraph (modal only). */
  detail?: Message;
}

/**
 * A notification (or a modal dialog) with our own button titles; resolves to the button chosen, as given (the user
 * sees it translated).
 */
export async function notify<A extends string>(
  severity: Severity,
  message: Message,
  options: NotifyOptions = {},
  ...actions: A[]
): Promise<A | undefined> {
  const text = asPlain(message);
  const opts: vscode.MessageOptions = {
    modal: options.modal,
    ...(options.detail ? { detail: asPlain(options.detail) } : {}),
  };
  const buttons = actions.map(translated);
  const chosen = await (severity === 'info'
    ? vscode.window.showInformationMessage(text, opts, ...buttons)
    : severity === 'warning'
      ? vscode.window.showWarningMessage(text, opts, ...buttons)
      : vscode.window.showErrorMessage(text, opts, ...buttons));
  return chosen === undefined ? undefined : actions[buttons.indexOf(chosen)];
}

export const info = <A extends string>(message: Message, ...actions: A[]) => notify('info', message, {}, ...actions);
export const warn = <A extends string>(message: Message, ...actions: A[]) => notify('warning', message, {}, ...actions);
export const error = <A extends string>(message: Message, ...actions: A[]) => notify('error', message, {}, ...actions);

export interface ProgressUpdate {
  message?: Message;
  increment?: number;
}

export interface ProgressOptions {
  location: vscode.ProgressLocation;
  title: Message;
  cancellable?: boolean;
}

/** vscode.window.withProgress with a Message title and Message updates. */
export function withProgress<R>(
  options: ProgressOptions,
  task: (report: (update: ProgressUpdate) => void, token: vscode.CancellationToken) => Thenable<R>,
): Thenable<R> {
  // In the status bar (window progress) icons are drawn; in a notification they are not.
  const render = options.location === vscode.ProgressLocation.Window ? asLabel : asPlain;
  return vscode.window.withProgress(
    { location: options.location, title: render(options.title), cancellable: options.cancellable },
    (progress, token) =>
      task((u) => progress.report({ increment: u.increment, message: u.message && render(u.message) }), token),
  );
}

/** A quick-pick item: what it shows (Messages) and the value it stands for. */
export interface PickItem<T> {
  label: Message;
  description?: Message;
  detail?: Message;
  value: T;
  picked?: boolean;
  /** A separator line titled `label` (its value is never returned). */
  separator?: boolean;
}

export interface PickOptions {
  title: Message;
  placeHolder?: Message;
  ignoreFocusOut?: boolean;
}

/** vscode.window.showQuickPick over PickItems; resolves to the item chosen. */
export async function pick<T>(items: readonly PickItem<T>[], options: PickOptions): Promise<PickItem<T> | undefined> {
  type Shown = vscode.QuickPickItem & { item: PickItem<T> };
  const shown: Shown[] = items.map((item) => ({
    item,
    label: asLabel(item.label),
    description: item.description && asLabel(item.description),
    detail: item.detail && asLabel(item.detail),
    picked: item.picked,
    ...(item.separator ? { kind: vscode.QuickPickItemKind.Separator } : {}),
  }));
  const chosen = await vscode.window.showQuickPick(shown, {
    title: asLabel(options.title),
    placeHolder: options.placeHolder && asLabel(options.placeHolder),
    ignoreFocusOut: options.ignoreFocusOut,
  });
  return chosen?.item;
}

export interface InputOptions {
  title: Message;
  prompt?: Message;
  placeHolder?: Message;
  /** The initial text of the box: editable text, never rendered. */
  value?: string;
  ignoreFocusOut?: boolean;
  /** Hide what is typed (a secret). */
  password?: boolean;
  /** A reason the text is not accepted, or undefined. */
  validate?(value: string): Message | undefined;
}

export function input(options: InputOptions): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    title: asLabel(options.title),
    prompt: options.prompt && asLabel(options.prompt),
    placeHolder: options.placeHolder && asLabel(options.placeHolder),
    value: options.value,
    ignoreFocusOut: options.ignoreFocusOut,
    password: options.password,
    validateInput:
      options.validate &&
      ((v) => {
        const why = options.validate?.(v);
        return why && asLabel(why);
      }),
  });
}

/**
 * Markdown for a hover or tooltip: data escaped, no HTML, no icons; links only to our own commands in `commands`
 * (the message's commandLink values).
 */
export function markdown(message: Message, commands: readonly string[] = []): vscode.MarkdownString {
  const md = new vscode.MarkdownString(asMarkdown(message), false);
  md.supportHtml = false;
  md.isTrusted = commands.length > 0 ? { enabledCommands: [...commands] } : false;
  return md;
}

/** The status bar item's text (ours, with icons) and tooltip. */
export function setStatusBarItem(item: vscode.StatusBarItem, text: Message, tooltip: Message): void {
  item.text = asLabel(text);
  item.tooltip = asPlain(tooltip);
  // A screen reader reads the text without its icon syntax, then the tooltip.
  const spoken = asPlain(text)
    .replace(/\$\([\w~-]+\)\s*/g, '')
    .trim();
  item.accessibilityInformation = { label: `${spoken}. ${asPlain(tooltip)}`, role: 'button' };
}

/** A tree item whose label and description may hold data; the tooltip is markdown. */
export function treeItem(
  label: Message,
  options: { description?: Message; tooltip?: Message; collapsible?: 'none' | 'collapsed' | 'expanded' },
): vscode.TreeItem {
  const state = {
    none: vscode.TreeItemCollapsibleState.None,
    collapsed: vscode.TreeItemCollapsibleState.Collapsed,
    expanded: vscode.TreeItemCollapsibleState.Expanded,
  }[options.collapsible ?? 'none'];
  const item = new vscode.TreeItem(asPlain(label), state);
  if (options.description) item.description = asPlain(options.description);
  if (options.tooltip) item.tooltip = markdown(options.tooltip);
  return item;
}

/** A tree view's message (the line above its items), or none. */
export function setViewMessage(view: vscode.TreeView<unknown>, message: Message | undefined): void {
  view.message = message && asPlain(message);
}

/** A webview panel titled with a Message. */
export function createWebviewPanel(
  viewType: string,
  title: Message,
  column: vscode.ViewColumn,
  options: vscode.WebviewPanelOptions & vscode.WebviewOptions,
): vscode.WebviewPanel {
  return vscode.window.createWebviewPanel(viewType, asPlain(title), column, options);
}

/** Renders a Message for a panel title set later (a deserialized panel). */
export function plainTitle(title: Message): string {
  return asPlain(title);
}

/** A decoration style: theme colours (package.json `colors`) for the background and border; no text of its own. */
export function decorationType(
  colors: { background: string; border?: string },
  after?: { color: string; fontStyle?: string },
): vscode.TextEditorDecorationType {
  return vscode.window.createTextEditorDecorationType({
    backgroundColor: new vscode.ThemeColor(colors.background),
    ...(colors.border ? { border: '1px solid', borderColor: new vscode.ThemeColor(colors.border) } : {}),
    borderRadius: '2px',
    ...(after
      ? { after: { color: new vscode.ThemeColor(after.color), fontStyle: after.fontStyle, margin: '0 0 0 1em' } }
      : {}),
    rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
  });
}

/** A decorated range: its hover (markdown, data escaped) and text drawn after it (plain, data made visible). */
export interface Decoration {
  range: vscode.Range;
  hover?: Message;
  after?: Message;
}

/** Puts `decorations` of `type` on `editor` (replacing that type's earlier ones there). */
export function decorate(
  editor: vscode.TextEditor,
  type: vscode.TextEditorDecorationType,
  decorations: readonly Decoration[],
): void {
  editor.setDecorations(
    type,
    decorations.map((d) => ({
      range: d.range,
      ...(d.hover ? { hoverMessage: markdown(d.hover) } : {}),
      ...(d.after ? { renderOptions: { after: { contentText: asPlain(d.after) } } } : {}),
    })),
  );
}

/**
 * Untrusted text made inert for display. Labels, texts, column and file names, a model's id2label, and the error
 * messages that quote them come from whoever wrote the dataset or the model, and VS Code gives meaning to some
 * syntax in what it shows (measured in VS Code 1.100's workbench):
 *   - notifications, modal dialogs' messages, quick-input prompts and quick-pick descriptions turn
 *     `[label](command:… | https://… | file:…)` into a live link, and a click runs the command;
 *   - quick-pick items, input prompts and the status bar draw `$(name)` as an icon;
 *   - markdown (hovers, tooltips) has links, autolinked URLs and e-mail addresses, images, HTML and entities;
 *   - everywhere, bidirectional controls reorder text (a label can spoof what it says) and zero-width characters
 *     hide in it.
 * A `Message` is built with the `say` tag: its literal parts are ours (they may hold icons or markdown), every
 * interpolated value is data, and each surface renders it with its own escaping (`asPlain`, `asLabel`,
 * `asMarkdown`). Pure (no `vscode`): the dashboard webview uses `visible` too, and unit tests run every payload
 * through every renderer. The only caller of VS Code's display APIs is ./ui.ts.
 */
import { escapeMarkdown, visible } from '../../core/util/inert-text';

export { visible };

/** Document text for a one-line display: whitespace runs (newlines too) become one space, then `visible`. */
export function oneLine(value: string): string {
  return visible(value.replace(/\s+/g, ' ').trim());
}

/** At most `max` characters (code points), with an ellipsis when cut. */
export function cut(value: string, max: number): string {
  const points = [...value];
  return points.length <= max ? value : `${points.slice(0, Math.max(1, max - 1)).join('')}…`;
}

/** Link syntax `[label](target)` is broken up (`[label] (target)`), so no surface makes it a link. */
function breakLinks(value: string): string {
  return value.replace(/\]\(/g, '] (');
}

/** `$(name)` is drawn as an icon where icons are supported; VS Code's own escape shows it as written. */
function escapeIcons(value: string): string {
  return value.replace(/\$\(/g, '\\$(');
}

/** Default cap on one value: enough for a label or a file name; longer values are cut (the log has them whole). */
export const DEFAULT_MAX = 120;

/** A value to show, and how: `max` characters at most; `oneLine` for document text (whitespace collapsed). */
export interface Shown {
  readonly text: string;
  readonly max: number;
  readonly oneLine: boolean;
}

/** A link to one of our commands: markdown shows it as a link, other surfaces as its label. */
export interface CommandLink {
  readonly label: string;
  readonly command: string;
  readonly args: readonly unknown[];
}

/** What may be interpolated: data (strings), numbers, nested messages, a value with its own limits, a command link. */
export type Value = string | number | Shown | Message | CommandLink;

/**
 * Text of ours with data in it; render it for a surface with asPlain, asLabel, asMarkdown or asLog. Recognised by
 * shape, not `instanceof`: the extension bundle and code compiled apart (tests) each have their own copy of the class.
 */
export class Message {
  /** Only `say` builds messages: a raw string can never pass for a message. */
  private constructor(
    readonly parts: readonly string[],
    readonly values: readonly Value[],
  ) {}

  /** @internal */
  static build(parts: readonly string[], values: readonly Value[]): Message {
    return new Message(parts, values);
  }
}

/** say`BERT: Training ${run} failed: ${long(error)}` — the literal parts are ours, every value is data. */
export function say(parts: TemplateStringsArray, ...values: Value[]): Message {
  return Message.build([...parts], values);
}

/** A long value, such as an error message: cut at `max` characters (default 600) instead of DEFAULT_MAX. */
export function long(text: string, max = 600): Shown {
  return { text, max, oneLine: false };
}

/** Document text (a selection, an example): whitespace collapsed to one line, cut at `max` characters. */
export function snippet(text: string, max = 80): Shown {
  return { text, max, oneLine: true };
}

/** A link to our `command` with `args` (a markdown MarkdownString must enable that command: ui.markdown). */
export function commandLink(label: string, command: string, args: readonly unknown[]): CommandLink {
  return { label, command, args };
}

/**
 * A `command:` link target whose arguments survive any path: encodeURIComponent leaves `(`, `)`, `'`, `!`, `*` and
 * `~` alone, and a `)` would end the markdown link.
 */
export function commandUri(command: string, args: readonly unknown[]): string {
  const encoded = encodeURIComponent(JSON.stringify(args)).replace(
    /[()'!*~]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `command:${command}?${encoded}`;
}

/** `values` joined by `separator` (ours): e.g. a list of labels. */
export function join(values: readonly Value[], separator: string): Message {
  if (values.length === 0) return say``;
  return Message.build(['', ...values.slice(1).map(() => separator), ''], values);
}

type Escape = (value: string) => string;

interface Renderer {
  escape: Escape;
  /** Whether values are cut at their `max` (not in the log). */
  limit: boolean;
  /** Whether command links are live (markdown). */
  links: boolean;
}

/** A message's template: its literal parts joined with {0}, {1}… for its values (the key of its translation). */
export function templateOf(parts: readonly string[]): string {
  return parts.reduce((joined, part, i) => (i === 0 ? part : `${joined}{${i - 1}}${part}`), '');
}

/**
 * How templates are translated: as they are until ./ui.ts installs vscode.l10n.t (this file stays pure). The
 * translations live in l10n/bundle.*.json, keyed by template (scripts/l10n.mjs); one may reorder the placeholders.
 */
let translateTemplate: (template: string) => string = (template) => template;

export function setTranslator(translate: (template: string) => string): void {
  translateTemplate = translate;
}

/** Text of ours with no values, such as a button title, in the user's language. */
export function translated(text: string): string {
  return translateTemplate(text);
}

function render(message: Message, r: Renderer): string {
  // Values are inserted after translation, in one pass: text in a value is never read as a placeholder.
  return translateTemplate(templateOf(message.parts)).replace(/\{(\d+)\}/g, (placeholder, index: string) => {
    const value = message.values[Number(index)];
    return value === undefined ? placeholder : renderValue(value, r);
  });
}

function isMessage(value: Value): value is Message {
  return (
    typeof value === 'object' && Array.isArray((value as Message).parts) && Array.isArray((value as Message).values)
  );
}

function renderValue(value: Value, r: Renderer): string {
  const { escape, limit } = r;
  if (isMessage(value)) return render(value, r);
  if (typeof value === 'number') return String(value);
  if (typeof value === 'object' && 'command' in value)
    return r.links ? `[${escape(value.label)}](${commandUri(value.command, value.args)})` : escape(value.label);
  const shown = typeof value === 'string' ? { text: value, max: DEFAULT_MAX, oneLine: false } : value;
  const text = shown.oneLine ? oneLine(shown.text) : visible(shown.text);
  return escape(limit ? cut(text, shown.max) : text);
}

/** Notifications, progress, modal dialogs, tree items, panel titles: no link syntax. */
export function asPlain(message: Message): string {
  return render(message, { escape: breakLinks, limit: true, links: false });
}

/** Quick-pick items, input prompts and validation messages, the status bar: no links, no icons from data. */
export function asLabel(message: Message): string {
  return render(message, { escape: (v) => escapeIcons(breakLinks(v)), limit: true, links: false });
}

/** Markdown (hovers, tooltips): data is text only. Literal parts are markdown of ours. */
export function asMarkdown(message: Message): string {
  return render(message, { escape: escapeMarkdown, limit: true, links: true });
}

/** The log: every value whole, with invisible characters shown (a newline in data cannot fake a log line). */
export function asLog(message: Message): string {
  return render(message, { escape: (v) => v, limit: false, links: false });
}

/**
 * The one way the dashboard builds DOM: every string becomes a text node or an attribute value, never markup, so a
 * dataset label like `<img src=x onerror=alert(1)>` shows as text. Nothing in webview/ uses innerHTML. Strings pass
 * through `visible` too: a bidi override or a zero-width character in a label shows as an escape, not as effect.
 */
import { visible } from '../src/extension/display/text';

const shown = (s: string) => visible(s, { keepLineBreaks: true });

export type Child = Node | string | number | null | undefined | false;

export interface Attrs {
  class?: string;
  title?: string;
  [attribute: string]: string | number | boolean | undefined | ((event: Event) => void);
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs,
  ...children: Child[]
): HTMLElementTagNameMap[K];
export function h(tag: string, attrs?: Attrs, ...children: Child[]): HTMLElement;
export function h(tag: string, attrs: Attrs = {}, ...children: Child[]): HTMLElement {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, ''), value);
    else element.setAttribute(name, value === true ? '' : shown(String(value)));
  }
  append(element, children);
  return element;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(
      typeof child === 'string' || typeof child === 'number' ? document.createTextNode(shown(String(child))) : child,
    );
  }
}

export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/**
 * Runs `rebuild`, which replaces elements under `root`; when that took away the focused element, focus goes to its
 * replacement: the element with the same `data-focus-key` (keys are ours, never data). The sections are rebuilt on
 * every update, and without this a keyboard user on Stop or in the confusion matrix would lose their place.
 */
export function keepingFocus(root: Element, rebuild: () => void): void {
  const active = document.activeElement;
  const key = active instanceof HTMLElement && root.contains(active) ? active.dataset.focusKey : undefined;
  rebuild();
  if (key === undefined || active?.isConnected) return;
  const next = root.querySelector<HTMLElement>(`[data-focus-key="${CSS.escape(key)}"]`);
  // A button that became disabled is no place for focus (it shows no focus ring and does nothing).
  if (next && !next.hasAttribute('disabled')) next.focus({ preventScroll: true });
}

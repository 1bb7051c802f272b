/**
 * The dashboard's translations (#18). The webview has no vscode.l10n: the extension hands it the current locale's
 * bundle (`vscode.l10n.bundle`, undefined for English) in the page's `data-l10n` attribute, and the webview's text
 * goes through `t`, keyed by its English template as vscode.l10n.t keys it ({0}, {1}… for values; a translation may
 * reorder them). scripts/l10n.mjs collects the templates passed to `t`, `tParts` and `translate` (string literals
 * only) into l10n/bundle.l10n.json.
 * Pure: the webview, the extension and the unit tests share it.
 */

/** English template → translated template. */
export type Translations = Readonly<Record<string, string>>;

let current: Translations | undefined;

/** Installs the translations `t` uses from now on; undefined: the templates as they are (English). */
export function useTranslations(translations: Translations | undefined): void {
  current = translations;
}

/** The page's `data-l10n` attribute read as a bundle: its string entries; undefined when it is no JSON object. */
export function parseTranslations(json: string | undefined): Translations | undefined {
  let value: unknown;
  try {
    value = json === undefined ? undefined : JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const translations = new Map<string, string>();
  for (const [template, text] of Object.entries(value)) if (typeof text === 'string') translations.set(template, text);
  return Object.fromEntries(translations);
}

function translated(translations: Translations | undefined, template: string): string {
  if (translations === undefined || !Object.prototype.hasOwnProperty.call(translations, template)) return template;
  const text = translations[template];
  return typeof text === 'string' ? text : template;
}

/**
 * The translated template cut at its placeholders, each replaced by its value: one pass over the template, so a value
 * that contains `{1}` is never read as a placeholder. A placeholder without a value stays as written.
 */
export function translateParts<V>(
  translations: Translations | undefined,
  template: string,
  values: readonly V[],
): (string | V)[] {
  const text = translated(translations, template);
  const parts: (string | V)[] = [];
  let last = 0;
  for (const match of text.matchAll(/\{(\d+)\}/g)) {
    const index = Number(match[1]);
    if (index >= values.length) continue;
    parts.push(text.slice(last, match.index), values[index]);
    last = match.index + match[0].length;
  }
  parts.push(text.slice(last));
  return parts.filter((part) => part !== '');
}

/** As `t`, with the given translations rather than the installed ones (the extension host, where `t` stays English). */
export function translate(
  translations: Translations | undefined,
  template: string,
  ...values: (string | number)[]
): string {
  return translateParts(translations, template, values).map(String).join('');
}

/** t('Step {0} of {1}', 3, 10): the template translated by the installed bundle, values in their places. */
export function t(template: string, ...values: (string | number)[]): string {
  return translateParts(current, template, values).map(String).join('');
}

/** As `t`, keeping the values as they are (DOM nodes, say): the parts to put in an element in order. */
export function tParts<V>(template: string, ...values: V[]): (string | V)[] {
  return translateParts(current, template, values);
}

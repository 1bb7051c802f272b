/**
 * The dashboard's HTML shell: a strict Content-Security-Policy with a fresh nonce per load, only our bundle's files,
 * and nothing from the dataset (the webview script renders data with textContent).
 */
import { randomBytes } from 'node:crypto';
import { translate, type Translations } from '../protocol/l10n';

/** 128 random bits, base64: a new one for every load of the webview. */
export function createNonce(): string {
  return randomBytes(16).toString('base64');
}

/**
 * `cspSource` is `webview.cspSource`. Scripts run only with the nonce; styles come from our files or from the
 * elements library's constructed stylesheets (not subject to style-src); no network, no frames, no forms.
 */
export function buildCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
    "connect-src 'none'",
    "frame-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ');
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** For the few strings the shell itself interpolates (the title); safe in text and in quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

export interface DashboardHtmlOptions {
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
  title: string;
  /** The current locale's bundle (`vscode.l10n.bundle`), for the webview's `t`; undefined for English. */
  translations?: Translations;
  /** The page's language (`vscode.env.language`) when it has translations. */
  lang?: string;
}

/**
 * The translations travel as JSON in a data attribute of #app, escaped like any attribute value: data, not script
 * (the CSP allows no inline script, and an attribute needs no exception).
 */
export function buildDashboardHtml(o: DashboardHtmlOptions): string {
  const translations = o.translations ? ` data-l10n="${escapeHtml(JSON.stringify(o.translations))}"` : '';
  const loading = translate(o.translations, 'Loading the dashboard…');
  return `<!DOCTYPE html>
<html lang="${escapeHtml(o.translations && o.lang ? o.lang : 'en')}">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(buildCsp(o.cspSource, o.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeHtml(o.styleUri)}">
<title>${escapeHtml(o.title)}</title>
</head>
<body>
<div id="app" data-nonce="${escapeHtml(o.nonce)}"${translations}><p class="muted">${escapeHtml(loading)}</p></div>
<script nonce="${escapeHtml(o.nonce)}" src="${escapeHtml(o.scriptUri)}"></script>
</body>
</html>`;
}

/**
 * The dashboard's HTML shell: a strict Content-Security-Policy with a fresh nonce per load, only our bundle's files,
 * and nothing from the dataset (the webview script renders data with textContent).
 */
import { randomBytes } from 'node:crypto';

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
}

export function buildDashboardHtml(o: DashboardHtmlOptions): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(buildCsp(o.cspSource, o.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeHtml(o.styleUri)}">
<title>${escapeHtml(o.title)}</title>
</head>
<body>
<div id="app" data-nonce="${escapeHtml(o.nonce)}"><p class="muted">Loading the dashboard…</p></div>
<script nonce="${escapeHtml(o.nonce)}" src="${escapeHtml(o.scriptUri)}"></script>
</body>
</html>`;
}

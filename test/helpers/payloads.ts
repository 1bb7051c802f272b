/**
 * The injection battery's payloads: strings a dataset, a file name or a model's config.json could hold, each trying
 * to make the editor act (a link that runs a command, a request to a server, markup, an icon, reordered text). `origin`
 * is a loopback server's `http://127.0.0.1:PORT`: a payload that managed to load or follow a URL would hit it there.
 */
export interface Payload {
  /** Short name for reports. */
  name: string;
  text: string;
  /** Usable as a dataset label (the readers refuse control characters in labels, so not every payload is). */
  label: boolean;
}

/** Whether a payload can be a file or folder name on Linux, where the tests run (no "/", no NUL, not too long). */
export function isPosixFileName(text: string): boolean {
  return !text.includes('/') && !text.includes('\u0000') && Buffer.byteLength(text) <= 200;
}

const LONG = `long-${'x'.repeat(4995)}`;

export function payloads(origin: string): Payload[] {
  const p = (name: string, text: string, label = true): Payload => ({ name, text, label });
  return [
    p('script tag', `<script>fetch('${origin}/script')</script>`),
    p('img onerror', `<img src="${origin}/img" onerror="fetch('${origin}/onerror')">`),
    p('svg onload', `<svg onload="fetch('${origin}/svg')"></svg>`),
    p('iframe', `<iframe src="${origin}/iframe"></iframe>`),
    p('attribute break-out', `"><img src="${origin}/attr">`),
    p('single-quote break-out', `' onmouseover='fetch("${origin}/quote")' x='`),
    p('javascript url', 'javascript:fetch(1)'),
    p('markdown command link', '[spam](command:workbench.action.terminal.new)'),
    p(
      'markdown command link with args',
      `[ham](command:workbench.action.terminal.new?${encodeURIComponent(JSON.stringify([{ shellPath: '/usr/bin/curl', shellArgs: [`${origin}/terminal`] }]))})`,
    ),
    p('markdown http link', `[click](${origin}/link)`),
    p('markdown file link', '[f](file:///etc/passwd)'),
    p('markdown image', `![x](${origin}/md-img)`),
    p('html anchor', `<a href="${origin}/anchor">a</a>`),
    p('bare url', `${origin}/bare`),
    p('www autolink', 'www.example.invalid/path'),
    p('email autolink', 'someone@example.invalid'),
    p('codicon', '$(zap) urgent'),
    p('spinning codicon', '$(sync~spin)'),
    p('escaped codicon', '\\$(zap)'),
    p('template text', '${process.env.HOME} {{constructor.constructor("return 1")()}}'),
    p('html entities', '&lt;b&gt;bold&lt;/b&gt; &#x3C;img&#x3E; &amp;'),
    p('markdown emphasis', '**bold** _it_ `code` # heading | table |'),
    p('bidi override', '\u202Egnp.exe'),
    p('bidi isolate', 'abc\u2066\u202Edef\u2069ghi'),
    p('zero width', 'spam\u200B\u2060\uFEFF'),
    p('newline', 'line one\nline two', false),
    p('carriage return and NUL', 'a\rb\u0000c', false),
    p('5000 characters', LONG),
    p('__proto__', '__proto__'),
    p('constructor', 'constructor'),
    p('toString', 'toString'),
    p('hasOwnProperty', 'hasOwnProperty'),
    p('file name with link syntax', '[run](command:bert.fineTune) $(zap)'),
  ];
}

/** VS Code 1.100's link syntax in notifications, quick input and dialogs (vs/base/common/linkedText.ts). */
export const VSCODE_LINK = /\[([^\]]+)\]\(((?:https?:\/\/|command:|file:)[^)\s]+)(?: (["'])(.+?)(\3))?\)/gi;

/** VS Code's icon syntax (vs/base/browser/ui/iconLabel/iconLabels.ts): drawn unless the first group (a backslash) matched. */
export const VSCODE_ICON = /(\\)?\$\(([A-Za-z0-9-]+(?:~[A-Za-z]+)?)\)/g;

/** Characters that must never reach the screen as themselves (they reorder or hide text). */
export const SPOOFING =
  // eslint-disable-next-line no-control-regex -- matching control characters is this pattern's purpose
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2069\ufeff]/;

/**
 * Untrusted text (labels, file and column names, a downloaded model's id2label) made inert where it is shown: the
 * editor's surfaces (src/extension/display/text.ts) and the model card (core/model/model-card.ts) both use these.
 */

/** Characters that change or hide what text shows: C0/C1 controls, bidi controls, zero-width and other invisibles. */
const INVISIBLE =
  // eslint-disable-next-line no-control-regex, no-misleading-character-class -- matching these characters (lone surrogates too) is the point
  /[\u0000-\u001f\u007f-\u009f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b\u200e\u200f\u2028-\u202e\u2060-\u206f\u3164\ufeff\uffa0\ufff9-\ufffb]|[\udb40][\udc00-\udc7f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const NAMED_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeCodePoint(ch: string): string {
  const named = NAMED_ESCAPES[ch];
  if (named !== undefined) return named;
  const cp = ch.codePointAt(0) ?? 0;
  // A lone surrogate is one UTF-16 unit; a tag character (U+E0000 block) is a pair.
  return cp > 0xffff ? `\\u{${cp.toString(16).toUpperCase()}}` : `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Invisible and control characters written out as escapes (`\u202E`, `\n`), so that what shows is what is there.
 * `keepLineBreaks` leaves newlines and tabs alone, for surfaces that show them as whitespace (the webview).
 */
export function visible(value: string, options: { keepLineBreaks?: boolean } = {}): string {
  return value.replace(INVISIBLE, (ch) =>
    options.keepLineBreaks && (ch === '\n' || ch === '\t') ? ch : escapeCodePoint(ch),
  );
}

/** Every ASCII punctuation character backslash-escaped (CommonMark allows it for all of them): no markdown syntax,
 * no HTML, no entities, and no autolinks (`http\:\/\/`, `www\.`, `a\@b` match none of marked's autolink rules). */
export function escapeMarkdown(value: string): string {
  return value.replace(/[!-/:-@[-`{-~]/g, (c) => `\\${c}`);
}

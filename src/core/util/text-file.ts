/**
 * Text read from files people edit. Windows editors and PowerShell 5 (`Set-Content -Encoding UTF8`) start UTF-8 files
 * with a byte-order mark, which JSON.parse refuses; line endings may be CRLF (a Windows editor, git's autocrlf).
 */

/** `text` without a leading UTF-8 byte-order mark. */
export function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * How a token of an explanation is written: the CLI and the editor share it. No onnxruntime here (explain.ts loads
 * it), so the extension host may import it.
 */
import type { TokenAttribution } from './explain';

/**
 * A token's text as it stands in the text it came from (`texts[segment]`: a pair's first or second text), else its
 * vocabulary entry (a token with no span).
 */
export function tokenSurface(texts: readonly string[], t: TokenAttribution): string {
  const text = texts[t.segment ?? 0];
  return t.start !== null && t.end !== null && text !== undefined ? text.slice(t.start, t.end) : t.token;
}

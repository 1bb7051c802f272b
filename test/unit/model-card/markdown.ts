/** Reading a model card as the Hub and a markdown renderer do, for the model-card tests. */
import assert from 'node:assert/strict';
import { marked } from 'marked';
import { parse as parseYaml } from 'yaml';

/** The front matter's text, as the Hub finds it: between a first line `---` and the next line `---`. */
export function frontMatterText(card: string): string {
  const m = /^---\n([\s\S]*?)\n---\n/.exec(card);
  assert.ok(m, 'the card starts with YAML front matter');
  return m[1];
}

/** The front matter parsed by a strict YAML 1.2 parser (duplicate keys refused). */
export function frontMatter(card: string): Record<string, unknown> {
  return parseYaml(frontMatterText(card), { strict: true, uniqueKeys: true }) as Record<string, unknown>;
}

/** The markdown after the front matter. */
export const bodyOf = (card: string): string => card.slice(frontMatterText(card).length + '---\n\n---\n'.length);

export const toHtml = (markdown: string): string => marked.parse(markdown, { gfm: true, async: false });

/** Every element marked makes of `markdown`, as `tag attributes`. */
export function elements(markdown: string): string[] {
  return [...toHtml(markdown).matchAll(/<\s*([a-zA-Z][a-zA-Z0-9-]*)([^>]*)>/g)].map((m) =>
    `${m[1].toLowerCase()}${m[2]}`.trim(),
  );
}

/** The text marked shows for `markdown`: tags removed, entities decoded. */
export function shownText(markdown: string): string {
  return toHtml(markdown)
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

/**
 * Special tokens of a converted tokenizer: what tokenizer_config.json names (a string, or an AddedToken object with
 * `content`), over the defaults of the tokenizer family, as tokenizer.json `added_tokens` entries.
 */

export const SPECIAL_TOKEN_ROLES = [
  'bos_token',
  'eos_token',
  'unk_token',
  'sep_token',
  'pad_token',
  'cls_token',
  'mask_token',
] as const;
export type SpecialTokenRole = (typeof SPECIAL_TOKEN_ROLES)[number];

export interface AddedTokenJson {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

/** A token as tokenizer_config.json spells it: "<s>" or {"content": "<s>", "lstrip": true, …}. */
function tokenSpec(value: unknown): { content: string; lstrip: boolean; rstrip: boolean } | undefined {
  if (typeof value === 'string') return { content: value, lstrip: false, rstrip: false };
  if (typeof value === 'object' && value !== null && typeof (value as { content?: unknown }).content === 'string') {
    const v = value as { content: string; lstrip?: unknown; rstrip?: unknown };
    return { content: v.content, lstrip: v.lstrip === true, rstrip: v.rstrip === true };
  }
  return undefined;
}

/** The content of each special token role: the config's value, else the family's default (null: none). */
export function specialTokens(
  config: Record<string, unknown>,
  defaults: Partial<Record<SpecialTokenRole, string>>,
): Map<SpecialTokenRole, { content: string; lstrip: boolean; rstrip: boolean }> {
  const out = new Map<SpecialTokenRole, { content: string; lstrip: boolean; rstrip: boolean }>();
  for (const role of SPECIAL_TOKEN_ROLES) {
    const configured = Object.prototype.hasOwnProperty.call(config, role) ? config[role] : undefined;
    if (configured === null) continue;
    const spec = tokenSpec(configured) ?? tokenSpec(defaults[role]);
    if (spec) out.set(role, spec);
  }
  return out;
}

/**
 * `added_tokens` for these tokens: one already in the model's vocabulary keeps its id, a new one gets `newId`'s
 * (the next id after the vocabulary: it lives in added_tokens only, as HF's tokenizers keeps added tokens).
 */
export function addedTokens(
  tokens: Array<{ content: string; lstrip?: boolean; rstrip?: boolean; special: boolean }>,
  idOf: (content: string) => number | undefined,
  newId: () => number,
): AddedTokenJson[] {
  const byContent = new Map<string, AddedTokenJson>();
  for (const t of tokens) {
    if (byContent.has(t.content)) continue;
    byContent.set(t.content, {
      id: idOf(t.content) ?? newId(),
      content: t.content,
      single_word: false,
      lstrip: t.lstrip === true,
      rstrip: t.rstrip === true,
      normalized: false,
      special: t.special,
    });
  }
  return [...byContent.values()].sort((a, b) => a.id - b.id);
}

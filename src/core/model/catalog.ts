/**
 * The model families a user can choose from, with suggested Hub ids and a one-line "when to pick it": the one table
 * behind `bertft models`, the extension's model step and the message for an unsupported architecture.
 *
 * Parameter counts of the supported families are the encoder's (with BERT's and RoBERTa's pooler), computed from
 * each model's published config.json and rounded; the model cards state bert-base 110M, mBERT 177M, DistilmBERT 134M
 * and RoBERTa-base 125M; GPT-2's 124M (wte, wpe, blocks, ln_f) is the model card's too; DeBERTa-v3-base's 184M is
 * the card's 86M backbone and 98M of embeddings (its relative-position table included). Context is the
 * longest input in tokens (RoBERTa's 514 positions less the padding offset). Licences and languages are those on the
 * Hugging Face model cards (google-bert/*, distilbert/*, FacebookAI/roberta-base, FacebookAI/xlm-roberta-base,
 * google/electra-*, answerdotai/ModernBERT-base, microsoft/deberta-v3-base, openai-community/gpt2), read 2026-12-06.
 */

export interface CatalogModel {
  /** A Hugging Face id or a `random:` size, as `--model` takes it. */
  id: string;
  /** Encoder parameters, e.g. "110M". */
  parameters: string;
  /** Longest input in tokens. */
  context: number;
  languages: string;
  /** As published on the model card; "none" for a random model (nothing is downloaded). */
  license: string;
  /** When to pick it, in one line. */
  pick: string;
}

export interface CatalogFamily {
  /** The family as users know it. */
  name: string;
  /** The config.json model_type values it covers. */
  modelTypes: string[];
  /** Class-name prefixes of its config.json `architectures`, for configs without model_type. */
  architecturePrefixes: string[];
  supported: boolean;
  /** One line on the family as a whole. */
  summary: string;
  models: CatalogModel[];
}

export const MODEL_CATALOG: readonly CatalogFamily[] = [
  {
    name: 'BERT',
    modelTypes: ['bert'],
    architecturePrefixes: ['Bert'],
    supported: true,
    summary: 'the reference encoder; MiniLM and other checkpoints that declare model_type "bert" load too',
    models: [
      {
        id: 'bert-base-uncased',
        parameters: '110M',
        context: 512,
        languages: 'English (uncased)',
        license: 'apache-2.0',
        pick: 'the default for English text when accuracy matters more than speed',
      },
      {
        id: 'google/bert_uncased_L-4_H-256_A-4',
        parameters: '11M',
        context: 512,
        languages: 'English (uncased)',
        license: 'apache-2.0',
        pick: 'BERT-mini: pre-trained yet fast on a CPU; a first try on English data',
      },
      {
        id: 'bert-base-multilingual-cased',
        parameters: '178M',
        context: 512,
        languages: '104 languages (cased)',
        license: 'apache-2.0',
        pick: 'non-English or mixed-language text with a WordPiece vocabulary',
      },
    ],
  },
  {
    name: 'DistilBERT',
    modelTypes: ['distilbert'],
    architecturePrefixes: ['DistilBert'],
    supported: true,
    summary: 'BERT distilled to 6 layers: about twice as fast, a little less accurate',
    models: [
      {
        id: 'distilbert-base-uncased',
        parameters: '66M',
        context: 512,
        languages: 'English (uncased)',
        license: 'apache-2.0',
        pick: 'English text when bert-base is too slow for your CPU',
      },
      {
        id: 'distilbert-base-multilingual-cased',
        parameters: '135M',
        context: 512,
        languages: '104 languages (cased)',
        license: 'apache-2.0',
        pick: 'multilingual text at about half the layers of mBERT',
      },
    ],
  },
  {
    name: 'RoBERTa',
    modelTypes: ['roberta'],
    architecturePrefixes: ['Roberta'],
    supported: true,
    summary: 'BERT pre-trained longer on more text, with a byte-level BPE tokenizer (no unknown characters)',
    models: [
      {
        id: 'roberta-base',
        parameters: '125M',
        context: 512,
        languages: 'English (cased)',
        license: 'mit',
        pick: 'English text with emoji, odd spelling or mixed case; often a little above bert-base',
      },
      {
        id: 'roberta-large',
        parameters: '355M',
        context: 512,
        languages: 'English (cased)',
        license: 'mit',
        pick: 'the most accurate English choice here, if you have a GPU or patience',
      },
    ],
  },
  {
    name: 'XLM-R',
    modelTypes: ['xlm-roberta'],
    architecturePrefixes: ['XLMRoberta'],
    supported: true,
    summary: 'RoBERTa trained on 100 languages, with a SentencePiece tokenizer (read through the RoBERTa family)',
    models: [
      {
        id: 'xlm-roberta-base',
        parameters: '278M',
        context: 512,
        languages: '100 languages',
        license: 'mit',
        pick: 'non-English or mixed-language text; most of its size is the 250k-token vocabulary',
      },
      {
        id: 'xlm-roberta-large',
        parameters: '560M',
        context: 512,
        languages: '100 languages',
        license: 'mit',
        pick: 'the strongest multilingual choice here; needs a GPU in practice',
      },
    ],
  },
  {
    name: 'ELECTRA',
    modelTypes: ['electra'],
    architecturePrefixes: ['Electra'],
    supported: true,
    summary: 'pre-trained as a discriminator: strong for its size',
    models: [
      {
        id: 'google/electra-small-discriminator',
        parameters: '13M',
        context: 512,
        languages: 'English (uncased)',
        license: 'apache-2.0',
        pick: 'the best accuracy per parameter here: small, fast, good on English',
      },
      {
        id: 'google/electra-base-discriminator',
        parameters: '109M',
        context: 512,
        languages: 'English (uncased)',
        license: 'apache-2.0',
        pick: 'English text at bert-base size, usually more accurate',
      },
    ],
  },
  {
    name: 'ModernBERT',
    modelTypes: ['modernbert'],
    architecturePrefixes: ['ModernBert'],
    supported: true,
    summary: 'RoPE, GeGLU, alternating local and global attention; inputs up to 8,192 tokens',
    models: [
      {
        id: 'answerdotai/ModernBERT-base',
        parameters: '149M',
        context: 8192,
        languages: 'English (and code)',
        license: 'apache-2.0',
        pick: 'long English documents (up to 8,192 tokens); 22 layers: more compute per token than bert-base',
      },
    ],
  },
  {
    name: 'GPT-2',
    modelTypes: ['gpt2'],
    architecturePrefixes: ['GPT2'],
    supported: true,
    summary: 'a causal (left-to-right) decoder, classified from its last non-padding token; pads with its eos token',
    models: [
      {
        id: 'openai-community/gpt2',
        parameters: '124M',
        context: 1024,
        languages: 'English',
        license: 'mit',
        pick: 'longer English inputs (1,024 tokens) or a GPT-2 tuned to your domain; encoders are usually more accurate',
      },
    ],
  },
  {
    name: 'random',
    modelTypes: [],
    architecturePrefixes: [],
    supported: true,
    summary: 'a BERT with random weights and the bert-base-uncased tokenizer, trained from scratch on your data',
    models: [
      {
        id: 'random:tiny',
        parameters: '2.1M',
        context: 512,
        languages: 'English vocabulary',
        license: 'none',
        pick: 'works offline in seconds; fine for plain topics, weak on subtle text',
      },
      {
        id: 'random:mini',
        parameters: '11M',
        context: 512,
        languages: 'English vocabulary',
        license: 'none',
        pick: 'offline, for larger datasets (tens of thousands of rows)',
      },
      {
        id: 'random:small',
        parameters: '29M',
        context: 512,
        languages: 'English vocabulary',
        license: 'none',
        pick: 'offline, for large datasets; a pre-trained model usually beats it',
      },
      {
        id: 'random:base',
        parameters: '110M',
        context: 512,
        languages: 'English vocabulary',
        license: 'none',
        pick: 'bert-base shape from scratch: only with a very large dataset',
      },
    ],
  },
  {
    name: 'DeBERTa-v3',
    modelTypes: ['deberta-v2'],
    architecturePrefixes: ['DebertaV2'],
    supported: true,
    summary: 'disentangled attention with log-bucketed relative positions (DeBERTa-v2 layout as the v3 configs set it)',
    models: [
      {
        id: 'microsoft/deberta-v3-base',
        parameters: '184M',
        context: 512,
        languages: 'English',
        license: 'mit',
        pick: 'among the strongest English classifiers of its size; two more attention terms per layer than bert-base',
      },
      {
        id: 'microsoft/deberta-v3-small',
        parameters: '141M',
        context: 512,
        languages: 'English',
        license: 'mit',
        pick: 'DeBERTa-v3 with 6 layers: about half the compute of -base',
      },
      {
        id: 'microsoft/deberta-v3-xsmall',
        parameters: '71M',
        context: 512,
        languages: 'English',
        license: 'mit',
        pick: 'the smallest DeBERTa-v3 (hidden 384): quick experiments on the CPU',
      },
      {
        id: 'microsoft/mdeberta-v3-base',
        parameters: '278M',
        context: 512,
        languages: 'multilingual (100 languages)',
        license: 'mit',
        pick: 'DeBERTa-v3 for non-English or mixed-language text (250k-token vocabulary)',
      },
    ],
  },
  {
    name: 'DeBERTa-v1',
    modelTypes: ['deberta'],
    architecturePrefixes: ['Deberta'],
    supported: false,
    summary: 'not yet: the first DeBERTa (model_type "deberta"); its v2/v3 successors are supported',
    models: [],
  },
];

/** The longest context of any suggested model (ModernBERT's 8,192 tokens): the largest --max-length there is. */
export const LONGEST_CONTEXT = Math.max(...MODEL_CATALOG.flatMap((f) => f.models.map((m) => m.context)));

/** The context length of a suggested model, by its Hub id (undefined for any other model). */
export function catalogContext(id: string): number | undefined {
  return MODEL_CATALOG.flatMap((f) => f.models).find((m) => m.id === id)?.context;
}

/** The families that train today, as a message lists them. */
export function supportedFamilyNames(): string[] {
  return MODEL_CATALOG.filter((f) => f.supported && f.modelTypes.length > 0).map((f) => f.name);
}

/**
 * The family a config.json's model_type (or, without one, its first architecture class) belongs to, supported or
 * not; undefined when the table does not name it.
 */
export function catalogFamilyOf(declared: string): CatalogFamily | undefined {
  return (
    MODEL_CATALOG.find((f) => f.modelTypes.includes(declared.toLowerCase())) ??
    MODEL_CATALOG.find((f) => !f.supported && f.architecturePrefixes.some((p) => declared.startsWith(p)))
  );
}

/** `bertft models` as text: each family with its summary, then one line per model. */
export function formatCatalog(catalog: readonly CatalogFamily[] = MODEL_CATALOG): string {
  const lines: string[] = [];
  for (const supported of [true, false]) {
    lines.push(supported ? 'Supported (bertft train --model <id>):' : 'Not yet supported (named so you know):');
    for (const family of catalog.filter((f) => f.supported === supported)) {
      lines.push('', `${family.name}: ${family.summary}`);
      for (const m of family.models) {
        const facts = `${m.parameters} parameters, ${m.context} tokens, ${m.languages}, licence ${m.license}`;
        lines.push(`  ${m.id}`, `      ${facts}`, `      ${m.pick}`);
      }
    }
    lines.push('');
  }
  lines.push('Any other Hub id or local folder of a supported family works too (its config.json says model_type).');
  return lines.join('\n') + '\n';
}

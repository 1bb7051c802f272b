/**
 * The model card: `README.md` in every model folder bertft writes (`best/`, `best/int8/`), in the Hugging Face Hub's
 * format: YAML front matter (license, library, pipeline tag, base model, tags, metrics, and `model-index` with the
 * evaluation of that checkpoint, as https://github.com/huggingface/hub-docs/blob/main/modelcard.md specifies it),
 * then markdown: what the model is, its labels, how it was trained and on what, its scores, and how to use it.
 *
 * Labels, file and folder names and a downloaded model's card are data: every string in the front matter is a
 * double-quoted YAML scalar with everything outside plain printable text escaped (so no value can end the front
 * matter or add a key), and every one in the body is markdown-escaped (no links, images, HTML or headings). Local
 * paths are reduced to their last part: a card is made to be shared, a home folder's name is not.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { escapeMarkdown, visible } from '../util/inert-text';
import { formatDuration } from '../util/duration';
import { ownValue } from '../util/records';
import type { BertConfig } from './config';
import type { ResolvedModel } from './hub';

export const MODEL_CARD_FILE = 'README.md';

export type CardTask = 'text-classification' | 'fill-mask';

/** What a classifier's head predicts and is trained with, as config.json's `problem_type` names it (HF transformers). */
export type CardProblemType = 'single_label_classification' | 'multi_label_classification' | 'regression';

/** Where the weights training started from. */
export type CardBaseModel =
  { kind: 'hub'; repoId: string; commit?: string } | { kind: 'local'; dir: string } | { kind: 'random'; size: string };

/** Where a resolved model spec came from; `dir` is the model folder of a Hub snapshot or a local folder. */
export function cardBaseModel(resolved: ResolvedModel, dir: string): CardBaseModel {
  if (resolved.kind === 'random') return { kind: 'random', size: resolved.size };
  if (resolved.kind === 'hub') return { kind: 'hub', repoId: resolved.repoId, commit: resolved.commit };
  return { kind: 'local', dir };
}

export interface CardMetric {
  /** A metric id of the Hub (`accuracy`, `f1`, `perplexity`, `loss`). */
  type: string;
  name: string;
  value: number;
  /** Shown in the body only, not in the front matter's model-index (a loss is no Hub metric). */
  bodyOnly?: boolean;
}

export interface CardClassScores {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
  /** A multi-label model's decision threshold on this label's sigmoid probability. */
  threshold?: number;
}

export interface CardArchitecture {
  family: string;
  layers: number;
  hiddenSize: number;
  heads: number;
  parameters: number;
  vocabSize: number;
}

/** The card's description of a model of `config` with `parameters` weights in all. */
export function cardArchitecture(config: BertConfig, parameters: number): CardArchitecture {
  return {
    family: config.modelType,
    layers: config.numHiddenLayers,
    hiddenSize: config.hiddenSize,
    heads: config.numAttentionHeads,
    vocabSize: config.vocabSize,
    parameters,
  };
}

const numberOr = (value: unknown): number => (typeof value === 'number' ? value : NaN);

/**
 * A classifier's scores for its card, from its eval.json record (`evalJson`; labels are data, read with ownValue):
 * single-label accuracy, macro-F1 and cross-entropy; multi-label micro- and macro-F1, subset accuracy and BCE with
 * logits; regression MSE (its loss), MAE, Pearson and Spearman. Undefined when `evalJson` holds no evaluation.
 */
export function classifierScores(
  problemType: CardProblemType,
  evalJson: Record<string, unknown>,
  labels: readonly string[],
): { metrics: CardMetric[]; perClass: CardClassScores[] } | undefined {
  const value = (key: string) => numberOr(evalJson[key]);
  const perClassRecord = (evalJson.per_class ?? evalJson.per_label) as Record<string, unknown> | undefined;
  const perClass = labels.flatMap((label): CardClassScores[] => {
    const c = ownValue(perClassRecord, label) as Partial<Record<keyof CardClassScores, unknown>> | undefined;
    if (c === undefined) return [];
    const scores = {
      label,
      precision: numberOr(c.precision),
      recall: numberOr(c.recall),
      f1: numberOr(c.f1),
      support: numberOr(c.support),
    };
    return [typeof c.threshold === 'number' ? { ...scores, threshold: c.threshold } : scores];
  });
  if (problemType === 'regression') {
    if (typeof evalJson.mse !== 'number') return undefined;
    return {
      metrics: [
        { type: 'mse', name: 'MSE (the training loss)', value: value('mse') },
        { type: 'mae', name: 'MAE', value: value('mae') },
        { type: 'pearsonr', name: 'Pearson correlation', value: value('pearson') },
        { type: 'spearmanr', name: 'Spearman correlation', value: value('spearman') },
      ],
      perClass: [],
    };
  }
  if (problemType === 'multi_label_classification') {
    if (typeof evalJson.micro_f1 !== 'number') return undefined;
    return {
      metrics: [
        { type: 'f1', name: 'Micro F1', value: value('micro_f1') },
        { type: 'f1', name: 'Macro F1', value: value('macro_f1') },
        { type: 'accuracy', name: 'Subset accuracy', value: value('subset_accuracy') },
        { type: 'loss', name: 'Loss (binary cross-entropy with logits)', value: value('loss'), bodyOnly: true },
      ],
      perClass,
    };
  }
  if (typeof evalJson.accuracy !== 'number') return undefined;
  return {
    metrics: [
      { type: 'accuracy', name: 'Accuracy', value: value('accuracy') },
      { type: 'f1', name: 'Macro F1', value: value('macro_f1') },
      { type: 'loss', name: 'Loss (cross-entropy)', value: value('loss'), bodyOnly: true },
    ],
    perClass,
  };
}

export interface ModelCard {
  /** The model's name: its run folder's name. */
  name: string;
  task: CardTask;
  /** Classification: single-label (the default), multi-label or regression. */
  problemType?: CardProblemType;
  base: CardBaseModel;
  /** The base model's licence id, when its own card says (licenceOfModelDir). */
  baseLicense?: string;
  architecture: CardArchitecture;
  /**
   * Classification only: each label with its rows in training and validation (multi-label: the rows that have it), in
   * the model's id order. A regression model's one output is no label: none.
   */
  labels: { name: string; train: number; valid: number }[];
  /** Settings as [name, value] rows; undefined values are left out. */
  hyperparameters: [string, string | number | boolean | undefined][];
  /** The data files (full paths are reduced to their names) and their SHA-256 (`what` says what was hashed). */
  data: { file: string; sha256: string; what?: string }[];
  training: {
    device: string;
    /** Wall-clock seconds from this session's start to the evaluation of this checkpoint. */
    seconds: number;
    /** The run was resumed: earlier sessions' time is not in `seconds`. */
    resumed: boolean;
    step: number;
    totalSteps: number;
  };
  /** Scores of this checkpoint on held-out data (none for the estimate's throw-away model). */
  evaluation?: {
    /** The file the held-out rows came from. */
    dataset: string;
    /** How many held-out items were scored, and what they are (`rows`, `windows of up to 128 tokens`). */
    count: number;
    unit: string;
    /** How they were held out from `dataset`; undefined when `dataset` is a validation file of its own. */
    heldOut?: string;
    metrics: CardMetric[];
    perClass: CardClassScores[];
  };
  /** Classification: the truncation bertft applies (bertft.json) and its token budget. */
  inference?: { maxLength: number; truncation: string };
  /** Whether the folder has onnx/model.onnx, where transformers.js looks for the model. */
  hasOnnxFolder: boolean;
  generator: string;
}

// ---------------------------------------------------------------------------------------------------------------
// YAML

/** Outside YAML's printable set, or line-like (NEL, LS, PS, BOM): always escaped. Lone surrogates too. */
const YAML_ESCAPED =
  // eslint-disable-next-line no-control-regex -- escaping these characters is the point
  /["\\\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const YAML_NAMED: Readonly<Record<string, string>> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

/**
 * `value` as a YAML double-quoted scalar that parses back to exactly `value`: quotes, backslashes, line breaks,
 * controls and non-characters escaped, the rest (any other Unicode) kept. It can never end a line, so it can never
 * end the front matter or start a key, whatever it holds.
 */
export function yamlString(value: string): string {
  const body = value.replace(
    YAML_ESCAPED,
    (ch) => YAML_NAMED[ch] ?? `\\u${ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`,
  );
  return `"${body}"`;
}

/** A mapping's keys are ours (never data); lists of scalars or of mappings. */
type YamlValue = string | number | boolean | YamlValue[] | YamlMap;
type YamlMap = Map<string, YamlValue>;

function yamlScalar(value: string | number | boolean): string {
  if (typeof value === 'string') return yamlString(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`model card: a non-finite number (${value}) in the front matter`);
    return String(value);
  }
  return value ? 'true' : 'false';
}

/** Block-style YAML of `map` at `indent` spaces; lists of mappings in the Hub's compact `- key: value` style. */
function yamlLines(map: YamlMap, indent: number): string[] {
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  for (const [key, value] of map) {
    if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) throw new Error(`model card: a YAML key that is not ours: ${key}`);
    if (value instanceof Map) {
      lines.push(`${pad}${key}:`, ...yamlLines(value, indent + 2));
    } else if (Array.isArray(value)) {
      lines.push(value.length === 0 ? `${pad}${key}: []` : `${pad}${key}:`);
      for (const item of value) {
        if (item instanceof Map) {
          const [first, ...rest] = yamlLines(item, indent + 2);
          lines.push(`${pad}- ${first.slice(indent + 2)}`, ...rest);
        } else if (Array.isArray(item)) {
          throw new Error('model card: nested lists are not written');
        } else {
          lines.push(`${pad}- ${yamlScalar(item)}`);
        }
      }
    } else {
      lines.push(`${pad}${key}: ${yamlScalar(value)}`);
    }
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------------------------
// Licence of the base model

/** Licence ids as the Hub spells them (`apache-2.0`, `mit`, `cc-by-4.0`, `other`). */
const LICENSE_ID = /^[a-z0-9][a-z0-9.+-]{0,63}$/;

/**
 * The licence a model folder's own card declares (`license:` in its README.md front matter), when it is a plain
 * licence id; undefined otherwise (no card, no such line, a list or anything unusual). The card is data: only a
 * value matching LICENSE_ID is taken, so nothing from it reaches ours but an id.
 */
export function licenseOfModelDir(dir: string): string | undefined {
  let text: string;
  try {
    const file = path.join(dir, MODEL_CARD_FILE);
    if (fs.statSync(file).size > 1_000_000) return undefined;
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const front = /^\uFEFF?---\r?\n([\s\S]*?)\r?\n---\s*(?:\r?\n|$)/.exec(text);
  if (!front) return undefined;
  const line = /^license:[ \t]*(.*?)[ \t]*$/m.exec(front[1]);
  if (!line) return undefined;
  const value = line[1].replace(/^(["'])(.*)\1$/, '$2');
  return LICENSE_ID.test(value) ? value : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Markdown

/** Data as inert markdown text: invisibles shown as escapes, every punctuation character escaped. */
export function mdText(value: string): string {
  return escapeMarkdown(visible(value));
}

function mdTable(header: string[], rows: string[][]): string[] {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
}

/** A model folder by name: `run/best` for a run's best/ (its own name says nothing), else its last part. */
function folderName(dir: string): string {
  const name = lastPart(dir);
  return name === 'best' ? `${lastPart(path.dirname(dir))}/${name}` : name;
}

/** What bertft does with a text longer than the model's budget, where transformers' truncation=True differs. */
const TRUNCATION_NOTES: Readonly<Record<string, string>> = {
  'head+tail': 'keeps its first and last tokens',
  window: 'classifies each window of that many tokens and averages them',
};

const score = (value: number): string => (Number.isFinite(value) ? value.toFixed(4) : 'n/a');

/** The last part of a path (a card is shared; the folders above are the author's own business). */
function lastPart(file: string): string {
  return path.basename(file) || file;
}

/** Tags beyond the pipeline's: a multi-label or regression head is still a text-classification model. */
const PROBLEM_TAGS: Readonly<Record<CardProblemType, string[]>> = {
  single_label_classification: [],
  multi_label_classification: ['multi-label-classification'],
  regression: ['regression'],
};

/** What each head predicts and how it was trained, for the card's overview. */
const PROBLEM_LINES: Readonly<Record<CardProblemType, string>> = {
  single_label_classification:
    '**Task.** One label per text: a softmax over the labels, trained with cross-entropy (config.json has no ' +
    '`problem_type`, which transformers reads as `single_label_classification`).',
  multi_label_classification:
    '**Task.** Any number of labels per text (`problem_type: multi_label_classification` in config.json): one ' +
    'sigmoid probability per label, trained with binary cross-entropy with logits. A label is predicted when its ' +
    "probability reaches its own threshold, tuned on the validation data for that label's F1 and stored in " +
    'thresholds.json (use 0.5 where a tool does not read it).',
  regression:
    '**Task.** One number per text (`problem_type: regression` in config.json): the single output is the ' +
    'prediction, trained with the mean squared error.',
};

const TASK_NAMES: Readonly<Record<CardTask, string>> = {
  'text-classification': 'Text Classification',
  'fill-mask': 'Fill-Mask',
};

/** The line that marks a card as written by bertft (data cannot produce it: `<` is escaped in the body). */
const MARKER = '<!-- bertft model card: rewritten whenever this model is replaced, so edits here do not last. -->';
const HOW_TO_USE = '## How to use';

function frontMatter(card: ModelCard): string[] {
  const base = card.base;
  const map: YamlMap = new Map<string, YamlValue>([
    ['license', base.kind !== 'random' && card.baseLicense !== undefined ? card.baseLicense : 'other'],
    ['library_name', 'transformers'],
    ['pipeline_tag', card.task],
  ]);
  if (base.kind === 'hub') map.set('base_model', base.repoId);
  const problemTag = card.problemType === undefined ? [] : PROBLEM_TAGS[card.problemType];
  map.set('tags', ['bertft', card.task, ...problemTag, card.architecture.family]);
  const evaluation = card.evaluation;
  const metrics = evaluation?.metrics.filter((m) => !m.bodyOnly && Number.isFinite(m.value)) ?? [];
  if (evaluation && metrics.length > 0) {
    map.set('metrics', [...new Set(metrics.map((m) => m.type))]);
    const dataset = lastPart(evaluation.dataset);
    const result: YamlMap = new Map<string, YamlValue>([
      [
        'task',
        new Map([
          ['type', card.task],
          ['name', TASK_NAMES[card.task]],
        ]),
      ],
      [
        'dataset',
        new Map([
          ['type', dataset],
          ['name', dataset],
          ['split', 'validation'],
        ]),
      ],
      [
        'metrics',
        metrics.map(
          (m) =>
            new Map<string, YamlValue>([
              ['type', m.type],
              ['value', m.value],
              ['name', m.name],
            ]),
        ),
      ],
    ]);
    map.set('model-index', [
      new Map<string, YamlValue>([
        ['name', card.name],
        ['results', [result]],
      ]),
    ]);
  }
  return ['---', ...yamlLines(map, 0), '---'];
}

function describeBase(card: ModelCard): string {
  const base = card.base;
  if (base.kind === 'hub') {
    const at = base.commit ? ` at commit ${mdText(base.commit.slice(0, 12))}` : '';
    return `fine-tuned from the Hugging Face Hub model ${mdText(base.repoId)}${at}`;
  }
  if (base.kind === 'local') return `trained from the local model folder ${mdText(folderName(base.dir))}`;
  return `trained from random weights (random:${mdText(base.size)})`;
}

function licenseLines(card: ModelCard): string[] {
  if (card.base.kind === 'random') {
    return [
      '**Licence.** The weights were trained from random initialisation on your data, so the licence is yours to ' +
        'choose; the front matter says `other` until you set it.',
    ];
  }
  if (card.baseLicense !== undefined) {
    return [
      `**Licence.** ${mdText(card.baseLicense)}, as the base model's card declares it; check that it allows your use ` +
        'and that your data allows sharing the weights.',
    ];
  }
  return [
    "**Licence.** Unknown: the base model's card was not found in its folder, so the front matter says `other`. " +
      "Set it to the base model's licence (see its Hub page) before sharing these weights.",
  ];
}

function overview(card: ModelCard): string[] {
  const a = card.architecture;
  const what =
    card.task === 'fill-mask'
      ? 'masked language model'
      : card.problemType === 'regression'
        ? 'text regression model'
        : 'text classifier';
  const size =
    `${a.layers} layers, hidden size ${a.hiddenSize}, ${a.heads} attention heads, ` +
    `${(a.parameters / 1e6).toFixed(1)}M parameters, vocabulary of ${a.vocabSize}`;
  return [
    `A ${mdText(a.family)} ${what} (${size}), ${describeBase(card)}, with ${mdText(card.generator)}.`,
    '',
    ...(card.problemType === undefined ? [] : [PROBLEM_LINES[card.problemType], '']),
    ...licenseLines(card),
  ];
}

function labelSection(card: ModelCard): string[] {
  if (card.labels.length === 0) return [];
  const multi = card.problemType === 'multi_label_classification';
  return [
    '## Labels',
    '',
    ...(multi ? ['Each label with the rows that have it (a row may have several, or none).', ''] : []),
    ...mdTable(
      ['id', 'label', 'training rows', 'validation rows'],
      card.labels.map((l, i) => [String(i), mdText(l.name), String(l.train), String(l.valid)]),
    ),
    '',
  ];
}

function trainingSection(card: ModelCard): string[] {
  const t = card.training;
  const rows = card.hyperparameters
    .filter((row): row is [string, string | number | boolean] => row[1] !== undefined)
    .map(([name, value]) => [mdText(name), mdText(String(value))]);
  const time =
    `${formatDuration(t.seconds)} on ${mdText(t.device)}` +
    (t.resumed ? ' (this session only: the run was resumed, and earlier sessions are not counted)' : '');
  return [
    '## Training',
    '',
    `This checkpoint is from step ${t.step} of ${t.totalSteps}; training to it took ${time}.`,
    '',
    ...mdTable(['setting', 'value'], rows),
    '',
    '### Data',
    '',
    ...mdTable(
      ['file', 'SHA-256'],
      card.data.map((d) => [
        mdText(lastPart(d.file)),
        d.sha256 === 'folder' ? 'a folder (not hashed)' : `${mdText(d.sha256)}${d.what ? ` (${mdText(d.what)})` : ''}`,
      ]),
    ),
    '',
  ];
}

function evaluationSection(card: ModelCard): string[] {
  const e = card.evaluation;
  if (!e) return ['## Evaluation', '', 'Not evaluated.', ''];
  const lines = [
    '## Evaluation',
    '',
    e.heldOut === undefined
      ? `On the validation file ${mdText(lastPart(e.dataset))}; ${mdText(e.unit)}: ${e.count}.`
      : `On data held out from ${mdText(lastPart(e.dataset))} (${mdText(e.heldOut)}); ${mdText(e.unit)}: ${e.count}.`,
    '',
    ...mdTable(
      ['metric', 'value'],
      e.metrics.map((m) => [mdText(m.name), score(m.value)]),
    ),
    '',
  ];
  if (e.perClass.length > 0) {
    const thresholds = e.perClass.some((c) => c.threshold !== undefined);
    lines.push(
      ...mdTable(
        ['label', 'precision', 'recall', 'F1', 'support', ...(thresholds ? ['threshold'] : [])],
        e.perClass.map((c) => [
          mdText(c.label),
          score(c.precision),
          score(c.recall),
          score(c.f1),
          String(c.support),
          ...(thresholds ? [c.threshold === undefined ? 'n/a' : score(c.threshold)] : []),
        ]),
      ),
      '',
    );
  }
  return lines;
}

/** The start of both "How to use" sections, up to the pipeline's line. */
const PYTHON_PIPELINE = [
  HOW_TO_USE,
  '',
  'Python, with transformers (PyTorch); the path is this folder:',
  '',
  '```python',
  'from transformers import pipeline',
  '',
];

function classifierHowTo(card: ModelCard): string[] {
  const inf = card.inference;
  const note = inf && Object.hasOwn(TRUNCATION_NOTES, inf.truncation) ? TRUNCATION_NOTES[inf.truncation] : undefined;
  const truncation = note
    ? `For a text longer than ${inf?.maxLength} tokens bertft ${note} (bertft.json), while transformers' ` +
      'truncation=True keeps the first tokens only, so results differ for long texts.'
    : '';
  const onnx = card.hasOnnxFolder
    ? "transformers.js loads onnx/model.onnx from this folder, and onnx/model_quantized.onnx (dtype: 'q8') once " +
      'the int8 copy is made ("BERT: Make Int8 Model").'
    : 'transformers.js looks for onnx/model.onnx, and this folder has model.onnx at its top level (not yet in ' +
      'onnx/): copy it to onnx/model.onnx before loading the folder with transformers.js.';
  const maxLength = inf ? `, max_length=${inf.maxLength}` : '';
  const kind = card.problemType ?? 'single_label_classification';
  const pipelineLines: Readonly<Record<CardProblemType, string[]>> = {
    single_label_classification: [
      'classifier = pipeline("text-classification", model="path/to/best")',
      `print(classifier("Some text to classify", truncation=True${maxLength}))`,
    ],
    // transformers applies the sigmoid for this problem_type; top_k=None returns every label's probability.
    multi_label_classification: [
      'import json',
      '',
      'classifier = pipeline("text-classification", model="path/to/best", top_k=None)',
      'thresholds = json.load(open("path/to/best/thresholds.json"))["thresholds"]',
      `scores = classifier("Some text to classify", truncation=True${maxLength})`,
      'print([s for s in scores if s["score"] >= thresholds[s["label"]]])',
    ],
    regression: [
      'regressor = pipeline("text-classification", model="path/to/best", function_to_apply="none")',
      `print(regressor("Some text to classify", truncation=True${maxLength})[0]["score"])`,
    ],
  };
  const readOut: Readonly<Record<CardProblemType, string[]>> = {
    single_label_classification: [
      '    probabilities = model(**inputs).logits.softmax(-1)[0]',
      'print({model.config.id2label[i]: p.item() for i, p in enumerate(probabilities)})',
    ],
    multi_label_classification: [
      '    probabilities = model(**inputs).logits.sigmoid()[0]',
      'print({model.config.id2label[i]: p.item() for i, p in enumerate(probabilities)})',
    ],
    regression: ['    value = model(**inputs).logits[0, 0].item()', 'print(value)'],
  };
  const javascript =
    kind === 'regression'
      ? [
          // The pipeline applies a softmax, which makes one output 1.0 whatever the text: read the logit itself.
          "import { env, AutoModelForSequenceClassification, AutoTokenizer } from '@huggingface/transformers';",
          '',
          "env.localModelPath = 'path/to'; // the folder that holds best/",
          'env.allowRemoteModels = false;',
          "const tokenizer = await AutoTokenizer.from_pretrained('best');",
          "const model = await AutoModelForSequenceClassification.from_pretrained('best', { dtype: 'fp32' });",
          "const { logits } = await model(await tokenizer('Some text to classify'));",
          'console.log(logits.data[0]);',
        ]
      : [
          "import { env, pipeline } from '@huggingface/transformers';",
          '',
          "env.localModelPath = 'path/to'; // the folder that holds best/",
          'env.allowRemoteModels = false;',
          "const classifier = await pipeline('text-classification', 'best', { dtype: 'fp32' });",
          kind === 'multi_label_classification'
            ? "console.log(await classifier('Some text to classify', { top_k: null })); // sigmoid probabilities"
            : "console.log(await classifier('Some text to classify'));",
        ];
  return [
    ...PYTHON_PIPELINE,
    ...pipelineLines[kind],
    '```',
    '',
    'or the model and tokenizer themselves:',
    '',
    '```python',
    'import torch',
    'from transformers import AutoModelForSequenceClassification, AutoTokenizer',
    '',
    'tokenizer = AutoTokenizer.from_pretrained("path/to/best")',
    'model = AutoModelForSequenceClassification.from_pretrained("path/to/best")',
    `inputs = tokenizer("Some text to classify", truncation=True${maxLength}, return_tensors="pt")`,
    'with torch.no_grad():',
    ...readOut[kind],
    '```',
    '',
    ...(truncation ? [truncation, ''] : []),
    `JavaScript, with transformers.js (@huggingface/transformers). ${onnx}`,
    '',
    '```js',
    ...javascript,
    '```',
    '',
    kind === 'multi_label_classification'
      ? 'With bertft (the run folder or this folder), which lists every label at or above its threshold:'
      : 'With bertft (the run folder or this folder):',
    '',
    '```sh',
    'bertft predict --model path/to/run --text "Some text to classify"',
    'bertft predict --model path/to/run --file texts.csv --json',
    '```',
    '',
  ];
}

function fillMaskHowTo(): string[] {
  return [
    ...PYTHON_PIPELINE,
    'fill = pipeline("fill-mask", model="path/to/best")',
    'print(fill(f"Paris is the {fill.tokenizer.mask_token} of France."))',
    '```',
    '',
    'Fine-tune it into a classifier with bertft (the run folder or this folder):',
    '',
    '```sh',
    'bertft train --model path/to/run --data labelled.csv --out classifier-run',
    '```',
    '',
    'This folder has no ONNX model, so transformers.js cannot load it as it is.',
    '',
  ];
}

/** The card as README.md text. */
export function renderModelCard(card: ModelCard): string {
  const lines = [
    ...frontMatter(card),
    '',
    `# ${mdText(card.name)}`,
    '',
    MARKER,
    '',
    ...overview(card),
    '',
    ...labelSection(card),
    ...trainingSection(card),
    ...evaluationSection(card),
    ...(card.task === 'text-classification' ? classifierHowTo(card) : fillMaskHowTo()),
  ];
  return `${lines.join('\n')}`;
}

/** Whether `text` is a card bertft wrote (not the card of a model folder someone else made). */
export function isBertftCard(text: string): boolean {
  return text.split('\n').some((line) => line.startsWith(MARKER));
}

/**
 * The card of the int8 copy (core/infer/quantize.ts) made from the card of the model it was quantized from: tagged
 * `onnx` and `int8`, a note that the scores are the original's, and how to use a folder that holds only model.onnx.
 * `fp32Card` must be ours (isBertftCard).
 */
export function int8ModelCard(fp32Card: string, info: { format: string; layers: number }): string {
  const lines = fp32Card.split('\n');
  const tags = lines.indexOf('tags:');
  const markerAt = lines.findIndex((line) => line.startsWith(MARKER));
  const howTo = lines.indexOf(HOW_TO_USE);
  if (tags < 0 || markerAt < 0 || howTo < markerAt) throw new Error('int8ModelCard: not a card bertft wrote');
  const notice = [
    '',
    `**Quantized copy.** This folder holds an int8 copy of the model (${info.layers} dense layers quantized, ` +
      `${mdText(info.format)}) in model.onnx, without the safetensors weights. The scores below were measured on ` +
      'the original model; the editor\'s "BERT: Make Int8 Model" compares this copy with it.',
  ];
  const use = [
    HOW_TO_USE,
    '',
    'This folder has no safetensors weights, so Python transformers cannot load it; onnxruntime, transformers.js ' +
      "(onnx/model_quantized.onnx, with dtype: 'q8'; the model folder above loads it the same way) and bertft can:",
    '',
    '```sh',
    'bertft predict --model path/to/run/best/int8 --text "Some text to classify"',
    '```',
    '',
  ];
  return [
    ...lines.slice(0, tags + 1),
    '- "onnx"',
    '- "int8"',
    ...lines.slice(tags + 1, markerAt + 1),
    ...notice,
    ...lines.slice(markerAt + 1, howTo),
    ...use,
  ].join('\n');
}

/** Writes nothing: the card of `dir`'s copy, or undefined when `dir` has no card of ours. */
export function readBertftCard(dir: string): string | undefined {
  try {
    const text = fs.readFileSync(path.join(dir, MODEL_CARD_FILE), 'utf8');
    return isBertftCard(text) ? text : undefined;
  } catch {
    return undefined;
  }
}

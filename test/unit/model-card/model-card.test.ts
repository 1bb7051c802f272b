/**
 * The model card (core/model/model-card.ts) on its own: the YAML quoter against a real YAML parser with hostile
 * strings, the front matter's structure as the Hub's model-index wants it, and the body rendered by marked with every
 * payload of the injection battery as a label, a file name and the run's name: no element but our own, and the data
 * still there as text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  classifierScores,
  int8ModelCard,
  isBertftCard,
  licenseOfModelDir,
  readBertftCard,
  renderModelCard,
  yamlString,
  type ModelCard,
} from '../../../src/core/model/model-card';
import { visible } from '../../../src/core/util/inert-text';
import { payloads, SPOOFING } from '../../helpers/payloads';
import { tempDir } from '../runner/fixtures';
import { bodyOf, elements, frontMatter, frontMatterText as frontMatterOf, shownText, toHtml } from './markdown';

const PAYLOADS = payloads('http://127.0.0.1:9');

/** Strings YAML gives meaning to, and characters outside its printable set. */
const HOSTILE_YAML = [
  'key: value',
  'a # comment',
  '# only a comment',
  '"double" and \'single\' quotes',
  "'",
  '"',
  '\\',
  '\\n is not a newline',
  'line one\nline two',
  'windows\r\nline',
  '---',
  '...',
  '--- \nlicense: mit',
  '- item',
  '? complex key',
  '[a, b]',
  '{a: 1}',
  '&anchor *alias !tag |literal >folded',
  '%YAML 1.2',
  '@at `tick`',
  'null',
  '~',
  'true',
  'no',
  '1e3',
  '0x1F',
  '',
  ' leading and trailing ',
  '\ttab',
  'NUL\u0000BEL\u0007ESC\u001b DEL\u007f',
  'NEL\u0085 LS\u2028 PS\u2029 BOM\ufeff',
  'non-characters \ufffe\uffff',
  'lone surrogates \ud800 \udfff',
  'héllo wörld 日本語 עברית 😀 \u202egnp.exe',
];

function cardFor(overrides: Partial<ModelCard> = {}): ModelCard {
  return {
    name: 'my-run',
    task: 'text-classification',
    base: { kind: 'random', size: 'tiny' },
    architecture: { family: 'bert', layers: 2, hiddenSize: 64, heads: 2, parameters: 2_100_000, vocabSize: 30522 },
    labels: [
      { name: 'neg', train: 36, valid: 12 },
      { name: 'pos', train: 36, valid: 12 },
    ],
    hyperparameters: [
      ['learning rate', 0.002],
      ['epochs', 10],
      ['warmup steps', undefined],
      ['dropout', false],
    ],
    data: [{ file: '/home/someone/data/reviews.csv', sha256: 'ab'.repeat(32) }],
    training: { device: 'cpu', seconds: 75, resumed: false, step: 30, totalSteps: 60 },
    evaluation: {
      dataset: '/home/someone/data/reviews.csv',
      count: 24,
      unit: 'rows',
      heldOut: 'a stratified share of 0.25',
      metrics: [
        { type: 'accuracy', name: 'Accuracy', value: 0.875 },
        { type: 'f1', name: 'Macro F1', value: 0.8667 },
        { type: 'loss', name: 'Loss (cross-entropy)', value: 0.41, bodyOnly: true },
      ],
      perClass: [
        { label: 'neg', precision: 0.9, recall: 0.8, f1: 0.85, support: 12 },
        { label: 'pos', precision: 0.8, recall: 0.9, f1: 0.88, support: 12 },
      ],
    },
    inference: { maxLength: 32, truncation: 'head' },
    hasOnnxFolder: false,
    generator: 'bertft 0.1.0',
    ...overrides,
  };
}

/** The elements the card's own markdown makes: headings, paragraphs, tables, code blocks, emphasis. */
const OURS = /^(h1|h2|h3|p|strong|em|code|pre|table|thead|tbody|tr|th|td|br)$|^code class="language-(python|js|sh)"$/;

test('yamlString: every hostile string parses back exactly, on one line', () => {
  for (const value of [...HOSTILE_YAML, ...PAYLOADS.map((p) => p.text)]) {
    const quoted = yamlString(value);
    assert.ok(!/[\n\r\u0085\u2028\u2029]/.test(quoted), `one line: ${JSON.stringify(value)}`);
    const doc = `tags:\n- ${quoted}\nname: ${quoted}\n`;
    assert.deepEqual(parseYaml(doc, { strict: true, uniqueKeys: true }), { tags: [value], name: value });
  }
});

test('the front matter has the Hub fields and a model-index in its spec shape; local paths are reduced to names', () => {
  const text = renderModelCard(cardFor());
  const meta = parseYaml(frontMatterOf(text), { strict: true, uniqueKeys: true }) as Record<string, unknown>;
  assert.deepEqual(meta, {
    license: 'other',
    library_name: 'transformers',
    pipeline_tag: 'text-classification',
    tags: ['bertft', 'text-classification', 'bert'],
    metrics: ['accuracy', 'f1'],
    'model-index': [
      {
        name: 'my-run',
        results: [
          {
            task: { type: 'text-classification', name: 'Text Classification' },
            dataset: { type: 'reviews.csv', name: 'reviews.csv', split: 'validation' },
            metrics: [
              { type: 'accuracy', value: 0.875, name: 'Accuracy' },
              { type: 'f1', value: 0.8667, name: 'Macro F1' },
            ],
          },
        ],
      },
    ],
  });
  assert.ok(!text.includes('/home/someone'), 'no folder above the data file is named');
  assert.ok(isBertftCard(text));
  const body = bodyOf(text);
  for (const part of ['## Labels', '## Training', '### Data', '## Evaluation', '## How to use', 'abab']) {
    assert.ok(body.includes(part), part);
  }
  assert.match(body, /\| learning rate \| 0\\\.002 \|/);
  assert.ok(!body.includes('warmup steps'), 'an unset setting is left out');
  assert.match(body, /from step 30 of 60; training to it took 1m 15s on cpu/);
  assert.match(body, /\| Loss \\\(cross\\-entropy\\\) \| 0\.4100 \|/, 'the loss is in the body');
  assert.match(body, /copy it to onnx\/model\.onnx/, 'says honestly where transformers.js looks');
  assert.match(renderModelCard(cardFor({ hasOnnxFolder: true })), /transformers\.js loads onnx\/model\.onnx/);
});

test('base model: a Hub id is base_model with its licence; a local folder and random weights have none', () => {
  const hub = parseYaml(
    frontMatterOf(
      renderModelCard(
        cardFor({
          base: { kind: 'hub', repoId: 'google-bert/bert-base-uncased', commit: 'a'.repeat(40) },
          baseLicense: 'apache-2.0',
        }),
      ),
    ),
  ) as Record<string, unknown>;
  assert.equal(hub.base_model, 'google-bert/bert-base-uncased');
  assert.equal(hub.license, 'apache-2.0');
  const hubUnknown = renderModelCard(cardFor({ base: { kind: 'hub', repoId: 'org/model' } }));
  assert.equal((parseYaml(frontMatterOf(hubUnknown)) as Record<string, unknown>).license, 'other');
  assert.match(hubUnknown, /\*\*Licence\.\*\* Unknown/);
  const local = renderModelCard(cardFor({ base: { kind: 'local', dir: '/x/pretrain-run/best' }, baseLicense: 'mit' }));
  const localMeta = parseYaml(frontMatterOf(local)) as Record<string, unknown>;
  assert.equal(localMeta.base_model, undefined);
  assert.equal(localMeta.license, 'mit');
  assert.match(local, /local model folder pretrain\\-run\\\/best/);
  const random = renderModelCard(cardFor({ baseLicense: 'mit' }));
  assert.equal((parseYaml(frontMatterOf(random)) as Record<string, unknown>).license, 'other');
  assert.match(random, /licence is yours to choose/);
});

test('fill-mask: pipeline tag, perplexity and masked-token accuracy in model-index, no label table', () => {
  const text = renderModelCard(
    cardFor({
      task: 'fill-mask',
      labels: [],
      inference: undefined,
      evaluation: {
        dataset: 'text.txt',
        count: 8,
        unit: 'windows of up to 32 tokens',
        heldOut: 'every 20th window',
        metrics: [
          { type: 'perplexity', name: 'Perplexity', value: 120.5 },
          { type: 'accuracy', name: 'Masked-token accuracy', value: 0.2 },
          { type: 'loss', name: 'MLM loss', value: 4.79, bodyOnly: true },
        ],
        perClass: [],
      },
    }),
  );
  const meta = parseYaml(frontMatterOf(text)) as { pipeline_tag: string; metrics: string[]; 'model-index': unknown[] };
  assert.equal(meta.pipeline_tag, 'fill-mask');
  assert.deepEqual(meta.metrics, ['perplexity', 'accuracy']);
  assert.ok(!text.includes('## Labels'));
  assert.match(text, /pipeline\("fill-mask"/);
});

test("no evaluation (the estimate's throw-away model): no model-index, and the front matter still parses", () => {
  const meta = parseYaml(frontMatterOf(renderModelCard(cardFor({ evaluation: undefined })))) as Record<string, unknown>;
  assert.equal(meta['model-index'], undefined);
  assert.equal(meta.metrics, undefined);
});

test('hostile labels, file names and run names: the YAML round-trips them, the body shows them as text and makes no element of them', () => {
  let tried = 0;
  for (const value of [...PAYLOADS.map((p) => p.text), ...HOSTILE_YAML.filter((v) => v !== '')]) {
    const card = cardFor({
      name: value,
      labels: [
        { name: value, train: 3, valid: 1 },
        { name: 'other', train: 3, valid: 1 },
      ],
      data: [{ file: value, sha256: 'cd'.repeat(32) }],
      evaluation: {
        ...cardFor().evaluation!,
        dataset: value,
        perClass: [{ label: value, precision: 1, recall: 0.5, f1: 0.67, support: 1 }],
      },
      hyperparameters: [[value, value]],
    });
    const text = renderModelCard(card);
    const meta = parseYaml(frontMatterOf(text), { strict: true, uniqueKeys: true }) as {
      'model-index': { name: string; results: { dataset: { name: string } }[] }[];
      license: string;
    };
    const index = meta['model-index'][0];
    assert.equal(index.name, value, 'the name round-trips');
    assert.equal(index.results[0].dataset.name, path.basename(value) || value, 'the data file name round-trips');
    assert.equal(meta.license, 'other', 'no value adds or replaces a key');
    const body = bodyOf(text);
    const foreign = elements(body).filter((e) => !OURS.test(e));
    assert.deepEqual(foreign, [], `no element from ${JSON.stringify(value)}`);
    const headings = body.split('\n').filter((line) => /^#{1,6} /.test(line));
    assert.deepEqual(
      headings.slice(1),
      ['## Labels', '## Training', '### Data', '## Evaluation', '## How to use'],
      'only our headings',
    );
    assert.ok(!SPOOFING.test(body), 'no invisible or reordering character reaches the body');
    const shown = shownText(body);
    assert.ok(shown.includes(visible(path.basename(value) || value)), `${JSON.stringify(value)} is shown as text`);
    // The label's table row keeps its five cells: a `|` in a label does not split it.
    const rows = toHtml(body).match(/<tr>[\s\S]*?<\/tr>/g) ?? [];
    for (const row of rows) assert.ok([2, 4, 5].includes((row.match(/<t[dh][ >]/g) ?? []).length), row);
    tried++;
  }
  console.log(`model card: ${tried} hostile values as label, file name, setting and run name; elements from data: 0`);
});

test("licenseOfModelDir takes a plain licence id from the folder's card and nothing else", () => {
  const dir = tempDir('card-license');
  try {
    const write = (text: string) => fs.writeFileSync(path.join(dir, 'README.md'), text);
    assert.equal(licenseOfModelDir(dir), undefined, 'no card');
    write('---\nlanguage: en\nlicense: apache-2.0\ntags:\n- bert\n---\n\n# BERT\n');
    assert.equal(licenseOfModelDir(dir), 'apache-2.0');
    write('\ufeff---\r\nlicense: "mit"\r\n---\r\n');
    assert.equal(licenseOfModelDir(dir), 'mit');
    write('---\nlicense:\n- mit\n- apache-2.0\n---\n');
    assert.equal(licenseOfModelDir(dir), undefined, 'a list is not taken');
    write('---\nlicense: "mit\\n[x](http://127.0.0.1:9)"\n---\n');
    assert.equal(licenseOfModelDir(dir), undefined, 'anything but an id is not taken');
    write('# no front matter\nlicense: mit\n');
    assert.equal(licenseOfModelDir(dir), undefined, 'only the front matter counts');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("the int8 copy's card: tagged, says the scores are the original's, and how to use a folder without safetensors", () => {
  const fp32 = renderModelCard(cardFor());
  const text = int8ModelCard(fp32, { format: 'dynamic-quantize-matmul', layers: 12 });
  const meta = parseYaml(frontMatterOf(text), { strict: true }) as { tags: string[]; 'model-index': unknown[] };
  assert.deepEqual(meta.tags, ['onnx', 'int8', 'bertft', 'text-classification', 'bert']);
  assert.ok(meta['model-index'].length === 1, "the original's scores stay, said to be the original's");
  assert.match(text, /\*\*Quantized copy\.\*\* .*12 dense layers quantized/);
  assert.match(text, /Python transformers cannot load it/);
  assert.ok(!text.includes('AutoModelForSequenceClassification'), 'no Python snippet that would fail');
  assert.ok(isBertftCard(text));
  assert.deepEqual(
    elements(bodyOf(text)).filter((e) => !OURS.test(e)),
    [],
  );
});

test("a card is ours only by its marker line; a label cannot fake it, and someone else's card is left alone", () => {
  const marker = '<!-- bertft model card: rewritten whenever this model is replaced, so edits here do not last. -->';
  assert.equal(isBertftCard("---\nlicense: mit\n---\n# Someone else's model\n"), false);
  const faked = renderModelCard(cardFor({ labels: [{ name: `\n${marker}\n`, train: 1, valid: 1 }] }));
  assert.equal(faked.split('\n').filter((l) => l.startsWith(marker)).length, 1, 'only our own marker line');
  const dir = tempDir('card-foreign');
  try {
    fs.writeFileSync(path.join(dir, 'README.md'), '# A card someone else wrote\n');
    assert.equal(readBertftCard(dir), undefined);
    fs.writeFileSync(path.join(dir, 'README.md'), faked);
    assert.equal(readBertftCard(dir), faked);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('multi-label card: problem_type, BCE with logits, micro/macro-F1 and subset accuracy, thresholds, sigmoid how-to', () => {
  const evalJson = {
    step: 30,
    loss: 0.31,
    micro_f1: 0.62,
    macro_f1: 0.55,
    subset_accuracy: 0.4,
    per_label: {
      animal: { precision: 0.7, recall: 0.6, f1: 0.646, support: 9, threshold: 0.35 },
      food: { precision: 0.5, recall: 0.4, f1: 0.444, support: 5, threshold: 0.6 },
    },
  };
  const scores = classifierScores('multi_label_classification', evalJson, ['animal', 'food']);
  assert.ok(scores);
  const text = renderModelCard(
    cardFor({
      problemType: 'multi_label_classification',
      evaluation: { ...cardFor().evaluation!, heldOut: 'a seeded random share of 0.25', ...scores },
    }),
  );
  const meta = frontMatter(text);
  assert.deepEqual(meta.tags, ['bertft', 'text-classification', 'multi-label-classification', 'bert']);
  assert.deepEqual(meta.metrics, ['f1', 'accuracy']);
  const index = meta['model-index'] as { results: { metrics: unknown[] }[] }[];
  assert.deepEqual(index[0].results[0].metrics, [
    { type: 'f1', value: 0.62, name: 'Micro F1' },
    { type: 'f1', value: 0.55, name: 'Macro F1' },
    { type: 'accuracy', value: 0.4, name: 'Subset accuracy' },
  ]);
  const body = bodyOf(text);
  assert.ok(body.includes('`problem_type: multi_label_classification`'));
  assert.match(body, /binary cross-entropy with logits/);
  assert.match(body, /\| Loss \\\(binary cross\\-entropy with logits\\\) \| 0\.3100 \|/);
  assert.ok(!body.includes('Loss \\(cross\\-entropy\\)'), 'not the single-label loss');
  assert.ok(!body.includes('| Accuracy |'), 'subset accuracy, not accuracy');
  assert.match(body, /\| label \| precision \| recall \| F1 \| support \| threshold \|/);
  assert.match(body, /\| animal \| 0\.7000 \| 0\.6000 \| 0\.6460 \| 9 \| 0\.3500 \|/);
  assert.match(body, /thresholds\.json/);
  assert.ok(body.includes('logits.sigmoid()'), 'the how-to reads sigmoid probabilities');
  assert.ok(body.includes('top_k=None'));
  assert.ok(!body.includes('softmax'));
});

test('regression card: problem_type regression, MSE as the loss, MAE/Pearson/Spearman, no label table, raw-logit how-to', () => {
  const evalJson = { step: 30, loss: 0.8, mse: 0.8, mae: 0.7, pearson: 0.91, spearman: NaN };
  const scores = classifierScores('regression', evalJson, ['LABEL_0']);
  assert.ok(scores);
  const text = renderModelCard(
    cardFor({ problemType: 'regression', labels: [], evaluation: { ...cardFor().evaluation!, ...scores } }),
  );
  const meta = frontMatter(text);
  assert.deepEqual(meta.tags, ['bertft', 'text-classification', 'regression', 'bert']);
  assert.deepEqual(meta.metrics, ['mse', 'mae', 'pearsonr'], 'a NaN correlation is left out of the front matter');
  const body = bodyOf(text);
  assert.ok(body.includes('`problem_type: regression`'));
  assert.match(body, /text regression model/);
  assert.match(body, /mean squared error/);
  assert.match(body, /\| MSE \\\(the training loss\\\) \| 0\.8000 \|/);
  assert.match(body, /\| Spearman correlation \| n\/a \|/);
  assert.ok(!body.includes('## Labels'));
  assert.ok(!/Accuracy|cross\\-entropy|softmax\(-1\)/.test(body), 'nothing of a classifier');
  assert.ok(body.includes('function_to_apply="none"'));
  assert.ok(body.includes('logits[0, 0].item()'));
  assert.ok(body.includes('logits.data[0]'), 'transformers.js: the logit itself, not the pipeline');
  assert.equal(classifierScores('regression', { step: 3 }, []), undefined, 'no scores: not evaluated');
});

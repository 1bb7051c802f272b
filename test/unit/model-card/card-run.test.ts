/**
 * The model card end to end: `bertft train` (the tiny run's settings) on a dataset whose labels and file name are
 * hostile leaves best/README.md beside an unchanged HF layout; the int8 copy gets its own card; pre-training's best/
 * gets a fill-mask card.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hfConfigJson, loadModelDir } from '../../../src/core/model/load';
import { runPretrainSession } from '../../../src/core/pretrain/session';
import { writeQuantizedModelDir } from '../../../src/core/infer/quantize';
import { visible } from '../../../src/core/util/inert-text';
import { TINY_RUN_SETTINGS } from '../../helpers/tiny-run';
import { tempDir } from '../runner/fixtures';
import { bodyOf, frontMatter, shownText, toHtml } from './markdown';

const CLI = path.join(__dirname, '..', '..', '..', 'src', 'cli.js');

const LABELS = [
  '[click](http://127.0.0.1:9/link)',
  '<img src="http://127.0.0.1:9/img" onerror="alert(1)">',
  'key: value # comment',
  '--- - "quoted" \'single\'',
  'héllo wörld 😀 | pipe',
];
const FILE_NAME = "reviews #1 [x](y) 'q' ü.csv";

function hostileCsv(dir: string): string {
  const words = ['apple', 'river', 'stone', 'cloud', 'ember'];
  const lines = ['text,label'];
  for (let i = 0; i < 60; i++) {
    const k = i % LABELS.length;
    lines.push(`"${words[k]} ${words[k]} number ${i}","${LABELS[k].replace(/"/g, '""')}"`);
  }
  const file = path.join(dir, FILE_NAME);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const tinyFlags = (): string[] => {
  const s = TINY_RUN_SETTINGS;
  return [
    ['--model', s.model],
    ['--max-steps', s.maxSteps],
    ['--batch-size', s.batchSize],
    ['--eval-steps', s.evalSteps],
    ['--max-length', s.maxLength],
    ['--lr', s.lr],
    ['--seed', s.seed],
    ['--device', s.device],
    ['--valid-ratio', s.validRatio],
    ['--epochs', s.epochs],
    ...(s.dropout ? [] : [['--no-dropout']]),
  ].flatMap((pair) => pair.map(String));
};

test('bertft train leaves best/README.md beside an unchanged HF layout; the int8 copy gets its own card', async () => {
  const dir = tempDir('card-run');
  try {
    const data = hostileCsv(dir);
    const run = path.join(dir, 'run');
    const env = { ...process.env, BERTFT_TRAINING_CHILD: '1' };
    const train = spawnSync(process.execPath, [CLI, 'train', '--data', data, '--out', run, ...tinyFlags()], {
      encoding: 'utf8',
      env,
    });
    assert.equal(train.status, 0, train.stderr);
    const best = path.join(run, 'best');
    assert.deepEqual(fs.readdirSync(best).sort(), [
      'README.md',
      'bertft.json',
      'config.json',
      'eval.json',
      'model.onnx',
      'model.safetensors',
      'onnx',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);

    // The HF layout is as before: config.json is what saveHfModel writes, and the folder loads and predicts.
    const config = JSON.parse(fs.readFileSync(path.join(best, 'config.json'), 'utf8')) as Record<string, unknown>;
    const labels = Object.values(config.id2label as Record<string, string>);
    assert.deepEqual([...labels].sort(), [...LABELS].sort(), "the labels are the data's, unchanged");
    const loaded = await loadModelDir(best, labels.length, 1);
    assert.deepEqual(hfConfigJson(loaded.config, labels), config);
    const predict = spawnSync(process.execPath, [CLI, 'predict', '--model', run, '--json', '--text', 'apple apple'], {
      encoding: 'utf8',
      env,
    });
    assert.equal(predict.status, 0, predict.stderr);
    assert.ok(labels.includes((JSON.parse(predict.stdout) as { label: string }).label));

    // The card: the Hub's fields, the eval.json scores in model-index, the data file's name and hash.
    const card = fs.readFileSync(path.join(best, 'README.md'), 'utf8');
    const meta = frontMatter(card);
    const evalJson = JSON.parse(fs.readFileSync(path.join(best, 'eval.json'), 'utf8')) as Record<string, number>;
    assert.equal(meta.pipeline_tag, 'text-classification');
    assert.equal(meta.license, 'other');
    assert.equal(meta.base_model, undefined, 'random weights have no base model');
    const result = (meta['model-index'] as { name: string; results: Record<string, unknown>[] }[])[0];
    assert.equal(result.name, 'run');
    const { dataset, metrics } = result.results[0] as {
      dataset: { name: string };
      metrics: { type: string; value: number }[];
    };
    assert.equal(dataset.name, FILE_NAME);
    assert.deepEqual(
      metrics.map((m) => [m.type, m.value]),
      [
        ['accuracy', evalJson.accuracy],
        ['f1', evalJson.macro_f1],
      ],
    );
    const runJson = JSON.parse(fs.readFileSync(path.join(run, 'run.json'), 'utf8')) as { data: { sha256: string }[] };
    assert.ok(card.includes(runJson.data[0].sha256), "the data file's SHA-256 from run.json");
    assert.match(card, new RegExp(`from step ${evalJson.step} of 60; training to it took \\S+ on cpu`));
    assert.match(card, /transformers\.js loads onnx\/model\.onnx from this folder/, 'best/ has onnx/model.onnx');

    // The body: no element from a label or the file name, and every label shown as text.
    const html = toHtml(bodyOf(card));
    assert.ok(!/<(a|img|script)\b/i.test(html), 'no link, image or script');
    const shown = shownText(bodyOf(card));
    for (const label of LABELS) assert.ok(shown.includes(visible(label)), `label shown: ${label}`);

    // The int8 copy's card is made from this one.
    const { dir: int8 } = await writeQuantizedModelDir(run);
    const int8Card = fs.readFileSync(path.join(int8, 'README.md'), 'utf8');
    assert.deepEqual((frontMatter(int8Card).tags as string[]).slice(0, 2), ['onnx', 'int8']);
    assert.match(int8Card, /\*\*Quantized copy\.\*\*/);
    assert.equal(fs.readFileSync(path.join(best, 'README.md'), 'utf8'), card, 'best/README.md untouched');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("pre-training's best/ gets a fill-mask card with the MLM scores", async () => {
  const dir = tempDir('card-pretrain');
  try {
    const text = path.join(dir, 'notes.txt');
    const sentences = ['the river runs past the old stone mill', 'clouds gather over the hills before rain'];
    fs.writeFileSync(text, Array.from({ length: 40 }, (_, i) => `${sentences[i % 2]} ${i}`).join('\n'));
    const run = path.join(dir, 'mlm');
    await runPretrainSession(
      { data: text, out: run, model: 'random:tiny', maxSteps: 4, evalSteps: 2, batchSize: 4, maxLength: 16, seed: 1 },
      { emit: () => undefined },
    );
    const card = fs.readFileSync(path.join(run, 'best', 'README.md'), 'utf8');
    const meta = frontMatter(card);
    assert.equal(meta.pipeline_tag, 'fill-mask');
    const index = (
      meta['model-index'] as { results: { dataset: { name: string }; metrics: { type: string }[] }[] }[]
    )[0];
    assert.equal(index.results[0].dataset.name, 'notes.txt');
    assert.deepEqual(
      index.results[0].metrics.map((m) => m.type),
      ['perplexity', 'accuracy'],
    );
    assert.match(card, /pipeline\("fill-mask"/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** Trains `data` with the tiny run's settings and `extra` flags; returns best/'s card, eval.json and config.json. */
function trainForCard(dir: string, data: string, extra: string[]) {
  const run = path.join(dir, 'run');
  const env = { ...process.env, BERTFT_TRAINING_CHILD: '1' };
  const train = spawnSync(process.execPath, [CLI, 'train', '--data', data, '--out', run, ...tinyFlags(), ...extra], {
    encoding: 'utf8',
    env,
  });
  assert.equal(train.status, 0, train.stderr);
  const best = path.join(run, 'best');
  const read = (name: string) => fs.readFileSync(path.join(best, name), 'utf8');
  return {
    card: read('README.md'),
    evalJson: JSON.parse(read('eval.json')) as Record<string, number | null>,
    config: JSON.parse(read('config.json')) as { problem_type?: string },
  };
}

/** The model-index metrics of a card as [type, name, value]. */
function indexMetrics(card: string): [string, string, number][] {
  const result = (frontMatter(card)['model-index'] as { results: { metrics: Record<string, unknown>[] }[] }[])[0];
  return result.results[0].metrics.map((m) => [m.type as string, m.name as string, m.value as number]);
}

test("a multi-label run's card: problem_type as in config.json, BCE with logits, its eval.json scores, thresholds", () => {
  const dir = tempDir('card-multi');
  try {
    const words = ['cat', 'bread', 'rain'];
    const rows = Array.from({ length: 60 }, (_, i) => {
      const labels = ['animal', 'food', 'weather'].filter((_, t) => ((i + 1) >> t) & 1);
      return JSON.stringify({
        text: `${labels.map((l) => words[['animal', 'food', 'weather'].indexOf(l)]).join(' ')} ${i}`,
        labels,
      });
    });
    const data = path.join(dir, 'topics.jsonl');
    fs.writeFileSync(data, rows.join('\n') + '\n');
    const { card, evalJson, config } = trainForCard(dir, data, []);
    assert.equal(config.problem_type, 'multi_label_classification');
    assert.deepEqual(indexMetrics(card), [
      ['f1', 'Micro F1', evalJson.micro_f1],
      ['f1', 'Macro F1', evalJson.macro_f1],
      ['accuracy', 'Subset accuracy', evalJson.subset_accuracy],
    ]);
    const body = bodyOf(card);
    assert.ok(body.includes('`problem_type: multi_label_classification`'));
    assert.ok(body.includes(`| Loss \\(binary cross\\-entropy with logits\\) | ${evalJson.loss!.toFixed(4)} |`));
    assert.ok(!body.includes('Loss \\(cross\\-entropy\\)'));
    const perLabel = (evalJson as unknown as { per_label: Record<string, { threshold: number }> }).per_label;
    assert.ok(body.includes(`| animal | `) && body.includes(` | ${perLabel.animal.threshold.toFixed(4)} |`));
    assert.match(body, /a seeded random share of 0\\\.25/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a regression run's card: problem_type regression, MSE as its loss, MAE, Pearson and Spearman from eval.json", () => {
  const dir = tempDir('card-regression');
  try {
    const lines = ['text,label'];
    for (let i = 0; i < 60; i++) lines.push(`"${'good '.repeat(i % 4)}item ${i}",${(i % 4) + 0.5}`);
    const data = path.join(dir, 'scores.csv');
    fs.writeFileSync(data, lines.join('\n') + '\n');
    const { card, evalJson, config } = trainForCard(dir, data, ['--task', 'regression']);
    assert.equal(config.problem_type, 'regression');
    const expected: [string, string, number | null][] = [
      ['mse', 'MSE (the training loss)', evalJson.mse],
      ['mae', 'MAE', evalJson.mae],
      ['pearsonr', 'Pearson correlation', evalJson.pearson],
      ['spearmanr', 'Spearman correlation', evalJson.spearman],
    ];
    assert.deepEqual(
      indexMetrics(card),
      expected.filter((m) => m[2] !== null),
    );
    const body = bodyOf(card);
    assert.ok(body.includes('`problem_type: regression`'));
    assert.match(body, /mean squared error/);
    assert.ok(!body.includes('## Labels') && !/Accuracy|cross\\-entropy/.test(body));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

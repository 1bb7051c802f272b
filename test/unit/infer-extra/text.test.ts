import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LruCache } from '../../../src/extension/inference/cache';
import { runDirOfModel } from '../../../src/core/run/paths';
import { modelName, resolveModelSetting } from '../../../src/extension/inference/models';
import {
  comparisonText,
  describePrediction,
  formatConfusion,
  hoverMarkdown,
  hoverTarget,
  paragraphAt,
  sentenceAt,
} from '../../../src/extension/inference/text';
import { asMarkdown, asPlain } from '../../../src/extension/display/text';
import { evaluatePredictions } from '../../../src/core/infer/batch-predict';
import { tempDir } from './fixtures';

const DOC = 'First sentence here. Second one? Yes!\nSame paragraph.\n\n  Next paragraph, one sentence.\n';

test('sentence and paragraph under an offset', () => {
  const at = (needle: string) => DOC.indexOf(needle);
  assert.equal(DOC.slice(...sentenceAt(DOC, at('sentence here'))).trim(), 'First sentence here.');
  assert.equal(DOC.slice(...sentenceAt(DOC, at('one?'))).trim(), 'Second one?');
  assert.equal(DOC.slice(...sentenceAt(DOC, at('Same'))).trim(), 'Same paragraph.');
  assert.equal(DOC.slice(...paragraphAt(DOC, at('Second'))), 'First sentence here. Second one? Yes!\nSame paragraph.');
  const t = hoverTarget(DOC, at('paragraph,'), 'paragraph');
  assert.deepEqual(t && { text: t.text, start: t.start }, { text: 'Next paragraph, one sentence.', start: at('Next') });
  assert.equal(hoverTarget('a.\n\n\n\nb', 4, 'sentence'), undefined);
});

test('hover markdown: bars in proportion, labels escaped, dashboard link', () => {
  const p = { label: '*bold*', score: 0.75, scores: { '*bold*': 0.75, other: 0.25 } };
  const md = asMarkdown(hoverMarkdown(p, 'run_1', '/runs/a (1)'));
  assert.match(md, /^\*\*\\\*bold\\\*\*\* 75\\\.0\\%/);
  assert.ok(md.includes(`\`${'█'.repeat(15)}${'░'.repeat(5)}\` 75\\.0\\% \\*bold\\*`));
  assert.ok(md.includes(`\`${'█'.repeat(5)}${'░'.repeat(15)}\` 25\\.0\\% other`));
  // The run folder's ")" is encoded: it cannot end the link early.
  assert.ok(md.endsWith('*run\\_1* · [Dashboard](command:bert.openDashboard?%5B%22%2Fruns%2Fa%20%281%29%22%5D)'), md);
  assert.equal(
    asPlain(describePrediction({ label: 'b', score: 0.6, scores: { a: 0.1, b: 0.6, c: 0.3 } }, 2)),
    'b 60.0% · c 30.0%',
  );
});

test('LRU cache evicts the least recently used entry', () => {
  const c = new LruCache<string, number>(2);
  c.set('a', 1);
  c.set('b', 2);
  assert.equal(c.get('a'), 1);
  c.set('c', 3);
  assert.equal(c.get('b'), undefined);
  assert.deepEqual([c.get('a'), c.get('c'), c.size], [1, 3, 2]);
});

test('model names and settings: run name for run/best/int8, relative setting inside the workspace', () => {
  const root = tempDir('names');
  const run = path.join(root, '.bert', 'runs', 'run-7');
  fs.mkdirSync(path.join(run, 'best', 'int8'), { recursive: true });
  fs.writeFileSync(path.join(run, 'run.json'), '{}');
  fs.writeFileSync(path.join(run, 'best', 'config.json'), '{}');
  fs.writeFileSync(path.join(run, 'best', 'int8', 'config.json'), '{}');
  assert.equal(modelName(run), 'run-7');
  assert.equal(modelName(path.join(run, 'best')), 'run-7');
  assert.equal(modelName(path.join(run, 'best', 'int8')), 'run-7 (int8)');
  assert.equal(runDirOfModel(path.join(run, 'best', 'int8')), run);
  assert.equal(runDirOfModel(root), undefined);
  assert.equal(modelName(path.join(root, 'hf-model')), 'hf-model');
  assert.equal(resolveModelSetting('.bert/runs/run-7/best', root), path.join(run, 'best'));
  assert.equal(resolveModelSetting('  ', root), undefined);
  fs.rmSync(root, { recursive: true, force: true });
});

test('confusion matrix as aligned text, unknown true labels as extra rows', () => {
  const table = formatConfusion(
    evaluatePredictions(['neg', 'pos'], ['neg', 'pos', 'pos', 'meh'], ['neg', 'neg', 'pos', 'pos']),
  );
  assert.equal(
    table,
    [
      'true\\pred       neg       pos',
      '      neg         1         0',
      '      pos         1         1',
      '      meh         0         1',
    ].join('\n'),
  );
});

test('the int8 comparison in each task’s terms: accuracy with label agreement, subset accuracy, MSE with the largest difference', () => {
  const base = { int8Dir: 'x', texts: 40, labelled: 40, maxLogitDiff: 0.0034, fp32MsPerText: 1, int8MsPerText: 1 };
  const sizes = { fp32Bytes: 2, int8Bytes: 1 };
  assert.equal(
    comparisonText({ ...base, ...sizes, metric: 'accuracy', fp32Score: 0.95, int8Score: 0.925, agreement: 0.975 }),
    'accuracy 95.0% → 92.5% on 40 validation texts (same label for 97.5%)',
  );
  assert.equal(
    comparisonText({
      ...base,
      ...sizes,
      metric: 'subset accuracy',
      fp32Score: 0.175,
      int8Score: 0.15,
      agreement: 0.35,
    }),
    'subset accuracy 17.5% → 15.0% on 40 validation texts (same labels for 35.0%)',
  );
  assert.equal(
    comparisonText({ ...base, ...sizes, metric: 'MSE', fp32Score: 0.0931, int8Score: 0.0933 }),
    'MSE 0.0931 → 0.0933 on 40 validation texts (predictions differ by at most 0.0034)',
  );
  assert.equal(
    comparisonText({ ...base, ...sizes, labelled: 0, metric: 'accuracy', agreement: 1 }),
    'no validation set to measure it on',
  );
});

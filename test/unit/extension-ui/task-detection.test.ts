/**
 * The Fine-tune flow's task detection, without VS Code: the real dataset check's report becomes the trainer's options
 * (taskOptions) and the flow's sentence (describeTask); a run started with those options trains the detected task
 * (0/1 columns and numbers, which a run without them could not train as such).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkDataset } from '../../../src/core/data/check';
import { runTrainingSession } from '../../../src/core/finetune/session';
import { asPlain } from '../../../src/extension/display/text';
import { describeTask, sessionOptions, taskOptions } from '../../../src/extension/training/options';
import { describeRun, describeRunTooltip, listRuns } from '../../../src/extension/runs/runStore';
import { TINY_RUN_SETTINGS } from '../../helpers/tiny-run';
import { tempDir } from '../runner/fixtures';

const rows = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join('\n') + '\n';

test('each kind of data: what the flow says it detected and the options it passes to the trainer', async () => {
  const dir = tempDir('flow-task');
  try {
    const files = {
      'single.csv': 'text,label\n' + rows(40, (i) => `text ${i},${i % 2 ? 'pos' : 'neg'}`),
      'lists.jsonl': rows(40, (i) => JSON.stringify({ text: `t ${i}`, labels: i % 3 ? ['a', 'b'] : ['c'] })),
      'separated.csv': 'text,labels\n' + rows(40, (i) => `t ${i},${i % 3 ? 'a;b' : 'c'}`),
      'columns.csv': 'text,billing,urgent\n' + rows(40, (i) => `t ${i},${i % 2},${i % 3 ? 1 : 0}`),
      'scores.csv': 'text,label\n' + rows(40, (i) => `t ${i},${(i / 8).toFixed(3)}`),
      'pairs.csv': 'question,answer,label\n' + rows(40, (i) => `q ${i},a ${i},${i % 2 ? 'yes' : 'no'}`),
    };
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    const detected = async (name: string) => {
      const report = await checkDataset(path.join(dir, name), { tokenizer: null });
      return { options: taskOptions(report), said: asPlain(describeTask(report)) };
    };
    assert.deepEqual(await detected('single.csv'), { options: {}, said: 'Detected: one label per row, 2 classes' });
    assert.deepEqual(await detected('lists.jsonl'), {
      options: { problemType: 'multi-label' },
      said: 'Detected: several labels per row (label lists), 3 labels',
    });
    assert.deepEqual(await detected('separated.csv'), {
      options: { problemType: 'multi-label', labelSeparator: ';' },
      said: 'Detected: several labels per row (separated by ";"), 3 labels',
    });
    assert.deepEqual(await detected('columns.csv'), {
      options: { problemType: 'multi-label', labelColumns: ['billing', 'urgent'] },
      said: 'Detected: several labels per row (one 0/1 column per label), 2 labels',
    });
    assert.deepEqual(await detected('scores.csv'), {
      options: { problemType: 'regression' },
      said: 'Detected: a number per row (regression)',
    });
    assert.deepEqual(await detected('pairs.csv'), {
      options: { textPairColumn: 'answer' },
      said: 'Detected: one label per row, 2 classes; text pairs with "answer"',
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a run started with the flow's options trains the detected task: 0/1 columns as labels, numbers as regression", async () => {
  const dir = tempDir('flow-task-run');
  try {
    const trainWith = async (name: string, text: string) => {
      const data = path.join(dir, name);
      fs.writeFileSync(data, text);
      const report = await checkDataset(data, { tokenizer: null });
      const out = path.join(dir, `run-${name}`);
      const options = sessionOptions(
        {
          data,
          model: 'random:tiny',
          preset: 'fast',
          device: 'cpu',
          textColumn: report.textColumn,
          task: taskOptions(report),
        },
        out,
      );
      const { model: _m, device: _d, ...tiny } = { ...TINY_RUN_SETTINGS, maxSteps: 8, evalSteps: 8 };
      await runTrainingSession({ ...options, ...tiny }, { emit: () => {}, shouldStop: () => false });
      const runJson = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')) as {
        config: Record<string, unknown>;
      };
      const config = JSON.parse(fs.readFileSync(path.join(out, 'best', 'config.json'), 'utf8')) as {
        problem_type?: string;
        id2label: Record<string, string>;
      };
      return { runConfig: runJson.config, config };
    };
    const columns = await trainWith(
      'columns.csv',
      'text,billing,urgent\n' + rows(40, (i) => `t ${i},${i % 2},${i % 3 ? 1 : 0}`),
    );
    assert.equal(columns.runConfig.problemType, 'multi-label');
    assert.deepEqual(columns.runConfig.labelColumns, ['billing', 'urgent']);
    assert.equal(columns.config.problem_type, 'multi_label_classification');
    assert.deepEqual(Object.values(columns.config.id2label), ['billing', 'urgent']);

    const scores = await trainWith('scores.csv', 'text,label\n' + rows(40, (i) => `t ${i},${(i / 8).toFixed(3)}`));
    assert.equal(scores.runConfig.problemType, 'regression');
    assert.equal(scores.config.problem_type, 'regression');

    // The Runs view says what each run trains, with that task's best score.
    const runs = new Map(listRuns(dir, () => false).map((r) => [r.name, r]));
    const multi = runs.get('run-columns.csv')!;
    assert.equal(multi.kind, 'multi-label');
    assert.match(describeRun(multi), /^multi-label · done · micro-F1 \d\.\d\d · /);
    assert.match(asPlain(describeRunTooltip(multi)), /Task: multi-label classification/);
    assert.match(asPlain(describeRunTooltip(multi)), /Best: micro-F1 \d\.\d{3}, macro-F1 \d\.\d{3}, subset accuracy/);
    const regression = runs.get('run-scores.csv')!;
    assert.equal(regression.kind, 'regression');
    assert.match(describeRun(regression), /^regression · done · MSE [\d.e+-]+ · /);
    assert.match(asPlain(describeRunTooltip(regression)), /Task: regression/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

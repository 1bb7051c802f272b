import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  resumeOptions,
  runFolderName,
  sessionOptions,
  validatePositive,
} from '../../../src/extension/training/options';

test('run folder names sort by time and name the dataset', () => {
  const date = new Date(2026, 10, 25, 8, 15, 2);
  assert.equal(runFolderName(date, '/ws/data/My Reviews.csv'), '20261125-081502-my-reviews');
  assert.equal(runFolderName(date, '/ws/news/'), '20261125-081502-news');
  assert.equal(runFolderName(date, '/ws/..csv'), '20261125-081502');
});

test('session options carry only what was chosen', () => {
  const options = sessionOptions(
    { data: '/ws/a.csv', model: 'random:tiny', preset: 'fast', device: 'cpu', textColumn: 'body' },
    '/ws/.bert/runs/r',
  );
  assert.deepEqual(options, {
    data: '/ws/a.csv',
    out: '/ws/.bert/runs/r',
    model: 'random:tiny',
    preset: 'fast',
    device: 'cpu',
    textColumn: 'body',
  });
  const custom = sessionOptions(
    { data: 'd', model: 'm', preset: 'tutorial', device: 'auto', epochs: 2, batchSize: 4, lr: 1e-4, maxLength: 64 },
    'o',
  );
  assert.deepEqual([custom.epochs, custom.batchSize, custom.lr, custom.maxLength], [2, 4, 1e-4, 64]);
});

test('resume options come from run.json and point at the run', () => {
  assert.deepEqual(
    resumeOptions({ config: { data: '/ws/a.csv', out: '/elsewhere', model: 'm', epochs: 3 } }, '/ws/runs/r'),
    { data: '/ws/a.csv', out: '/ws/runs/r', model: 'm', epochs: 3, resume: true },
  );
  assert.equal(resumeOptions({}, 'r'), undefined);
  assert.equal(resumeOptions(undefined, 'r'), undefined);
});

test('validatePositive', () => {
  assert.equal(validatePositive('3', true), undefined);
  assert.equal(validatePositive('2e-5', false), undefined);
  assert.match(validatePositive('1.5', true) ?? '', /whole/);
  assert.match(validatePositive('-1', false) ?? '', /greater/);
  assert.match(validatePositive('', false) ?? '', /greater/);
});

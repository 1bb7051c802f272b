import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitDataset } from '../../../src/core/data/split';
import { buildLabelMap, labelId, labelIdsOf, labelMapFromId2Label } from '../../../src/core/data/labels';
import { createRng, epochRng, shuffleInPlace } from '../../../src/core/util/random';
import type { Example } from '../../../src/core/data/types';
import { spamAssassin } from './helpers';

const spam: Example[] = spamAssassin().map((m, i) => ({ text: m.body, label: m.label, file: 'spam.csv', line: i + 2 }));

test('PRNG: same (seed, stream) gives the same sequence; other seeds and streams differ', () => {
  const take = (rng: () => number) => Array.from({ length: 8 }, rng);
  assert.deepEqual(take(createRng(7)), take(createRng(7)));
  assert.notDeepEqual(take(createRng(7)), take(createRng(8)));
  assert.notDeepEqual(take(createRng(7, 0)), take(createRng(7, 1)));
  assert.deepEqual(take(epochRng(3, 2)), take(epochRng(3, 2)));
  assert.notDeepEqual(take(epochRng(3, 2)), take(epochRng(3, 3)));
  assert.throws(() => createRng(1.5), RangeError);
});

test('PRNG: values in [0, 1) and roughly uniform; shuffle is a permutation', () => {
  const rng = createRng(123);
  const buckets = new Array(10).fill(0);
  for (let i = 0; i < 100_000; i++) {
    const x = rng();
    assert.ok(x >= 0 && x < 1);
    buckets[Math.floor(x * 10)]++;
  }
  for (const b of buckets) assert.ok(Math.abs(b - 10_000) < 500, `bucket ${b}`);
  const items = Array.from({ length: 1000 }, (_, i) => i);
  const shuffled = shuffleInPlace([...items], createRng(5));
  assert.notDeepEqual(shuffled, items);
  assert.deepEqual(
    [...shuffled].sort((a, b) => a - b),
    items,
  );
});

test('stratified split of SpamAssassin keeps class shares, is disjoint and complete, in file order', () => {
  const { train, validation, labelMap } = splitDataset(spam, { validationRatio: 0.2, seed: 1 });
  assert.deepEqual(labelMap.labels, ['ham', 'spam']);
  assert.equal(train.length + validation.length, spam.length);
  assert.equal(validation.filter((e) => e.label === 'ham').length, Math.round(4150 * 0.2));
  assert.equal(validation.filter((e) => e.label === 'spam').length, Math.round(1896 * 0.2));
  const lines = new Set(train.map((e) => e.line));
  assert.ok(validation.every((e) => !lines.has(e.line)));
  for (const part of [train, validation])
    for (let i = 1; i < part.length; i++) assert.ok(part[i - 1].line < part[i].line);
});

test('split is reproducible from the seed and changes with it', () => {
  const lines = (seed: number) => splitDataset(spam, { seed }).validation.map((e) => e.line);
  assert.deepEqual(lines(42), lines(42));
  assert.notDeepEqual(lines(42), lines(43));
});

test('small classes: at least one example on each side', () => {
  const ex = (label: string, i: number): Example => ({ text: `${label}${i}`, label, file: 'f', line: i });
  const data = [
    ex('a', 1),
    ex('a', 2),
    ex('b', 3),
    ex('b', 4),
    ex('b', 5),
    ...Array.from({ length: 50 }, (_, i) => ex('c', 10 + i)),
  ];
  const { train, validation } = splitDataset(data, { validationRatio: 0.1 });
  for (const l of ['a', 'b', 'c']) {
    assert.ok(
      train.some((e) => e.label === l),
      `train has ${l}`,
    );
    assert.ok(
      validation.some((e) => e.label === l),
      `validation has ${l}`,
    );
  }
  assert.equal(validation.filter((e) => e.label === 'c').length, 5);
});

test('explicit validation: kept as given, label map from training labels', () => {
  const train = spam.filter((_, i) => i % 50 === 0);
  const validation = spam.filter((_, i) => i % 50 === 1);
  const split = splitDataset(train, { validation });
  assert.equal(split.train, train);
  assert.equal(split.validation, validation);
  assert.deepEqual(split.labelMap.labels, [...new Set(train.map((e) => e.label))].sort());
});

test('label maps: integers sort numerically, strings by code point, round-trip through id2label', () => {
  const ints = buildLabelMap(['10', '2', '-1', '2', '0']);
  assert.equal(ints.kind, 'integer');
  assert.deepEqual(ints.labels, ['-1', '0', '2', '10']);
  assert.deepEqual(ints.id2label, { 0: '-1', 1: '0', 2: '2', 3: '10' });
  const strings = buildLabelMap(['spam', 'Ham', 'ham', '10', '9']);
  assert.equal(strings.kind, 'string');
  assert.deepEqual(strings.labels, ['10', '9', 'Ham', 'ham', 'spam']);
  assert.equal(labelId(strings, 'ham'), 3);
  assert.throws(
    () => labelId(strings, 'eggs', 'x.csv', 4),
    (e: Error & { line?: number }) => e.line === 4 && /"eggs"/.test(e.message),
  );
  assert.deepEqual(
    [
      ...labelIdsOf(ints, [
        { label: '10', file: 'f', line: 2 },
        { label: '-1', file: 'f', line: 3 },
      ]),
    ],
    [3, 0],
  );
  assert.throws(
    () =>
      labelIdsOf(ints, [
        { label: '0', file: 'f', line: 2 },
        { label: '7', file: 'v.csv', line: 9 },
      ]),
    (e: Error & { line?: number; file?: string }) => e.line === 9 && e.file === 'v.csv',
  );
  const back = labelMapFromId2Label(ints.id2label);
  assert.deepEqual(back.labels, ints.labels);
  assert.deepEqual(back.label2id, ints.label2id);
  assert.throws(() => labelMapFromId2Label({ 0: 'a', 2: 'b' }), /no entry for id 1/);
});

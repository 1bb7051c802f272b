/**
 * How Classify Selection (and Explain Selection, the hover) reads a text-pair model's pairs from the editor's
 * selections (splitPairs), where each text is in its selection, and what it says when a selection is not a pair
 * (describeUnsplit).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeUnsplit, splitPairs, type PairSplit } from '../../../src/extension/inference/text';
import { asPlain } from '../../../src/extension/display/text';

const unsplit = (split: PairSplit): Extract<PairSplit, { ok: false }> => {
  if (split.ok) assert.fail(`a pair: ${JSON.stringify(split)}`);
  return split;
};

/** The split's texts and pairs, after checking that each text's span in its selection holds exactly that text. */
function read(selections: string[]): { ok: boolean; texts?: string[]; pairs?: string[] } {
  const split = splitPairs(selections);
  if (!split.ok) return split;
  assert.equal(split.spans.length, split.texts.length);
  split.spans.forEach(([a, b], i) => {
    assert.equal(selections[a.selection].slice(a.start, a.end), split.texts[i], `text ${i}`);
    assert.equal(selections[b.selection].slice(b.start, b.end), split.pairs[i], `pair ${i}`);
  });
  return { ok: true, texts: split.texts, pairs: split.pairs };
}

test('two selections are one pair, in the order given (the caller sorts them by position), trimmed', () => {
  assert.deepEqual(read(['  Is it raining?\n', 'It is pouring outside. ']), {
    ok: true,
    texts: ['Is it raining?'],
    pairs: ['It is pouring outside.'],
  });
  // Even a selection with a tab: two selections are the two texts, never split further.
  assert.deepEqual(read(['a\tb', 'c']), { ok: true, texts: ['a\tb'], pairs: ['c'] });
});

test('a selection of tab-separated lines is one pair per line, cut at the first tab; blank lines are skipped', () => {
  const tsv = 'A man plays a guitar.\tSomeone makes music.\r\n\nA dog sleeps.\tThe dog runs\tfast.\n';
  assert.deepEqual(read([tsv]), {
    ok: true,
    texts: ['A man plays a guitar.', 'A dog sleeps.'],
    pairs: ['Someone makes music.', 'The dog runs\tfast.'],
  });
  // Three selections, each split on its own: two lines, a tab line, two lines again.
  assert.deepEqual(read(['q1\na1', 'q2\ta2', '\nq3\n\na3\n']), {
    ok: true,
    texts: ['q1', 'q2', 'q3'],
    pairs: ['a1', 'a2', 'a3'],
  });
});

test('spans: a text sits in its selection without the whitespace around it, line breaks \\r\\n or \\n', () => {
  const split = splitPairs(['  first line \r\n\n  second\r\n']);
  assert.ok(split.ok);
  assert.deepEqual(split.spans, [
    [
      { selection: 0, start: 2, end: 12 },
      { selection: 0, start: 18, end: 24 },
    ],
  ]);
  const tsv = splitPairs(['a b\t c\nd\te ']);
  assert.ok(tsv.ok);
  assert.deepEqual(tsv.spans, [
    [
      { selection: 0, start: 0, end: 3 },
      { selection: 0, start: 5, end: 6 },
    ],
    [
      { selection: 0, start: 7, end: 8 },
      { selection: 0, start: 9, end: 10 },
    ],
  ]);
  const two = splitPairs([' x ', 'y\n']);
  assert.ok(two.ok);
  assert.deepEqual(two.spans, [
    [
      { selection: 0, start: 1, end: 2 },
      { selection: 1, start: 0, end: 1 },
    ],
  ]);
});

test('a selection that is not a pair is reported with which selection, why, and how to select one', () => {
  const one = unsplit(splitPairs(['only one text']));
  assert.deepEqual(one, { ok: false, selection: 1, reason: { kind: 'one-text' } });
  assert.equal(
    asPlain(describeUnsplit(one, 1)),
    'BERT: this model classifies text pairs, and the selection is one text. Select the two texts (Alt+click adds ' +
      'the second selection), two lines, or one line per pair with a tab between the two texts.',
  );

  const mixed = unsplit(splitPairs(['x\ty', 'p\tq\nno tab here\nr\ts', 'c\td']));
  assert.deepEqual(mixed, { ok: false, selection: 2, reason: { kind: 'no-tab', line: 2 } });
  assert.match(asPlain(describeUnsplit(mixed, 3)), /line 2 of selection 2 of 3 has no tab while other lines do\./);

  const lines = unsplit(splitPairs(['a\nb', 'one\ntwo\nthree', 'c\nd']));
  assert.deepEqual(lines, { ok: false, selection: 2, reason: { kind: 'lines', lines: 3 } });
  assert.match(asPlain(describeUnsplit(lines, 3)), /selection 2 of 3 has 3 lines and no tab\./);
});

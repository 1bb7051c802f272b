/**
 * Explanations of a text-pair model (src/core/infer/explain.ts with `textPair`): the pair is the one row prediction
 * reads; both texts' tokens are attributed, each with offsets into its own text; completeness holds over the pair.
 * PyTorch's integrated gradients on pair rows are checked in ig-reference.test.ts. The editor's side: the inference
 * worker explains a pair as the core does, and names each token with the text it came from.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadExplainer, type Explanation } from '../../../src/core/infer/explain';
import { loadPredictor } from '../../../src/core/infer/predictor';
import { asMarkdown, asPlain } from '../../../src/extension/display/text';
import { InferenceClient } from '../../../src/extension/inference/client';
import { describeTopTokens, hoverMarkdown, tokenLabel, topTokens } from '../../../src/extension/inference/text';
import { runTrainingSession } from '../../../src/core/finetune/session';
import { TINY_RUN_SETTINGS } from '../../helpers/tiny-run';
import { tempDir } from '../runner/fixtures';

const GOOD = ['great', 'wonderful', 'excellent', 'lovely', 'superb', 'enjoyable'];
const BAD = ['awful', 'terrible', 'boring', 'dreadful', 'poor', 'horrible'];
const THINGS = ['movie', 'film', 'story', 'acting', 'ending', 'music', 'plot', 'cast'];

/** Two reviews a row; "agree" when both are positive or both negative, else "disagree". */
function writeReviewPairs(dir: string, rows: number): string {
  const lines = ['sentence1,sentence2,label'];
  for (let i = 0; i < rows; i++) {
    const firstGood = i % 2 === 0;
    const secondGood = Math.floor(i / 2) % 2 === 0;
    const review = (good: boolean, k: number) =>
      `the ${THINGS[k % THINGS.length]} was ${(good ? GOOD : BAD)[k % GOOD.length]}`;
    lines.push(
      `${review(firstGood, i)},${review(secondGood, i * 3 + 1)},${firstGood === secondGood ? 'agree' : 'disagree'}`,
    );
  }
  const file = path.join(dir, 'pairs.csv');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

let trained: Promise<string> | undefined;
function pairRun(): Promise<string> {
  trained ??= (async () => {
    const dir = tempDir('explain-pairs');
    const out = path.join(dir, 'run');
    await runTrainingSession(
      {
        ...TINY_RUN_SETTINGS,
        data: writeReviewPairs(dir, 64),
        textColumn: 'sentence1',
        textPairColumn: 'sentence2',
        labelColumn: 'label',
        out,
      },
      { emit: () => {}, shouldStop: () => false },
    );
    return out;
  })();
  return trained;
}

const FIRST = 'The acting was wonderful, truly superb.';
const SECOND = 'But the ending was dreadful!';

const gap = (e: Explanation) => Math.abs(e.tokens.reduce((s, t) => s + t.score, 0) - (e.logit - e.baselineLogit));

test('a pair: both texts tokens with offsets into their own text; completeness; the logit is the prediction', async () => {
  const run = await pairRun();
  const explainer = await loadExplainer(run);
  const predictor = await loadPredictor(run);
  try {
    const e = await explainer.explain(FIRST, { textPair: SECOND, steps: 50 });
    assert.deepEqual(
      e.tokens.map((t) => [t.segment, t.token]),
      [
        ...['the', 'acting', 'was', 'wonderful', ',', 'truly', 'superb', '.'].map((t) => [0, t]),
        ...['but', 'the', 'ending', 'was', 'dreadful', '!'].map((t) => [1, t]),
      ],
    );
    for (const t of e.tokens) {
      const text = t.segment === 0 ? FIRST : SECOND;
      assert.ok(t.start !== null && t.end !== null, t.token);
      assert.equal(text.slice(t.start, t.end).toLowerCase(), t.token);
    }
    assert.equal(e.truncated, false);
    // The explained row is the one prediction reads: its logit is the prediction's, its label the predicted one.
    const logits = await predictor.logits([FIRST], [SECOND]);
    assert.ok(Math.abs(logits[e.labelIndex] - e.logit) < 1e-4, `${logits[e.labelIndex]} vs ${e.logit}`);
    const [p] = await predictor.predict([FIRST], [SECOND]);
    assert.equal(e.label, p.label);
    // Completeness over both texts, with the single-text test's tolerance: |logit difference| / steps^2.
    const delta = Math.abs(e.logit - e.baselineLogit);
    assert.ok(delta > 0.01, `the pair moves the logit (${delta})`);
    assert.ok(gap(e) <= delta / 50 ** 2, `gap ${gap(e)} > ${delta / 50 ** 2}`);
    // The second text counts: the same first text with another second text is explained differently.
    const other = await explainer.explain(FIRST, { textPair: 'The music was lovely.', steps: 8, label: e.label });
    assert.notDeepEqual(
      other.tokens.filter((t) => t.segment === 0).map((t) => t.score),
      e.tokens.filter((t) => t.segment === 0).map((t) => t.score),
    );
  } finally {
    await explainer.dispose();
    await predictor.dispose();
  }
});

test('a pair longer than the model reads: longest_first cuts the longer text; only what it reads is explained', async () => {
  const run = await pairRun();
  const explainer = await loadExplainer(run);
  try {
    const long = Array.from({ length: 40 }, (_, i) => `${THINGS[i % THINGS.length]} ${GOOD[i % GOOD.length]}`).join(
      ' ',
    );
    const e = await explainer.explain(long, { textPair: SECOND, steps: 8 });
    assert.equal(e.truncated, true);
    const second = e.tokens.filter((t) => t.segment === 1);
    // The short second text is kept whole, the first fills the rest of the row (max length 32, 3 special tokens).
    assert.deepEqual(
      second.map((t) => t.token),
      ['but', 'the', 'ending', 'was', 'dreadful', '!'],
    );
    const first = e.tokens.filter((t) => t.segment === 0);
    assert.equal(first.length + second.length, TINY_RUN_SETTINGS.maxLength - 3);
    first.forEach((t, i) => assert.equal(long.slice(t.start!, t.end!), long.split(' ')[i]));
    assert.ok(gap(e) <= Math.abs(e.logit - e.baselineLogit) / 8 ** 2 + 1e-6, `gap ${gap(e)}`);
  } finally {
    await explainer.dispose();
  }
});

test('single texts carry no segment', async () => {
  const explainer = await loadExplainer(await pairRun());
  try {
    const e = await explainer.explain(FIRST, { steps: 2 });
    assert.ok(e.tokens.every((t) => t.segment === undefined));
  } finally {
    await explainer.dispose();
  }
});

test('bertft predict --explain with --text-pair: both texts, their tokens with segment and spans', async () => {
  const run = await pairRun();
  const cli = path.join(__dirname, '..', '..', '..', 'src', 'cli.js');
  const args = ['predict', '--model', run, '--text', FIRST, '--text-pair', SECOND, '--explain', '--explain-steps', '8'];
  const json = spawnSync(process.execPath, [cli, ...args, '--json'], { encoding: 'utf8' });
  assert.equal(json.status, 0, json.stderr);
  const line = JSON.parse(json.stdout) as {
    label: string;
    explanation: { label: string; tokens: { token: string; start: number; end: number; segment: number }[] };
  };
  assert.equal(line.explanation.label, line.label);
  assert.deepEqual(
    line.explanation.tokens.map((t) => t.segment),
    [...new Array<number>(8).fill(0), ...new Array<number>(6).fill(1)],
  );
  for (const t of line.explanation.tokens) {
    assert.equal([FIRST, SECOND][t.segment].slice(t.start, t.end).toLowerCase(), t.token);
  }
  const text = spawnSync(process.execPath, [cli, ...args, '--top', '20'], { encoding: 'utf8' });
  assert.equal(text.status, 0, text.stderr);
  const [head, toward, against] = text.stdout.trimEnd().split('\n');
  assert.equal(head, `${line.label}\t${head.split('\t')[1]}\t${FIRST}\t${SECOND}`);
  // Every token is named once, from the text it belongs to ("dreadful" is only in the second).
  const named = `${toward} ${against}`;
  assert.match(named, /"dreadful" [+-]\d\.\d{3}/);
  assert.equal(named.match(/"[^"]*" [+-]\d\.\d{3}/g)?.length, 14, named);
});

test("the editor's pair explanation: the worker's is the core's; each token named with its text (1st / 2nd)", async () => {
  const run = await pairRun();
  const client = new InferenceClient();
  const explainer = await loadExplainer(run);
  try {
    await client.load(run);
    const e = await client.explain(FIRST, { steps: 10, textPair: SECOND });
    assert.deepEqual(e, await explainer.explain(FIRST, { steps: 10, textPair: SECOND }));
    const texts = [FIRST, SECOND];
    const named = e.tokens.map((t) => asPlain(tokenLabel(texts, t)));
    assert.equal(named[3], 'wonderful (1st)');
    assert.equal(named[12], 'dreadful (2nd)');
    // The top tokens of both texts, each marked; of one text (the typed second text of Explain Selection), unmarked.
    const top = topTokens(e, 3);
    assert.ok(top.length > 0, 'some token pushes toward the label');
    assert.equal(
      asPlain(describeTopTokens(texts, e)),
      top.map((t) => `${asPlain(tokenLabel(texts, t))} +${t.score.toFixed(3)}`).join(' · '),
    );
    const second = topTokens(e, 3, 1);
    assert.ok(second.every((t) => t.segment === 1));
    const secondLine = asPlain(describeTopTokens(texts, e, 3, 1));
    assert.equal(
      secondLine,
      second.length === 0
        ? '(none)'
        : second.map((t) => `${SECOND.slice(t.start!, t.end!)} +${t.score.toFixed(3)}`).join(' · '),
    );
    assert.doesNotMatch(secondLine, /\((1st|2nd)\)/);
    // The hover's line names them too; the texts are data (escaped).
    const md = asMarkdown(
      hoverMarkdown({ label: e.label, score: 0.7, scores: { agree: 0.7, disagree: 0.3 } }, 'run', undefined, 5, {
        texts,
        explanation: e,
      }),
    );
    assert.ok(md.includes(`Toward ${e.label}: `), md);
    assert.match(md, /\((1st|2nd)\) \+\d\\\.\d{3}/);
  } finally {
    await explainer.dispose();
    await client.dispose();
  }
});

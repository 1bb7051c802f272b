import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkDataset } from '../../../src/core/data/check';
import { asPlain } from '../../../src/extension/display/text';
import { lengthStep, modelContext } from '../../../src/extension/training/lengthStep';
import { tempDir } from '../runner/fixtures';

/** A checked dataset whose texts are about `words` tokens long (the check counts them with the bundled BERT vocab). */
async function checkedLongTexts(words: number) {
  const dir = tempDir('length-step');
  const lines = ['text,label'];
  for (let i = 0; i < 20; i++)
    lines.push(`${'the report was long and detailed '.repeat(words / 6)}${i},${i % 2 ? 'a' : 'b'}`);
  const file = path.join(dir, 'long.csv');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return checkDataset(file, { maxLength: 512 });
}

test("the long-texts step offers the model's whole context when it is longer than 512 tokens, and not otherwise", async () => {
  const report = await checkedLongTexts(900);
  assert.equal(report.tokenLengths?.truncatedShare, 1);
  const labels = (context: number, scratch = false) =>
    lengthStep(report, scratch, context)!.items.map((i) => asPlain(i.label));
  const long = lengthStep(report, false, 8192)!;
  const whole = long.items.find((i) => asPlain(i.label) === "The model's whole context: up to 8192 tokens");
  assert.ok(whole, labels(8192).join(' | '));
  assert.deepEqual(whole.value, { maxLength: 8192 });
  assert.match(asPlain(whole.description), /^nothing cut up to 8192 tokens; about \d+\.\d× the time or more$/);
  // A BERT-sized context, or a model trained from scratch (its default reads 256 tokens): no such choice.
  assert.ok(!labels(512).some((l) => /whole context/.test(l)), labels(512).join(' | '));
  assert.ok(!labels(8192, true).some((l) => /whole context/.test(l)), labels(8192, true).join(' | '));
  assert.deepEqual(labels(512), ['Default: the first 512 tokens', 'Head + tail', 'Windows over the whole text']);
  assert.match(asPlain(long.placeHolder), /^100% of texts cut at 512 tokens/);
});

test('no long-texts step when few texts are longer than training reads', async () => {
  assert.equal(lengthStep(await checkedLongTexts(60), false, 8192), undefined);
});

test("the model's context: a suggested model's from the table, a folder's from its config.json, else 512", async () => {
  assert.equal(await modelContext('answerdotai/ModernBERT-base'), 8192);
  assert.equal(await modelContext('bert-base-uncased'), 512);
  assert.equal(await modelContext('random:tiny'), 512);
  const root = path.resolve(__dirname, '..', '..', '..', '..');
  assert.equal(await modelContext(path.join(root, 'test', 'fixtures', 'parity-modernbert')), 64);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readDataset } from '../../../src/core/data/read';
import { loadModelDir } from '../../../src/core/model/load';
import { loadMlmModelDir } from '../../../src/core/pretrain/model-io';
import { readUnlabelledTexts } from '../../../src/core/pretrain/texts';
import { MetricsLineReader, readMetricsLog } from '../../../src/core/run/metrics-log';
import { readRunJson } from '../../../src/core/run/run-json';
import { loadTokenizer } from '../../../src/core/tokenize/tokenizer';
import { publishTinyCheckpoint } from '../families/tiny-models';
import { finishedRun, toJsonl } from '../extension-ui/sampleRun';
import { tempDir, writeFiles } from '../data/helpers';

// Text files as Windows leaves them: CRLF line endings (an editor, git's autocrlf) and a UTF-8 byte-order mark
// (Notepad, PowerShell 5). Every reader gives what it gives for the LF original.

const BOM = '\uFEFF';
const crlf = (text: string): string => text.replace(/\n/g, '\r\n');
const windows = (text: string): string => BOM + crlf(text);

/** `name` written twice into a new folder: `lf/<name>` as given, `win/<name>` with CRLF and a BOM. */
function both(files: Record<string, string>): { lf: string; win: string } {
  const dir = writeFiles(
    Object.fromEntries(
      Object.entries(files).flatMap(([name, text]) => [
        [path.join('lf', name), text],
        [path.join('win', name), windows(text)],
      ]),
    ),
  );
  return { lf: path.join(dir, 'lf'), win: path.join(dir, 'win') };
}

test('CRLF + BOM: TSV, CSV and JSON Lines datasets read to the same examples', async () => {
  const { lf, win } = both({
    'd.tsv': 'text\tlabel\ngood film\tpos\nawful plot\tneg\n',
    'd.csv': 'text,label\n"two\nlines",pos\nplain,neg\n',
    'd.jsonl': '{"text":"a","label":"x"}\n{"text":"b","label":"y"}\n',
  });
  for (const name of ['d.tsv', 'd.csv', 'd.jsonl']) {
    const examples = async (dir: string) =>
      (await readDataset(path.join(dir, name))).examples.map((e) => [e.text.replace(/\r\n/g, '\n'), e.label, e.line]);
    assert.deepEqual(await examples(win), await examples(lf), name);
  }
});

test('CRLF + BOM: pre-training text gives the same documents, line breaks as \\n', async () => {
  const { lf, win } = both({ 'notes.txt': 'first line\nsame note\n\nsecond note\n\n\nthird\n' });
  const texts = await readUnlabelledTexts(path.join(win, 'notes.txt'));
  assert.deepEqual(texts, ['first line\nsame note', 'second note', 'third']);
  assert.deepEqual(texts, await readUnlabelledTexts(path.join(lf, 'notes.txt')));
});

test('CRLF + BOM: metrics.jsonl and run.json read to the same values, also when a chunk ends between \\r and \\n', () => {
  const events = finishedRun();
  const { lf, win } = both({
    'metrics.jsonl': toJsonl(events),
    'run.json': JSON.stringify({ kind: 'finetune', seed: 3, config: { data: 'C:\\data\\x.csv' } }, null, 2) + '\n',
  });
  assert.deepEqual(readMetricsLog(path.join(win, 'metrics.jsonl')), events);
  assert.deepEqual(readRunJson(path.join(win, 'run.json')), readRunJson(path.join(lf, 'run.json')));

  const bytes = fs.readFileSync(path.join(win, 'metrics.jsonl'));
  const reader = new MetricsLineReader();
  const followed = [];
  for (let at = 0; at < bytes.length;) {
    const cr = bytes.indexOf(0x0d, at + 1);
    const end = cr === -1 ? bytes.length : cr + 1; // each chunk ends just after a \r
    const parsed = reader.push(bytes.subarray(at, end));
    assert.equal(parsed.badLines, 0);
    followed.push(...parsed.events);
    at = end;
  }
  assert.deepEqual(followed, events);
});

test('CRLF + BOM: a model folder edited on Windows (config.json, vocab.txt, tokenizer_config.json) loads as the original', async () => {
  const root = tempDir('bertft-win-model-');
  await publishTinyCheckpoint(root, 'distilbert');
  const lf = path.join(root, 'org', 'tiny-distilbert');
  const win = path.join(root, 'win');
  fs.cpSync(lf, win, { recursive: true });
  for (const name of ['config.json', 'vocab.txt', 'tokenizer_config.json']) {
    const text = fs.readFileSync(path.join(lf, name), 'utf8');
    const pretty = name.endsWith('.json') ? JSON.stringify(JSON.parse(text), null, 2) + '\n' : text;
    fs.writeFileSync(path.join(win, name), windows(pretty));
  }
  assert.match(fs.readFileSync(path.join(win, 'vocab.txt'), 'utf8'), /^\uFEFF\[PAD\]\r\n\[UNK\]\r\n/);

  const [ours, original] = [await loadModelDir(win, 2, 1), await loadModelDir(lf, 2, 1)];
  assert.deepEqual(ours.config, original.config);
  assert.deepEqual([...ours.weights.keys()], [...original.weights.keys()]);
  assert.deepEqual((await loadMlmModelDir(win, 1)).config, (await loadMlmModelDir(lf, 1)).config);

  const [tokenizer, reference] = [await loadTokenizer(win), await loadTokenizer(lf)];
  assert.equal(tokenizer.vocabSize, reference.vocabSize);
  const text = 'The movie was GREAT, truly 42';
  assert.deepEqual(tokenizer.tokenIds(text), reference.tokenIds(text));
  assert.ok(!tokenizer.tokens(text).includes('[UNK]'), tokenizer.tokens(text).join(' '));
});

test('files macOS and Windows add to folders are not data: class folders and pre-training folders skip them silently', async () => {
  const dir = writeFiles({
    'news/space/1.txt': 'orbit',
    'news/space/Thumbs.db': Buffer.from([0, 1, 2, 3]).toString('latin1'),
    'news/space/desktop.ini': '[.ShellClassInfo]\r\nIconResource=C:\\Windows\\icon.dll,0\r\n',
    'news/space/DESKTOP.INI': '[.ShellClassInfo]\r\n',
    'news/space/._1.txt': '\u0000\u0005\u0016\u0007Mac OS X',
    'news/autos/a.txt': 'engine',
    'news/__MACOSX/autos/._a.txt': '\u0000\u0005\u0016\u0007Mac OS X',
    'news/.DS_Store': '\u0000\u0000\u0000\u0001Bud1',
    'notes/a.txt': 'a note',
    'notes/._a.txt': '\u0000\u0005\u0016\u0007Mac OS X',
    'notes/__MACOSX/._b.txt': '\u0000\u0005\u0016\u0007Mac OS X',
    'notes/.git/description.txt': 'Unnamed repository',
  });
  const data = await readDataset(path.join(dir, 'news'));
  const found = data.examples.map((e) => [e.label, e.text]).sort();
  assert.deepEqual(found, [
    ['autos', 'engine'],
    ['space', 'orbit'],
  ]);
  assert.deepEqual(data.problems, []);
  assert.deepEqual(await readUnlabelledTexts(path.join(dir, 'notes')), ['a note']);
});

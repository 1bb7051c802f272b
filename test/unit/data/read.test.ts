import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { readDataset } from '../../../src/core/data/read';
import { detectColumns } from '../../../src/core/data/columns';
import { sniffDelimiter } from '../../../src/core/data/csv';
import { arrayElementSpans } from '../../../src/core/data/json';
import { csvField, spamAssassin, tempDir, writeFiles } from './helpers';

const FIXTURES = path.resolve(__dirname, '../../../../test/fixtures/data');

const rows = (d: { examples: Array<{ text: string; label: string; line: number }> }) =>
  d.examples.map((e) => [e.text, e.label, e.line]);

test('RFC 4180 CSV: quoted fields, embedded newlines and quotes, CRLF, BOM, blank lines; start line of each row', async () => {
  const data = await readDataset(path.join(FIXTURES, 'rfc4180.csv'));
  assert.equal(data.format, 'csv');
  assert.deepEqual(data.columns, ['text', 'label']);
  assert.deepEqual(rows(data), [
    ['plain text', 'pos', 2],
    ['has, a comma', 'neg', 3],
    ['line one\r\nline two\r\nline three', 'pos', 4],
    ['she said "hi"', 'neg', 8],
    ['after a blank line', 'pos', 10],
  ]);
});

test('delimiter sniffing: tab, semicolon and pipe; commas inside quotes do not count', async () => {
  assert.equal(sniffDelimiter('text\tlabel', ','), '\t');
  assert.equal(sniffDelimiter('"a,b,c";label', ','), ';');
  assert.equal(sniffDelimiter('text|label', ','), '|');
  assert.equal(sniffDelimiter('text', '\t'), '\t');
  const dir = writeFiles({
    'semi.csv': 'text;label\n"a; b";x\nc;y\n',
    'tabs.tsv': 'label\ttext\nx\thello, world\n',
    'data.txt': 'review|class\ngood|1\nbad|0\n',
  });
  assert.deepEqual(rows(await readDataset(path.join(dir, 'semi.csv'))), [
    ['a; b', 'x', 2],
    ['c', 'y', 3],
  ]);
  const tsv = await readDataset(path.join(dir, 'tabs.tsv'));
  assert.equal(tsv.format, 'tsv');
  assert.deepEqual(rows(tsv), [['hello, world', 'x', 2]]);
  const piped = await readDataset(path.join(dir, 'data.txt'));
  assert.deepEqual([piped.textColumn, piped.labelColumn, piped.labelKind], ['review', 'class', 'integer']);
});

test('an explicit delimiter overrides sniffing', async () => {
  const dir = writeFiles({ 'd.csv': 'notes;more;text,label\n"a;b;c",spam\n' });
  assert.equal(sniffDelimiter('notes;more;text,label', ','), ';');
  const data = await readDataset(path.join(dir, 'd.csv'), { delimiter: ',', textColumn: 'notes;more;text' });
  assert.deepEqual(rows(data), [['a;b;c', 'spam', 2]]);
});

test("quotes inside unquoted fields are kept as characters (as Python's csv module does)", async () => {
  const dir = writeFiles({ 'd.csv': 'text,label\n5" screen,x\n"b"c,y\n' });
  assert.deepEqual(rows(await readDataset(path.join(dir, 'd.csv'))), [
    ['5" screen', 'x', 2],
    ['"b"c', 'y', 3],
  ]);
});

test('a UTF-8 BOM does not end up in the first column name (CSV and JSONL)', async () => {
  const dir = writeFiles({ 'd.csv': '\uFEFFtext,label\nhi,x\n', 'd.jsonl': '\uFEFF{"text":"hi","label":"x"}\n' });
  for (const f of ['d.csv', 'd.jsonl']) {
    const data = await readDataset(path.join(dir, f));
    assert.equal(data.textColumn, 'text');
    assert.deepEqual(rows(data), [['hi', 'x', 1 + (f === 'd.csv' ? 1 : 0)]]);
  }
});

test('JSONL and JSON arrays: lines of rows, integer labels sorted as integers', async () => {
  const dir = writeFiles({
    'd.jsonl': '{"sentence":"a","target":10}\n\n{"sentence":"b","target":9}\r\n{"sentence":"c","target":-1}',
    'd.json': '[\n  {"content": "x", "category": "b"},\n  {\n    "content": "y",\n    "category": "a"\n  }\n]\n',
  });
  const jsonl = await readDataset(path.join(dir, 'd.jsonl'));
  assert.deepEqual(rows(jsonl), [
    ['a', '10', 1],
    ['b', '9', 3],
    ['c', '-1', 4],
  ]);
  assert.equal(jsonl.labelKind, 'integer');
  const json = await readDataset(path.join(dir, 'd.json'));
  assert.equal(json.format, 'json');
  assert.deepEqual(rows(json), [
    ['x', 'b', 2],
    ['y', 'a', 3],
  ]);
  assert.equal(json.labelKind, 'string');
});

test('.json files holding JSON Lines are read as JSONL', async () => {
  const dir = writeFiles({ 'hf.json': '{"text":"a","label":0}\n{"text":"b","label":1}\n' });
  const data = await readDataset(path.join(dir, 'hf.json'));
  assert.equal(data.format, 'jsonl');
  assert.equal(data.examples.length, 2);
});

test('integer labels written as strings are canonical ("01" and "1" are one class)', async () => {
  const dir = writeFiles({ 'd.csv': 'text,label\na,01\nb,1\nc,+2\n' });
  const data = await readDataset(path.join(dir, 'd.csv'));
  assert.equal(data.labelKind, 'integer');
  assert.deepEqual(
    data.examples.map((e) => e.label),
    ['1', '1', '2'],
  );
});

test('JSON array element spans respect strings and nesting', () => {
  const text = '[{"a":"],{"}, {"b":[1,{"c":2}]} ,{"d":"\\"]"}]';
  const spans = arrayElementSpans(text);
  assert.ok(spans);
  assert.deepEqual(
    spans.map(([s, e]) => JSON.parse(text.slice(s, e)) as unknown),
    [{ a: '],{' }, { b: [1, { c: 2 }] }, { d: '"]' }],
  );
  assert.equal(arrayElementSpans('{"a":1}'), null);
});

test('column detection: common names case-insensitively, overrides, and the columns listed when unsure', () => {
  assert.deepEqual(detectColumns(['ID', 'Review', 'Stars', 'Label']), { text: 'Review', label: 'Label' });
  assert.deepEqual(detectColumns(['message', 'y']), { text: 'message', label: 'y' });
  assert.deepEqual(detectColumns(['body', 'category', 'text']), { text: 'text', label: 'category' });
  assert.deepEqual(detectColumns(['a', 'b'], { textColumn: 'B', labelColumn: 'a' }), { text: 'b', label: 'a' });
  assert.throws(() => detectColumns(['a', 'b']), /Columns found: "a", "b"/);
});

test('folder per class: labels from folder names, hidden files skipped, binary / non-UTF-8 / empty files reported', async () => {
  const dir = writeFiles({
    'news/sci.space/1.txt': 'orbit',
    'news/sci.space/2.txt': '\uFEFFlaunch window',
    'news/rec.autos/a': 'engine',
    'news/rec.autos/.DS_Store': Buffer.from([0, 1, 2]),
    'news/rec.autos/photo.jpg': Buffer.from([0xff, 0xd8, 0xff, 0, 0x10]),
    'news/rec.autos/latin1.txt': Buffer.from('caf\xe9', 'latin1'),
    'news/rec.autos/empty.txt': '',
    'news/rec.autos/sub/deep.txt': 'ignored',
    'news/.hidden/x.txt': 'ignored',
    'news/README': 'not a class',
  });
  const data = await readDataset(path.join(dir, 'news'));
  assert.equal(data.format, 'folder');
  assert.deepEqual(
    data.examples.map((e) => [e.label, e.text, path.basename(e.file)]),
    [
      ['rec.autos', 'engine', 'a'],
      ['sci.space', 'orbit', '1.txt'],
      ['sci.space', 'launch window', '2.txt'],
    ],
  );
  const codes = data.problems.map((p) => `${p.code} ${path.basename(p.file)}`).sort();
  assert.deepEqual(codes, [
    'DATA_BINARY_FILE photo.jpg',
    'DATA_LOOSE_FILES news',
    'DATA_MISSING_TEXT empty.txt',
    'DATA_NESTED_FOLDER sub',
    'DATA_NOT_UTF8 latin1.txt',
  ]);
});

test('lenient reading records every bad row and keeps the good ones', async () => {
  const dir = writeFiles({ 'd.csv': 'text,label\na,x\n,y\nb,\nc,y\n,\n' });
  const data = await readDataset(path.join(dir, 'd.csv'), { lenient: true });
  assert.deepEqual(rows(data), [
    ['a', 'x', 2],
    ['c', 'y', 5],
  ]);
  assert.deepEqual(
    data.problems.map((p) => [p.code, p.line, p.severity]),
    [
      ['DATA_MISSING_TEXT', 3, 'error'],
      ['DATA_MISSING_LABEL', 4, 'error'],
      ['DATA_MISSING_TEXT', 6, 'error'],
    ],
  );
});

test('a 10 MB single-line text reads completely (CSV and JSONL)', async () => {
  const big = 'lorem ipsum '.repeat(900_000).trim(); // ≈10.8 MB
  const dir = writeFiles({
    'big.csv': `text,label\n${csvField(big)},long\nshort,short\n`,
    'big.jsonl': `${JSON.stringify({ text: big, label: 'long' })}\n{"text":"s","label":"short"}\n`,
  });
  for (const f of ['big.csv', 'big.jsonl']) {
    const data = await readDataset(path.join(dir, f));
    assert.equal(data.examples.length, 2);
    assert.equal(data.examples[0].text.length, big.length);
    assert.equal(data.examples[1].line, f === 'big.csv' ? 3 : 2);
  }
});

test('a file larger than one read chunk keeps exact rows and lines across chunk boundaries', async () => {
  const n = 60_000; // ≈2.3 MB: several 1 MB read chunks, with multi-byte characters across their boundaries
  const lines = ['text,label'];
  for (let i = 0; i < n; i++)
    lines.push(i % 1000 === 0 ? `"multi\nline ${i} é"",",c${i % 3}` : `row ${i} ünïcödé ✓ 東京,c${i % 3}`);
  const dir = writeFiles({ 'big.csv': lines.join('\r\n') + '\r\n' });
  const data = await readDataset(path.join(dir, 'big.csv'));
  assert.equal(data.examples.length, n);
  let expectedLine = 2;
  data.examples.forEach((e, i) => {
    assert.equal(e.line, expectedLine, `row ${i}`);
    expectedLine += i % 1000 === 0 ? 2 : 1;
  });
  assert.equal(data.examples[29_000].text, 'multi\nline 29000 é",');
  assert.equal(data.examples[59_999].text, 'row 59999 ünïcödé ✓ 東京');
  assert.ok(data.examples.every((e) => !e.text.includes('\uFFFD')));
});

test('SpamAssassin as CSV, JSONL and folder per class reads to the same examples', async () => {
  const mails = spamAssassin();
  assert.equal(mails.length, 6046);
  const dir = tempDir();
  writeFileSync(
    path.join(dir, 'spam.csv'),
    'text,label\r\n' + mails.map((m) => `${csvField(m.body)},${m.label}`).join('\r\n') + '\r\n',
  );
  writeFileSync(
    path.join(dir, 'spam.jsonl'),
    mails.map((m) => JSON.stringify({ text: m.body, label: m.label })).join('\n') + '\n',
  );
  mails.forEach((m, i) => {
    const classDir = path.join(dir, 'folder', m.label);
    mkdirSync(classDir, { recursive: true });
    writeFileSync(path.join(classDir, `${String(i).padStart(5, '0')}.txt`), m.body);
  });
  const csv = await readDataset(path.join(dir, 'spam.csv'));
  const jsonl = await readDataset(path.join(dir, 'spam.jsonl'));
  const folder = await readDataset(path.join(dir, 'folder'));
  for (const data of [csv, jsonl, folder]) {
    assert.equal(data.examples.length, 6046, data.format);
    assert.equal(data.examples.filter((e) => e.label === 'ham').length, 4150);
    assert.equal(data.examples.filter((e) => e.label === 'spam').length, 1896);
  }
  assert.deepEqual(
    csv.examples.map((e) => e.text),
    mails.map((m) => m.body),
  );
  assert.deepEqual(
    jsonl.examples.map((e) => e.text),
    mails.map((m) => m.body),
  );
  assert.deepEqual(jsonl.examples.map((e) => e.line).slice(0, 3), [1, 2, 3]);
  const sortedBodies = (list: string[]) => [...list].sort();
  assert.deepEqual(sortedBodies(folder.examples.map((e) => e.text)), sortedBodies(mails.map((m) => m.body)));
  // CSV start lines: each row starts one line after the previous row's last line.
  let line = 2;
  csv.examples.forEach((e) => {
    assert.equal(e.line, line);
    line += (e.text.match(/\n/g) ?? []).length + 1;
  });
});

test('JSON labels with a fraction are regression targets with numericLabels, and refused as classes with the fix', async () => {
  const dir = writeFiles({
    'd.jsonl': '{"text":"a","label":2.5}\n{"text":"b","label":-0.125}\n{"text":"c","label":3}\n',
  });
  const file = path.join(dir, 'd.jsonl');
  const targets = await readDataset(file, { numericLabels: true });
  assert.deepEqual(
    targets.examples.map((e) => Number(e.label)),
    [2.5, -0.125, 3],
  );
  await assert.rejects(
    readDataset(file),
    (e: Error & { code?: string; line?: number; fix?: string }) =>
      e.code === 'DATA_BAD_LABEL' && e.line === 1 && /--task regression/.test(e.fix ?? ''),
  );
});

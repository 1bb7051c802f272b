/**
 * Bad input of every kind: each case must end in a DataError with a stable code, the file, the line where one
 * exists, and a fix — never a crash, a hang or silently lost rows.
 */
import { test } from 'node:test';
import * as path from 'node:path';
import { readDataset, type ReadOptions } from '../../../src/core/data/read';
import { splitDataset } from '../../../src/core/data/split';
import { assertDataError, writeFiles, type ExpectedDataError } from './helpers';

interface ReadCase {
  name: string;
  files: Record<string, string | Buffer>;
  /** What to read, relative to the temp dir (default: the first file). */
  input?: string;
  options?: ReadOptions;
  expect: ExpectedDataError;
}

const latin1 = (s: string) => Buffer.from(s, 'latin1');
const BOM = '\uFEFF';

const cases: ReadCase[] = [
  // --- files that cannot be read at all
  {
    name: 'missing file',
    files: { 'x.txt': '' },
    input: 'nope.csv',
    expect: { code: 'DATA_MISSING_FILE', file: 'nope.csv' },
  },
  { name: 'missing folder', files: { 'x.txt': '' }, input: 'nope/', expect: { code: 'DATA_MISSING_FILE' } },
  { name: 'empty CSV (0 bytes)', files: { 'd.csv': '' }, expect: { code: 'DATA_EMPTY_FILE', line: 1, file: 'd.csv' } },
  { name: 'CSV with only a BOM', files: { 'd.csv': BOM }, expect: { code: 'DATA_EMPTY_FILE' } },
  { name: 'CSV with only blank lines', files: { 'd.csv': '\n\r\n  \n' }, expect: { code: 'DATA_EMPTY_FILE' } },
  { name: 'empty JSONL', files: { 'd.jsonl': '' }, expect: { code: 'DATA_EMPTY_FILE' } },
  { name: 'JSONL with only blank lines', files: { 'd.jsonl': '\n\n\n' }, expect: { code: 'DATA_EMPTY_FILE' } },
  { name: 'empty JSON', files: { 'd.json': '  ' }, expect: { code: 'DATA_EMPTY_FILE' } },
  // --- header but no rows
  { name: 'CSV header only', files: { 'd.csv': 'text,label\n' }, expect: { code: 'DATA_NO_ROWS', line: 1 } },
  {
    name: 'CSV header only, CRLF and BOM',
    files: { 'd.csv': `${BOM}text,label\r\n\r\n` },
    expect: { code: 'DATA_NO_ROWS' },
  },
  { name: 'TSV header only', files: { 'd.tsv': 'text\tlabel' }, expect: { code: 'DATA_NO_ROWS' } },
  { name: 'JSON empty array', files: { 'd.json': '[ ]' }, expect: { code: 'DATA_NO_ROWS', message: ['empty'] } },
  // --- found by the crash-safety battery (#22): each refused where it starts, with its line and a fix
  {
    name: 'duplicate header names for the text column',
    files: { 'd.csv': 'text,text,label\na,b,x\n' },
    expect: { code: 'DATA_DUPLICATE_COLUMN', line: 1, message: ['"text" 2 times', 'columns 1, 2'] },
  },
  {
    name: 'a label with a newline',
    files: { 'd.csv': 'text,label\na,"sp\nam"\nb,ham\n' },
    expect: { code: 'DATA_LABEL_CONTROL_CHARACTER', line: 2, message: ['U+000A'] },
  },
  {
    name: 'a label with a NUL byte',
    files: { 'd.jsonl': '{"text":"a","label":"x\\u0000y"}\n' },
    expect: { code: 'DATA_LABEL_CONTROL_CHARACTER', line: 1, message: ['U+0000'] },
  },
  {
    name: 'one JSON object in a .json file',
    files: { 'd.json': '{\n  "data": [{"text": "a", "label": "x"}]\n}\n' },
    expect: { code: 'DATA_JSON_SINGLE_OBJECT', line: 1, message: ['one JSON object'] },
  },
  {
    name: 'one JSON object on one line in a .json file',
    files: { 'd.json': '{"text": "a", "label": "x"}\n' },
    expect: { code: 'DATA_JSON_SINGLE_OBJECT' },
  },
  {
    name: 'a plain .txt file of sentences',
    files: { 'notes.txt': 'The first sentence.\nThe second one.\n' },
    expect: { code: 'DATA_UNSUPPORTED_FORMAT', file: 'notes.txt', message: ['no labels'] },
  },
  {
    name: 'a megabyte-long label is cut in the message',
    files: { 'd.jsonl': `{"text":"a","label":1}\n{"text":"b","label":"${'x'.repeat(1_000_000)}"}\n` },
    expect: { code: 'DATA_MIXED_LABEL_TYPES', line: 2, message: [/\(1000002 characters\)/] },
  },
  // --- columns
  {
    name: 'no text column, columns listed',
    files: { 'd.csv': 'foo,label\na,b\n' },
    expect: { code: 'DATA_NO_TEXT_COLUMN', message: ['"foo"', '"label"'] },
  },
  {
    name: 'no label column, columns listed',
    files: { 'd.csv': 'text,stars\na,5\n' },
    expect: { code: 'DATA_NO_LABEL_COLUMN', message: ['"stars"'] },
  },
  {
    name: 'header-only file with unknown columns names the columns',
    files: { 'd.csv': 'a,b\n' },
    expect: { code: 'DATA_NO_TEXT_COLUMN', message: ['"a"', '"b"'] },
  },
  {
    name: 'unknown text column override',
    files: { 'd.csv': 'text,label\na,b\n' },
    options: { textColumn: 'body' },
    expect: { code: 'DATA_UNKNOWN_COLUMN', message: ['"body"', '"text"', '"label"'] },
  },
  {
    name: 'unknown label column override',
    files: { 'd.jsonl': '{"text":"a","label":"b"}\n' },
    options: { labelColumn: 'tag' },
    expect: { code: 'DATA_UNKNOWN_COLUMN', message: ['"tag"'] },
  },
  {
    name: 'same column for text and label',
    files: { 'd.csv': 'text,label\na,b\n' },
    options: { textColumn: 'label' },
    expect: { code: 'DATA_SAME_COLUMN' },
  },
  { name: 'single-column CSV', files: { 'd.csv': 'text\nhello\n' }, expect: { code: 'DATA_NO_LABEL_COLUMN' } },
  // --- rows with missing values
  {
    name: 'CSV row with empty text',
    files: { 'd.csv': 'text,label\na,x\n,y\n' },
    expect: { code: 'DATA_MISSING_TEXT', line: 3 },
  },
  {
    name: 'CSV row with empty label',
    files: { 'd.csv': 'text,label\na,x\nb,y\nc,\n' },
    expect: { code: 'DATA_MISSING_LABEL', line: 4 },
  },
  {
    name: 'CSV row with whitespace label',
    files: { 'd.csv': 'text,label\na,x\nb," "\n' },
    expect: { code: 'DATA_MISSING_LABEL', line: 3 },
  },
  {
    name: 'missing label after a multi-line field (CRLF)',
    files: { 'd.csv': 'text,label\r\n"one\r\ntwo\r\nthree",x\r\nb,\r\n' },
    expect: { code: 'DATA_MISSING_LABEL', line: 5 },
  },
  {
    name: 'JSONL row without label key',
    files: { 'd.jsonl': '{"text":"a","label":"x"}\n{"text":"b"}\n' },
    expect: { code: 'DATA_MISSING_LABEL', line: 2 },
  },
  {
    name: 'JSONL row with null label',
    files: { 'd.jsonl': '{"text":"a","label":"x"}\n\n{"text":"b","label":null}\n' },
    expect: { code: 'DATA_MISSING_LABEL', line: 3 },
  },
  {
    name: 'JSONL row without text',
    files: { 'd.jsonl': '{"text":"a","label":"x"}\n{"label":"y"}\n' },
    expect: { code: 'DATA_MISSING_TEXT', line: 2 },
  },
  {
    name: 'JSON array element without text',
    files: { 'd.json': '[\n  {"text": "a", "label": 1},\n  {"label": 2}\n]' },
    expect: { code: 'DATA_MISSING_TEXT', line: 3 },
  },
  // --- label and text types
  {
    name: 'mixed label types (string then integer)',
    files: { 'd.jsonl': '{"text":"a","label":"spam"}\n{"text":"b","label":"ham"}\n{"text":"c","label":1}\n' },
    expect: { code: 'DATA_MIXED_LABEL_TYPES', line: 3, message: ['line 1'] },
  },
  {
    name: 'mixed label types in a JSON array',
    files: { 'd.json': '[{"text":"a","label":0},\n{"text":"b","label":"1"}]' },
    expect: { code: 'DATA_MIXED_LABEL_TYPES', line: 2 },
  },
  {
    name: 'fractional label',
    files: { 'd.jsonl': '{"text":"a","label":0.5}\n' },
    expect: { code: 'DATA_BAD_LABEL', line: 1, message: ['0.5'] },
  },
  { name: 'boolean label', files: { 'd.jsonl': '{"text":"a","label":true}\n' }, expect: { code: 'DATA_BAD_LABEL' } },
  {
    // A list as the first label makes the data multi-label (test/unit/data/multi-label.test.ts); after a single label
    // it is a mix.
    name: 'list label after a single label',
    files: { 'd.jsonl': '{"text":"a","label":"x"}\n{"text":"b","label":["x"]}\n' },
    expect: { code: 'DATA_MIXED_LABEL_TYPES', line: 2, message: ['is a list'] },
  },
  {
    name: 'object text',
    files: { 'd.jsonl': '{"text":{"t":1},"label":"x"}\n' },
    expect: { code: 'DATA_BAD_TEXT', line: 1 },
  },
  // --- broken syntax
  {
    name: 'CSV row with too many fields',
    files: { 'd.csv': 'text,label\na,x\nb,y,z\n' },
    expect: { code: 'DATA_CSV_SYNTAX', line: 3 },
  },
  {
    name: 'CSV row with too few fields',
    files: { 'd.csv': 'text,label\na,x\nb\nc,z\n' },
    expect: { code: 'DATA_CSV_SYNTAX', line: 3 },
  },
  {
    name: 'CSV quote never closed',
    files: { 'd.csv': 'text,label\na,x\n"b,y\nc,z\n' },
    expect: { code: 'DATA_CSV_SYNTAX', line: 3, message: ['Quote'] },
  },
  {
    name: 'CSV doubled quote at the end of a quoted field leaves it open',
    files: { 'd.csv': 'text,label\r\na,x\r\n"b"",y\r\nc,y\r\n' },
    expect: { code: 'DATA_CSV_SYNTAX', line: 3 },
  },
  {
    name: 'CSV error after multi-line fields has the right line',
    files: { 'd.csv': 'text,label\r\n"1\r\n2",x\r\n\r\n"3\n4",y\r\nbad,row,here\r\n' },
    expect: { code: 'DATA_CSV_SYNTAX', line: 7 },
  },
  {
    name: 'invalid JSON on line 3',
    files: { 'd.jsonl': '{"text":"a","label":"x"}\n{"text":"b","label":"y"}\n{"text":"c", "label":"z",}\n' },
    expect: { code: 'DATA_JSON_SYNTAX', line: 3, message: ['line 3'] },
  },
  {
    name: 'JSONL truncated last line',
    files: { 'd.jsonl': '{"text":"a","label":"x"}\n{"text":"b","lab' },
    expect: { code: 'DATA_JSON_SYNTAX', line: 2 },
  },
  {
    name: 'JSONL line that is a number',
    files: { 'd.jsonl': '{"text":"a","label":"x"}\n42\n' },
    expect: { code: 'DATA_JSON_NOT_OBJECT', line: 2 },
  },
  {
    name: 'JSONL file holding an array',
    files: { 'd.jsonl': '[{"text":"a","label":"x"}]\n' },
    expect: { code: 'DATA_JSON_NOT_OBJECT', line: 1, message: ['JSON array'] },
  },
  {
    name: 'JSON array with a missing comma',
    files: { 'd.json': '[\n {"text":"a","label":"x"},\n {"text":"b" "label":"y"}\n]' },
    expect: { code: 'DATA_JSON_SYNTAX', line: 3 },
  },
  {
    name: 'JSON array with an element that is not an object',
    files: { 'd.json': '[\n {"text":"a","label":"x"},\n "b"\n]' },
    expect: { code: 'DATA_JSON_NOT_OBJECT', line: 3 },
  },
  {
    name: 'JSON that is not an array',
    files: { 'd.json': '"just a string"' },
    expect: { code: 'DATA_JSON_NOT_ARRAY' },
  },
  // --- encoding
  {
    name: 'Latin-1 CSV names the line of the bad byte',
    files: { 'd.csv': latin1('text,label\nok,x\ncaf\xe9,y\n') },
    expect: { code: 'DATA_NOT_UTF8', line: 3 },
  },
  {
    name: 'Latin-1 byte far into a large CSV',
    files: {
      'd.csv': Buffer.concat([Buffer.from('text,label\n' + 'some text,x\n'.repeat(200_000)), latin1('na\xefve,y\n')]),
    },
    expect: { code: 'DATA_NOT_UTF8', line: 200_002 },
  },
  {
    name: 'Windows-1252 quote in JSONL',
    files: {
      'd.jsonl': Buffer.concat([
        Buffer.from('{"text":"a","label":"x"}\n'),
        latin1('{"text":"\x93hi\x94","label":"y"}\n'),
      ]),
    },
    expect: { code: 'DATA_NOT_UTF8', line: 2 },
  },
  {
    name: 'UTF-16 JSON array',
    files: { 'd.json': Buffer.from('\ufeff[{"text":"a","label":"x"}]', 'utf16le') },
    expect: { code: 'DATA_NOT_UTF8', line: 1 },
  },
  {
    name: 'an Excel workbook',
    files: { 'd.xlsx': Buffer.from([0x50, 0x4b, 3, 4, 0]) },
    expect: { code: 'DATA_UNSUPPORTED_FORMAT', file: 'd.xlsx', message: ['Excel'] },
  },
  {
    name: 'folder format forced on a file',
    files: { 'd.csv': 'text,label\na,b\n' },
    options: { format: 'folder' },
    expect: { code: 'DATA_NOT_A_FOLDER' },
  },
  // --- folders
  {
    name: 'folder with no class subfolders',
    files: { 'root/a.txt': 'hello', 'root/b.txt': 'world' },
    input: 'root',
    expect: { code: 'DATA_NO_CLASS_FOLDERS', file: 'root' },
  },
  {
    name: 'folder with only hidden subfolders',
    files: { 'root/.git/x': 'y' },
    input: 'root',
    expect: { code: 'DATA_NO_CLASS_FOLDERS' },
  },
  {
    name: 'class folders with only binary or empty files',
    files: { 'root/a/x.bin': Buffer.from([1, 0, 2]), 'root/b/y.txt': '  ' },
    input: 'root',
    expect: { code: 'DATA_NO_ROWS' },
  },
];

for (const c of cases) {
  test(`bad input: ${c.name}`, async () => {
    const dir = writeFiles(c.files);
    const input = path.join(dir, c.input ?? Object.keys(c.files)[0]);
    await assertDataError(() => readDataset(input, c.options), c.expect);
  });
}

const ex = (text: string, label: string, line: number) => ({ text, label, file: 'train.csv', line });

test('bad input: one class only cannot be split', async () => {
  await assertDataError(() => splitDataset([ex('a', 'x', 2), ex('b', 'x', 3)]), {
    code: 'DATA_ONE_CLASS',
    message: ['"x"'],
  });
});

test('bad input: a label with a single example when stratifying names the label and line', async () => {
  const data = [ex('a', 'x', 2), ex('b', 'x', 3), ex('c', 'y', 4), ex('d', 'y', 5), ex('e', 'z', 6)];
  await assertDataError(() => splitDataset(data), {
    code: 'DATA_SINGLE_EXAMPLE_LABEL',
    line: 6,
    file: 'train.csv',
    message: ['"z"'],
  });
});

test('bad input: labels only in the validation file are named', async () => {
  const train = [ex('a', 'x', 2), ex('b', 'y', 3)];
  const validation = [
    { text: 'c', label: 'x', file: 'val.csv', line: 2 },
    { text: 'd', label: 'Y', file: 'val.csv', line: 3 },
  ];
  await assertDataError(() => splitDataset(train, { validation }), {
    code: 'DATA_LABEL_ONLY_IN_VALIDATION',
    file: 'val.csv',
    line: 3,
    message: ['"Y"'],
  });
});

test('bad input: a validation ratio outside (0, 1)', async () => {
  const data = [ex('a', 'x', 2), ex('b', 'x', 3), ex('c', 'y', 4), ex('d', 'y', 5)];
  for (const validationRatio of [0, 1, -0.1, 1.5, Number.NaN]) {
    await assertDataError(() => splitDataset(data, { validationRatio }), { code: 'DATA_BAD_RATIO' });
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readTexts } from '../../../src/cli/predict';
import { DataError } from '../../../src/core/errors';
import { tempDir } from '../runner/fixtures';

test('predict --file: .txt one text per line, JSONL text field, CSV text column (detected or named)', async () => {
  const dir = tempDir('predict-file');
  const write = (name: string, content: string) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, content);
    return f;
  };
  assert.deepEqual(await readTexts(write('a.txt', '\uFEFFfirst text\r\n\r\nsecond, with comma\n')), [
    'first text',
    'second, with comma',
  ]);
  assert.deepEqual(await readTexts(write('b.jsonl', '{"text": "one", "id": 1}\n{"text": "two"}\n')), ['one', 'two']);
  assert.deepEqual(await readTexts(write('c.csv', 'id,body\n1,"multi\nline"\n2,plain\n')), ['multi\nline', 'plain']);
  assert.deepEqual(await readTexts(write('d.csv', 'id,msg\n1,hello\n'), 'msg'), ['hello']);
  await assert.rejects(
    readTexts(write('e.csv', 'id,msg\n1,hello\n')),
    (e: unknown) => e instanceof DataError && /Columns found: "id", "msg"/.test(e.message),
  );
  await assert.rejects(
    readTexts(write('f.jsonl', '{"text": "ok"}\n{broken\n')),
    (e: unknown) => e instanceof DataError && e.line === 2,
  );
  await assert.rejects(
    readTexts(path.join(dir, 'missing.txt')),
    (e: unknown) => e instanceof DataError && /missing\.txt/.test(e.message),
  );
});

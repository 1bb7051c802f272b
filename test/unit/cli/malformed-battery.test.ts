/**
 * The malformed-input battery (#22), through the real `bertft` command: bad data files, bad flags, bad model folders,
 * bad run folders and a bad environment. Every case must exit 1 with a first line that says what is wrong (naming the
 * file where there is one) and a "Fix:", never "internal error … this is a bug", and must change nothing in the
 * folder but the names bertft creates. Prints clear/total and the internal-error count.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tempDir } from '../runner/fixtures';

const ROOT = path.join(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'out', 'src', 'cli.js');
const ENV = { ...process.env, BERTFT_TRAINING_CHILD: '1', HF_HUB_OFFLINE: '1', HF_HOME: tempDir('battery-hf') };
const GOOD = 'text,label\n"a fine film",pos\n"a dull film",neg\n"a warm film",pos\n"a flat film",neg\n';
const BOM = '\uFEFF';

interface Case {
  name: string;
  /** Files of the case's folder (relative name → content); `null` makes a folder. */
  files: Record<string, string | Buffer | null>;
  /** The bertft arguments; `@` is replaced by the case's folder. */
  args: string[];
  /** A fragment the first line of stderr must contain (a file name, a code word). */
  names?: string;
}

const train = (data: string, ...more: string[]) => ['train', '--data', `@/${data}`, '--out', '@/out', '--model', 'random:tiny', '--epochs', '1', ...more];

const DATA_CASES: [string, Record<string, string | Buffer | null>, string][] = [
  ['empty CSV', { 'd.csv': '' }, 'd.csv'],
  ['CSV with only a BOM', { 'd.csv': BOM }, 'd.csv'],
  ['CSV of blank lines', { 'd.csv': '\n\r\n \n' }, 'd.csv'],
  ['CSV header only', { 'd.csv': 'text,label\n' }, 'd.csv'],
  ['TSV header only', { 'd.tsv': 'text\tlabel' }, 'd.tsv'],
  ['no text column', { 'd.csv': 'foo,label\na,b\nc,d\n' }, 'd.csv'],
  ['no label column', { 'd.csv': 'text,stars\na,5\nb,4\n' }, 'd.csv'],
  ['duplicate text column', { 'd.csv': 'text,text,label\na,b,x\nc,d,y\n' }, 'd.csv'],
  ['duplicate label column', { 'd.csv': 'text,label,label\na,x,y\nb,y,x\n' }, 'd.csv'],
  ['same column for text and label', { 'd.csv': 'text,other\na,b\n' }, 'd.csv'],
  ['missing label in a row', { 'd.csv': 'text,label\na,pos\nb,\nc,neg\n' }, 'd.csv'],
  ['missing text in a row', { 'd.csv': 'text,label\na,pos\n,neg\nc,neg\n' }, 'd.csv'],
  ['one class only', { 'd.csv': 'text,label\na,x\nb,x\nc,x\n' }, 'd.csv'],
  ['a class with one example', { 'd.csv': 'text,label\na,x\nb,x\nc,y\n' }, 'd.csv'],
  ['unterminated quote', { 'd.csv': 'text,label\n"a,pos\nb,neg\n' }, 'd.csv'],
  ['too many fields', { 'd.csv': 'text,label\na,pos,extra\nb,neg\n' }, 'd.csv'],
  ['binary CSV', { 'd.csv': Buffer.from([0x74, 0x65, 0x78, 0x74, 0x2c, 0x6c, 0, 1, 2, 0xff, 0xfe, 0, 0]) }, 'd.csv'],
  ['Latin-1 CSV', { 'd.csv': Buffer.from('text,label\ncaf\xe9,pos\nthe,neg\n', 'latin1') }, 'd.csv'],
  ['UTF-16 CSV', { 'd.csv': Buffer.from(`\ufefftext,label\na,pos\n`, 'utf16le') }, 'd.csv'],
  ['label with a newline', { 'd.csv': 'text,label\na,"p\nos"\nb,neg\nc,neg\n' }, 'd.csv'],
  ['label with a tab', { 'd.csv': 'text,label\na,"p\tos"\nb,neg\n' }, 'd.csv'],
  ['mixed label types (JSONL)', { 'd.jsonl': '{"text":"a","label":1}\n{"text":"b","label":"x"}\n' }, 'd.jsonl'],
  ['label is a list (JSONL)', { 'd.jsonl': '{"text":"a","label":["x"]}\n{"text":"b","label":"y"}\n' }, 'd.jsonl'],
  ['label is an object (JSONL)', { 'd.jsonl': '{"text":"a","label":{"x":1}}\n{"text":"b","label":"y"}\n' }, 'd.jsonl'],
  ['text is a number array (JSONL)', { 'd.jsonl': '{"text":[1,2],"label":"x"}\n{"text":"b","label":"y"}\n' }, 'd.jsonl'],
  ['broken JSONL line', { 'd.jsonl': '{"text":"a","label":"x"}\n{"text": oops}\n' }, 'd.jsonl'],
  ['JSONL line that is an array', { 'd.jsonl': '["a","x"]\n' }, 'd.jsonl'],
  ['JSONL line that is a string', { 'd.jsonl': '{"text":"a","label":"x"}\n"just text"\n' }, 'd.jsonl'],
  ['empty JSONL', { 'd.jsonl': '' }, 'd.jsonl'],
  ['JSON not an array', { 'd.json': '{"text":"a","label":"x"}' }, 'd.json'],
  ['JSON object holding the list', { 'd.json': '{"data":[{"text":"a","label":"x"}]}' }, 'd.json'],
  ['JSON empty array', { 'd.json': '[]' }, 'd.json'],
  ['JSON truncated', { 'd.json': '[{"text":"a","label":"x"},{"text":' }, 'd.json'],
  ['JSON array of strings', { 'd.json': '["a","b"]' }, 'd.json'],
  ['JSON array with null', { 'd.json': '[{"text":"a","label":"x"},null]' }, 'd.json'],
  ['Excel workbook', { 'd.xlsx': 'PK\u0003\u0004' }, 'd.xlsx'],
  ['Parquet file', { 'd.parquet': 'PAR1' }, 'd.parquet'],
  ['gzip file', { 'd.gz': '\u001f\u008b' }, 'd.gz'],
  ['plain text file', { 'd.txt': 'one sentence.\nanother one.\n' }, 'd.txt'],
  ['missing data file', { 'x.csv': GOOD }, 'nope.csv'],
  ['empty class folder tree', { 'folder/spam': null, 'folder/ham': null }, 'folder'],
  ['folder without class subfolders', { 'folder/a.txt': 'hello' }, 'folder'],
  ['class folders of binary files', { 'folder/spam/a.bin': Buffer.from([0, 1, 2]), 'folder/ham/b.bin': Buffer.from([0, 3]) }, 'folder'],
  ['one class folder', { 'folder/spam/a.txt': 'a', 'folder/spam/b.txt': 'b' }, 'folder'],
  ['CSV with a single column', { 'd.csv': 'text\na\nb\n' }, 'd.csv'],
  ['every label blank', { 'd.csv': 'text,label\na,\nb, \n' }, 'd.csv'],
  ['JSON array of arrays', { 'd.json': '[["a","x"],["b","y"]]' }, 'd.json'],
  ['JSONL with a BOM and a broken third line', { 'd.jsonl': `${BOM}{"text":"a","label":"x"}\n{"text":"b","label":"y"}\n{"text":\n` }, 'd.jsonl'],
];

const FLAG_CASES: [string, string[]][] = [
  ['unknown command', ['trian', '--data', '@/d.csv']],
  ['unknown flag', [...train('d.csv'), '--learning-rate', '1']],
  ['flag without its value', ['train', '--data', '@/d.csv', '--out']],
  ['epochs not a number', [...train('d.csv'), '--epochs', 'many']],
  ['epochs zero', [...train('d.csv'), '--epochs', '0']],
  ['negative learning rate', [...train('d.csv'), '--lr', '-1']],
  ['learning rate above 1', [...train('d.csv'), '--lr', '3']],
  ['batch size not an integer', [...train('d.csv'), '--batch-size', '2.5']],
  ['batch size zero', [...train('d.csv'), '--batch-size', '0']],
  ['max length too large', [...train('d.csv'), '--max-length', '100000']],
  ['max length too small', [...train('d.csv'), '--max-length', '2']],
  ['unknown device', [...train('d.csv'), '--device', 'tpu']],
  ['unknown preset', [...train('d.csv'), '--preset', 'turbo']],
  ['unknown metric', [...train('d.csv'), '--metric', 'auc']],
  ['unknown truncation', [...train('d.csv'), '--truncation', 'middle']],
  ['validation ratio above 0.9', [...train('d.csv'), '--valid-ratio', '2']],
  ['warmup ratio above 1', [...train('d.csv'), '--warmup-ratio', '1.5']],
  ['negative seed', [...train('d.csv'), '--seed', '-3']],
  ['a stray positional argument', [...train('d.csv'), 'extra']],
  ['train without --data', ['train', '--out', '@/out']],
  ['train without --out', ['train', '--data', '@/d.csv']],
  ['text column that does not exist', [...train('d.csv'), '--text-column', 'body']],
  ['label column that does not exist', [...train('d.csv'), '--label-column', 'class']],
  ['predict without texts', ['predict', '--model', '@/out']],
  ['eval without --model', ['eval', '--data', '@/d.csv']],
  ['unknown random size', [...train('d.csv').slice(0, -4), '--model', 'random:huge']],
  ['a model spec that is neither folder nor Hub id', [...train('d.csv').slice(0, -4), '--model', 'a//b']],
  ['a validation file that does not exist', [...train('d.csv'), '--valid', '@/missing-valid.csv']],
  ['a Hub model offline and not cached', [...train('d.csv').slice(0, -4), '--model', 'org/not-cached']],
];

const MODEL_CASES: [string, Record<string, string | Buffer | null>, string[], string][] = [
  ['model folder missing', {}, [...train('d.csv').slice(0, -4), '--model', '@/nomodel'], 'nomodel'],
  ['model folder without config.json', { 'm/model.safetensors': 'x' }, [...train('d.csv').slice(0, -4), '--model', '@/m'], 'config.json'],
  ['config.json not JSON', { 'm/config.json': '{oops' }, [...train('d.csv').slice(0, -4), '--model', '@/m'], 'config.json'],
  ['unsupported model_type', { 'm/config.json': '{"model_type":"gpt2"}' }, [...train('d.csv').slice(0, -4), '--model', '@/m'], 'config.json'],
  ['config.json without weights', { 'm/config.json': '{"model_type":"bert","hidden_size":64,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":128,"vocab_size":30522}' },
    [...train('d.csv').slice(0, -4), '--model', '@/m'], 'model.safetensors'],
  ['only pytorch_model.bin', { 'm/config.json': '{"model_type":"bert","hidden_size":64,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":128,"vocab_size":30522}', 'm/pytorch_model.bin': 'x' },
    [...train('d.csv').slice(0, -4), '--model', '@/m'], 'model.safetensors'],
  ['safetensors with a garbage header', { 'm/config.json': '{"model_type":"bert","hidden_size":64,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":128,"vocab_size":30522}',
    'm/model.safetensors': Buffer.concat([Buffer.from([16, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('not json at all!')]) }, [...train('d.csv').slice(0, -4), '--model', '@/m'], 'model.safetensors'],
  ['safetensors truncated', { 'm/config.json': '{"model_type":"bert","hidden_size":64,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":128,"vocab_size":30522}',
    'm/model.safetensors': Buffer.from([200, 0, 0, 0, 0, 0, 0, 0, 123]) }, [...train('d.csv').slice(0, -4), '--model', '@/m'], 'model.safetensors'],
  ['predict with a folder that is not a model', { 'm/readme.txt': 'hi' }, ['predict', '--model', '@/m', '--text', 'hello'], 'm'],
  ['predict with config.json without id2label', { 'm/config.json': '{"model_type":"bert"}' }, ['predict', '--model', '@/m', '--text', 'hello'], 'config.json'],
  ['predict with a broken id2label', { 'm/config.json': '{"model_type":"bert","id2label":{"0":"a","5":"b"}}' }, ['predict', '--model', '@/m', '--text', 'hello'], 'config.json'],
  ['eval with a folder that is not a model', { 'm/readme.txt': 'hi' }, ['eval', '--model', '@/m', '--data', '@/d.csv'], 'm'],
];

const RUN_CASES: [string, Record<string, string | Buffer | null>, string[], string][] = [
  ['--out is a file', { out: 'a file' }, train('d.csv'), 'out'],
  ['--out below a file', { afile: 'a file' }, [...train('d.csv').slice(0, 4), '@/afile/run', ...train('d.csv').slice(5)], 'afile'],
  ['--out holds the user\'s files', { 'out/notes.txt': 'mine', 'out/old.tmp': 'mine too' }, train('d.csv'), 'out'],
  ['--resume without a run', { 'out/.bertft-run': '{}' }, ['train', '--out', '@/out', '--resume'], 'out'],
  ['--restart without a run', {}, ['train', '--out', '@/out', '--restart'], 'out'],
  ['run.json not JSON', { 'out/run.json': '{"config": ' }, ['train', '--out', '@/out', '--resume'], 'run.json'],
  ['run.json empty object', { 'out/run.json': '{}' }, ['train', '--out', '@/out', '--resume'], 'run.json'],
  ['a new run into a finished run', { 'out/run.json': '{}' }, train('d.csv'), 'out'],
  ['pretrain --resume without a run', {}, ['pretrain', '--out', '@/out', '--resume', '--data', '@/d.csv'], 'run.json'],
  ['pretrain into the user\'s folder', { 'out/notes.txt': 'mine' }, ['pretrain', '--data', '@/d.csv', '--out', '@/out', '--max-steps', '1'], 'out'],
  ['a run folder in use by a live process', { 'out/.bertft-run': '{}', 'out/.lock': JSON.stringify({ pid: process.pid, host: os.hostname(), time: 'now' }) },
    train('d.csv'), 'in use by pid'],
  ['a run folder locked on another host', { 'out/.bertft-run': '{}', 'out/.lock': JSON.stringify({ pid: 1, host: 'elsewhere', time: 'now' }) },
    train('d.csv'), 'elsewhere'],
];

/** Every file under `dir` but the names bertft creates in a run folder (`out/`), with its content hash. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else out.set(path.relative(dir, full), createHash('sha256').update(fs.readFileSync(full)).digest('hex'));
    }
  };
  walk(dir);
  return out;
}

function cases(): Case[] {
  return [
    ...DATA_CASES.map(([name, files, file]) => ({ name: `data: ${name}`, files: { ...files }, args: train(file), names: file })),
    ...FLAG_CASES.map(([name, args]) => ({ name: `flags: ${name}`, files: { 'd.csv': GOOD }, args })),
    ...MODEL_CASES.map(([name, files, args, names]) => ({ name: `model: ${name}`, files: { 'd.csv': GOOD, ...files }, args, names })),
    ...RUN_CASES.map(([name, files, args, names]) => ({ name: `run folder: ${name}`, files: { 'd.csv': GOOD, ...files }, args, names })),
  ];
}

test('malformed-input battery: every case exits 1 with what, where and a fix, no internal error, nothing of the user\'s changed', () => {
  const all = cases();
  const failures: string[] = [];
  let internal = 0;
  for (const c of all) {
    const dir = tempDir('battery');
    for (const [name, content] of Object.entries(c.files)) {
      const file = path.join(dir, name);
      if (content === null) fs.mkdirSync(file, { recursive: true });
      else {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, content);
      }
    }
    const before = snapshot(dir);
    const r = spawnSync(process.execPath, [CLI, ...c.args.map((a) => a.replace(/^@/, dir))], { env: ENV, encoding: 'utf8', timeout: 60_000 });
    const first = r.stderr.split('\n')[0] ?? '';
    if (/internal error|this is a bug/.test(r.stderr)) internal++;
    const problems: string[] = [];
    if (r.status !== 1) problems.push(`exit ${r.status}`);
    if (!first.startsWith('bertft: ')) problems.push('no "bertft: " first line');
    if (!/Fix: |Usage|--help|Use one of/.test(r.stderr)) problems.push('no fix');
    if (c.names && !first.includes(c.names)) problems.push(`first line does not name ${c.names}`);
    const after = snapshot(dir);
    for (const [name, hash] of before) if (after.get(name) !== hash) problems.push(`${name} changed`);
    for (const name of after.keys()) {
      if (!before.has(name) && !/^out\/(\.bertft-run|metrics\.jsonl|\.lock)$/.test(name)) problems.push(`${name} appeared`);
    }
    if (problems.length > 0) failures.push(`${c.name}: ${problems.join(', ')}\n    ${r.stderr.slice(0, 300).replace(/\n/g, '\n    ')}`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`malformed-input battery: ${all.length - failures.length}/${all.length} clear; internal-error exits: ${internal}`);
  assert.deepEqual(failures, []);
  assert.equal(internal, 0);
  assert.ok(all.length >= 100, `${all.length} cases`);
});

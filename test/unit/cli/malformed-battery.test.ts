/**
 * The malformed-input battery (#22), through the real `bertft` command: bad data files, bad flags, bad model folders,
 * bad run folders and a bad environment. Every case must exit 1 with a first line that says what is wrong (naming the
 * file where there is one) and a "Fix:", never "internal error … this is a bug", and must change nothing in the
 * folder but the names bertft creates. Prints clear/total and the internal-error count.
 *
 * The environment rows make the file system below one folder fail: read-only, no permission, out of file descriptors,
 * a full disk. They run through a stubbed `fs` preloaded into bertft (test/helpers/fs-faults.ts) everywhere, since
 * root ignores chmod; where a tmpfs can be mounted (Linux as root), the same failures also run on a real one. A run
 * that fills the disk must, once there is room again, resume to the uninterrupted run's best/ byte for byte.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readSafetensorsHeader } from '../../../src/core/model/safetensors';
import { tempDir, writeSentimentCsv } from '../runner/fixtures';
import { tempFolder } from '../../helpers/temp';

const ROOT = path.join(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'out', 'src', 'cli.js');
const FS_FAULTS = path.join(ROOT, 'out', 'test', 'helpers', 'fs-faults.js');
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
  /** The file system below `dir` (relative to the case's folder) fails: through the stubbed `fs`, or a real tmpfs. */
  fault?: { kind: Fault; dir: string; via: 'stub' | 'tmpfs'; after?: number };
  /** Files bertft may create or change (paths relative to the case's folder, with '/'); default: a run's first names. */
  ours?: RegExp;
  /** Fills the case's folder beyond `files` (before a tmpfs turns read-only). */
  setup?: (dir: string) => void;
  /** Once the cause is gone, `bertft train --out <out> --resume` must finish with the uninterrupted run's best/. */
  resumes?: string;
}

type Fault = 'ENOSPC' | 'EROFS' | 'EMFILE' | 'EACCES';

const train = (data: string, ...more: string[]) => [
  'train',
  '--data',
  `@/${data}`,
  '--out',
  '@/out',
  '--model',
  'random:tiny',
  '--epochs',
  '1',
  ...more,
];

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
  [
    'text is a number array (JSONL)',
    { 'd.jsonl': '{"text":[1,2],"label":"x"}\n{"text":"b","label":"y"}\n' },
    'd.jsonl',
  ],
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
  [
    'class folders of binary files',
    { 'folder/spam/a.bin': Buffer.from([0, 1, 2]), 'folder/ham/b.bin': Buffer.from([0, 3]) },
    'folder',
  ],
  ['one class folder', { 'folder/spam/a.txt': 'a', 'folder/spam/b.txt': 'b' }, 'folder'],
  ['CSV with a single column', { 'd.csv': 'text\na\nb\n' }, 'd.csv'],
  ['every label blank', { 'd.csv': 'text,label\na,\nb, \n' }, 'd.csv'],
  ['JSON array of arrays', { 'd.json': '[["a","x"],["b","y"]]' }, 'd.json'],
  [
    'JSONL with a BOM and a broken third line',
    { 'd.jsonl': `${BOM}{"text":"a","label":"x"}\n{"text":"b","label":"y"}\n{"text":\n` },
    'd.jsonl',
  ],
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
  [
    'model folder without config.json',
    { 'm/model.safetensors': 'x' },
    [...train('d.csv').slice(0, -4), '--model', '@/m'],
    'config.json',
  ],
  [
    'config.json not JSON',
    { 'm/config.json': '{oops' },
    [...train('d.csv').slice(0, -4), '--model', '@/m'],
    'config.json',
  ],
  [
    'unsupported model_type',
    { 'm/config.json': '{"model_type":"t5"}' },
    [...train('d.csv').slice(0, -4), '--model', '@/m'],
    'config.json',
  ],
  [
    'config.json without weights',
    {
      'm/config.json':
        '{"model_type":"bert","hidden_size":64,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":128,"vocab_size":30522}',
    },
    [...train('d.csv').slice(0, -4), '--model', '@/m'],
    'model.safetensors',
  ],
  [
    'a pytorch_model.bin that is no checkpoint',
    {
      'm/config.json':
        '{"model_type":"bert","hidden_size":64,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":128,"vocab_size":30522}',
      'm/pytorch_model.bin': 'x',
    },
    [...train('d.csv').slice(0, -4), '--model', '@/m'],
    'pytorch_model.bin',
  ],
  [
    'safetensors with a garbage header',
    {
      'm/config.json':
        '{"model_type":"bert","hidden_size":64,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":128,"vocab_size":30522}',
      'm/model.safetensors': Buffer.concat([Buffer.from([16, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('not json at all!')]),
    },
    [...train('d.csv').slice(0, -4), '--model', '@/m'],
    'model.safetensors',
  ],
  [
    'safetensors truncated',
    {
      'm/config.json':
        '{"model_type":"bert","hidden_size":64,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":128,"vocab_size":30522}',
      'm/model.safetensors': Buffer.from([200, 0, 0, 0, 0, 0, 0, 0, 123]),
    },
    [...train('d.csv').slice(0, -4), '--model', '@/m'],
    'model.safetensors',
  ],
  [
    'predict with a folder that is not a model',
    { 'm/readme.txt': 'hi' },
    ['predict', '--model', '@/m', '--text', 'hello'],
    'm',
  ],
  [
    'predict with config.json without id2label',
    { 'm/config.json': '{"model_type":"bert"}' },
    ['predict', '--model', '@/m', '--text', 'hello'],
    'config.json',
  ],
  [
    'predict with a broken id2label',
    { 'm/config.json': '{"model_type":"bert","id2label":{"0":"a","5":"b"}}' },
    ['predict', '--model', '@/m', '--text', 'hello'],
    'config.json',
  ],
  [
    'eval with a folder that is not a model',
    { 'm/readme.txt': 'hi' },
    ['eval', '--model', '@/m', '--data', '@/d.csv'],
    'm',
  ],
];

const RUN_CASES: [string, Record<string, string | Buffer | null>, string[], string][] = [
  ['--out is a file', { out: 'a file' }, train('d.csv'), 'out'],
  [
    '--out below a file',
    { afile: 'a file' },
    [...train('d.csv').slice(0, 4), '@/afile/run', ...train('d.csv').slice(5)],
    'afile',
  ],
  ["--out holds the user's files", { 'out/notes.txt': 'mine', 'out/old.tmp': 'mine too' }, train('d.csv'), 'out'],
  ['--resume without a run', { 'out/.bertft-run': '{}' }, ['train', '--out', '@/out', '--resume'], 'out'],
  ['--restart without a run', {}, ['train', '--out', '@/out', '--restart'], 'out'],
  ['run.json not JSON', { 'out/run.json': '{"config": ' }, ['train', '--out', '@/out', '--resume'], 'run.json'],
  ['run.json empty object', { 'out/run.json': '{}' }, ['train', '--out', '@/out', '--resume'], 'run.json'],
  ['a new run into a finished run', { 'out/run.json': '{}' }, train('d.csv'), 'out'],
  ['pretrain --resume without a run', {}, ['pretrain', '--out', '@/out', '--resume', '--data', '@/d.csv'], 'run.json'],
  [
    "pretrain into the user's folder",
    { 'out/notes.txt': 'mine' },
    ['pretrain', '--data', '@/d.csv', '--out', '@/out', '--max-steps', '1'],
    'out',
  ],
  [
    'a run folder in use by a live process',
    { 'out/.bertft-run': '{}', 'out/.lock': JSON.stringify({ pid: process.pid, host: os.hostname(), time: 'now' }) },
    train('d.csv'),
    'in use by pid',
  ],
  [
    'a run folder locked on another host',
    { 'out/.bertft-run': '{}', 'out/.lock': JSON.stringify({ pid: 1, host: 'elsewhere', time: 'now' }) },
    train('d.csv'),
    'elsewhere',
  ],
];

/** A run that fills the disk and is resumed: these settings, its data, and the same run uninterrupted. */
const RUN_ARGS = [
  '--model',
  'random:tiny',
  '--epochs',
  '3',
  '--batch-size',
  '8',
  '--max-length',
  '16',
  '--eval-steps',
  '2',
  '--seed',
  '5',
  '--device',
  'cpu',
  '--save-total-limit',
  '1',
  '--metric',
  'loss',
  // One model: the disk fills at a point measured on a single run's folder.
  '--ensemble',
  '1',
];
const REVIEWS = fs.readFileSync(writeSentimentCsv(tempDir('battery-data'), 48), 'utf8');
const fullRun = (out: string) => ['train', '--data', '@/reviews.csv', '--out', `@/${out}`, ...RUN_ARGS];

interface Reference {
  /** The uninterrupted run's folder. */
  run: string;
  /** Bytes that fill the disk half-way through the second checkpoint: after a checkpoint and a best/ were written. */
  fullAfter: number;
}

let reference: Reference | undefined;
async function uninterrupted(): Promise<Reference> {
  if (reference) return reference;
  const dir = tempDir('battery-reference');
  fs.writeFileSync(path.join(dir, 'reviews.csv'), REVIEWS);
  const r = await bertft(fullRun('run').map((a) => a.replace(/^@/, dir)));
  assert.equal(r.status, 0, r.stderr);
  const run = path.join(dir, 'run');
  const checkpoint = folderBytes(path.join(run, 'checkpoints', fs.readdirSync(path.join(run, 'checkpoints'))[0]));
  reference = { run, fullAfter: folderBytes(path.join(run, 'best')) + checkpoint + Math.round(checkpoint / 2) };
  return reference;
}

function folderBytes(dir: string): number {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).reduce(
    (sum, f) => sum + fs.statSync(path.join(dir, f)).size,
    0,
  );
}

/** The environment rows: each failure through the stubbed `fs`, and on a real tmpfs where one can be mounted. */
function environmentCases(): Case[] {
  const rows = (via: 'stub' | 'tmpfs'): Case[] => [
    {
      name: 'a new run into a read-only folder',
      files: { 'd.csv': GOOD, 'ro/': null },
      args: train('d.csv').map((a) => (a === '@/out' ? '@/ro/out' : a)),
      fault: { kind: 'EROFS', dir: 'ro', via },
      names: path.join('ro', 'out'),
    },
    {
      name: 'an empty --out folder on a read-only disk',
      files: { 'd.csv': GOOD, 'ro/out': null },
      args: train('d.csv').map((a) => (a === '@/out' ? '@/ro/out' : a)),
      fault: { kind: 'EROFS', dir: 'ro', via },
      names: path.join('ro', 'out'),
    },
    {
      name: 'resuming a run on a read-only disk',
      files: { 'ro/': null },
      args: ['train', '--out', '@/ro/out', '--resume'],
      setup: (dir) => fs.cpSync(reference!.run, path.join(dir, 'ro', 'out'), { recursive: true }),
      fault: { kind: 'EROFS', dir: 'ro', via },
      names: path.join('ro', 'out'),
    },
    {
      name: 'the disk fills during training, then the run resumes',
      files: { 'reviews.csv': REVIEWS, 'full/': null },
      args: fullRun('full/out'),
      fault: { kind: 'ENOSPC', dir: 'full', via, after: reference!.fullAfter },
      names: path.join('full', 'out'),
      ours: /^full\/out\//,
      resumes: 'full/out',
    },
    ...(via === 'tmpfs'
      ? []
      : [
          {
            name: 'a run folder without write permission',
            files: { 'd.csv': GOOD, 'ro/': null },
            args: train('d.csv').map((a) => (a === '@/out' ? '@/ro/out' : a)),
            fault: { kind: 'EACCES' as const, dir: 'ro', via },
            names: path.join('ro', 'out'),
          },
          {
            name: 'out of file descriptors',
            files: { 'd.csv': GOOD, 'lim/': null },
            args: train('d.csv').map((a) => (a === '@/out' ? '@/lim/out' : a)),
            fault: { kind: 'EMFILE' as const, dir: 'lim', via, after: 0 },
            names: path.join('lim', 'out', '.bertft-run'),
            ours: /^lim\/out\/\.bertft-run$/,
          },
          {
            name: 'a full disk before anything is written',
            files: { 'd.csv': GOOD, 'full/': null },
            args: train('d.csv').map((a) => (a === '@/out' ? '@/full/out' : a)),
            fault: { kind: 'ENOSPC' as const, dir: 'full', via, after: 0 },
            names: path.join('full', 'out', '.bertft-run'),
            ours: /^full\/out\/\.bertft-run$/,
          },
          {
            name: 'pretraining into a read-only folder',
            files: { 'd.csv': GOOD, 'ro/': null },
            args: ['pretrain', '--data', '@/d.csv', '--out', '@/ro/out', '--max-steps', '1'],
            fault: { kind: 'EROFS' as const, dir: 'ro', via },
            names: path.join('ro', 'out'),
          },
        ]),
  ];
  return [...rows('stub'), ...(tmpfsMountable() ? rows('tmpfs') : [])].map((c) => ({
    ...c,
    name: `environment (${c.fault!.via}): ${c.name}`,
  }));
}

let mountable: boolean | undefined;
/** Whether this machine lets us mount a tmpfs (Linux, as root or with CAP_SYS_ADMIN). */
function tmpfsMountable(): boolean {
  if (mountable === undefined) {
    const dir = tempDir('battery-mount');
    mountable = process.platform === 'linux' && mount(dir, 'size=1m') && spawnSync('umount', [dir]).status === 0;
  }
  return mountable;
}

function mount(dir: string, options: string): boolean {
  return spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'ignore' }).status === 0;
}

function remount(dir: string, options: string): void {
  assert.equal(
    spawnSync('mount', ['-o', `remount,${options}`, dir], { encoding: 'utf8' }).status,
    0,
    `remount ${options} ${dir}`,
  );
}

/** Sets up a case's fault; returns what bertft's node needs and how to lift the fault (the cause gone). */
function applyFault(
  dir: string,
  c: Case,
): { nodeArgs: string[]; env: NodeJS.ProcessEnv; lift: () => void; cleanup: () => void } {
  const none = { nodeArgs: [], env: {}, lift: () => {}, cleanup: () => {} };
  if (!c.fault) {
    c.setup?.(dir);
    return none;
  }
  const target = path.join(dir, c.fault.dir);
  if (c.fault.via === 'stub') {
    c.setup?.(dir);
    const env = {
      BERTFT_FS_FAULT: c.fault.kind,
      BERTFT_FS_FAULT_DIR: target,
      BERTFT_FS_FAULT_AFTER: String(c.fault.after ?? 0),
    };
    return { ...none, nodeArgs: ['--require', FS_FAULTS], env };
  }
  // A tmpfs over the folder: filled with the case's files again, then made read-only or left small.
  const kept = tempFolder('bertft-battery-kept-');
  fs.cpSync(target, kept, { recursive: true });
  const size = c.fault.kind === 'ENOSPC' ? `size=${Math.ceil((c.fault.after ?? 0) / 4096) * 4}k` : 'size=64m';
  assert.ok(mount(target, size), `mount a tmpfs on ${target}`);
  fs.cpSync(kept, target, { recursive: true });
  c.setup?.(dir);
  if (c.fault.kind === 'EROFS') remount(target, 'ro');
  return {
    ...none,
    lift: () => remount(target, c.fault!.kind === 'EROFS' ? 'rw' : 'size=512m'),
    cleanup: () => void spawnSync('umount', [target]),
  };
}

async function bertft(
  args: string[],
  nodeArgs: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<{ status: number | null; stderr: string }> {
  const child = spawn(process.execPath, [...nodeArgs, CLI, ...args], {
    env: { ...ENV, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const status = await new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  clearTimeout(timer);
  return { status, stderr };
}

/** Every file under `dir` with its content hash, by its path relative to `dir` with '/' between folders. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else
        out.set(
          path.relative(dir, full).split(path.sep).join('/'),
          createHash('sha256').update(fs.readFileSync(full)).digest('hex'),
        );
    }
  };
  walk(dir);
  return out;
}

/** Files of a run folder that are half-written: a run.json, eval.json… that does not parse, weights cut short. */
async function halfWritten(run: string): Promise<string[]> {
  const bad: string[] = [];
  for (const rel of fs.readdirSync(run, { recursive: true }) as string[]) {
    const file = path.join(run, rel);
    // Temporary names (`*.tmp` folders and siblings) are expected half-written; recovery removes them.
    if (rel.split(path.sep).some((part) => part.endsWith('.tmp')) || !fs.statSync(file).isFile()) continue;
    try {
      if (rel.endsWith('.json')) JSON.parse(fs.readFileSync(file, 'utf8'));
      if (rel.endsWith('.safetensors')) await readSafetensorsHeader(file);
    } catch {
      bad.push(rel);
    }
  }
  return bad;
}

function cases(): Case[] {
  return [
    ...environmentCases(),
    ...DATA_CASES.map(([name, files, file]) => ({
      name: `data: ${name}`,
      files: { ...files },
      args: train(file),
      names: file,
    })),
    ...FLAG_CASES.map(([name, args]) => ({ name: `flags: ${name}`, files: { 'd.csv': GOOD }, args })),
    ...MODEL_CASES.map(([name, files, args, names]) => ({
      name: `model: ${name}`,
      files: { 'd.csv': GOOD, ...files },
      args,
      names,
    })),
    ...RUN_CASES.map(([name, files, args, names]) => ({
      name: `run folder: ${name}`,
      files: { 'd.csv': GOOD, ...files },
      args,
      names,
    })),
  ];
}

test("malformed-input battery: every case exits 1 with what, where and a fix, no internal error, nothing of the user's changed", async () => {
  await uninterrupted();
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
    const problems: string[] = [];
    const fault = applyFault(dir, c);
    let stderr: string;
    try {
      const before = snapshot(dir);
      const r = await bertft(
        c.args.map((a) => a.replace(/^@/, dir)),
        fault.nodeArgs,
        fault.env,
      );
      stderr = r.stderr;
      // A run that fails mid-way has printed its progress first: the error's own first line counts.
      const lines = r.stderr.split('\n');
      const first = (c.resumes ? lines.find((l) => l.startsWith('bertft: ')) : lines[0]) ?? '';
      if (/internal error|this is a bug/.test(r.stderr)) internal++;
      if (r.status !== 1) problems.push(`exit ${r.status}`);
      if (!first.startsWith('bertft: ')) problems.push('no "bertft: " first line');
      if (!/Fix: |Usage|--help|Use one of/.test(r.stderr)) problems.push('no fix');
      if (c.names && !first.includes(c.names)) problems.push(`first line does not name ${c.names}`);
      const after = snapshot(dir);
      const ours = c.ours ?? /^out\/(\.bertft-run|metrics\.jsonl|\.lock)$/;
      for (const [name, hash] of before)
        if (after.get(name) !== hash && !ours.test(name)) problems.push(`${name} changed`);
      for (const name of after.keys()) if (!before.has(name) && !ours.test(name)) problems.push(`${name} appeared`);
      if (c.resumes) {
        const run = path.join(dir, c.resumes);
        for (const file of await halfWritten(run)) problems.push(`${file} half-written`);
        fault.lift();
        const resumed = await bertft(['train', '--out', run, '--resume']);
        if (resumed.status !== 0) problems.push(`resume: exit ${resumed.status}: ${resumed.stderr.slice(0, 300)}`);
        else if (
          !fs
            .readFileSync(path.join(run, 'best', 'model.safetensors'))
            .equals(fs.readFileSync(path.join(reference!.run, 'best', 'model.safetensors')))
        ) {
          problems.push("the resumed best/model.safetensors differs from the uninterrupted run's");
        }
      }
    } finally {
      fault.cleanup();
    }
    if (problems.length > 0)
      failures.push(`${c.name}: ${problems.join(', ')}\n    ${stderr.slice(0, 300).replace(/\n/g, '\n    ')}`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const environment = all.filter((c) => c.fault).length;
  console.log(
    `malformed-input battery: ${all.length - failures.length}/${all.length} clear (${environment} environment rows, ` +
      `tmpfs ${tmpfsMountable() ? 'mounted' : 'not mountable here: stubbed fs only'}); internal-error exits: ${internal}`,
  );
  assert.deepEqual(failures, []);
  assert.equal(internal, 0);
  assert.ok(all.length >= 100, `${all.length} cases`);
});

/**
 * pytorch_model.bin: the committed fixtures (bench/reference/make_torch_bin_fixtures.py, written by Debian's torch)
 * and, where /usr/bin/python3 has torch, files written by it now, read bit for bit like safetensors of the same
 * tensors; hostile pickles refused by name without running; the old format, big-endian files, compressed, truncated
 * and damaged files refused with a clear error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ModelError, UserError } from '../../../src/core/errors';
import { loadModelDir } from '../../../src/core/model/load';
import { Tensor } from '../../../src/core/model/params';
import { readPytorchBin, readPytorchBinNames } from '../../../src/core/model/pytorch-bin';
import { readSafetensors } from '../../../src/core/model/safetensors';
import { loadMlmModelDir } from '../../../src/core/pretrain/model-io';
import { PYTHON, torchAvailable } from '../../helpers/parity';
import { rejectsWithCode } from '../../helpers/rejects';
import { entriesOf, zipOf } from '../../helpers/stored-zip';
import { tempFolder } from '../../helpers/temp';

const ROOT = path.join(__dirname, '..', '..', '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'torch-bin');
const GENERATOR = path.join(ROOT, 'bench', 'reference', 'make_torch_bin_fixtures.py');
const VARIANTS = ['pytorch_model', 'model-fp16', 'model-bf16', 'views'];
const HAS_TORCH = torchAvailable();
const NO_TORCH = `${PYTHON} cannot import torch (apt-get install python3-torch)`;
/** The float tensors (the fixtures' int64 position_ids buffer is refused by dtype when asked for). */
const FLOATS = { include: (n: string) => !n.endsWith('position_ids') };

function tempDir(): string {
  return tempFolder('bertft-torch-bin-');
}

function bytesOf(t: Tensor): Buffer {
  return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

function assertSameTensors(actual: Map<string, Tensor>, expected: Map<string, Tensor>, what: string): void {
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort(), `${what}: names`);
  for (const [name, e] of expected) {
    const a = actual.get(name)!;
    assert.deepEqual(a.shape, e.shape, `${what}: ${name} shape`);
    assert.ok(bytesOf(a).equals(bytesOf(e)), `${what}: ${name} differs`);
  }
}

/** Every .bin of a fixture folder equals its reference-<name>.safetensors bit for bit (int64 buffers left out). */
async function assertFixturesMatch(dir: string): Promise<void> {
  for (const variant of VARIANTS) {
    const bin = await readPytorchBin(path.join(dir, `${variant}.bin`), FLOATS);
    const reference = await readSafetensors(path.join(dir, `reference-${variant}.safetensors`));
    assertSameTensors(bin, reference, variant);
  }
}

/** A marker file path no test creates: a payload that ran would create it. */
function marker(): string {
  return path.join(os.tmpdir(), `bertft-pwned-${crypto.randomBytes(6).toString('hex')}`);
}

/** A raw protocol-2 pickle of `module.name(arg)`: what `pickle.dumps` writes for an object whose __reduce__ returns it. */
function reducePickle(module: string, name: string, arg: string): Buffer {
  const a = Buffer.from(arg, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(a.length);
  return Buffer.concat([
    Buffer.from([0x80, 0x02]),
    Buffer.from(`c${module}\n${name}\n`, 'latin1'),
    Buffer.from([0x71, 0x00, 0x58]),
    len,
    a,
    Buffer.from([0x85, 0x52, 0x2e]), // TUPLE1 REDUCE STOP
  ]);
}

/** The same call in protocol 4: FRAME, SHORT_BINUNICODE module and name, STACK_GLOBAL, MEMOIZE. */
function stackGlobalPickle(module: string, name: string, arg: string): Buffer {
  const s = (v: string): Buffer => Buffer.concat([Buffer.from([0x8c, Buffer.byteLength(v)]), Buffer.from(v)]);
  const body = Buffer.concat([s(module), s(name), Buffer.from([0x93, 0x94]), s(arg), Buffer.from([0x85, 0x52, 0x2e])]);
  const frame = Buffer.alloc(9);
  frame[0] = 0x95;
  frame.writeBigUInt64LE(BigInt(body.length), 1);
  return Buffer.concat([Buffer.from([0x80, 0x04]), frame, body]);
}

test('committed fixtures: fp32, fp16, bf16 and strided / offset / shared / parameter tensors equal their safetensors bit for bit', async () => {
  await assertFixturesMatch(FIXTURES);
  const names = await readPytorchBinNames(path.join(FIXTURES, 'pytorch_model.bin'));
  assert.equal(names[0], 'bert.embeddings.position_ids', 'the state dict order');
  assert.ok(names.includes('cls.predictions.decoder.weight'));
  // Two names of one storage come out as two arrays: training one must not change the other.
  const tied = await readPytorchBin(path.join(FIXTURES, 'pytorch_model.bin'), {
    include: (n) => n === 'bert.embeddings.word_embeddings.weight' || n === 'cls.predictions.decoder.weight',
  });
  const [a, b] = [...tied.values()];
  assert.ok(bytesOf(a).equals(bytesOf(b)));
  assert.notEqual(a.data.buffer, b.data.buffer);
});

test('files torch writes on this machine (a fresh seed) read bit for bit like their safetensors', (t) => {
  if (!HAS_TORCH) return t.skip(NO_TORCH);
  const dir = tempDir();
  const seed = 1 + crypto.randomInt(1_000_000);
  execFileSync(PYTHON, [GENERATOR, '--out', dir, '--seed', String(seed)], { stdio: 'pipe' });
  return assertFixturesMatch(dir);
});

test('an int64 buffer is read only when asked for, then refused by dtype', async () => {
  const err = await rejectsWithCode(
    readPytorchBin(path.join(FIXTURES, 'pytorch_model.bin'), { include: (n) => n.endsWith('position_ids') }),
    'MODEL_UNSUPPORTED_DTYPE',
  );
  assert.match(err.message, /position_ids" has dtype I64/);
});

test('a model folder with pytorch_model.bin loads as a classifier and as a masked LM, equal to the same weights in model.safetensors', async () => {
  const binDir = tempDir();
  const stDir = tempDir();
  for (const f of ['config.json', 'vocab.txt', 'tokenizer_config.json']) {
    fs.copyFileSync(path.join(FIXTURES, f), path.join(binDir, f));
    fs.copyFileSync(path.join(FIXTURES, f), path.join(stDir, f));
  }
  fs.copyFileSync(path.join(FIXTURES, 'pytorch_model.bin'), path.join(binDir, 'pytorch_model.bin'));
  fs.copyFileSync(path.join(FIXTURES, 'reference-pytorch_model.safetensors'), path.join(stDir, 'model.safetensors'));
  const fromBin = await loadModelDir(binDir, 3, 7);
  const fromSt = await loadModelDir(stDir, 3, 7);
  assert.equal(fromBin.addedHead, true);
  assert.ok(fromBin.weights.has('bert.pooler.dense.weight'));
  assertSameTensors(fromBin.weights, fromSt.weights, 'classifier');

  const mlmBin = await loadMlmModelDir(binDir, 7);
  const mlmSt = await loadMlmModelDir(stDir, 7);
  assert.equal(mlmBin.freshHead, false);
  assertSameTensors(mlmBin.weights, mlmSt.weights, 'masked LM');

  // model.safetensors wins over pytorch_model.bin when both are there, as in from_pretrained.
  fs.copyFileSync(path.join(FIXTURES, 'reference-model-fp16.safetensors'), path.join(binDir, 'model.safetensors'));
  const preferred = await loadModelDir(binDir, 3, 7);
  const fp16 = await readSafetensors(path.join(FIXTURES, 'reference-model-fp16.safetensors'));
  const name = 'bert.encoder.layer.0.attention.self.query.weight';
  assert.ok(bytesOf(preferred.weights.get(name)!).equals(bytesOf(fp16.get(name)!)));
});

test('a hostile pickle is refused by the name it calls, and nothing runs', async () => {
  const dir = tempDir();
  const cases: [string, Buffer, RegExp][] = [];
  const touched = marker();
  // A bare pickle (pickle.dump of an object whose __reduce__ is os.system), protocols 2 and 4.
  cases.push(['raw-p2.bin', reducePickle('posix', 'system', `touch ${touched}`), /posix\.system/]);
  cases.push(['raw-p4.bin', stackGlobalPickle('builtins', 'eval', `open('${touched}', 'w')`), /builtins\.eval/]);
  // Inside the zip torch.save writes: the state dict of views.bin with one more item, whose value is the call.
  const entries = await entriesOf(path.join(FIXTURES, 'views.bin'));
  const original = entries.find((e) => e.name.endsWith('/data.pkl'))!;
  const ending = Buffer.from(original.data.subarray(-2)).toString('latin1');
  assert.equal(ending, 'u.', 'the state dict ends with SETITEMS, STOP');
  const call = reducePickle('subprocess', 'Popen', `touch ${touched}`).subarray(2, -1); // no PROTO, no STOP
  const hostile = Buffer.concat([
    original.data.subarray(0, -2),
    Buffer.from([0x58, 1, 0, 0, 0, 0x78]), // the key 'x'
    call,
    Buffer.from('u.', 'latin1'),
  ]);
  cases.push([
    'zip.bin',
    zipOf(entries.map((e) => (e === original ? { ...e, data: hostile } : e))),
    /subprocess\.Popen/,
  ]);
  for (const [name, content, global] of cases) {
    const file = path.join(dir, name);
    fs.writeFileSync(file, content);
    for (const read of [() => readPytorchBin(file), () => readPytorchBinNames(file)]) {
      const err = await rejectsWithCode(read(), 'MODEL_PICKLE_REFUSED');
      assert.match(err.message, global, name);
      assert.match(err.message, /nothing in it was run/);
      assert.equal(err.file, file);
      assert.match(err.fix ?? '', /torch\.load/);
    }
  }
  assert.equal(fs.existsSync(touched), false);
});

test('a torch.save and a pickle.dump of an os.system payload are refused naming posix.system; the marker stays absent (and torch.load would run it)', async (t) => {
  if (!HAS_TORCH) return t.skip(NO_TORCH);
  const dir = tempDir();
  const ours = marker();
  const control = marker();
  const script = `
import os, pickle, sys, torch
class E:
    def __init__(self, path): self.path = path
    def __reduce__(self): return (os.system, ('touch ' + self.path,))
d = sys.argv[1]
torch.save(E(sys.argv[2]), os.path.join(d, 'object.bin'))
torch.save({'w': torch.ones(2), 'x': E(sys.argv[2])}, os.path.join(d, 'dict.bin'))
with open(os.path.join(d, 'raw.bin'), 'wb') as f: pickle.dump(E(sys.argv[2]), f)
torch.save(E(sys.argv[3]), os.path.join(d, 'control.bin'))
torch.load(os.path.join(d, 'control.bin'))  # the control: torch.load runs it
`;
  execFileSync(PYTHON, ['-c', script, dir, ours, control], { stdio: 'pipe' });
  assert.equal(fs.existsSync(control), true, 'the payload runs under torch.load');
  for (const name of ['object.bin', 'dict.bin', 'raw.bin']) {
    const err = await rejectsWithCode(readPytorchBin(path.join(dir, name)), 'MODEL_PICKLE_REFUSED');
    assert.match(err.message, /posix\.system/, name);
  }
  assert.equal(fs.existsSync(ours), false);
  fs.rmSync(control);
});

test('the format of PyTorch < 1.6 is named, with a way out', async () => {
  const err = await rejectsWithCode(readPytorchBin(path.join(FIXTURES, 'legacy.bin')), 'MODEL_LEGACY_PYTORCH_BIN');
  assert.match(err.message, /before 1\.6/);
  assert.match(err.fix ?? '', /model\.safetensors/);
  assert.match(err.fix ?? '', /weights_only=True/);
});

test('byteorder: little (PyTorch 2.1+) reads, big is refused', async () => {
  const entries = await entriesOf(path.join(FIXTURES, 'views.bin'));
  const prefix = entries[0].name.split('/')[0];
  const dir = tempDir();
  const withOrder = (order: string): string => {
    const file = path.join(dir, `${order}.bin`);
    fs.writeFileSync(file, zipOf([...entries, { name: `${prefix}/byteorder`, data: Buffer.from(order) }]));
    return file;
  };
  assertSameTensors(
    await readPytorchBin(withOrder('little')),
    await readSafetensors(path.join(FIXTURES, 'reference-views.safetensors')),
    'little',
  );
  const err = await rejectsWithCode(readPytorchBin(withOrder('big')), 'MODEL_BIG_ENDIAN');
  assert.match(err.message, /big-endian/);
});

test('truncated, damaged, compressed and non-checkpoint files are ModelErrors naming the file', async () => {
  const good = fs.readFileSync(path.join(FIXTURES, 'pytorch_model.bin'));
  const dir = tempDir();
  const file = path.join(dir, 'pytorch_model.bin');
  const lengths = [0, 1, 3, 4, 30, 200, good.length >> 1, good.length - 100, good.length - 22, good.length - 1];
  for (const n of lengths) {
    fs.writeFileSync(file, good.subarray(0, n));
    const err = await rejectsWithCode(readPytorchBin(file, FLOATS), 'MODEL_BAD_PYTORCH_BIN');
    assert.equal(err.file, file);
    assert.match(err.message, /^pytorch_model\.bin is not a readable PyTorch checkpoint: /, `${n} bytes`);
    assert.match(err.fix ?? '', /Download the model again/);
  }
  fs.writeFileSync(file, good.subarray(0, 100));
  assert.match((await rejectsWithCode(readPytorchBin(file, FLOATS), 'MODEL_BAD_PYTORCH_BIN')).message, /truncated/);

  // One byte flipped in a storage: its CRC-32 no longer matches.
  const entries = await entriesOf(path.join(FIXTURES, 'pytorch_model.bin'));
  // The largest storage: the word embeddings, read as float32 (the int64 position_ids are not read at all).
  const storage = entries.filter((e) => /\/data\/\d+$/.test(e.name)).sort((a, b) => b.data.length - a.data.length)[0];
  const flipped = Buffer.from(good);
  flipped[good.indexOf(Buffer.from(storage.data)) + 5] ^= 0x10;
  fs.writeFileSync(file, flipped);
  assert.match(
    (await rejectsWithCode(readPytorchBin(file, FLOATS), 'MODEL_BAD_PYTORCH_BIN')).message,
    /do not match its checksum/,
  );

  const rezip = (change: (e: (typeof entries)[number]) => (typeof entries)[number] | undefined): void => {
    fs.writeFileSync(file, zipOf(entries.map(change).filter((e) => e !== undefined)));
  };
  rezip((e) => (e.name.endsWith('data.pkl') ? { ...e, deflate: true } : e));
  assert.match((await rejectsWithCode(readPytorchBin(file, FLOATS), 'MODEL_BAD_PYTORCH_BIN')).message, /compressed/);
  rezip((e) => (e.name === storage.name ? undefined : e));
  assert.match((await rejectsWithCode(readPytorchBin(file, FLOATS), 'MODEL_BAD_PYTORCH_BIN')).message, /is missing/);
  rezip((e) => (e.name === storage.name ? { ...e, data: e.data.subarray(4) } : e));
  assert.match(
    (await rejectsWithCode(readPytorchBin(file, FLOATS), 'MODEL_BAD_PYTORCH_BIN')).message,
    /bytes, not the/,
  );
  rezip((e) => (e.name.endsWith('data.pkl') ? { ...e, data: e.data.subarray(0, e.data.length - 40) } : e));
  assert.match(
    (await rejectsWithCode(readPytorchBin(file, FLOATS), 'MODEL_BAD_PYTORCH_BIN')).message,
    /data\.pkl cannot be read/,
  );
  rezip((e) => (e.name.endsWith('data.pkl') ? undefined : e));
  assert.match((await rejectsWithCode(readPytorchBin(file, FLOATS), 'MODEL_BAD_PYTORCH_BIN')).message, /no data\.pkl/);

  fs.writeFileSync(file, '<html>Not found</html>');
  assert.match((await rejectsWithCode(readPytorchBin(file, FLOATS), 'MODEL_BAD_PYTORCH_BIN')).message, /neither a zip/);
  fs.writeFileSync(file, zipOf([{ name: 'a.txt', data: Buffer.from('hello') }]));
  assert.match((await rejectsWithCode(readPytorchBin(file, FLOATS), 'MODEL_BAD_PYTORCH_BIN')).message, /no data\.pkl/);

  const missing = path.join(dir, 'nope.bin');
  const err = await rejectsWithCode(readPytorchBin(missing), 'MODEL_FILE_UNREADABLE');
  assert.ok(err instanceof ModelError && err instanceof UserError);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ModelError } from '../../../src/core/errors';
import { readSafetensors, readSafetensorsHeader, writeSafetensors } from '../../../src/core/model/safetensors';
import { seededRandom, Tensor } from '../../../src/core/model/params';
import { tempFolder } from '../../helpers/temp';

function randomTensor(shape: number[], seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const rand = seededRandom(seed);
  return { shape, data: Float32Array.from({ length: n }, () => (rand() - 0.5) * 4) };
}

/** Builds a safetensors file by hand: header object (serialized as given) followed by raw data bytes. */
function buildFile(header: unknown, data: Uint8Array, headerLenOverride?: bigint): Buffer {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(headerLenOverride ?? BigInt(json.byteLength));
  return Buffer.concat([len, json, Buffer.from(data)]);
}

async function expectModelError(file: string, pattern: RegExp): Promise<void> {
  await assert.rejects(readSafetensors(file), (e: unknown) => {
    assert.ok(e instanceof ModelError, `expected ModelError, got ${String(e)}`);
    assert.equal(e.file, file);
    assert.match(e.message, pattern);
    return true;
  });
}

test('write then read gives identical values, shapes and metadata; rewriting gives identical bytes', async () => {
  const dir = tempFolder('bertft-st-');
  const tensors = new Map<string, Tensor>([
    ['z.last', randomTensor([3, 5], 1)],
    ['a.first', randomTensor([7], 2)],
    ['m.scalarish', randomTensor([1, 1, 1], 3)],
    ['e.empty', { shape: [0, 4], data: new Float32Array(0) }],
  ]);
  tensors.get('a.first')!.data.set([NaN, Infinity, -0, 1e-45], 0);
  const file = path.join(dir, 'model.safetensors');
  await writeSafetensors(file, tensors, { format: 'pt' });

  const back = await readSafetensors(file);
  assert.deepEqual([...back.keys()].sort(), [...tensors.keys()].sort());
  for (const [name, t] of tensors) {
    const b = back.get(name)!;
    assert.deepEqual(b.shape, t.shape, name);
    assert.deepEqual(
      Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength),
      Buffer.from(t.data.buffer),
      name,
    );
  }
  const header = await readSafetensorsHeader(file);
  assert.deepEqual(header.metadata, { format: 'pt' });
  assert.equal(header.dataStart % 8, 0, 'header padded to 8 bytes');
  // tensors laid out in name order
  assert.deepEqual(
    [...header.entries]
      .sort((a, b) => a.begin - b.begin || a.end - b.end)
      .map((e) => e.name)
      .filter((n) => n !== 'e.empty'),
    ['a.first', 'm.scalarish', 'z.last'],
  );

  const file2 = path.join(dir, 'again.safetensors');
  await writeSafetensors(file2, back, { format: 'pt' });
  assert.deepEqual(await fs.readFile(file2), await fs.readFile(file));
  // no temp files left behind
  assert.deepEqual((await fs.readdir(dir)).sort(), ['again.safetensors', 'model.safetensors']);
});

test('a subarray view is written from its own offset, not from the start of its buffer', async () => {
  const dir = tempFolder('bertft-st-');
  const big = new Float32Array([9, 9, 1, 2, 3, 9]);
  const file = path.join(dir, 'v.safetensors');
  await writeSafetensors(file, new Map([['v', { shape: [3], data: big.subarray(2, 5) }]]));
  assert.deepEqual([...(await readSafetensors(file)).get('v')!.data], [1, 2, 3]);
});

test('reads F16 and BF16 tensors as float32', async () => {
  const dir = tempFolder('bertft-st-');
  // F16: 1.0, -2.0, 0.5, 65504 (max), smallest subnormal 2^-24, +inf
  const f16 = new Uint16Array([0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x7c00]);
  // BF16: top halves of float32 1.5, -3.0
  const bf16 = new Uint16Array([0x3fc0, 0xc040]);
  const data = new Uint8Array(f16.byteLength + bf16.byteLength);
  data.set(new Uint8Array(f16.buffer), 0);
  data.set(new Uint8Array(bf16.buffer), f16.byteLength);
  const file = path.join(dir, 'half.safetensors');
  await fs.writeFile(
    file,
    buildFile(
      {
        h: { dtype: 'F16', shape: [2, 3], data_offsets: [0, 12] },
        b: { dtype: 'BF16', shape: [2], data_offsets: [12, 16] },
      },
      data,
    ),
  );
  const t = await readSafetensors(file);
  assert.deepEqual(t.get('h')!.shape, [2, 3]);
  assert.deepEqual([...t.get('h')!.data], [1, -2, 0.5, 65504, 2 ** -24, Infinity]);
  assert.deepEqual([...t.get('b')!.data], [1.5, -3]);
});

test('include filter skips tensors, including ones with an unsupported dtype', async () => {
  const dir = tempFolder('bertft-st-');
  const file = path.join(dir, 'mixed.safetensors');
  const data = new Uint8Array(8 + 16);
  new Float32Array(data.buffer, 0, 2).set([4, 5]);
  await fs.writeFile(
    file,
    buildFile(
      {
        w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        'embeddings.position_ids': { dtype: 'I64', shape: [1, 2], data_offsets: [8, 24] },
      },
      data,
    ),
  );
  const t = await readSafetensors(file, { include: (n) => !n.endsWith('position_ids') });
  assert.deepEqual([...t.keys()], ['w']);
  assert.deepEqual([...t.get('w')!.data], [4, 5]);
  await expectModelError(file, /position_ids.*dtype I64/);
});

test('malformed: file shorter than 8 bytes', async () => {
  const file = path.join(tempFolder('bertft-st-'), 'short.safetensors');
  await fs.writeFile(file, Buffer.from([1, 2, 3]));
  await expectModelError(file, /truncated/);
});

test('malformed: header length beyond the file', async () => {
  const file = path.join(tempFolder('bertft-st-'), 'hlen.safetensors');
  await fs.writeFile(file, buildFile({}, new Uint8Array(0), 1000n));
  await expectModelError(file, /header length \(1000 bytes\) goes beyond the end of the file/);
});

test('malformed: header is not JSON, or not an object', async () => {
  const dir = tempFolder('bertft-st-');
  const bad = path.join(dir, 'json.safetensors');
  await fs.writeFile(bad, buildFile('{"w": {"dtype": "F32",', new Uint8Array(0)));
  await expectModelError(bad, /not valid JSON/);
  const arr = path.join(dir, 'arr.safetensors');
  await fs.writeFile(arr, buildFile('[1,2]', new Uint8Array(0)));
  await expectModelError(arr, /not a JSON object/);
});

test('malformed: data truncated / offsets out of range', async () => {
  const file = path.join(tempFolder('bertft-st-'), 'trunc.safetensors');
  await fs.writeFile(file, buildFile({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(12)));
  await expectModelError(file, /"w" ends at byte 16 .* only 12 bytes/);
});

test('malformed: invalid offsets (begin after end)', async () => {
  const file = path.join(tempFolder('bertft-st-'), 'rev.safetensors');
  await fs.writeFile(file, buildFile({ w: { dtype: 'F32', shape: [1], data_offsets: [8, 4] } }, new Uint8Array(8)));
  await expectModelError(file, /invalid data_offsets/);
});

test('malformed: overlapping tensors', async () => {
  const file = path.join(tempFolder('bertft-st-'), 'overlap.safetensors');
  await fs.writeFile(
    file,
    buildFile(
      {
        a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
      },
      new Uint8Array(12),
    ),
  );
  await expectModelError(file, /"a" and "b" overlap/);
});

test('malformed: unsupported dtype', async () => {
  const file = path.join(tempFolder('bertft-st-'), 'i8.safetensors');
  await fs.writeFile(file, buildFile({ q: { dtype: 'I8', shape: [4], data_offsets: [0, 4] } }, new Uint8Array(4)));
  await expectModelError(file, /"q" has dtype I8; only F32, F16 and BF16/);
});

test('malformed: shape does not match the byte count', async () => {
  const file = path.join(tempFolder('bertft-st-'), 'shape.safetensors');
  await fs.writeFile(
    file,
    buildFile({ w: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 20] } }, new Uint8Array(20)),
  );
  await expectModelError(file, /shape \[2, 3\] \(24 bytes of F32\) but its data_offsets span 20 bytes/);
});

test('malformed: bad shape and bad metadata', async () => {
  const dir = tempFolder('bertft-st-');
  const shape = path.join(dir, 'negshape.safetensors');
  await fs.writeFile(shape, buildFile({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4)));
  await expectModelError(shape, /invalid shape/);
  const meta = path.join(dir, 'meta.safetensors');
  await fs.writeFile(meta, buildFile({ __metadata__: { format: 1 } }, new Uint8Array(0)));
  await expectModelError(meta, /__metadata__ value "format" is not a string/);
});

test('missing file is a ModelError naming the file', async () => {
  const file = path.join(tempFolder('bertft-st-'), 'nope.safetensors');
  await expectModelError(file, /Cannot open .*nope\.safetensors/);
});

test('writing a tensor whose data does not match its shape fails and leaves no file', async () => {
  const dir = tempFolder('bertft-st-');
  const file = path.join(dir, 'bad.safetensors');
  await assert.rejects(
    writeSafetensors(file, new Map([['w', { shape: [2, 2], data: new Float32Array(3) }]])),
    (e: unknown) => e instanceof ModelError && /"w" has shape \[2, 2\] but 3 values/.test(e.message),
  );
  assert.deepEqual(await fs.readdir(dir), []);
});

test('an existing file is replaced whole', async () => {
  const dir = tempFolder('bertft-st-');
  const file = path.join(dir, 'm.safetensors');
  await writeSafetensors(file, new Map([['a', randomTensor([100], 5)]]));
  await writeSafetensors(file, new Map([['b', randomTensor([2], 6)]]));
  const back = await readSafetensors(file);
  assert.deepEqual([...back.keys()], ['b']);
  assert.deepEqual(await fs.readdir(dir), ['m.safetensors']);
});

/** Written by the official safetensors package (test/unit/formats/golden/make_golden.py). */
const GOLDEN = path.resolve(__dirname, '..', '..', '..', '..', 'test', 'unit', 'formats', 'golden');

test('reads files written by the official safetensors writer (F32 + F16) to the exact values numpy gives', async () => {
  const values = JSON.parse(await fs.readFile(path.join(GOLDEN, 'official-values.json'), 'utf8')) as Record<
    string,
    { shape: number[]; values: number[] }
  >;
  for (const file of ['official-mixed.safetensors', 'official-f32.safetensors']) {
    const t = await readSafetensors(path.join(GOLDEN, file));
    assert.deepEqual([...t.keys()].sort(), Object.keys(values).sort(), file);
    for (const [name, v] of Object.entries(values)) {
      assert.deepEqual(t.get(name)!.shape, v.shape, `${file} ${name}`);
      assert.deepEqual([...t.get(name)!.data], v.values, `${file} ${name}`);
    }
  }
});

test('writes the same bytes as the official safetensors writer', async () => {
  const official = path.join(GOLDEN, 'official-f32.safetensors');
  const ours = path.join(tempFolder('bertft-st-'), 'ours.safetensors');
  await writeSafetensors(ours, await readSafetensors(official), { format: 'pt' });
  assert.deepEqual(await fs.readFile(ours), await fs.readFile(official));
});

/**
 * The safetensors file format (https://huggingface.co/docs/safetensors): an 8-byte little-endian header length N,
 * N bytes of JSON `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: {string: string} }`, then the
 * tensor bytes, with offsets relative to the end of the header.
 *
 * Tensors are read straight from the file into their Float32Array (no whole-file buffer), so a 440 MB BERT-base
 * checkpoint costs its own size in memory and nothing more.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ModelError } from '../errors';
import { writeFileAtomicWith } from '../util/files';
import type { Tensor } from './params';

/** dtypes we turn into float32, with their size in bytes. */
const SUPPORTED_DTYPES: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };

/** safetensors' own reader refuses headers above 100 MB; a bigger one is corruption, not a model. */
const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsEntry {
  name: string;
  dtype: string;
  shape: number[];
  /** Byte range inside the data section (after the header). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
  /** Absolute file offset of the data section: 8 + header length. */
  dataStart: number;
}

export interface ReadSafetensorsOptions {
  /**
   * Which tensors to load; the others are neither read nor type-checked (e.g. int64 `position_ids` buffers or
   * pretraining heads a classifier does not use). Default: all.
   */
  include?: (name: string) => boolean;
}

export function assertLittleEndianHost(): void {
  // Tensor bytes are copied into typed arrays as-is, which is only right on a little-endian machine.
  if (os.endianness() !== 'LE') throw new Error('safetensors: big-endian hosts are not supported');
}

function malformed(file: string, problem: string): ModelError {
  return new ModelError(`${path.basename(file)} is not a valid safetensors file: ${problem}.`, {
    file,
    code: 'MODEL_BAD_SAFETENSORS',
    fix: 'Download or export the model again; the file is damaged or was not written by a safetensors writer.',
  });
}

function numelOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

async function readFully(fh: fs.FileHandle, target: Uint8Array, position: number): Promise<number> {
  let done = 0;
  while (done < target.byteLength) {
    const { bytesRead } = await fh.read(target, done, target.byteLength - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

function parseEntry(file: string, name: string, raw: unknown): SafetensorsEntry {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw malformed(file, `header entry "${name}" is not an object`);
  }
  const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
  if (typeof dtype !== 'string') throw malformed(file, `tensor "${name}" has no dtype`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw malformed(file, `tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
    offsets[0] > offsets[1]
  ) {
    throw malformed(file, `tensor "${name}" has invalid data_offsets ${JSON.stringify(offsets)}`);
  }
  return { name, dtype, shape: shape as number[], begin: offsets[0] as number, end: offsets[1] as number };
}

/** Reads and validates the header only (names, dtypes, shapes, byte ranges); tensor data is not touched. */
export async function readSafetensorsHeader(file: string): Promise<SafetensorsHeader> {
  const fh = await openWeightsFile(file);
  try {
    return await readHeaderFrom(fh, file);
  } finally {
    await fh.close();
  }
}

/** Opens a weights file for reading; a missing or unreadable one is a ModelError naming it. */
export async function openWeightsFile(file: string): Promise<fs.FileHandle> {
  try {
    return await fs.open(file, 'r');
  } catch (e) {
    throw new ModelError(`Cannot open ${file}: ${(e as Error).message}`, {
      file,
      code: 'MODEL_FILE_UNREADABLE',
      fix: `Check that the model folder contains ${path.basename(file)} and that it is readable.`,
      cause: e,
    });
  }
}

async function readHeaderFrom(fh: fs.FileHandle, file: string): Promise<SafetensorsHeader> {
  const fileSize = (await fh.stat()).size;
  const lenBytes = new Uint8Array(8);
  if (fileSize < 8 || (await readFully(fh, lenBytes, 0)) < 8) {
    throw malformed(file, `the file is truncated (${fileSize} bytes, shorter than the 8-byte header length)`);
  }
  const headerLen = new DataView(lenBytes.buffer).getBigUint64(0, true);
  if (headerLen > BigInt(fileSize - 8)) {
    throw malformed(file, `the header length (${headerLen} bytes) goes beyond the end of the file (${fileSize} bytes)`);
  }
  if (headerLen > BigInt(MAX_HEADER_BYTES)) {
    throw malformed(file, `the header length (${headerLen} bytes) is larger than any real model needs`);
  }
  const headerBytes = new Uint8Array(Number(headerLen));
  await readFully(fh, headerBytes, 8);
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(headerBytes.buffer).toString('utf8'));
  } catch (e) {
    throw malformed(file, `the header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw malformed(file, 'the header is not a JSON object');
  }

  const dataStart = 8 + Number(headerLen);
  const dataSize = fileSize - dataStart;
  const metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
        throw malformed(file, '__metadata__ is not an object');
      }
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') throw malformed(file, `__metadata__ value "${k}" is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const entry = parseEntry(file, name, raw);
    if (entry.end > dataSize) {
      throw malformed(
        file,
        `tensor "${name}" ends at byte ${entry.end} of the data section, but the data section has only ${dataSize} bytes ` +
          '(the file is truncated or its offsets are out of range)',
      );
    }
    const size = SUPPORTED_DTYPES[entry.dtype];
    if (size !== undefined && entry.end - entry.begin !== numelOf(entry.shape) * size) {
      throw malformed(
        file,
        `tensor "${name}" has shape [${entry.shape.join(', ')}] (${numelOf(entry.shape) * size} bytes of ${entry.dtype}) ` +
          `but its data_offsets span ${entry.end - entry.begin} bytes`,
      );
    }
    entries.push(entry);
  }

  const byOffset = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < byOffset.length; i++) {
    const prev = byOffset[i - 1];
    const cur = byOffset[i];
    if (cur.begin < prev.end) {
      throw malformed(file, `tensors "${prev.name}" and "${cur.name}" overlap (bytes ${cur.begin}..${prev.end})`);
    }
  }
  return { entries, metadata, dataStart };
}

let halfTable: Float32Array | undefined;

/** float16 bit pattern → float32 value, for all 65536 patterns (256 KB, built once). */
export function float16Table(): Float32Array {
  if (halfTable) return halfTable;
  halfTable = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) halfTable[h] = sign * frac * 2 ** -24;
    else if (exp === 31) halfTable[h] = frac ? NaN : sign * Infinity;
    else halfTable[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return halfTable;
}

async function readTensor(
  fh: fs.FileHandle,
  file: string,
  header: SafetensorsHeader,
  e: SafetensorsEntry,
): Promise<Tensor> {
  const numel = numelOf(e.shape);
  const out = new Float32Array(numel);
  const position = header.dataStart + e.begin;
  const byteLength = e.end - e.begin;
  if (e.dtype === 'F32') {
    const got = await readFully(fh, new Uint8Array(out.buffer), position);
    if (got < byteLength) throw malformed(file, `tensor "${e.name}" is cut short (the file changed while reading)`);
    return { shape: [...e.shape], data: out };
  }
  const half = new Uint16Array(numel);
  const got = await readFully(fh, new Uint8Array(half.buffer), position);
  if (got < byteLength) throw malformed(file, `tensor "${e.name}" is cut short (the file changed while reading)`);
  if (e.dtype === 'F16') {
    const table = float16Table();
    for (let i = 0; i < numel; i++) out[i] = table[half[i]];
  } else {
    // bfloat16 is the top half of a float32.
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < numel; i++) bits[i] = half[i] << 16;
  }
  return { shape: [...e.shape], data: out };
}

/** Reads every (or every included) tensor as float32. Throws ModelError naming the file and the problem. */
export async function readSafetensors(
  file: string,
  options: ReadSafetensorsOptions = {},
): Promise<Map<string, Tensor>> {
  assertLittleEndianHost();
  const fh = await openWeightsFile(file);
  try {
    const header = await readHeaderFrom(fh, file);
    const wanted = header.entries.filter((e) => !options.include || options.include(e.name));
    for (const e of wanted) {
      if (SUPPORTED_DTYPES[e.dtype] === undefined) {
        throw new ModelError(
          `${path.basename(file)}: tensor "${e.name}" has dtype ${e.dtype}; only F32, F16 and BF16 weights are supported.`,
          { file, code: 'MODEL_UNSUPPORTED_DTYPE', fix: 'Use a float32, float16 or bfloat16 checkpoint of the model.' },
        );
      }
    }
    const tensors = new Map<string, Tensor>();
    for (const e of wanted) tensors.set(e.name, await readTensor(fh, file, header, e));
    return tensors;
  } finally {
    await fh.close();
  }
}

async function writeAll(fh: fs.FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.byteLength) {
    const { bytesWritten } = await fh.write(bytes, done, bytes.byteLength - done);
    done += bytesWritten;
  }
}

/**
 * Writes float32 tensors, sorted by name, with the header padded by spaces to a multiple of 8 bytes as the
 * reference writer does. Atomic: the file is either the old one or the complete new one.
 */
export async function writeSafetensors(
  file: string,
  tensors: Map<string, Tensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  assertLittleEndianHost();
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name) as Tensor;
    if (t.data.length !== numelOf(t.shape)) {
      throw new ModelError(
        `Cannot write ${path.basename(file)}: tensor "${name}" has shape [${t.shape.join(', ')}] but ${t.data.length} values.`,
        { file, code: 'MODEL_TENSOR_SHAPE' },
      );
    }
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil((8 + json.byteLength) / 8) * 8 - 8;
  if (padded > json.byteLength) json = Buffer.concat([json, Buffer.alloc(padded - json.byteLength, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.byteLength));

  await writeFileAtomicWith(file, async (fh) => {
    await writeAll(fh, len);
    await writeAll(fh, json);
    for (const name of names) {
      const data = (tensors.get(name) as Tensor).data;
      await writeAll(fh, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
  });
}

/**
 * A reader for the central directory of a zip file and its uncompressed (STORED) entries, which is all that the files
 * `torch.save` writes need: its writer stores every entry uncompressed. Entries are read by position through a file
 * handle, so a large archive is never held in memory whole. ZIP64 (archives or entries past 4 GiB) is understood;
 * compressed or encrypted entries are listed but cannot be read.
 *
 * Problems are ZipFormatErrors with a message in words; callers that know what the file is for turn them into user
 * errors naming the file and a fix.
 */
import type { FileHandle } from 'node:fs/promises';
import * as zlib from 'node:zlib';

export class ZipFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipFormatError';
  }
}

export interface ZipEntry {
  name: string;
  /** 0 = stored (uncompressed), 8 = deflate, … */
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

export interface ZipDirectory {
  entries: Map<string, ZipEntry>;
  /** Where the central directory starts: every entry's data ends before it. */
  directoryOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_EOCD_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL_HEADER = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;

/** The first bytes of every zip file that starts with an entry (all that torch.save writes). */
export const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

export async function readAt(fh: FileHandle, length: number, position: number): Promise<Buffer> {
  const out = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(out, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done === length ? out : out.subarray(0, done);
}

function safeNumber(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipFormatError(`${what} is out of range`);
  return Number(value);
}

/** Reads and checks the central directory; no entry data is read. */
export async function readZipDirectory(fh: FileHandle): Promise<ZipDirectory> {
  const fileSize = (await fh.stat()).size;
  if (fileSize < EOCD_SIZE) throw new ZipFormatError(`the file has ${fileSize} bytes, too few for a zip archive`);
  const tailLength = Math.min(fileSize, EOCD_SIZE + MAX_COMMENT);
  const tailStart = fileSize - tailLength;
  const tail = await readAt(fh, tailLength, tailStart);
  let at = -1;
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD && i + EOCD_SIZE + tail.readUInt16LE(i + 20) === tail.length) {
      at = i;
      break;
    }
  }
  if (at < 0) {
    throw new ZipFormatError('its end (the zip central directory) is missing: the file is truncated or not a zip');
  }
  const eocdOffset = tailStart + at;
  let count = tail.readUInt16LE(at + 10);
  let directorySize = tail.readUInt32LE(at + 12);
  let directoryOffset = tail.readUInt32LE(at + 16);
  if (count === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) {
    const locator = at - 20;
    if (locator < 0 || tail.readUInt32LE(locator) !== ZIP64_EOCD_LOCATOR) {
      throw new ZipFormatError('its ZIP64 end record is missing: the file is truncated or damaged');
    }
    const zip64Offset = safeNumber(tail.readBigUInt64LE(locator + 8), 'the ZIP64 end record offset');
    const record = zip64Offset + 56 <= eocdOffset ? await readAt(fh, 56, zip64Offset) : Buffer.alloc(0);
    if (record.length < 56 || record.readUInt32LE(0) !== ZIP64_EOCD) {
      throw new ZipFormatError('its ZIP64 end record is damaged');
    }
    count = safeNumber(record.readBigUInt64LE(32), 'the entry count');
    directorySize = safeNumber(record.readBigUInt64LE(40), 'the central directory size');
    directoryOffset = safeNumber(record.readBigUInt64LE(48), 'the central directory offset');
  }
  if (directoryOffset + directorySize > eocdOffset) {
    throw new ZipFormatError('its central directory lies outside the file: the file is truncated or damaged');
  }
  const directory = await readAt(fh, directorySize, directoryOffset);
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > directory.length || directory.readUInt32LE(p) !== CENTRAL_HEADER) {
      throw new ZipFormatError(`its central directory is damaged (entry ${i + 1} of ${count})`);
    }
    const nameLength = directory.readUInt16LE(p + 28);
    const extraLength = directory.readUInt16LE(p + 30);
    const commentLength = directory.readUInt16LE(p + 32);
    const end = p + 46 + nameLength + extraLength + commentLength;
    if (end > directory.length) throw new ZipFormatError(`its central directory is damaged (entry ${i + 1})`);
    const entry: ZipEntry = {
      name: directory.toString('utf8', p + 46, p + 46 + nameLength),
      flags: directory.readUInt16LE(p + 8),
      method: directory.readUInt16LE(p + 10),
      crc32: directory.readUInt32LE(p + 16),
      compressedSize: directory.readUInt32LE(p + 20),
      size: directory.readUInt32LE(p + 24),
      localHeaderOffset: directory.readUInt32LE(p + 42),
    };
    applyZip64Extra(entry, directory.subarray(p + 46 + nameLength, p + 46 + nameLength + extraLength));
    if (entries.has(entry.name)) throw new ZipFormatError(`it holds "${entry.name}" twice`);
    entries.set(entry.name, entry);
    p = end;
  }
  return { entries, directoryOffset };
}

/** The ZIP64 extra field (id 1) holds, in this order, each of size, compressed size and offset that is 0xffffffff. */
function applyZip64Extra(entry: ZipEntry, extra: Buffer): void {
  for (let q = 0; q + 4 <= extra.length;) {
    const id = extra.readUInt16LE(q);
    const length = extra.readUInt16LE(q + 2);
    if (id === 1) {
      let r = q + 4;
      const next = (what: string): number => {
        if (r + 8 > q + 4 + length) throw new ZipFormatError(`the ZIP64 field of "${entry.name}" is too short`);
        const v = safeNumber(extra.readBigUInt64LE(r), what);
        r += 8;
        return v;
      };
      if (entry.size === 0xffffffff) entry.size = next('an entry size');
      if (entry.compressedSize === 0xffffffff) entry.compressedSize = next('an entry size');
      if (entry.localHeaderOffset === 0xffffffff) entry.localHeaderOffset = next('an entry offset');
      return;
    }
    q += 4 + length;
  }
}

/**
 * Where an uncompressed entry's bytes start in the file. Its local header gives the length of its own extra field
 * (torch pads it so that the data is aligned), which may differ from the central directory's.
 */
export async function storedDataOffset(fh: FileHandle, directory: ZipDirectory, entry: ZipEntry): Promise<number> {
  if (entry.flags & 1) throw new ZipFormatError(`"${entry.name}" is encrypted`);
  if (entry.method !== 0) {
    throw new ZipFormatError(`"${entry.name}" is compressed (method ${entry.method}), not stored as torch.save does`);
  }
  if (entry.compressedSize !== entry.size) throw new ZipFormatError(`"${entry.name}" has inconsistent sizes`);
  const header = await readAt(fh, 30, entry.localHeaderOffset);
  if (header.length < 30 || header.readUInt32LE(0) !== LOCAL_HEADER) {
    throw new ZipFormatError(`the local header of "${entry.name}" is damaged`);
  }
  const start = entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  if (start + entry.size > directory.directoryOffset) {
    throw new ZipFormatError(`"${entry.name}" runs past the end of the entries: the file is truncated or damaged`);
  }
  return start;
}

let crcTable: Int32Array | undefined;

/** CRC-32 as zip uses it; zlib's own where this Node has it (20.15 and later), else a table. */
export function crc32(bytes: Uint8Array): number {
  const native = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
  if (native) return native(bytes) >>> 0;
  if (!crcTable) {
    crcTable = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c;
    }
  }
  let c = -1;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** Reads an uncompressed entry whole into `target` (or a new buffer) and checks its CRC-32. */
export async function readStoredEntry(
  fh: FileHandle,
  directory: ZipDirectory,
  entry: ZipEntry,
  target?: Uint8Array,
): Promise<Uint8Array> {
  const start = await storedDataOffset(fh, directory, entry);
  const out = target ?? new Uint8Array(entry.size);
  if (out.byteLength !== entry.size) throw new ZipFormatError(`"${entry.name}" is not the size expected`);
  let done = 0;
  while (done < out.byteLength) {
    const { bytesRead } = await fh.read(out, done, out.byteLength - done, start + done);
    if (bytesRead === 0) throw new ZipFormatError(`"${entry.name}" is cut short: the file is truncated`);
    done += bytesRead;
  }
  if (crc32(out) !== entry.crc32) {
    throw new ZipFormatError(`the bytes of "${entry.name}" do not match its checksum: the file is damaged`);
  }
  return out;
}

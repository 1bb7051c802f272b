/** Zip archives for the weight-format tests: written entry by entry (stored or deflated), and read back with ours. */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { crc32, readStoredEntry, readZipDirectory } from '../../src/core/util/zip';

export interface ZipInput {
  name: string;
  data: Uint8Array;
  /** Write the entry deflated (method 8), which torch.save never does. */
  deflate?: boolean;
}

/** A zip archive of `entries`, as torch.save lays one out (local headers, data, central directory, end record). */
export function zipOf(entries: ZipInput[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const data = e.deflate ? zlib.deflateRawSync(e.data) : Buffer.from(e.data);
    const crc = crc32(e.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(e.deflate ? 8 : 0, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(e.deflate ? 8 : 0, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(e.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    centrals.push(central, name);
    offset += local.length + name.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** The entries of a stored zip file (a torch.save file), in order. */
export async function entriesOf(file: string): Promise<ZipInput[]> {
  const fh = await fs.promises.open(file, 'r');
  try {
    const directory = await readZipDirectory(fh);
    const out: ZipInput[] = [];
    for (const entry of directory.entries.values()) {
      out.push({ name: entry.name, data: await readStoredEntry(fh, directory, entry) });
    }
    return out;
  } finally {
    await fh.close();
  }
}

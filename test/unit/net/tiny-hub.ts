/** Builds a tiny model repository in Hub layout inside a temp folder, for the loopback server to serve. */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempFolder } from '../../helpers/temp';

/** A valid safetensors file: 8-byte little-endian header length, JSON header padded to 8 bytes, then the data. */
export function tinySafetensors(floats: number): Buffer {
  const data = Buffer.from(new Float32Array(floats).map((_, i) => Math.sin(i)).buffer);
  let header = JSON.stringify({
    __metadata__: { format: 'pt' },
    'classifier.weight': { dtype: 'F32', shape: [2, floats / 2], data_offsets: [0, data.length] },
  });
  header += ' '.repeat((8 - (header.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([len, Buffer.from(header), data]);
}

export interface TinyRepo {
  dir: string;
  files: Record<string, Buffer>;
}

/** Writes `root/<repoId>/…`. `tokenizer: 'json'` writes tokenizer.json; 'vocab' writes vocab.txt + tokenizer_config.json. */
export function writeTinyRepo(root: string, repoId: string, tokenizer: 'json' | 'vocab', weights = true): TinyRepo {
  const dir = path.join(root, repoId);
  fs.mkdirSync(dir, { recursive: true });
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'hello', 'world'];
  const files: Record<string, Buffer> = {
    'config.json': Buffer.from(
      JSON.stringify({ model_type: 'bert', hidden_size: 8, num_hidden_layers: 1, vocab_size: vocab.length }),
    ),
  };
  if (tokenizer === 'json') {
    files['tokenizer.json'] = Buffer.from(
      JSON.stringify({
        version: '1.0',
        model: { type: 'WordPiece', vocab: Object.fromEntries(vocab.map((t, i) => [t, i])) },
      }),
    );
  } else {
    files['vocab.txt'] = Buffer.from(vocab.join('\n') + '\n');
    files['tokenizer_config.json'] = Buffer.from(JSON.stringify({ do_lower_case: true }));
  }
  if (weights) files['model.safetensors'] = tinySafetensors(16384); // 64 KiB of data: big enough to cut mid-way
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
  return { dir, files };
}

export function sha256(buf: Buffer): string {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

export function tempDir(prefix: string): string {
  return tempFolder(`bertft-${prefix}-`);
}

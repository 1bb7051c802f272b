/**
 * `pytorch_model.bin` as `torch.save` writes it since PyTorch 1.6: a zip archive of uncompressed entries
 * `<archive>/data.pkl` (a pickle of the state dict in which each tensor is `torch._utils._rebuild_tensor_v2(storage,
 * offset, size, stride, …)` and each storage a persistent id `('storage', torch.FloatStorage, key, location, numel)`),
 * `<archive>/data/<key>` (each storage's raw little-endian bytes), `<archive>/version` and, since PyTorch 2.1,
 * `<archive>/byteorder`.
 *
 * The pickle is read by ./pickle.ts, which calls nothing: the only names it may refer to are the handful a state dict
 * of tensors needs (ALLOWED below). Any other (`posix.system`, `builtins.eval`, `subprocess.Popen` …) is refused by
 * name before anything is built with it, so loading a hostile file fails and runs nothing. The older format of
 * PyTorch < 1.6 (pickles one after another, no zip) is recognised and refused with the way out.
 *
 * Tensors come out as float32 like safetensors' (./safetensors.ts): float32, float16 and bfloat16 storages, any
 * storage offset, contiguous or strided (copied into row-major order), several tensors sharing a storage (each gets
 * its own copy). Every storage that is read is checked against its zip CRC-32.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ModelError, UserError } from '../errors';
import {
  ZIP_MAGIC,
  ZipDirectory,
  ZipEntry,
  ZipFormatError,
  readAt,
  readStoredEntry,
  readZipDirectory,
} from '../util/zip';
import { PickleCallable, PickleBuildable, PickleError, unpickle } from './pickle';
import type { Tensor } from './params';
import { assertLittleEndianHost, float16Table, openWeightsFile } from './safetensors';

export const PYTORCH_WEIGHTS_FILE = 'pytorch_model.bin';

/** The number the pre-1.6 format pickles first (torch/serialization.py MAGIC_NUMBER). */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
/** data.pkl of BERT-large is about 100 KB; anything near this is not a state dict. */
const MAX_PICKLE_BYTES = 256 * 1024 * 1024;
/** How much of a file that is not a zip is read to tell what it is. */
const SNIFF_BYTES = 1024 * 1024;

/** A storage class as a value (`torch.FloatStorage`): which element type the storage's bytes hold. */
class StorageType {
  constructor(
    readonly name: string,
    readonly dtype: string,
    readonly itemSize: number,
  ) {}
}

const STORAGE_TYPES = new Map(
  (
    [
      ['FloatStorage', 'F32', 4],
      ['HalfStorage', 'F16', 2],
      ['BFloat16Storage', 'BF16', 2],
      ['DoubleStorage', 'F64', 8],
      ['LongStorage', 'I64', 8],
      ['IntStorage', 'I32', 4],
      ['ShortStorage', 'I16', 2],
      ['CharStorage', 'I8', 1],
      ['ByteStorage', 'U8', 1],
      ['BoolStorage', 'BOOL', 1],
    ] as const
  ).map(([name, dtype, size]) => [name, new StorageType(name, dtype, size)]),
);

/** dtypes a weight may have; others (an int64 `position_ids` buffer) are fine as long as nobody asks for them. */
const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16']);

interface StorageRef {
  key: string;
  type: StorageType;
  numel: number;
  entry: ZipEntry;
}

class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
  ) {}
}

/** What a persistent id stands for: never a user-visible value, so it cannot be confused with data. */
class StorageRefValue {
  constructor(readonly ref: StorageRef) {}
}

/** `collections.OrderedDict`: a Map that takes BUILD's state (a state dict's `_metadata`, of no use here). */
class OrderedDictValue extends Map<unknown, unknown> implements PickleBuildable {
  pickleBuild(): void {}
}

/** A dtype as a value (`torch.float16`); nothing in a v2 state dict needs more than its presence. */
class DTypeValue {
  constructor(readonly name: string) {}
}

function problem(file: string, message: string, cause?: unknown): ModelError {
  return new ModelError(`${path.basename(file)} is not a readable PyTorch checkpoint: ${message}.`, {
    file,
    code: 'MODEL_BAD_PYTORCH_BIN',
    fix: 'Download the model again (the file is damaged or cut short), or use its model.safetensors if it has one.',
    cause,
  });
}

function refused(file: string, module: string, name: string): ModelError {
  return new ModelError(
    `${path.basename(file)} refers to ${module}.${name}, which a file of weights has no use for: it was refused ` +
      'and nothing in it was run.',
    {
      file,
      code: 'MODEL_PICKLE_REFUSED',
      fix:
        "Do not open this file with torch.load. Use the model's model.safetensors if it has one, or a checkpoint " +
        'from a source you trust.',
    },
  );
}

function isSafeCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function countsOf(v: unknown): number[] | undefined {
  return Array.isArray(v) && v.every(isSafeCount) ? v : undefined;
}

/** The allow-list: every name data.pkl may refer to, as the value it stands for. */
function allowedGlobals(file: string): (module: string, name: string) => unknown {
  const bad = (what: string): never => {
    throw problem(file, what);
  };
  const rebuildTensor = (args: readonly unknown[]): TensorRef => {
    const [storage, offset, size, stride] = args;
    const shape = countsOf(size);
    const strides = countsOf(stride);
    if (args.length < 6 || args.length > 7 || !(storage instanceof StorageRefValue)) {
      return bad('a tensor is rebuilt with arguments this reader does not know');
    }
    if (!isSafeCount(offset) || !shape || !strides || shape.length !== strides.length) {
      return bad('a tensor has an invalid offset, size or stride');
    }
    return new TensorRef(storage.ref, offset, shape, strides);
  };
  const parameter = (args: readonly unknown[]): TensorRef =>
    args[0] instanceof TensorRef ? args[0] : bad('a parameter holds something other than a tensor');
  const callables = new Map<string, unknown>([
    [
      'collections.OrderedDict',
      new PickleCallable('collections', 'OrderedDict', (args) => {
        const out = new OrderedDictValue();
        if (args.length === 1 && Array.isArray(args[0])) {
          for (const pair of args[0] as unknown[]) {
            if (!Array.isArray(pair) || pair.length !== 2)
              bad('an OrderedDict is built from something other than pairs');
            out.set((pair as unknown[])[0], (pair as unknown[])[1]);
          }
        } else if (args.length !== 0) bad('an OrderedDict is built with arguments this reader does not know');
        return out;
      }),
    ],
    ['torch._utils._rebuild_tensor_v2', new PickleCallable('torch._utils', '_rebuild_tensor_v2', rebuildTensor)],
    ['torch._utils._rebuild_parameter', new PickleCallable('torch._utils', '_rebuild_parameter', parameter)],
    [
      'torch._utils._rebuild_parameter_with_state',
      new PickleCallable('torch._utils', '_rebuild_parameter_with_state', parameter),
    ],
    ...[...STORAGE_TYPES].map(([name, type]): [string, unknown] => [`torch.${name}`, type]),
    ...['float32', 'float16', 'bfloat16'].map((name): [string, unknown] => [`torch.${name}`, new DTypeValue(name)]),
  ]);
  return (module, name) => {
    const key = `${module}.${name}`;
    if (!callables.has(key)) throw refused(file, module, name);
    return callables.get(key);
  };
}

interface Checkpoint {
  fh: fs.FileHandle;
  directory: ZipDirectory;
  /** Tensors by name, in the order of the state dict. */
  tensors: Map<string, TensorRef>;
}

/** A file that is no zip: a checkpoint of PyTorch < 1.6, a bare pickle (refused by name if it calls anything), or neither. */
async function notZip(fh: fs.FileHandle, file: string): Promise<never> {
  const head = await readAt(fh, SNIFF_BYTES, 0);
  let first: unknown;
  try {
    first = unpickle(head, { resolveGlobal: allowedGlobals(file) }).value;
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw problem(file, 'it is neither a zip archive (as torch.save writes since PyTorch 1.6) nor a pickle', e);
  }
  if (first === LEGACY_MAGIC) {
    throw new ModelError(
      `${path.basename(file)} is in the format of PyTorch before 1.6 (pickles one after another, no zip archive), ` +
        'which is not supported.',
      {
        file,
        code: 'MODEL_LEGACY_PYTORCH_BIN',
        fix:
          "Use the model's model.safetensors if it has one, or re-save the file once with PyTorch 1.13 or later: " +
          'torch.save(torch.load(path, weights_only=True), path) (weights_only keeps torch.load from running code in it).',
      },
    );
  }
  throw problem(file, 'it is a bare pickle, not the zip archive torch.save writes');
}

async function openCheckpoint(file: string): Promise<Checkpoint> {
  assertLittleEndianHost();
  const fh = await openWeightsFile(file);
  try {
    const magic = await readAt(fh, 4, 0);
    if (!magic.equals(ZIP_MAGIC)) {
      if (magic.length < 4) throw problem(file, `it has only ${magic.length} bytes`);
      await notZip(fh, file);
    }
    const directory = await readZipDirectory(fh);
    const pickles = [...directory.entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
    if (pickles.length !== 1) {
      throw problem(file, pickles.length === 0 ? 'the archive has no data.pkl' : 'the archive has several data.pkl');
    }
    const prefix = pickles[0].slice(0, -'data.pkl'.length);
    const byteorder = directory.entries.get(`${prefix}byteorder`);
    if (byteorder) {
      const order = Buffer.from(await readStoredEntry(fh, directory, byteorder)).toString('latin1');
      if (order === 'big') {
        throw new ModelError(
          `${path.basename(file)} was saved on a big-endian machine, whose tensor bytes are not read here.`,
          {
            file,
            code: 'MODEL_BIG_ENDIAN',
            fix: 'Save it again on a little-endian machine (x86, ARM), or as model.safetensors (always little-endian).',
          },
        );
      }
      if (order !== 'little') throw problem(file, `its byteorder entry says "${order.slice(0, 20)}"`);
    }
    const pklEntry = directory.entries.get(pickles[0]) as ZipEntry;
    if (pklEntry.size > MAX_PICKLE_BYTES) throw problem(file, `its data.pkl has ${pklEntry.size} bytes`);
    const pkl = await readStoredEntry(fh, directory, pklEntry);

    const storages = new Map<string, StorageRefValue>();
    const persistentLoad = (pid: unknown): StorageRefValue => {
      if (!Array.isArray(pid) || pid.length !== 5 || pid[0] !== 'storage') {
        throw problem(file, 'data.pkl refers to something other than a storage');
      }
      const [, type, key, , numel] = pid as unknown[];
      if (!(type instanceof StorageType) || typeof key !== 'string' || !isSafeCount(numel)) {
        throw problem(file, 'data.pkl describes a storage this reader does not know');
      }
      const known = storages.get(key);
      if (known) return known;
      const entry = directory.entries.get(`${prefix}data/${key}`);
      if (!entry) throw problem(file, `storage ${key} is missing from the archive`);
      if (entry.size !== numel * type.itemSize) {
        throw problem(
          file,
          `storage ${key} has ${entry.size} bytes, not the ${numel * type.itemSize} its ${type.name} needs`,
        );
      }
      const value = new StorageRefValue({ key, type, numel, entry });
      storages.set(key, value);
      return value;
    };
    let root: unknown;
    try {
      root = unpickle(pkl, { resolveGlobal: allowedGlobals(file), persistentLoad }).value;
    } catch (e) {
      if (e instanceof UserError) throw e;
      if (e instanceof PickleError)
        throw problem(file, `its data.pkl cannot be read (${e.message} at byte ${e.position})`, e);
      throw e;
    }
    if (!(root instanceof Map)) throw problem(file, 'data.pkl holds no state dict (a dict of tensors)');
    const tensors = new Map<string, TensorRef>();
    for (const [name, value] of root) {
      if (typeof name !== 'string') throw problem(file, 'the state dict has a key that is not a string');
      if (!(value instanceof TensorRef)) throw problem(file, `"${name}" in the state dict is not a tensor`);
      tensors.set(name, value);
    }
    return { fh, directory, tensors };
  } catch (e) {
    await fh.close();
    if (e instanceof ZipFormatError) throw problem(file, e.message, e);
    throw e;
  }
}

/** The names of the tensors in the file (reading data.pkl only: no tensor data). */
export async function readPytorchBinNames(file: string): Promise<string[]> {
  const checkpoint = await openCheckpoint(file);
  await checkpoint.fh.close();
  return [...checkpoint.tensors.keys()];
}

function numelOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Whether the tensor's elements lie in row-major order, one after another (strides of size-1 dims do not matter). */
function isContiguous(t: TensorRef): boolean {
  let expected = 1;
  for (let d = t.shape.length - 1; d >= 0; d--) {
    if (t.shape[d] !== 1 && t.stride[d] !== expected) return false;
    expected *= t.shape[d];
  }
  return true;
}

/** The tensor's elements as float32 in row-major order, from its storage's bytes (starting at byte 0 of their buffer). */
function toFloat32(file: string, name: string, t: TensorRef, bytes: Uint8Array, soleUser: boolean): Float32Array {
  const numel = numelOf(t.shape);
  const { type, numel: storageNumel } = t.storage;
  let last = t.offset;
  for (let d = 0; d < t.shape.length; d++) last += (t.shape[d] - 1) * t.stride[d];
  if (numel > 0 && last >= storageNumel) {
    throw problem(file, `tensor "${name}" reaches past the end of its storage (element ${last} of ${storageNumel})`);
  }
  const contiguous = isContiguous(t);
  if (type.dtype === 'F32' && contiguous && soleUser && t.offset === 0 && numel === storageNumel) {
    return new Float32Array(bytes.buffer, bytes.byteOffset, numel);
  }
  const out = new Float32Array(numel);
  if (type.dtype === 'F32') {
    // Copied as bits, so that NaN payloads survive as they do in safetensors.
    const bits = new Uint32Array(out.buffer);
    const src = new Uint32Array(bytes.buffer, bytes.byteOffset, storageNumel);
    forEachIndex(t, contiguous, (i, s) => (bits[i] = src[s]));
  } else if (type.dtype === 'F16') {
    const table = float16Table();
    const src = new Uint16Array(bytes.buffer, bytes.byteOffset, storageNumel);
    forEachIndex(t, contiguous, (i, s) => (out[i] = table[src[s]]));
  } else {
    // bfloat16 is the top half of a float32.
    const bits = new Uint32Array(out.buffer);
    const src = new Uint16Array(bytes.buffer, bytes.byteOffset, storageNumel);
    forEachIndex(t, contiguous, (i, s) => (bits[i] = src[s] << 16));
  }
  return out;
}

/** Calls `f(i, s)` for each element: i its row-major index, s its index in the storage. */
function forEachIndex(t: TensorRef, contiguous: boolean, f: (i: number, s: number) => void): void {
  const numel = numelOf(t.shape);
  if (contiguous) {
    for (let i = 0; i < numel; i++) f(i, t.offset + i);
    return;
  }
  const rank = t.shape.length;
  const index = new Array<number>(rank).fill(0);
  let s = t.offset;
  for (let i = 0; i < numel; i++) {
    f(i, s);
    for (let d = rank - 1; d >= 0; d--) {
      index[d]++;
      s += t.stride[d];
      if (index[d] < t.shape[d]) break;
      s -= t.stride[d] * t.shape[d];
      index[d] = 0;
    }
  }
}

/**
 * Reads every (or every included) tensor as float32. The others are neither read nor type-checked. Throws
 * ModelError naming the file and the problem, MODEL_PICKLE_REFUSED for a pickle that refers to anything but tensors.
 */
export async function readPytorchBin(
  file: string,
  options: { include?: (name: string) => boolean } = {},
): Promise<Map<string, Tensor>> {
  const { fh, directory, tensors } = await openCheckpoint(file);
  try {
    const wanted = [...tensors].filter(([name]) => !options.include || options.include(name));
    for (const [name, t] of wanted) {
      if (!FLOAT_DTYPES.has(t.storage.type.dtype)) {
        throw new ModelError(
          `${path.basename(file)}: tensor "${name}" has dtype ${t.storage.type.dtype}; only F32, F16 and BF16 weights are supported.`,
          { file, code: 'MODEL_UNSUPPORTED_DTYPE', fix: 'Use a float32, float16 or bfloat16 checkpoint of the model.' },
        );
      }
    }
    const users = new Map<string, [string, TensorRef][]>();
    for (const [name, t] of wanted) users.set(t.storage.key, [...(users.get(t.storage.key) ?? []), [name, t]]);
    const out = new Map<string, Tensor>();
    for (const group of users.values()) {
      const storage = group[0][1].storage;
      let bytes: Uint8Array;
      try {
        bytes = await readStoredEntry(fh, directory, storage.entry);
      } catch (e) {
        if (e instanceof ZipFormatError) throw problem(file, e.message, e);
        throw e;
      }
      for (const [name, t] of group) {
        out.set(name, { shape: [...t.shape], data: toFloat32(file, name, t, bytes, group.length === 1) });
      }
    }
    // In the state dict's order, as the other readers return them.
    return new Map(wanted.map(([name]) => [name, out.get(name) as Tensor]));
  } finally {
    await fh.close();
  }
}

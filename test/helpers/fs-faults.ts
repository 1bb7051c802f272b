/**
 * A preload (`node --require out/test/helpers/fs-faults.js cli.js ...`) that makes the file system below one folder
 * fail as a full disk, a read-only mount, a process out of file descriptors or a folder without write permission
 * does: for the environment rows of the malformed-input battery on machines where a small tmpfs cannot be mounted
 * (not root, macOS, Windows), and where root's chmod would not stop a write. Set by environment variables:
 *   BERTFT_FS_FAULT        ENOSPC | EROFS | EMFILE | EACCES
 *   BERTFT_FS_FAULT_DIR    the folder (absolute); everything outside it works as usual
 *   BERTFT_FS_FAULT_AFTER  ENOSPC: bytes that may still be written below the folder; EMFILE: opens that still work
 * EROFS and EACCES refuse every change below the folder (create, write, rename, remove); reads work. The errors carry
 * Node's code, errno, syscall and path (none for a write to an open file, as from Node itself).
 */
// The default import is Node's own module object (a namespace import would be a copy): the wrappers must replace its
// functions for every caller.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

type Fault = 'ENOSPC' | 'EROFS' | 'EMFILE' | 'EACCES';
const FAULTS: Record<Fault, { errno: number; words: string }> = {
  ENOSPC: { errno: -28, words: 'no space left on device' },
  EROFS: { errno: -30, words: 'read-only file system' },
  EMFILE: { errno: -24, words: 'too many open files' },
  EACCES: { errno: -13, words: 'permission denied' },
};

const fault = process.env.BERTFT_FS_FAULT as Fault | undefined;
const root = process.env.BERTFT_FS_FAULT_DIR;
let left = Number(process.env.BERTFT_FS_FAULT_AFTER ?? 0);

function errnoError(code: Fault, syscall: string, file?: string, dest?: string): NodeJS.ErrnoException {
  const where = file === undefined ? '' : ` '${file}'${dest === undefined ? '' : ` -> '${dest}'`}`;
  const e: NodeJS.ErrnoException = new Error(`${code}: ${FAULTS[code].words}, ${syscall}${where}`);
  Object.assign(
    e,
    { errno: FAULTS[code].errno, code, syscall },
    file === undefined ? {} : { path: file },
    dest === undefined ? {} : { dest },
  );
  return e;
}

function asPath(p: unknown): string | undefined {
  if (typeof p === 'string') return p;
  if (Buffer.isBuffer(p)) return p.toString();
  if (p instanceof URL) return fileURLToPath(p);
  return undefined;
}

/** Whether `p` (a path; not a descriptor) lies in the faulty folder. */
function inside(p: unknown): boolean {
  const file = asPath(p);
  if (file === undefined || root === undefined) return false;
  const rel = path.relative(root, path.resolve(file));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

const WRITE_FLAGS =
  fs.constants.O_WRONLY | fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_APPEND | fs.constants.O_TRUNC;
function writes(flags: unknown): boolean {
  if (typeof flags === 'number') return (flags & WRITE_FLAGS) !== 0;
  return typeof flags === 'string' && /[wa+]/.test(flags);
}

/** The encoding and flag of a write's options argument (a string names the encoding). */
function writeOptions(options: unknown): { encoding?: unknown; flag?: unknown } {
  if (typeof options === 'string') return { encoding: options };
  if (typeof options === 'object' && options !== null) return options;
  return {};
}

function byteCount(data: unknown, encoding?: unknown): number {
  if (typeof data === 'string')
    return Buffer.byteLength(data, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  if (ArrayBuffer.isView(data)) return data.byteLength;
  if (Array.isArray(data)) return data.reduce((sum: number, d) => sum + byteCount(d), 0);
  return 0;
}

/**
 * A change (create, rename, remove) of `p`: refused on a read-only or unwritable folder. As there, creating a folder
 * that exists or removing what does not is no change, and answers as usual (EEXIST, ENOENT, or nothing with force).
 */
function change(syscall: string, p: unknown, dest?: unknown): void {
  if (fault !== 'EROFS' && fault !== 'EACCES') return;
  if (!inside(p) && (dest === undefined || !inside(dest))) return;
  const exists = fs.existsSync(asPath(p) ?? '');
  if ((syscall === 'mkdir' && exists) || (REMOVALS.has(syscall) && !exists)) return;
  throw errnoError(fault, syscall, asPath(p), asPath(dest));
}
const REMOVALS = new Set(['rm', 'rmdir', 'unlink']);

/** Opening `p`: refused when read-only and writing, or when out of descriptors. */
function open(p: unknown, flags: unknown): void {
  if (!inside(p)) return;
  if (writes(flags)) change('open', p);
  if (fault === 'EMFILE' && left-- <= 0) throw errnoError('EMFILE', 'open', asPath(p));
}

/** Writing `bytes` below the folder: refused once the disk is full. */
function spend(bytes: number): void {
  if (fault !== 'ENOSPC') return;
  if (bytes > left) {
    left = 0;
    throw errnoError('ENOSPC', 'write');
  }
  left -= bytes;
}

/** Descriptors opened below the folder, whose writes count. */
const fds = new Set<number>();
let depth = 0; // inside one of our wrappers: Node's own nested calls (appendFileSync → writeFileSync) pass through

/** Any function of fs: what it takes and returns is looked at only through the checks below. */
type FsFunction = (...args: unknown[]) => unknown;
function wrap(
  target: object,
  name: string,
  check: (args: unknown[]) => void,
  after?: (result: unknown, args: unknown[]) => unknown,
): void {
  const functions = target as Record<string, unknown>;
  const found = functions[name];
  if (typeof found !== 'function') return;
  const original = found as FsFunction;
  functions[name] = function (this: unknown, ...args: unknown[]): unknown {
    if (depth > 0) return original.apply(this, args);
    depth++;
    try {
      try {
        check(args);
      } catch (e) {
        // As the call itself would fail: thrown (…Sync), to the callback, or as a rejected promise. The checks throw
        // only errnoError()s, or what the real fs threw.
        const error = e as NodeJS.ErrnoException;
        if (target !== fs) return Promise.reject(error);
        if (name.endsWith('Sync')) throw error;
        return void process.nextTick(args.at(-1) as FsFunction, error);
      }
      const result = original.apply(this, args);
      return after ? after(result, args) : result;
    } finally {
      depth--;
    }
  };
}

/** Whether `fd` is a descriptor opened below the folder. */
const tracked = (fd: unknown): boolean => typeof fd === 'number' && fds.has(fd);

const pathWrite = (args: unknown[], flag: string) => {
  const [target, data, options] = args;
  const { encoding, flag: givenFlag } = writeOptions(options);
  if (typeof target === 'number') {
    if (fds.has(target)) spend(byteCount(data, encoding));
    return;
  }
  const openFlag = typeof givenFlag === 'string' || typeof givenFlag === 'number' ? givenFlag : flag;
  open(target, openFlag);
  const file = asPath(target);
  if (file === undefined || !inside(file)) return;
  try {
    spend(byteCount(data, encoding));
  } catch (e) {
    fs.closeSync(fs.openSync(file, openFlag)); // created (or emptied) before the write fails, as on a full disk
    throw e;
  }
};

/** A FileHandle opened below the folder: its writes count. */
function watchHandle(fh: fs.promises.FileHandle): fs.promises.FileHandle {
  wrap(fh, 'write', ([data, a, b]) =>
    spend(
      typeof data === 'string'
        ? byteCount(data, b)
        : typeof b === 'number'
          ? b
          : byteCount(data) - (typeof a === 'number' ? a : 0),
    ),
  );
  wrap(fh, 'writev', ([buffers]) => spend(byteCount(buffers)));
  wrap(fh, 'writeFile', ([data, options]) => spend(byteCount(data, writeOptions(options).encoding)));
  wrap(fh, 'appendFile', ([data, options]) => spend(byteCount(data, writeOptions(options).encoding)));
  return fh;
}

if (fault !== undefined && root !== undefined) {
  for (const [name, syscall] of [
    ['mkdir', 'mkdir'],
    ['rmdir', 'rmdir'],
    ['rm', 'rm'],
    ['unlink', 'unlink'],
    ['truncate', 'open'],
    ['mkdtemp', 'mkdtemp'],
  ]) {
    wrap(fs, name, ([p]) => change(syscall, p));
    wrap(fs, `${name}Sync`, ([p]) => change(syscall, p));
    wrap(fs.promises, name, ([p]) => change(syscall, p));
  }
  for (const [name, syscall] of [
    ['rename', 'rename'],
    ['link', 'link'],
    ['symlink', 'symlink'],
    ['copyFile', 'copyfile'],
    ['cp', 'cp'],
  ]) {
    wrap(fs, name, ([src, dest]) => change(syscall, src, dest));
    wrap(fs, `${name}Sync`, ([src, dest]) => change(syscall, src, dest));
    wrap(fs.promises, name, ([src, dest]) => change(syscall, src, dest));
  }
  const track = (fd: unknown, [p]: unknown[]): unknown => {
    if (typeof fd === 'number' && inside(p)) fds.add(fd);
    return fd;
  };
  wrap(fs, 'openSync', ([p, flags]) => open(p, flags ?? 'r'), track);
  wrap(fs, 'open', ([p, flags]) => open(p, typeof flags === 'function' ? 'r' : (flags ?? 'r')));
  const checkedOpen = fs.open as unknown as FsFunction; // its descriptor arrives in the callback, to be tracked there
  (fs as unknown as Record<string, FsFunction>).open = function (p: unknown, ...rest: unknown[]) {
    const callback = rest.pop() as FsFunction;
    return checkedOpen.call(fs, p, ...rest, (err: Error | null, fd: number) =>
      callback(err, err ? fd : track(fd, [p])),
    );
  };
  wrap(
    fs.promises,
    'open',
    ([p, flags]) => open(p, flags ?? 'r'),
    (result, [p]) => (inside(p) ? (result as Promise<fs.promises.FileHandle>).then(watchHandle) : result),
  );
  const untrack = ([fd]: unknown[]) => {
    if (typeof fd === 'number') fds.delete(fd);
  };
  wrap(fs, 'closeSync', untrack);
  wrap(fs, 'close', untrack);
  const fdWrite = ([fd, data, a, b]: unknown[]) => {
    if (tracked(fd))
      spend(
        typeof data === 'string'
          ? byteCount(data, b)
          : typeof b === 'number'
            ? b
            : byteCount(data) - (typeof a === 'number' ? a : 0),
      );
  };
  wrap(fs, 'writeSync', fdWrite);
  wrap(fs, 'write', fdWrite);
  wrap(fs, 'writevSync', ([fd, buffers]) => tracked(fd) && spend(byteCount(buffers)));
  wrap(fs, 'writev', ([fd, buffers]) => tracked(fd) && spend(byteCount(buffers)));
  for (const [name, flag] of [
    ['writeFile', 'w'],
    ['appendFile', 'a'],
  ]) {
    wrap(fs, `${name}Sync`, (args) => pathWrite(args, flag));
    wrap(fs, name, (args) => pathWrite(args, flag));
    wrap(fs.promises, name, (args) => pathWrite(args, flag));
  }
}

/**
 * The CUDA execution provider for onnxruntime-node, fetched on the user's request.
 *
 * onnxruntime-node's npm install script downloads `libonnxruntime_providers_{cuda,shared}.so` from the NuGet package
 * Microsoft.ML.OnnxRuntime.Gpu.Linux of the same version (see node_modules/onnxruntime-node/script/install-metadata.js),
 * but a VSIX never runs install scripts, so the product does the same here: resolve the package on the NuGet feed,
 * download the .nupkg (a zip) resumably into a cache, verify it, and place the two libraries beside
 * `onnxruntime_binding.node`, where ORT looks for them.
 *
 * Verification: the package's SHA-512 from the NuGet catalog when the feed gives one (nuget.org does), otherwise only
 * the zip's own CRC-32 of each extracted file; the result says which.
 *
 * `detectCudaRuntime()` checks that the libraries the provider needs (driver, CUDA runtime, cuBLAS, cuFFT, cuRAND,
 * cuDNN) can be found by the dynamic loader, and names what is missing.
 */
import AdmZip from 'adm-zip';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';
import { ChecksumError, downloadFile, hashFile } from '../net/download';
import { AbortedError, ConnectionError, HttpStatusError, getJson } from '../net/http';
import { bundledOrtVersion, platformDevices } from './devices';
import { findLoadableLibrary, systemLibraryLookup } from './linux-libraries';

export const CUDA_PACKAGE_ID = 'Microsoft.ML.OnnxRuntime.Gpu.Linux';
export const NUGET_INDEX_URL = 'https://api.nuget.org/v3/index.json';

/** What we take from the package, in placing order: `shared` first, so a present `cuda` library implies both. */
export const CUDA_PROVIDER_FILES = [
  {
    name: 'libonnxruntime_providers_shared.so',
    pathInPackage: 'runtimes/linux-x64/native/libonnxruntime_providers_shared.so',
  },
  {
    name: 'libonnxruntime_providers_cuda.so',
    pathInPackage: 'runtimes/linux-x64/native/libonnxruntime_providers_cuda.so',
  },
] as const;

export interface InstallCudaProviderOptions {
  /** Folder of `onnxruntime_binding.node` (see `ortBinaryDir()`). */
  targetDir: string;
  /** Where the .nupkg is downloaded (extension global storage, or the CLI's cache); it is deleted after success. */
  cacheDir: string;
  /** Default: the installed onnxruntime-node version, which the provider must match exactly. */
  ortVersion?: string;
  /** NuGet v3 service index; default nuget.org. */
  feedIndexUrl?: string;
  onProgress?: (bytes: number, total: number | undefined) => void;
  signal?: AbortSignal;
}

export interface InstalledCudaProvider {
  /** Absolute paths of the placed libraries. */
  files: string[];
  packageUrl: string;
  verifiedBy: 'sha512' | 'zip-crc32';
}

/** The provider libraries not yet in `targetDir` (empty when the CUDA provider is installed). */
export function missingCudaProviderFiles(targetDir: string): string[] {
  return CUDA_PROVIDER_FILES.map((f) => f.name).filter((name) => !fs.existsSync(path.join(targetDir, name)));
}

export async function installCudaProvider(opts: InstallCudaProviderOptions): Promise<InstalledCudaProvider> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new UserError(`The CUDA provider download is for Linux x64; this is ${process.platform}/${process.arch}.`, {
      code: 'CUDA_UNSUPPORTED_PLATFORM',
      fix: `Use a device this platform offers: ${platformDevices(process.platform, process.arch).join(', ') || 'none'}.`,
    });
  }
  const version = (opts.ortVersion ?? bundledOrtVersion()).toLowerCase();
  const feed = opts.feedIndexUrl ?? NUGET_INDEX_URL;
  const pkg = await withUserErrors(feed, () => resolvePackage(feed, version, opts.signal));
  const nupkg = path.join(opts.cacheDir, `${CUDA_PACKAGE_ID.toLowerCase()}.${version}.nupkg`);
  if (!fs.existsSync(nupkg)) {
    await withUserErrors(pkg.url, () =>
      downloadFile(pkg.url, nupkg, {
        expectedSize: pkg.size,
        verify: pkg.sha512 ? (file) => verifySha512(file, pkg.sha512!) : undefined,
        onProgress: opts.onProgress,
        signal: opts.signal,
      }),
    );
  }
  const files = await extractProviders(nupkg, opts.targetDir);
  await fs.promises.rm(nupkg, { force: true });
  return { files, packageUrl: pkg.url, verifiedBy: pkg.sha512 ? 'sha512' : 'zip-crc32' };
}

interface ResolvedPackage {
  url: string;
  /** Base64 SHA-512 of the .nupkg, from the catalog. */
  sha512?: string;
  size?: number;
}

type ServiceIndex = { resources?: { '@id': string; '@type': string }[] };

/** The URL pattern onnxruntime-node's install script uses (PackageBaseAddress), plus the hash from the catalog. */
async function resolvePackage(feedIndexUrl: string, version: string, signal?: AbortSignal): Promise<ResolvedPackage> {
  const index = (await getJson(feedIndexUrl, { signal })) as ServiceIndex;
  const resource = (type: string) => index.resources?.find((r) => r['@type'] === type)?.['@id']?.replace(/\/?$/, '/');
  const base = resource('PackageBaseAddress/3.0.0');
  if (!base) {
    throw new UserError(`The NuGet feed ${feedIndexUrl} has no PackageBaseAddress resource.`, {
      code: 'CUDA_BAD_FEED',
      fix: 'Use the default feed (https://api.nuget.org/v3/index.json).',
    });
  }
  const id = CUDA_PACKAGE_ID.toLowerCase();
  const url = `${base}${id}/${version}/${id}.${version}.nupkg`;
  const registration = resource('RegistrationsBaseUrl/3.6.0') ?? resource('RegistrationsBaseUrl');
  if (!registration) return { url };
  try {
    const leaf = (await getJson(`${registration}${id}/${version}.json`, { signal })) as {
      catalogEntry?: string | { '@id': string };
    };
    const entryUrl = typeof leaf.catalogEntry === 'string' ? leaf.catalogEntry : leaf.catalogEntry?.['@id'];
    if (!entryUrl) return { url };
    const entry = (await getJson(entryUrl, { signal })) as {
      packageHash?: string;
      packageHashAlgorithm?: string;
      packageSize?: number;
    };
    const sha512 = entry.packageHashAlgorithm?.toUpperCase() === 'SHA512' ? entry.packageHash : undefined;
    return { url, sha512, size: typeof entry.packageSize === 'number' ? entry.packageSize : undefined };
  } catch (err) {
    // Without the catalog we still have the zip's CRCs; a cancelled or offline run (or a refusing proxy) must not
    // carry on, though.
    if (err instanceof AbortedError || err instanceof ConnectionError || err instanceof UserError) throw err;
    return { url };
  }
}

async function verifySha512(file: string, expectedBase64: string): Promise<void> {
  const actual = await hashFile(file, 'sha512', 'base64');
  if (actual !== expectedBase64) throw new ChecksumError(file, `sha512 ${expectedBase64}`, `sha512 ${actual}`);
}

/** Extracts both libraries (CRC-checked) to temporary names in `targetDir`, then renames them into place. */
async function extractProviders(nupkg: string, targetDir: string): Promise<string[]> {
  const corrupt = async (cause: unknown) => {
    await fs.promises.rm(nupkg, { force: true });
    return new UserError(
      `The downloaded CUDA provider package is damaged (${String((cause as Error)?.message ?? cause)}); it has been deleted.`,
      {
        code: 'CUDA_PACKAGE_CORRUPT',
        file: nupkg,
        cause,
        fix: 'Run the CUDA provider download again.',
      },
    );
  };
  let zip: AdmZip;
  try {
    zip = new AdmZip(nupkg);
  } catch (err) {
    throw await corrupt(err);
  }
  const placed: { tmp: string; final: string }[] = [];
  try {
    await fs.promises.mkdir(targetDir, { recursive: true });
    for (const { name, pathInPackage } of CUDA_PROVIDER_FILES) {
      const entry = zip.getEntry(pathInPackage);
      if (!entry) throw await corrupt(new Error(`${pathInPackage} is not in the package`));
      let data: Buffer;
      try {
        data = entry.getData(); // throws on a CRC-32 mismatch
      } catch (err) {
        throw await corrupt(err);
      }
      const tmp = path.join(targetDir, `.${name}.${process.pid}.tmp`);
      placed.push({ tmp, final: path.join(targetDir, name) });
      await fs.promises.writeFile(tmp, data, { mode: 0o755 });
    }
    for (const { tmp, final } of placed) await fs.promises.rename(tmp, final);
    return placed.map((p) => p.final);
  } catch (err) {
    await Promise.all(placed.map((p) => fs.promises.rm(p.tmp, { force: true })));
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      throw new UserError(`Cannot write the CUDA provider into ${targetDir} (${code}).`, {
        code: 'CUDA_TARGET_NOT_WRITABLE',
        file: targetDir,
        cause: err,
        fix: 'Give your user write access to that folder, or reinstall the extension somewhere writable.',
      });
    }
    throw err;
  }
}

async function withUserErrors<T>(url: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof UserError) throw err;
    if (err instanceof AbortedError)
      throw new UserError('The CUDA provider download was cancelled.', { code: 'CUDA_CANCELLED', cause: err });
    if (err instanceof ConnectionError) {
      throw new UserError(
        `Cannot reach ${new URL(url).host} to download the CUDA provider (${err.code}): you seem to be offline.`,
        {
          code: 'CUDA_OFFLINE',
          cause: err,
          fix: `Connect and try again (a partial download resumes), or place ${CUDA_PROVIDER_FILES.map((f) => f.name).join(' and ')} from ${CUDA_PACKAGE_ID} yourself.`,
        },
      );
    }
    if (err instanceof ChecksumError) {
      throw new UserError(`The CUDA provider package failed verification (${err.message}) and has been deleted.`, {
        code: 'CUDA_CHECKSUM',
        cause: err,
        fix: 'Try again; if it keeps failing, check for a proxy that alters downloads.',
      });
    }
    if (err instanceof HttpStatusError) {
      throw new UserError(`The NuGet feed answered HTTP ${err.status} for ${err.url}.`, {
        code: err.status === 404 ? 'CUDA_PACKAGE_NOT_FOUND' : 'CUDA_HTTP_ERROR',
        cause: err,
        fix:
          err.status === 404
            ? `${CUDA_PACKAGE_ID} must exist in the same version as onnxruntime-node; check https://www.nuget.org/packages/${CUDA_PACKAGE_ID}.`
            : 'Try again later.',
      });
    }
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// CUDA runtime detection

export interface CudaLibraryStatus {
  /** Library soname, e.g. libcudart.so.12. */
  soname: string;
  /** What it is, for people: e.g. "CUDA 12 runtime". */
  role: string;
  /** Where the dynamic loader will find it; undefined when it will not. */
  loadablePath?: string;
  /** Where it exists on disk outside the loader's search path (fix: add its folder to LD_LIBRARY_PATH). */
  offPathCopy?: string;
}

export interface CudaRuntimeReport {
  ok: boolean;
  libraries: CudaLibraryStatus[];
  /** Sonames the loader cannot find. */
  missing: string[];
  /** One paragraph for the user: what is missing and how to fix it, or that all is there. */
  message: string;
}

export interface DetectCudaOptions {
  env?: NodeJS.ProcessEnv;
  /** `ldconfig -p` output; default: run it (no cache is assumed when it cannot run). */
  ldconfigOutput?: string;
  /** The installed provider library; when it exists, its ELF DT_NEEDED list is the exact set of libraries needed. */
  providerLibrary?: string;
  /** Folders searched beyond the standard CUDA install locations (for copies not on the loader path). */
  extraDirs?: string[];
}

/** Library roles, by soname prefix. The default set is what ORT's CUDA 12 build links against. */
const ROLES: [RegExp, string][] = [
  [/^libcuda\.so/, 'NVIDIA driver'],
  [/^libcudart\.so\.(\d+)/, 'CUDA $1 runtime'],
  [/^libcublasLt\.so\.(\d+)/, 'cuBLASLt for CUDA $1'],
  [/^libcublas\.so\.(\d+)/, 'cuBLAS for CUDA $1'],
  [/^libcufft\.so\.(\d+)/, 'cuFFT $1'],
  [/^libcurand\.so\.(\d+)/, 'cuRAND $1'],
  [/^libcudnn\.so\.(\d+)/, 'cuDNN $1'],
  [/^libnvrtc\.so/, 'NVRTC'],
];
const DEFAULT_NEEDED = [
  'libcuda.so.1',
  'libcudart.so.12',
  'libcublas.so.12',
  'libcublasLt.so.12',
  'libcufft.so.11',
  'libcurand.so.10',
  'libcudnn.so.9',
];

export function detectCudaRuntime(opts: DetectCudaOptions = {}): CudaRuntimeReport {
  const env = opts.env ?? process.env;
  const needed = neededCudaLibraries(opts.providerLibrary);
  const lookup = systemLibraryLookup(env, opts.ldconfigOutput);
  // The provider's RUNPATH is $ORIGIN.
  const origin = opts.providerLibrary ? [path.dirname(opts.providerLibrary)] : [];
  const offPathDirs = [...(opts.extraDirs ?? []), ...cudaInstallDirs()];

  const libraries = needed.map((soname): CudaLibraryStatus => {
    const role = roleOf(soname);
    const loadablePath = findLoadableLibrary(soname, lookup, origin);
    const offPathCopy = loadablePath ? undefined : offPathDirs.map((d) => path.join(d, soname)).find(exists);
    return { soname, role, loadablePath, offPathCopy };
  });
  const missing = libraries.filter((l) => !l.loadablePath).map((l) => l.soname);
  return { ok: missing.length === 0, libraries, missing, message: describe(libraries) };
}

function describe(libraries: CudaLibraryStatus[]): string {
  const absent = libraries.filter((l) => !l.loadablePath);
  if (absent.length === 0) return 'All CUDA libraries the ONNX Runtime CUDA provider needs were found.';
  const parts = absent.map(
    (l) =>
      `${l.soname} (${l.role})${l.offPathCopy ? ` is in ${path.dirname(l.offPathCopy)} but not on the loader path` : ''}`,
  );
  const fixes: string[] = [];
  if (absent.some((l) => l.offPathCopy))
    fixes.push('add the folders named above to LD_LIBRARY_PATH (or run ldconfig for them)');
  if (absent.some((l) => l.soname.startsWith('libcuda.so'))) fixes.push('install the NVIDIA driver');
  if (absent.some((l) => !l.offPathCopy && /^lib(cudart|cublas|cufft|curand|nvrtc)/.test(l.soname))) {
    fixes.push(
      'install the CUDA runtime libraries of the version named (e.g. the cuda-libraries-12-x package from NVIDIA)',
    );
  }
  if (absent.some((l) => !l.offPathCopy && l.soname.startsWith('libcudnn')))
    fixes.push('install cuDNN (e.g. libcudnn9-cuda-12)');
  return `CUDA cannot be used: missing ${parts.join('; ')}. To fix: ${fixes.join('; ')}. Until then, use device cpu.`;
}

function roleOf(soname: string): string {
  for (const [pattern, role] of ROLES) {
    const m = pattern.exec(soname);
    if (m) return role.replace('$1', m[1] ?? '');
  }
  return 'CUDA library';
}

/** The CUDA-related sonames the provider needs: from its ELF header when installed, else the CUDA 12 default set. */
function neededCudaLibraries(providerLibrary: string | undefined): string[] {
  if (!providerLibrary || !exists(providerLibrary)) return DEFAULT_NEEDED;
  let linked: string[];
  try {
    linked = readElfNeeded(providerLibrary);
  } catch {
    // A damaged provider file: ORT will say so when it loads it; the runtime check falls back to the default list.
    return DEFAULT_NEEDED;
  }
  const fromElf = linked.filter((n) => ROLES.some(([p]) => p.test(n)));
  // The driver is loaded by the CUDA runtime rather than linked, so it never shows in DT_NEEDED.
  return ['libcuda.so.1', ...fromElf.filter((n) => n !== 'libcuda.so.1')];
}

function cudaInstallDirs(): string[] {
  let entries: string[] = [];
  try {
    entries = fs.readdirSync('/usr/local').filter((e) => e.startsWith('cuda'));
  } catch {
    // no /usr/local
  }
  const roots = entries.map((e) => path.join('/usr/local', e));
  return [
    ...roots.flatMap((r) => [path.join(r, 'lib64'), path.join(r, 'targets', 'x86_64-linux', 'lib')]),
    '/usr/lib/x86_64-linux-gnu',
    '/usr/lib/wsl/lib',
  ];
}

function exists(p: string): boolean {
  return fs.existsSync(p);
}

/** DT_NEEDED entries of a little-endian ELF64 shared object, read without loading it (the file may be hundreds of MB). */
export function readElfNeeded(file: string): string[] {
  const fd = fs.openSync(file, 'r');
  try {
    const read = (offset: number, length: number) => {
      const buf = Buffer.alloc(length);
      fs.readSync(fd, buf, 0, length, offset);
      return buf;
    };
    const header = read(0, 64);
    if (header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2 || header[5] !== 1) {
      throw new Error(`${file} is not a 64-bit little-endian ELF file`);
    }
    const phoff = Number(header.readBigUInt64LE(0x20));
    const phentsize = header.readUInt16LE(0x36);
    const phnum = header.readUInt16LE(0x38);
    const segments = [...Array(phnum).keys()].map((i) => {
      const ph = read(phoff + i * phentsize, 56);
      return {
        type: ph.readUInt32LE(0),
        offset: Number(ph.readBigUInt64LE(8)),
        vaddr: Number(ph.readBigUInt64LE(16)),
        filesz: Number(ph.readBigUInt64LE(32)),
      };
    });
    const dynamic = segments.find((s) => s.type === 2 /* PT_DYNAMIC */);
    if (!dynamic) return [];
    const dyn = read(dynamic.offset, dynamic.filesz);
    const needed: number[] = [];
    let strtab = 0;
    let strsz = 0;
    for (let o = 0; o + 16 <= dyn.length; o += 16) {
      const tag = Number(dyn.readBigInt64LE(o));
      const val = Number(dyn.readBigUInt64LE(o + 8));
      if (tag === 0) break; // DT_NULL
      if (tag === 1) needed.push(val); // DT_NEEDED: offset into the string table
      if (tag === 5) strtab = val; // DT_STRTAB: a virtual address
      if (tag === 10) strsz = val; // DT_STRSZ
    }
    const load = segments.find((s) => s.type === 1 /* PT_LOAD */ && strtab >= s.vaddr && strtab < s.vaddr + s.filesz);
    if (!load) return [];
    const strings = read(strtab - load.vaddr + load.offset, strsz);
    return needed.map((off) => strings.toString('latin1', off, strings.indexOf(0, off)));
  } finally {
    fs.closeSync(fd);
  }
}

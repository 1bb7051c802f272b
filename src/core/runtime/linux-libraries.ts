/**
 * Where the Linux dynamic loader would find a shared library: LD_LIBRARY_PATH, the default folders, then its cache
 * (`ldconfig -p`). Used to tell, before onnxruntime tries, whether a GPU provider's libraries can load (CUDA's, and
 * the Vulkan loader WebGPU needs). Pure given its lookup, so every case is testable off Linux.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** How libraries are looked up: the environment, `ldconfig -p`'s output (read once, when first needed), file checks. */
export interface LibraryLookup {
  env: NodeJS.ProcessEnv;
  ldconfigOutput: () => string;
  exists: (file: string) => boolean;
}

/** This machine's lookup (`ldconfig -p` run at most once per lookup; no cache is assumed when it cannot run). */
export function systemLibraryLookup(env: NodeJS.ProcessEnv = process.env, ldconfigOutput?: string): LibraryLookup {
  let output = ldconfigOutput;
  return {
    env,
    ldconfigOutput: () => (output ??= runLdconfig()),
    exists: (file) => fs.existsSync(file),
  };
}

/**
 * The path the loader would load `soname` from, or undefined: LD_LIBRARY_PATH's folders, `extraDirs` (e.g. a library's
 * $ORIGIN), the default folders, then the loader's cache.
 */
export function findLoadableLibrary(
  soname: string,
  lookup: LibraryLookup,
  extraDirs: readonly string[] = [],
): string | undefined {
  const dirs = [
    ...(lookup.env.LD_LIBRARY_PATH ?? '').split(path.posix.delimiter).filter(Boolean),
    ...extraDirs,
    '/lib',
    '/usr/lib',
    '/lib64',
    '/usr/lib64',
  ];
  return (
    dirs.map((d) => path.posix.join(d, soname)).find((f) => lookup.exists(f)) ??
    parseLdconfig(lookup.ldconfigOutput()).get(soname)
  );
}

function runLdconfig(): string {
  for (const bin of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    try {
      return execFileSync(bin, ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      // try the next location
    }
  }
  return '';
}

/** `ldconfig -p` lines look like: "\tlibcudart.so.12 (libc6,x86-64) => /usr/local/cuda/lib64/libcudart.so.12". */
export function parseLdconfig(output: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of output.split('\n')) {
    const m = /^\s*(\S+)\s+\(([^)]*)\)\s+=>\s+(\S+)/.exec(line);
    if (m && m[2].includes('x86-64') && !map.has(m[1])) map.set(m[1], m[3]); // 64-bit entries only
  }
  return map;
}

/**
 * glibc malloc settings for a process that trains: the trainer child, `bertft train` / `bertft pretrain`, the
 * benchmarks. They are environment variables, so they only take effect in a process started with them.
 *
 * Why: with its CPU arena off, onnxruntime mallocs every node's output afresh, and onnxruntime-node copies every
 * graph output (the whole new training state) into fresh ArrayBuffers. With glibc's defaults that memory goes back
 * to the kernel after each step and is page-faulted in again during the next, 4 KiB at a time: on a BERT-base
 * step that was most of the time (8-9 s instead of 3-5 s; BENCHMARKS.md). The modes:
 * - lean (default): big blocks (2 MiB and up) are mapped with transparent huge pages (one fault per 2 MiB instead
 *   of 512) and still returned when freed, so the peak memory stays that of the live tensors.
 * - fast: nothing is ever returned to the kernel (one arena, no mmap, no trimming), so after the first step there
 *   are no page faults at all; the process keeps its peak plus fragmentation (about 20% more for BERT-base).
 * - system: glibc's defaults.
 * A user's own GLIBC_TUNABLES or MALLOC_* variables win over all of these. They are glibc's: on Windows and macOS
 * nothing is set (and the CLI trains in its own process, not restarted).
 */
import * as fs from 'node:fs';

export type AllocatorMode = 'lean' | 'fast' | 'system';

/** The variable that chooses the mode. */
export const ALLOCATOR_MODE_VAR = 'BERTFT_ALLOCATOR';

const NEVER_TRIM = String(2 ** 36);
const TUNABLES: Record<Exclude<AllocatorMode, 'system'>, string> = {
  lean: 'glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=2097152',
  fast: `glibc.malloc.arena_max=1:glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=${NEVER_TRIM}`,
};

export function allocatorMode(env: NodeJS.ProcessEnv): AllocatorMode {
  const v = env[ALLOCATOR_MODE_VAR];
  return v === 'fast' || v === 'system' ? v : 'lean';
}

/** Whether the user tuned glibc malloc themselves (then we leave it alone). */
function userTunedMalloc(env: NodeJS.ProcessEnv): boolean {
  return env.GLIBC_TUNABLES !== undefined || Object.keys(env).some((k) => k.startsWith('MALLOC_'));
}

const THP_SETTING = '/sys/kernel/mm/transparent_hugepage/enabled';

/** Whether the kernel gives transparent huge pages to a process that asks (its setting is "always" or "madvise"). */
export function hugePagesAvailable(settingFile = THP_SETTING): boolean {
  try {
    return !/\[never\]/.test(fs.readFileSync(settingFile, 'utf8'));
  } catch {
    return false;
  }
}

/** What the settings depend on; injectable so that every platform's answer is tested on any. */
export interface Machine {
  platform: NodeJS.Platform;
  hugePages: boolean;
}

const thisMachine = (): Machine => ({
  platform: process.platform,
  hugePages: process.platform === 'linux' && hugePagesAvailable(),
});

/**
 * The environment for a training process started from `env`: `env` plus the mode's malloc tunables. Without huge
 * pages, lean would fault every big block in 4 KiB pages on every step, slower than glibc's defaults: it keeps those.
 */
export function trainingProcessEnv(env: NodeJS.ProcessEnv, machine: Machine = thisMachine()): NodeJS.ProcessEnv {
  const mode = allocatorMode(env);
  if (machine.platform !== 'linux' || mode === 'system' || userTunedMalloc(env)) return env;
  if (mode === 'lean' && !machine.hugePages) return env;
  return { ...env, GLIBC_TUNABLES: TUNABLES[mode] };
}

/** Whether starting a process with trainingProcessEnv(env) would change anything. */
export function needsTrainingEnv(env: NodeJS.ProcessEnv, machine: Machine = thisMachine()): boolean {
  return trainingProcessEnv(env, machine) !== env;
}

/** One line for a run's device notes: which malloc settings this process runs with. */
export function describeAllocator(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string {
  if (platform !== 'linux') return `malloc: the system allocator (${platform}; the glibc settings are Linux only)`;
  const tunables = env.GLIBC_TUNABLES;
  const mode = (Object.entries(TUNABLES) as [AllocatorMode, string][]).find(([, t]) => t === tunables)?.[0];
  if (mode) return `malloc: ${mode} (GLIBC_TUNABLES=${tunables})`;
  const own = Object.keys(env).filter((k) => k.startsWith('MALLOC_') || k === 'GLIBC_TUNABLES');
  return own.length > 0
    ? `malloc: the environment's own settings (${own.map((k) => `${k}=${env[k]}`).join(' ')})`
    : 'malloc: glibc defaults';
}

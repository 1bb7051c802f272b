/**
 * Execution-provider choice. 'auto' tries the GPU providers this platform's binding has (CUDA, DirectML, WebGPU:
 * `platformDevices`), then CPU, and logs which one it got and why the others were refused. A GPU provider that fails at
 * session creation falls back to CPU with a logged reason, never silently.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';

import { ortBinaryDir, ortProviderName, platformDevices, type Device, type DeviceChoice } from './devices';
import { UserError } from '../errors';
import { findLoadableLibrary, systemLibraryLookup, type LibraryLookup } from './linux-libraries';

/** Why a device cannot be used before even trying it, or null when it is worth a try. */
export function refusalReason(device: Device): string | null {
  if (device === 'cpu') return null;
  if (!platformDevices(process.platform, process.arch).includes(device)) {
    return `onnxruntime-node has no ${device} provider for ${process.platform}/${process.arch}`;
  }
  const backend = ort.listSupportedBackends().find((b) => b.name === ortProviderName(device));
  if (!backend) return `this onnxruntime-node build (${process.platform}/${process.arch}) has no ${device} backend`;
  if (device === 'cuda') {
    const lib = path.join(
      ortBinaryDir(),
      process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so',
    );
    if (!fs.existsSync(lib)) {
      return `${lib} is missing: fetch the CUDA provider with \`bertft gpu --install-cuda\` or the command "BERT: Install CUDA Support" (\`bertft gpu\` lists the CUDA libraries it needs)`;
    }
  }
  return null;
}

const VULKAN_LOADER = 'libvulkan.so.1';

/**
 * Why 'auto' skips a device it would otherwise try, or null. On Linux, WebGPU (Dawn) runs on Vulkan: where the loader
 * cannot find a Vulkan loader (libvulkan.so.1) it can only fail, and Dawn prints a native warning to stderr first, on
 * every run of a machine without a GPU. A device asked for by name is still tried.
 */
export function autoSkipReason(
  device: Device,
  platform: string,
  lookup: LibraryLookup = systemLibraryLookup(),
): string | null {
  if (device !== 'webgpu' || platform !== 'linux') return null;
  if (findLoadableLibrary(VULKAN_LOADER, lookup)) return null;
  return `no Vulkan loader (${VULKAN_LOADER}) on this machine, which WebGPU needs on Linux (with a GPU, install its driver's Vulkan support, e.g. the libvulkan1 package, or choose --device webgpu to try anyway)`;
}

/**
 * Devices to try, in order, for a choice on a platform whose binding offers `offered` (`platformDevices`). 'auto' tries
 * only those; a device asked for by name is tried even when not offered, so that the log says why it was refused. CPU
 * is always the last resort.
 */
export function devicesToTry(
  choice: DeviceChoice,
  offered: readonly Device[] = platformDevices(process.platform, process.arch),
): Device[] {
  if (choice === 'auto') return [...offered.filter((d) => d !== 'cpu'), 'cpu'];
  return choice === 'cpu' ? ['cpu'] : [choice, 'cpu'];
}

/**
 * The session options a device's execution provider needs: its onnxruntime name, and for DirectML no memory pattern
 * and sequential execution (onnxruntime refuses a DirectML session otherwise).
 */
export function providerOptions(
  device: Device,
): Pick<ort.InferenceSession.SessionOptions, 'executionProviders' | 'enableMemPattern' | 'executionMode'> {
  const executionProviders = [ortProviderName(device)];
  return device === 'directml'
    ? { executionProviders, enableMemPattern: false, executionMode: 'sequential' }
    : { executionProviders };
}

/** The variable that caps a training run's CPU threads (e.g. on a machine shared with other work). */
export const THREADS_VAR = 'BERTFT_THREADS';

/** The CPU threads a training engine's sessions use: BERTFT_THREADS when set, else every core this process may use. */
export function defaultThreads(env: NodeJS.ProcessEnv = process.env, cores = os.availableParallelism()): number {
  const set = env[THREADS_VAR];
  if (set === undefined || set === '') return Math.max(1, cores);
  if (!/^[1-9][0-9]{0,3}$/.test(set.trim())) {
    throw new UserError(`${THREADS_VAR}=${JSON.stringify(set)} is not a number of threads.`, {
      fix: `Set ${THREADS_VAR} to a whole number from 1 up (this machine has ${cores} cores), or unset it to use them all.`,
      code: 'BAD_THREADS',
    });
  }
  return Number(set.trim());
}

export type OptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

export function sessionOptions(
  device: Device,
  threads: number,
  level: OptimizationLevel,
  profilePrefix?: string,
): ort.InferenceSession.SessionOptions {
  return {
    ...(profilePrefix ? { enableProfiling: true, profileFilePrefix: profilePrefix } : {}),
    ...providerOptions(device),
    graphOptimizationLevel: level,
    // The arena keeps every peak allocation for the session's lifetime: without it BERT-base training peaks at
    // 4.8 GB instead of 6.3 GB RSS (batch 16 x 128), at the same step time.
    enableCpuMemArena: false,
    intraOpNumThreads: device === 'cpu' ? threads : undefined,
    interOpNumThreads: 1,
  };
}

/**
 * Create a session on the first device of `choice` that works. Returns the session and the device it runs on;
 * every refusal and failure is logged.
 */
export async function createSession(
  model: Uint8Array,
  choice: DeviceChoice,
  opts: { threads: number; level: OptimizationLevel; log: (line: string) => void; profilePrefix?: string },
): Promise<{ session: ort.InferenceSession; device: Device }> {
  const { threads, level, log } = opts;
  let lastError: unknown;
  for (const device of devicesToTry(choice)) {
    const refused = refusalReason(device) ?? (choice === 'auto' ? autoSkipReason(device, process.platform) : null);
    if (refused) {
      log(`engine: not using ${device}: ${refused}`);
      continue;
    }
    try {
      const session = await ort.InferenceSession.create(
        model,
        sessionOptions(device, threads, level, opts.profilePrefix),
      );
      log(`engine: running on ${device}${device === 'cpu' ? ` with ${threads} threads` : ''}`);
      return { session, device };
    } catch (e) {
      lastError = e;
      const first = String(e instanceof Error ? e.message : e).split('\n')[0];
      log(`engine: ${device} failed at session creation, ${device === 'cpu' ? 'giving up' : 'falling back'}: ${first}`);
    }
  }
  throw lastError;
}

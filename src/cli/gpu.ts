/**
 * `bertft gpu`: what this machine offers for GPU training, and (with --install-cuda) fetching the CUDA execution
 * provider that matches the bundled onnxruntime-node. A packaged extension never runs onnxruntime-node's install
 * script, so this is how users get the CUDA provider at all.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  CUDA_PROVIDER_FILES,
  detectCudaRuntime,
  installCudaProvider,
  missingCudaProviderFiles,
  type CudaRuntimeReport,
} from '../core/runtime/cuda-provider';
import { bundledOrtVersion, ortBinaryDir, platformDevices } from '../core/runtime/devices';
import { getString, type ParsedArgs } from './args';
import { EXIT_OK, Output, type CliIo } from './output';

export interface GpuStatus {
  ort_version: string;
  backends: string[];
  /** The devices offered on this platform, in the order `--device auto` tries them. */
  devices: string[];
  provider_dir: string;
  cuda_provider_installed: boolean;
  cuda_provider_missing: string[];
  cuda_runtime: CudaRuntimeReport;
}

export function gpuStatus(providerDir: string): GpuStatus {
  const missing = missingCudaProviderFiles(providerDir);
  const cudaLib = CUDA_PROVIDER_FILES.find((f) => f.name.includes('cuda'))!.name;
  return {
    ort_version: bundledOrtVersion(),
    backends: ort.listSupportedBackends().map((b) => `${b.name}${b.bundled ? '' : ' (not bundled)'}`),
    devices: [...platformDevices(process.platform, process.arch)],
    provider_dir: providerDir,
    cuda_provider_installed: missing.length === 0,
    cuda_provider_missing: missing,
    cuda_runtime: detectCudaRuntime({
      providerLibrary: missing.length === 0 ? path.join(providerDir, cudaLib) : undefined,
    }),
  };
}

function formatStatus(s: GpuStatus): string {
  const lines = [
    `onnxruntime-node ${s.ort_version}; execution providers: ${s.backends.join(', ')}`,
    `Devices offered on ${process.platform}/${process.arch}: ${s.devices.join(', ')} (\`--device auto\` tries them in this order)`,
  ];
  if (s.devices.includes('cuda')) {
    lines.push(
      s.cuda_provider_installed
        ? `CUDA provider: installed in ${s.provider_dir}`
        : `CUDA provider: not installed (missing ${s.cuda_provider_missing.join(', ')}). Run \`bertft gpu --install-cuda\` to fetch it.`,
      `CUDA runtime: ${s.cuda_runtime.message}`,
    );
  }
  if (s.devices.includes('directml')) {
    lines.push('DirectML: bundled; it needs a Direct3D 12 GPU, which `--device directml` or `auto` will try.');
  }
  if (s.devices.includes('webgpu')) {
    lines.push(
      'WebGPU: bundled; it needs a real GPU adapter (Vulkan on Linux), which `--device webgpu` or `auto` will try.',
    );
  }
  return lines.join('\n');
}

export async function gpuCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const providerDir = getString(args, 'target-dir') ?? ortBinaryDir();
  if (args.flags.get('install-cuda') === true) {
    const cacheDir =
      getString(args, 'cache') ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'bertft');
    let lastPercent = -1;
    const installed = await installCudaProvider({
      targetDir: providerDir,
      cacheDir,
      feedIndexUrl: getString(args, 'feed'),
      onProgress: (bytes, total) => {
        const percent = total ? Math.floor((100 * bytes) / total) : -1;
        if (percent !== lastPercent && percent % 10 === 0)
          io.stderr(`CUDA provider download: ${percent}% of ${((total ?? 0) / 1e6).toFixed(0)} MB\n`);
        lastPercent = percent;
      },
    });
    io.stderr(
      `Installed ${installed.files.map((f) => path.basename(f)).join(', ')} (verified by ${installed.verifiedBy}).\n`,
    );
  }
  const status = gpuStatus(providerDir);
  new Output(io, args.flags.get('json') === true).result(status, () => formatStatus(status) + '\n');
  return EXIT_OK;
}

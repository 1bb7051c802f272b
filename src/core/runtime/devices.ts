/**
 * Where training and inference run: the devices, and onnxruntime-node's package (its version, and the folder of its
 * native binding, where the CUDA provider libraries are installed). Loads no onnxruntime, so the extension host may
 * use it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** What a user asks for: 'auto' tries CUDA, then WebGPU, then the CPU. */
export type DeviceChoice = 'auto' | 'cpu' | 'cuda' | 'webgpu';
/** What a session actually runs on. */
export type Device = 'cpu' | 'cuda' | 'webgpu';

function ortPackageDir(): string {
  return path.dirname(require.resolve('onnxruntime-node/package.json'));
}

/** The installed onnxruntime-node version. */
export function bundledOrtVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(ortPackageDir(), 'package.json'), 'utf8')) as { version: string })
    .version;
}

/** The folder holding onnxruntime_binding.node on this platform, where ORT loads provider libraries from. */
export function ortBinaryDir(): string {
  return path.join(ortPackageDir(), 'bin', 'napi-v6', process.platform, process.arch);
}

/**
 * Where training and inference run: the devices, which of them each platform's onnxruntime-node binding has, and
 * onnxruntime-node's package (its version, and the folder of its native binding, where the CUDA provider libraries
 * are installed). Loads no onnxruntime, so the extension host may use it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';

/** What a session actually runs on. */
export type Device = 'cpu' | 'cuda' | 'directml' | 'webgpu';
/** What a user asks for: 'auto' tries the platform's GPU providers (CUDA, DirectML, WebGPU), then the CPU. */
export type DeviceChoice = 'auto' | Device;

/** Every device, in the order 'auto' tries them; the CPU is the last resort. */
export const ALL_DEVICES: readonly Device[] = ['cuda', 'directml', 'webgpu', 'cpu'];

/**
 * The platforms onnxruntime-node ships a native binding for (`bin/napi-v6/<platform>/<arch>/`), named as VS Code
 * targets, and the devices each binding offers. Read from onnxruntime-node 1.30's binaries: the Windows builds carry
 * DirectML.dll and the WebGPU (Dawn) DXC compiler; the macOS arm64 and Linux x64 bindings have WebGPU; Linux x64 loads
 * the CUDA provider once it is fetched (`bertft gpu --install-cuda`); the Linux arm64 build is CPU only. CoreML is in
 * the macOS binding but not offered: the training graph has not been run through it.
 */
const NATIVE_TARGETS: ReadonlyMap<string, readonly Device[]> = new Map<string, readonly Device[]>([
  ['win32-x64', ['directml', 'webgpu', 'cpu']],
  ['win32-arm64', ['directml', 'webgpu', 'cpu']],
  ['darwin-arm64', ['webgpu', 'cpu']],
  ['linux-x64', ['cuda', 'webgpu', 'cpu']],
  ['linux-arm64', ['cpu']],
]);

/** The VS Code targets a VSIX is built for (`npm run package`), one per native binding. */
export const NATIVE_VSCODE_TARGETS: readonly string[] = [...NATIVE_TARGETS.keys()];

/** The VS Code target name of a platform: `process.platform`-`process.arch`, e.g. "darwin-arm64". */
export function vscodeTarget(platform: string, arch: string): string {
  return `${platform}-${arch}`;
}

/** The devices the onnxruntime-node binding of this platform offers, in the order 'auto' tries them; [] when none. */
export function platformDevices(platform: string, arch: string): readonly Device[] {
  return NATIVE_TARGETS.get(vscodeTarget(platform, arch)) ?? [];
}

/** What a user can choose on this platform: 'auto', then its devices in the order 'auto' tries them. */
export function deviceChoices(platform: string, arch: string): DeviceChoice[] {
  return ['auto', ...platformDevices(platform, arch)];
}

const DEVICE_NAMES: ReadonlyMap<string, string> = new Map([
  ['cpu', 'CPU'],
  ['cuda', 'CUDA'],
  ['directml', 'DirectML'],
  ['webgpu', 'WebGPU'],
]);

/** A device's name for people ("DirectML"); an unknown one (from an older run's files) as it is. */
export function deviceName(device: string): string {
  return DEVICE_NAMES.get(device) ?? device;
}

/** The execution-provider name onnxruntime uses for a device. */
export function ortProviderName(device: Device): string {
  return device === 'directml' ? 'dml' : device;
}

const PLATFORM_NAMES: ReadonlyMap<string, string> = new Map([
  ['win32', 'Windows'],
  ['darwin', 'macOS'],
  ['linux', 'Linux'],
]);

function platformName(platform: string, arch: string): string {
  if (platform === 'darwin' && arch === 'x64') return 'macOS on Intel (darwin-x64)';
  return `${PLATFORM_NAMES.get(platform) ?? platform} ${arch} (${vscodeTarget(platform, arch)})`;
}

/** Whether training and inference can run here, and if not, a message saying why and what to do instead. */
export type NativeSupport = { supported: true } | { supported: false; reason: string; fix: string };

/**
 * Whether this platform can run the extension's training and inference: onnxruntime-node must ship a binding for it,
 * and this installation must hold that binding (the universal VSIX holds none). Pure, so every platform is testable.
 */
export function nativeSupport(platform: string, arch: string, bindingInstalled: boolean): NativeSupport {
  const where = platformName(platform, arch);
  const supported = `Windows x64 and arm64, macOS on Apple silicon, Linux x64 and arm64`;
  if (!NATIVE_TARGETS.has(vscodeTarget(platform, arch))) {
    return {
      supported: false,
      reason: `BERT Fine-tune cannot train or classify on ${where}: onnxruntime-node, the runtime it runs models with, ships no native library for it.`,
      fix: `Use it on ${supported}; with Remote - SSH, WSL or a dev container the extension runs on that machine instead.`,
    };
  }
  if (!bindingInstalled) {
    return {
      supported: false,
      reason: `This BERT Fine-tune package holds no onnxruntime-node native library for ${where} (it is the package for platforms without one).`,
      fix:
        platform === 'linux'
          ? `Install the ${vscodeTarget(platform, arch)} package of the extension (glibc Linux; Alpine and other musl systems have no onnxruntime-node library).`
          : `Install the ${vscodeTarget(platform, arch)} package of the extension.`,
    };
  }
  return { supported: true };
}

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

/** Whether this installation holds onnxruntime-node's native binding for this platform (false without the package). */
export function ortBindingInstalled(): boolean {
  try {
    return fs.existsSync(path.join(ortBinaryDir(), 'onnxruntime_binding.node'));
  } catch {
    return false;
  }
}

/** Why nothing can train or classify here (no onnxruntime-node native library), or undefined when it can. */
export function nativeRuntimeError(): UserError | undefined {
  const support = nativeSupport(process.platform, process.arch, ortBindingInstalled());
  return support.supported
    ? undefined
    : new UserError(support.reason, { fix: support.fix, code: 'PLATFORM_UNSUPPORTED' });
}

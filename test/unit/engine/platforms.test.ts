/**
 * Which devices each platform offers and whether it can run at all: pure functions of (platform, arch), checked for
 * every packaged target with an injected platform, and against onnxruntime-node's real binaries.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  ALL_DEVICES,
  NATIVE_VSCODE_TARGETS,
  deviceChoices,
  nativeSupport,
  ortProviderName,
  platformDevices,
  type Device,
} from '../../../src/core/runtime/devices';
import { devicesToTry, providerOptions, sessionOptions } from '../../../src/core/runtime/providers';

const REPO = path.resolve(__dirname, '..', '..', '..', '..');
const NAPI = path.join(REPO, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6');

/** What each target's binding offers and the order 'auto' tries it in. */
const EXPECTED: ReadonlyMap<string, { devices: Device[]; auto: Device[] }> = new Map([
  ['win32-x64', { devices: ['directml', 'webgpu', 'cpu'], auto: ['directml', 'webgpu', 'cpu'] }],
  ['win32-arm64', { devices: ['directml', 'webgpu', 'cpu'], auto: ['directml', 'webgpu', 'cpu'] }],
  ['darwin-arm64', { devices: ['webgpu', 'cpu'], auto: ['webgpu', 'cpu'] }],
  ['linux-x64', { devices: ['cuda', 'webgpu', 'cpu'], auto: ['cuda', 'webgpu', 'cpu'] }],
  ['linux-arm64', { devices: ['cpu'], auto: ['cpu'] }],
]);

function split(target: string): [string, string] {
  const [platform, arch] = target.split('-');
  return [platform, arch];
}

test('each packaged target offers the devices its binding has, CPU everywhere, in the order auto tries them', () => {
  assert.deepEqual([...NATIVE_VSCODE_TARGETS].sort(), [...EXPECTED.keys()].sort());
  for (const [target, expected] of EXPECTED) {
    const [platform, arch] = split(target);
    assert.deepEqual(platformDevices(platform, arch), expected.devices, target);
    assert.deepEqual(devicesToTry('auto', platformDevices(platform, arch)), expected.auto, target);
    assert.deepEqual(deviceChoices(platform, arch), ['auto', ...expected.devices], target);
  }
});

test('a platform without a binding offers no device, and auto falls to the CPU (which then says why it cannot)', () => {
  for (const [platform, arch] of [
    ['darwin', 'x64'],
    ['linux', 'arm'],
    ['freebsd', 'x64'],
    ['win32', 'ia32'],
  ]) {
    assert.deepEqual(platformDevices(platform, arch), [], `${platform}-${arch}`);
    assert.deepEqual(devicesToTry('auto', []), ['cpu']);
    assert.deepEqual(deviceChoices(platform, arch), ['auto']);
  }
});

test('a device asked for by name is still tried first, so the log says why this platform refuses it', () => {
  const mac = platformDevices('darwin', 'arm64');
  assert.deepEqual(devicesToTry('cuda', mac), ['cuda', 'cpu']);
  assert.deepEqual(devicesToTry('directml', mac), ['directml', 'cpu']);
  assert.deepEqual(devicesToTry('cpu', mac), ['cpu']);
});

/** Provider names compiled into a binding: its listSupportedBackends() strings, each NUL-terminated on both sides. */
function bindingProviders(target: string): string[] {
  const [platform, arch] = split(target);
  const binding = fs.readFileSync(path.join(NAPI, platform, arch, 'onnxruntime_binding.node'));
  return ['dml', 'webgpu', 'coreml'].filter((name) => binding.includes(Buffer.from(`\0${name}\0`)));
}

test('the table matches onnxruntime-node’s binaries: DirectML and WebGPU are offered exactly where the binding has them', () => {
  for (const target of NATIVE_VSCODE_TARGETS) {
    const [platform, arch] = split(target);
    const offered = platformDevices(platform, arch);
    const compiled = bindingProviders(target);
    for (const device of ['directml', 'webgpu'] as const) {
      assert.equal(offered.includes(device), compiled.includes(ortProviderName(device)), `${target} ${device}`);
    }
    // DirectML needs its DLL beside the binding; CUDA only ever comes from the provider fetch, for Linux x64.
    const files = fs.readdirSync(path.join(NAPI, platform, arch));
    assert.equal(offered.includes('directml'), files.includes('DirectML.dll'), `${target} DirectML.dll`);
    assert.equal(offered.includes('cuda'), target === 'linux-x64', `${target} cuda`);
  }
  // On this machine the loaded binding itself says so.
  const host = platformDevices(process.platform, process.arch);
  const backends = ort.listSupportedBackends().map((b) => b.name);
  for (const device of host) assert.ok(backends.includes(ortProviderName(device)), `${device} in ${backends.join()}`);
});

test('every packaged target can run once its binding is installed; the universal package on it says which to install', () => {
  for (const target of NATIVE_VSCODE_TARGETS) {
    const [platform, arch] = split(target);
    assert.deepEqual(nativeSupport(platform, arch, true), { supported: true }, target);
    const missing = nativeSupport(platform, arch, false);
    assert.equal(missing.supported, false, target);
    if (missing.supported) continue;
    assert.match(missing.reason, /no onnxruntime-node native library/, target);
    assert.match(missing.fix, new RegExp(`Install the ${target} package`), target);
  }
  const alpine = nativeSupport('linux', 'x64', false);
  assert.ok(!alpine.supported && /musl/.test(alpine.fix));
});

test('an Intel Mac (darwin-x64) is named as unsupported, with why and what to do, even if a binding were copied in', () => {
  for (const bindingInstalled of [false, true]) {
    const intelMac = nativeSupport('darwin', 'x64', bindingInstalled);
    assert.equal(intelMac.supported, false);
    if (intelMac.supported) continue;
    assert.match(intelMac.reason, /macOS on Intel \(darwin-x64\)/);
    assert.match(intelMac.reason, /onnxruntime-node.*ships no native library/);
    assert.match(intelMac.fix, /macOS on Apple silicon/);
    assert.match(intelMac.fix, /Remote - SSH/);
  }
  const armhf = nativeSupport('linux', 'arm', false);
  assert.ok(!armhf.supported && /Linux arm \(linux-arm\)/.test(armhf.reason));
});

test('DirectML sessions run without a memory pattern and sequentially; the others name their provider only', () => {
  assert.deepEqual(providerOptions('directml'), {
    executionProviders: ['dml'],
    enableMemPattern: false,
    executionMode: 'sequential',
  });
  assert.deepEqual(providerOptions('webgpu'), { executionProviders: ['webgpu'] });
  assert.deepEqual(sessionOptions('directml', 4, 'all').executionProviders, ['dml']);
  assert.equal(sessionOptions('directml', 4, 'all').enableMemPattern, false);
});

test('the bert.device setting offers every device and auto', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
    contributes: { configuration: { properties: Record<string, { enum?: string[]; enumDescriptions?: string[] }> } };
  };
  const setting = manifest.contributes.configuration.properties['bert.device'];
  assert.deepEqual([...(setting.enum ?? [])].sort(), ['auto', ...ALL_DEVICES].sort());
  assert.equal(setting.enumDescriptions?.length, setting.enum?.length);
});

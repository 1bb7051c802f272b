import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ortBinaryDir, platformDevices } from '../../../src/core/runtime/devices';
import {
  autoSkipReason,
  defaultThreads,
  devicesToTry,
  refusalReason,
  sessionOptions,
} from '../../../src/core/runtime/providers';
import type { LibraryLookup } from '../../../src/core/runtime/linux-libraries';
import { UserError } from '../../../src/core/errors';

test('auto tries CUDA, then WebGPU, then CPU on Linux x64; an explicit GPU still falls back to CPU', () => {
  const linux = platformDevices('linux', 'x64');
  assert.deepEqual(devicesToTry('auto', linux), ['cuda', 'webgpu', 'cpu']);
  assert.deepEqual(devicesToTry('cuda', linux), ['cuda', 'cpu']);
  assert.deepEqual(devicesToTry('webgpu', linux), ['webgpu', 'cpu']);
  assert.deepEqual(devicesToTry('cpu', linux), ['cpu']);
  // Without an injected platform: this machine's.
  assert.deepEqual(devicesToTry('auto'), devicesToTry('auto', platformDevices(process.platform, process.arch)));
});

test('a device the binding of this platform lacks is refused with the platform named', () => {
  const missing = (['cuda', 'directml', 'webgpu'] as const).filter(
    (d) => !platformDevices(process.platform, process.arch).includes(d),
  );
  for (const device of missing) {
    assert.match(
      refusalReason(device) ?? '',
      new RegExp(`no ${device} provider for ${process.platform}/${process.arch}`),
    );
  }
});

test('CUDA is refused with the missing provider library named, and how to install it, when it is not installed', () => {
  const lib = path.join(ortBinaryDir(), 'libonnxruntime_providers_cuda.so');
  const reason = refusalReason('cuda');
  if (fs.existsSync(lib)) assert.equal(reason, null);
  else assert.ok(reason && reason.includes(lib) && /bertft gpu --install-cuda/.test(reason), String(reason));
  assert.equal(refusalReason('cpu'), null);
});

test('CPU sessions use every available core by default', () => {
  assert.ok(defaultThreads() >= 1);
  const o = sessionOptions('cpu', defaultThreads(), 'all');
  assert.equal(o.intraOpNumThreads, defaultThreads());
  assert.deepEqual(o.executionProviders, ['cpu']);
  assert.equal(o.enableCpuMemArena, false);
});

test('BERTFT_THREADS caps the training threads; unset or empty means every core; anything else is refused', () => {
  assert.equal(defaultThreads({}, 8), 8);
  assert.equal(defaultThreads({ BERTFT_THREADS: '' }, 8), 8);
  assert.equal(defaultThreads({}, 0), 1);
  assert.equal(defaultThreads({ BERTFT_THREADS: '1' }, 8), 1);
  assert.equal(defaultThreads({ BERTFT_THREADS: ' 3 ' }, 2), 3);
  for (const bad of ['0', '-1', '1.5', 'two', '99999']) {
    assert.throws(
      () => defaultThreads({ BERTFT_THREADS: bad }, 8),
      (e: unknown) =>
        e instanceof UserError &&
        e.code === 'BAD_THREADS' &&
        e.message.includes(JSON.stringify(bad)) &&
        /this machine has 8 cores/.test(e.fix ?? ''),
      bad,
    );
  }
});

test('auto skips WebGPU on Linux without a Vulkan loader (Dawn would only fail, with a native warning); it finds one where the loader would', () => {
  const lookup = (over: Partial<LibraryLookup>): LibraryLookup => ({
    env: {},
    ldconfigOutput: () => '',
    exists: () => false,
    ...over,
  });
  assert.match(autoSkipReason('webgpu', 'linux', lookup({})) ?? '', /no Vulkan loader \(libvulkan\.so\.1\)/);
  const gompOnly = '\tlibgomp.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libgomp.so.1\n';
  assert.match(autoSkipReason('webgpu', 'linux', lookup({ ldconfigOutput: () => gompOnly })) ?? '', /no Vulkan loader/);
  const cached = `${gompOnly}\tlibvulkan.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libvulkan.so.1\n`;
  assert.equal(autoSkipReason('webgpu', 'linux', lookup({ ldconfigOutput: () => cached })), null, "the loader's cache");
  const seen: string[] = [];
  const inDir = lookup({
    env: { LD_LIBRARY_PATH: '/opt/vk/lib::/other' },
    exists: (f) => (seen.push(f), f === '/opt/vk/lib/libvulkan.so.1'),
  });
  assert.equal(autoSkipReason('webgpu', 'linux', inDir), null);
  assert.deepEqual(seen, ['/opt/vk/lib/libvulkan.so.1'], 'LD_LIBRARY_PATH first, empty entries skipped');
  assert.equal(
    autoSkipReason('webgpu', 'linux', lookup({ exists: (f) => f === '/usr/lib64/libvulkan.so.1' })),
    null,
    'the default folders',
  );
  // Only WebGPU, only Linux (Windows and macOS bring their own graphics APIs).
  assert.equal(autoSkipReason('cuda', 'linux', lookup({})), null);
  assert.equal(autoSkipReason('webgpu', 'win32', lookup({})), null);
  assert.equal(autoSkipReason('webgpu', 'darwin', lookup({})), null);
});

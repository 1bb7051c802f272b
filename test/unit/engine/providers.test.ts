import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ortBinaryDir } from '../../../src/core/runtime/devices';
import { defaultThreads, devicesToTry, refusalReason, sessionOptions } from '../../../src/core/runtime/providers';

test('auto tries CUDA, then WebGPU, then CPU; an explicit GPU still falls back to CPU', () => {
  assert.deepEqual(devicesToTry('auto'), ['cuda', 'webgpu', 'cpu']);
  assert.deepEqual(devicesToTry('cuda'), ['cuda', 'cpu']);
  assert.deepEqual(devicesToTry('webgpu'), ['webgpu', 'cpu']);
  assert.deepEqual(devicesToTry('cpu'), ['cpu']);
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

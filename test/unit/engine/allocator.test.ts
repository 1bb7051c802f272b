import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { describeAllocator, needsTrainingEnv, trainingProcessEnv } from '../../../src/core/train/allocator';

const LD_SO = '/lib64/ld-linux-x86-64.so.2';

test('training processes get the lean malloc settings by default, fast or none on request, and a user’s own settings are kept', () => {
  const lean = trainingProcessEnv({ PATH: '/bin' }, 'linux');
  assert.match(lean.GLIBC_TUNABLES ?? '', /glibc\.malloc\.hugetlb=1/);
  assert.match(lean.GLIBC_TUNABLES ?? '', /glibc\.malloc\.mmap_threshold=2097152/);
  assert.equal(lean.PATH, '/bin');
  assert.match(trainingProcessEnv({ BERTFT_ALLOCATOR: 'fast' }, 'linux').GLIBC_TUNABLES ?? '', /mmap_max=0/);
  const system = { BERTFT_ALLOCATOR: 'system' };
  assert.equal(trainingProcessEnv(system, 'linux'), system);
  const own = { GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' };
  assert.equal(trainingProcessEnv(own, 'linux'), own);
  const legacy = { MALLOC_ARENA_MAX: '2' };
  assert.equal(trainingProcessEnv(legacy, 'linux'), legacy);
  assert.equal(needsTrainingEnv({}, 'darwin'), false);
  assert.equal(needsTrainingEnv({}, 'linux'), true);
  assert.match(describeAllocator(lean), /^malloc: lean \(GLIBC_TUNABLES=/);
  assert.match(describeAllocator(own), /environment's own settings \(GLIBC_TUNABLES=glibc\.malloc\.arena_max=2\)/);
  assert.equal(describeAllocator({}), 'malloc: glibc defaults');
});

test('glibc accepts every tunable of both modes (a misspelt tunable would be ignored silently)', (t) => {
  if (process.platform !== 'linux' || !fs.existsSync(LD_SO)) {
    t.skip(`${LD_SO} is not here to list glibc's tunables`);
    return;
  }
  const list = (env: NodeJS.ProcessEnv): string => spawnSync(LD_SO, ['--list-tunables'], { env, encoding: 'utf8' }).stdout;
  const value = (listing: string, name: string): string | undefined => new RegExp(`^glibc\\.malloc\\.${name}: (\\S+)`, 'm').exec(listing)?.[1];
  const lean = list(trainingProcessEnv({}, 'linux'));
  assert.equal(value(lean, 'hugetlb'), '0x1');
  assert.equal(value(lean, 'mmap_threshold'), '0x200000');
  const fast = list(trainingProcessEnv({ BERTFT_ALLOCATOR: 'fast' }, 'linux'));
  assert.equal(value(fast, 'arena_max'), '0x1');
  assert.equal(value(fast, 'mmap_max'), '0');
  assert.equal(value(fast, 'trim_threshold'), `0x${(2 ** 36).toString(16)}`);
  assert.equal(value(list({}), 'hugetlb'), '0x0', 'the defaults differ, so the checks above mean something');
});

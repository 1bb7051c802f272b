import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  describeAllocator,
  hugePagesAvailable,
  needsTrainingEnv,
  trainingProcessEnv,
} from '../../../src/core/train/allocator';
import { tempFolder } from '../../helpers/temp';

const LINUX = { platform: 'linux' as const, hugePages: true };

const LD_SO = '/lib64/ld-linux-x86-64.so.2';

test('training processes get the lean malloc settings by default, fast or none on request, and a user’s own settings are kept', () => {
  const lean = trainingProcessEnv({ PATH: '/bin' }, LINUX);
  assert.match(lean.GLIBC_TUNABLES ?? '', /glibc\.malloc\.hugetlb=1/);
  assert.match(lean.GLIBC_TUNABLES ?? '', /glibc\.malloc\.mmap_threshold=2097152/);
  assert.equal(lean.PATH, '/bin');
  assert.match(trainingProcessEnv({ BERTFT_ALLOCATOR: 'fast' }, LINUX).GLIBC_TUNABLES ?? '', /mmap_max=0/);
  const system = { BERTFT_ALLOCATOR: 'system' };
  assert.equal(trainingProcessEnv(system, LINUX), system);
  const own = { GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' };
  assert.equal(trainingProcessEnv(own, LINUX), own);
  const legacy = { MALLOC_ARENA_MAX: '2' };
  assert.equal(trainingProcessEnv(legacy, LINUX), legacy);
  assert.equal(needsTrainingEnv({}, { platform: 'darwin', hugePages: false }), false);
  assert.equal(needsTrainingEnv({}, LINUX), true);
  assert.equal(
    needsTrainingEnv({}, { platform: 'linux', hugePages: false }),
    false,
    'lean without huge pages keeps glibc defaults',
  );
  assert.equal(needsTrainingEnv({ BERTFT_ALLOCATOR: 'fast' }, { platform: 'linux', hugePages: false }), true);
  assert.match(describeAllocator(lean), /^malloc: lean \(GLIBC_TUNABLES=/);
  assert.match(describeAllocator(own), /environment's own settings \(GLIBC_TUNABLES=glibc\.malloc\.arena_max=2\)/);
  assert.equal(describeAllocator({}), 'malloc: glibc defaults');
});

test('the glibc settings are Linux only: on Windows and macOS the environment is unchanged and the notes say so', () => {
  for (const platform of ['win32', 'darwin'] as const) {
    for (const env of [{}, { BERTFT_ALLOCATOR: 'fast' }, { BERTFT_ALLOCATOR: 'lean' }]) {
      const machine = { platform, hugePages: true };
      assert.equal(trainingProcessEnv(env, machine), env, `${platform} ${JSON.stringify(env)}`);
      assert.equal(needsTrainingEnv(env, machine), false);
    }
    assert.equal(
      describeAllocator({}, platform),
      `malloc: the system allocator (${platform}; the glibc settings are Linux only)`,
    );
  }
  assert.equal(describeAllocator({}, 'linux'), 'malloc: glibc defaults');
});

test('glibc accepts every tunable of both modes (a misspelt tunable would be ignored silently)', (t) => {
  if (process.platform !== 'linux' || !fs.existsSync(LD_SO)) {
    t.skip(`${LD_SO} is not here to list glibc's tunables`);
    return;
  }
  const list = (env: NodeJS.ProcessEnv): string =>
    spawnSync(LD_SO, ['--list-tunables'], { env, encoding: 'utf8' }).stdout;
  const value = (listing: string, name: string): string | undefined =>
    new RegExp(`^glibc\\.malloc\\.${name}: (\\S+)`, 'm').exec(listing)?.[1];
  const lean = list(trainingProcessEnv({}, LINUX));
  assert.equal(value(lean, 'hugetlb'), '0x1');
  assert.equal(value(lean, 'mmap_threshold'), '0x200000');
  const fast = list(trainingProcessEnv({ BERTFT_ALLOCATOR: 'fast' }, LINUX));
  assert.equal(value(fast, 'arena_max'), '0x1');
  assert.equal(value(fast, 'mmap_max'), '0');
  assert.equal(value(fast, 'trim_threshold'), `0x${(2 ** 36).toString(16)}`);
  assert.equal(value(list({}), 'hugetlb'), '0x0', 'the defaults differ, so the checks above mean something');
});

test('huge pages are available unless the kernel setting says never (or cannot be read)', () => {
  const dir = tempFolder('bertft-thp-');
  const file = path.join(dir, 'enabled');
  fs.writeFileSync(file, 'always [madvise] never\n');
  assert.equal(hugePagesAvailable(file), true);
  fs.writeFileSync(file, 'always madvise [never]\n');
  assert.equal(hugePagesAvailable(file), false);
  assert.equal(hugePagesAvailable(path.join(dir, 'missing')), false);
  fs.rmSync(dir, { recursive: true, force: true });
});

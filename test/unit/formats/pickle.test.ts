/** The data-only pickle reader: Python's own pickles of plain data, and what it refuses. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { PickleCallable, PickleError, unpickle } from '../../../src/core/model/pickle';

const PYTHON = '/usr/bin/python3';
const HAS_PYTHON = spawnSync(PYTHON, ['-c', 'pass'], { stdio: 'ignore' }).status === 0;

class Refused extends Error {}
const refuseAll = {
  resolveGlobal: (module: string, name: string): never => {
    throw new Refused(`${module}.${name}`);
  },
};

function pickleOf(hex: string): Uint8Array {
  return Buffer.from(hex.replace(/\s+/g, ''), 'hex');
}

test("Python's pickles of plain data, protocols 2 to 5, read as the same values", (t) => {
  if (!HAS_PYTHON) return t.skip(`${PYTHON} is not installed`);
  const script = `
import pickle, sys
shared = [7, 8]
value = {'ints': [0, 1, -1, 255, 256, 65535, 65536, -2**31, 2**31, 2**40, -2**70, 2**100],
         'floats': [1.5, -0.0, 1e300], 'consts': [None, True, False],
         'text': ['', 'héllo', 'x' * 300], 'tuples': [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4)],
         'nested': {'k': {'deep': [[], {}]}}, 'a': shared, 'b': shared}
for proto in range(2, 6):
    if proto >= 3:
        value['bytes'] = b'\\x00\\xff'  # protocol 2 writes bytes as a call of _codecs.encode
    sys.stdout.write(pickle.dumps(value, protocol=proto).hex() + '\\n')
`;
  const lines = execFileSync(PYTHON, ['-c', script], { encoding: 'utf8' }).trim().split('\n');
  assert.equal(lines.length, 4);
  for (const [i, hex] of lines.entries()) {
    const { value, end } = unpickle(pickleOf(hex), refuseAll);
    assert.equal(end, hex.length / 2);
    const v = value as Map<string, unknown>;
    assert.deepEqual(v.get('ints'), [
      0,
      1,
      -1,
      255,
      256,
      65535,
      65536,
      -(2 ** 31),
      2 ** 31,
      2 ** 40,
      -(2n ** 70n),
      2n ** 100n,
    ]);
    assert.deepEqual(v.get('floats'), [1.5, -0, 1e300], `protocol ${i + 2}`);
    assert.deepEqual(v.get('consts'), [null, true, false]);
    assert.deepEqual(v.get('text'), ['', 'héllo', 'x'.repeat(300)]);
    const tuples = v.get('tuples') as unknown[][];
    assert.deepEqual(tuples, [[], [1], [1, 2], [1, 2, 3], [1, 2, 3, 4]]);
    assert.ok(tuples.every((tuple) => Object.isFrozen(tuple)));
    assert.deepEqual(v.get('nested'), new Map([['k', new Map([['deep', [[], new Map()]]])]]));
    assert.equal(v.get('a'), v.get('b'), 'the memo gives the same list twice');
    if (i > 0) assert.deepEqual(v.get('bytes'), Uint8Array.of(0, 255));
  }
});

test('anything that would call or build an unknown thing is refused', () => {
  // GLOBAL posix.system: refused by the resolver before anything else happens.
  assert.throws(() => unpickle(pickleOf('8002 63 706f7369780a73797374656d0a 29 52 2e'), refuseAll), /posix\.system/);
  // INST names its class inline: refused by name too.
  assert.throws(() => unpickle(pickleOf('28 69 6f730a73797374656d0a 2e'), refuseAll), /os\.system/);
  // REDUCE of a string (not one of the caller's callables), BUILD on a plain dict, NEWOBJ, an unknown opcode.
  const callable = new PickleCallable('m', 'f', () => 'called');
  const allow = { resolveGlobal: () => callable };
  assert.throws(() => unpickle(pickleOf('8002 5801000000 78 29 52 2e'), allow), /not an allowed callable/);
  assert.equal(unpickle(pickleOf('8002 63 6d0a660a 29 52 2e'), allow).value, 'called');
  assert.throws(() => unpickle(pickleOf('8002 7d 7d 62 2e'), allow), /takes no state/);
  assert.throws(() => unpickle(pickleOf('8002 63 6d0a660a 29 81 2e'), allow), /opcode 0x81/);
  // A persistent id without a checkpoint, truncation, an empty stack, a MARK never closed.
  assert.throws(() => unpickle(pickleOf('8002 4b01 51 2e'), allow), /persistent id/);
  assert.throws(() => unpickle(pickleOf('8002 58ffffff00 6162'), allow), /truncated/);
  assert.throws(() => unpickle(pickleOf('8002 85 2e'), allow), PickleError);
  assert.throws(() => unpickle(pickleOf('8002 28 4b01 2e'), allow), /exactly one value/);
  assert.throws(() => unpickle(pickleOf('8002 68 05 2e'), allow), /memo entry 5/);
  assert.throws(() => unpickle(pickleOf('8002 5d 7d 61'), allow), /truncated/);
});

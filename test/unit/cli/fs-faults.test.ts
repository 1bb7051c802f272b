/**
 * The stubbed file system the malformed-input battery uses where a tmpfs cannot be mounted (test/helpers/fs-faults.ts)
 * must fail as the real thing does, and only below its folder: otherwise the battery's environment rows prove nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../runner/fixtures';

const FAULTS = path.join(__dirname, '..', '..', 'helpers', 'fs-faults.js');

/** Runs `script` (CommonJS, `dir` and `outside` defined; `dir` holds `seed.txt`) under the fault; returns its result. */
function underFault(fault: string, after: number, script: string): { dir: string; outside: string; result: unknown } {
  const dir = tempDir('fs-faults');
  fs.writeFileSync(path.join(dir, 'seed.txt'), 'seed');
  const outside = tempDir('fs-faults-outside');
  const code =
    `const fs = require('node:fs'); const path = require('node:path'); const dir = ${JSON.stringify(dir)}; ` +
    `const outside = ${JSON.stringify(outside)}; const codeOf = (f) => { try { f(); return 'ok'; } catch (e) { return e.code; } }; ` +
    `(async () => { ${script} })().then((r) => process.stdout.write(JSON.stringify(r)), (e) => { console.error(e); process.exit(3); });`;
  const r = spawnSync(process.execPath, ['--require', FAULTS, '-e', code], {
    env: { ...process.env, BERTFT_FS_FAULT: fault, BERTFT_FS_FAULT_DIR: dir, BERTFT_FS_FAULT_AFTER: String(after) },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return { dir, outside, result: JSON.parse(r.stdout) as unknown };
}

test('EROFS: every change below the folder fails with a path, as on a read-only mount; reads and other folders work', () => {
  const { dir, result } = underFault(
    'EROFS',
    0,
    `
    fs.writeFileSync(path.join(outside, 'x'), 'fine');
    const seen = {
      writeFileSync: codeOf(() => fs.writeFileSync(path.join(dir, 'a'), 'x')),
      appendFileSync: codeOf(() => fs.appendFileSync(path.join(dir, 'a'), 'x')),
      mkdirSync: codeOf(() => fs.mkdirSync(path.join(dir, 'sub'))),
      mkdirExisting: codeOf(() => fs.mkdirSync(dir, { recursive: true })),
      openRead: codeOf(() => fs.closeSync(fs.openSync(path.join(dir, 'seed.txt')))),
      rmMissing: codeOf(() => fs.rmSync(path.join(dir, 'missing'), { force: true })),
      rmExisting: codeOf(() => fs.rmSync(path.join(dir, 'seed.txt'))),
      renameOut: codeOf(() => fs.renameSync(path.join(dir, 'seed.txt'), path.join(outside, 'moved'))),
      outside: fs.readFileSync(path.join(outside, 'x'), 'utf8'),
    };
    const rejected = await fs.promises.open(path.join(dir, 'b'), 'w').then(() => 'ok', (e) => [e.code, e.syscall, e.path]);
    const cb = await new Promise((r) => fs.mkdir(path.join(dir, 'c'), (e) => r(e && e.code)));
    return { ...seen, rejected, cb };
  `,
  );
  assert.deepEqual(result, {
    writeFileSync: 'EROFS',
    appendFileSync: 'EROFS',
    mkdirSync: 'EROFS',
    mkdirExisting: 'ok',
    openRead: 'ok',
    rmMissing: 'ok',
    rmExisting: 'EROFS',
    renameOut: 'EROFS',
    outside: 'fine',
    rejected: ['EROFS', 'open', path.join(dir, 'b')],
    cb: 'EROFS',
  });
  assert.deepEqual(fs.readdirSync(dir), ['seed.txt'], 'nothing was created, changed or removed');
  assert.equal(fs.readFileSync(path.join(dir, 'seed.txt'), 'utf8'), 'seed');
});

test('ENOSPC: writes below the folder stop at the byte budget (counted once, whatever the API), with no path as from Node', () => {
  const { dir, result } = underFault(
    'ENOSPC',
    1000,
    `
    fs.writeFileSync(path.join(dir, 'a'), Buffer.alloc(300));           // 300
    fs.appendFileSync(path.join(dir, 'a'), 'x'.repeat(200));            // 500
    const fh = await fs.promises.open(path.join(dir, 'b'), 'w');
    await fh.write(Buffer.alloc(100));                                 // 600
    await fh.writeFile('y'.repeat(100));                               // 700
    await fh.close();
    await new Promise((resolve, reject) => {
      const s = fs.createWriteStream(path.join(dir, 'c'));
      s.on('error', reject); s.end(Buffer.alloc(200), resolve);        // 900
    });
    fs.writeFileSync(path.join(outside, 'big'), Buffer.alloc(100000)); // not counted
    let full;
    try { fs.appendFileSync(path.join(dir, 'a'), Buffer.alloc(101)); } catch (e) { full = [e.code, e.syscall, e.path]; }
    const after = await fs.promises.writeFile(path.join(dir, 'd'), 'z').then(() => 'ok', (e) => e.code);
    return { full, after, sizes: ['a', 'b', 'c'].map((f) => fs.statSync(path.join(dir, f)).size) };
  `,
  );
  assert.deepEqual(result, { full: ['ENOSPC', 'write', null], after: 'ENOSPC', sizes: [500, 200, 200] });
  assert.ok(fs.existsSync(path.join(dir, 'd')), 'creating a file still works on a full disk; writing to it does not');
});

test('EMFILE: opens below the folder fail once the allowance is spent; EACCES refuses changes like EROFS', () => {
  const emfile = underFault(
    'EMFILE',
    2,
    `
    const open = () => codeOf(() => fs.closeSync(fs.openSync(path.join(dir, 'f'), 'a')));
    return [open(), open(), open(), codeOf(() => fs.closeSync(fs.openSync(path.join(outside, 'g'), 'a')))];
  `,
  );
  assert.deepEqual(emfile.result, ['ok', 'ok', 'EMFILE', 'ok']);
  const eacces = underFault('EACCES', 0, `return codeOf(() => fs.mkdirSync(path.join(dir, 'sub')));`);
  assert.equal(eacces.result, 'EACCES');
});

/**
 * `bertft train --model <hub id>` when the model cache goes wrong, through the real command and a loopback Hub: a full
 * disk during the download is named as a full disk (not as a network failure) and the download resumes once there is
 * room; a damaged blob left in the cache is said, fetched again, and the run trains.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LoopbackServer, startLoopbackServer } from '../../helpers/loopback-server';
import { tempDir, writeSentimentCsv } from '../runner/fixtures';

const ROOT = path.join(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'out', 'src', 'cli.js');
const FS_FAULTS = path.join(ROOT, 'out', 'test', 'helpers', 'fs-faults.js');
const FLAGS = ['--max-steps', '2', '--batch-size', '8', '--max-length', '16', '--device', 'cpu'];

let dir: string;
let data: string;
let server: LoopbackServer;

/** bertft in a child process (asynchronously: the loopback Hub answers from this process). */
async function bertft(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  nodeArgs: string[] = [],
): Promise<{ status: number | null; stderr: string }> {
  const child = spawn(process.execPath, [...nodeArgs, CLI, ...args], {
    env: { ...process.env, BERTFT_TRAINING_CHILD: '1', HF_ENDPOINT: server?.url ?? '', HF_HUB_OFFLINE: '0', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return { status: await new Promise<number | null>((resolve) => child.once('close', resolve)), stderr };
}

before(async () => {
  dir = tempDir('hub-cache-cli');
  data = writeSentimentCsv(dir);
  // A small trained model, published as the Hub repo org/tiny-bert.
  const seed = await bertft([
    'train',
    '--data',
    data,
    '--out',
    path.join(dir, 'seed'),
    '--model',
    'random:tiny',
    ...FLAGS,
  ]);
  assert.equal(seed.status, 0, seed.stderr);
  const repo = path.join(dir, 'hub', 'org', 'tiny-bert');
  fs.mkdirSync(repo, { recursive: true });
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) {
    fs.copyFileSync(path.join(dir, 'seed', 'best', f), path.join(repo, f));
  }
  server = await startLoopbackServer({ root: path.join(dir, 'hub') });
});

after(async () => {
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a full disk while downloading the model: exit 1 naming the cache file, not "offline"; with room again it resumes and trains', async () => {
  const cache = path.join(dir, 'cache-full');
  fs.mkdirSync(cache);
  const train = (out: string) => [
    'train',
    '--data',
    data,
    '--out',
    path.join(dir, out),
    '--model',
    'org/tiny-bert',
    ...FLAGS,
  ];
  // Room for the small files and a part of the weights.
  const full = { BERTFT_FS_FAULT: 'ENOSPC', BERTFT_FS_FAULT_DIR: cache, BERTFT_FS_FAULT_AFTER: '2000000' };
  const r = await bertft(train('run-full'), { HF_HUB_CACHE: cache, ...full }, ['--require', FS_FAULTS]);
  assert.equal(r.status, 1, r.stderr);
  const first = r.stderr.split('\n').find((l) => l.startsWith('bertft: ')) ?? '';
  assert.match(first, /^bertft: The disk is full: .*blobs[\\/][0-9a-f]{64}\.incomplete \(ENOSPC in write\)\.$/);
  assert.doesNotMatch(r.stderr, /offline|connection|internal error/);
  const blobs = path.join(cache, 'models--org--tiny-bert', 'blobs');
  const partial = fs.readdirSync(blobs).find((f) => f.endsWith('.incomplete'));
  assert.ok(partial && fs.statSync(path.join(blobs, partial)).size > 0, 'the part downloaded is kept to resume');

  server.requests.length = 0;
  const again = await bertft(train('run-room'), { HF_HUB_CACHE: cache });
  assert.equal(again.status, 0, again.stderr);
  const weights = server.requests.filter((q) => q.path === '/lfs/org/tiny-bert/model.safetensors');
  assert.equal(weights.length, 1);
  assert.match(weights[0].headers.range ?? '', /^bytes=[1-9]\d*-$/, 'the weights download resumed where it stopped');
  assert.ok(fs.existsSync(path.join(dir, 'run-room', 'best', 'model.safetensors')));
});

test('a truncated weights blob in the cache: the warning is printed, the blob is fetched again and the run trains', async () => {
  const cache = path.join(dir, 'cache-damaged');
  const env = { HF_HUB_CACHE: cache };
  const train = (out: string) => [
    'train',
    '--data',
    data,
    '--out',
    path.join(dir, out),
    '--model',
    'org/tiny-bert',
    ...FLAGS,
  ];
  assert.equal((await bertft(train('run-first'), env)).status, 0);
  const snapshots = path.join(cache, 'models--org--tiny-bert', 'snapshots');
  const blob = fs.realpathSync(path.join(snapshots, fs.readdirSync(snapshots)[0], 'model.safetensors'));
  const whole = fs.readFileSync(blob);
  fs.truncateSync(blob, Math.floor(whole.length / 2));

  const r = await bertft(train('run-again'), env);
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stderr,
    /^warning: the cached model\.safetensors is damaged \(expected \d+ bytes, found \d+ bytes\); downloading it again$/m,
  );
  assert.ok(fs.readFileSync(blob).equals(whole));
});

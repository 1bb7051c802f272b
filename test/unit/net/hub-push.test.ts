/**
 * Pushing a trained model to the Hub (core/model/hub-push.ts through @huggingface/hub, and `bertft push`) against a
 * loopback Hub that implements the endpoints the library calls and checks what arrives: the account, the repository
 * and its visibility, which files go by LFS and their sha256 oids, the bytes of every file in the commit, the
 * commit message, and that the token goes to the Hub but never to the storage URLs. Failures (no token, a refused
 * token, a read token, a foreign namespace, a 500 in the middle of the upload, no server at all) are user errors
 * that say what to do, and the local model folder is byte-identical afterwards.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { modelFolderFiles, pushModel, repoIdProblem, type PushProgress } from '../../../src/core/model/hub-push';
import { runCli } from '../../../src/cli/main';
import type { CliIo } from '../../../src/cli/output';
import { startConnectProxy } from '../../helpers/connect-proxy';
import { folderSnapshot, sha256, startHubPushServer, type HubPushServer } from '../../helpers/hub-push-server';
import { rejectsWithCode } from '../../helpers/rejects';
import { trainedRun } from '../infer-extra/fixtures';

const WRITE = 'hf_write_alice';
const READ = 'hf_read_alice';
const NO_TOKEN_ENV: NodeJS.ProcessEnv = { HF_TOKEN_PATH: path.join(__dirname, 'no-such-token-file') };

let hub: HubPushServer;
let run: string;
let best: string;

before(async () => {
  run = (await trainedRun()).run;
  best = path.join(run, 'best');
  hub = await startHubPushServer({
    accounts: {
      [WRITE]: { name: 'alice', role: 'write', orgs: ['team'] },
      [READ]: { name: 'alice', role: 'read' },
    },
    // Files over 300 kB go in parts of 256 kB: the tiny model's weights and ONNX files take the multipart path.
    multipartOver: 300_000,
    partSize: 256_000,
  });
});

after(async () => {
  await hub?.close();
});

function push(repo: string, extra: Partial<Parameters<typeof pushModel>[0]> = {}) {
  const events: PushProgress[] = [];
  const result = pushModel({
    model: run,
    repo,
    token: WRITE,
    endpoint: hub.url,
    env: NO_TOKEN_ENV,
    onProgress: (p) => events.push(p),
    ...extra,
  });
  return { result, events };
}

test('a run folder is pushed as its best/: new private repo, LFS for weights and ONNX, every byte as on disk', async () => {
  const before = folderSnapshot(run);
  const local = modelFolderFiles(best);
  assert.ok(local.some((f) => f.path === 'onnx/model.onnx') && local.some((f) => f.path === 'README.md'));
  const mark = hub.requests.length;
  const { result, events } = push('alice/tiny-sentiment', { private: true, message: 'First model' });
  const pushed = await result;

  assert.equal(pushed.repoId, 'alice/tiny-sentiment');
  assert.equal(pushed.url, `${hub.url}/alice/tiny-sentiment`);
  assert.equal(pushed.created, true);
  assert.equal(pushed.modelDir, best);
  const repo = hub.repos.get('alice/tiny-sentiment')!;
  assert.equal(repo.private, true);
  assert.equal(repo.commits.length, 1);
  const commit = repo.commits[0];
  assert.equal(commit.summary, 'First model');
  assert.equal(pushed.commit.url, `${hub.url}/alice/tiny-sentiment/commit/${pushed.commit.oid}`);

  // The repository holds exactly the folder's files, byte for byte.
  assert.deepEqual([...commit.files.keys()].sort(), local.map((f) => f.path).sort());
  for (const f of local) assert.ok(commit.files.get(f.path)!.equals(fs.readFileSync(f.file)), f.path);
  // Weights and ONNX files went by LFS, under their sha256; text files inside the commit.
  const lfsPaths = [...commit.lfs.keys()].sort();
  assert.deepEqual(
    lfsPaths,
    local.map((f) => f.path).filter((p) => /\.(safetensors|onnx)$/.test(p)),
  );
  assert.ok(lfsPaths.includes('model.safetensors') && lfsPaths.includes('onnx/model.onnx'));
  for (const p of lfsPaths) assert.equal(commit.lfs.get(p), sha256(fs.readFileSync(path.join(best, p))), p);
  assert.deepEqual(
    pushed.files.filter((f) => f.lfs).map((f) => f.path),
    lfsPaths,
  );

  const mine = hub.requests.slice(mark);
  // The token goes to the Hub's API, never to the storage URLs.
  for (const r of mine) {
    const storage = r.path.startsWith('/lfs-');
    assert.equal(r.headers.authorization, storage ? undefined : `Bearer ${WRITE}`, `${r.method} ${r.path}`);
  }
  assert.deepEqual(
    JSON.parse(
      hub
        .requestsTo('POST', /^\/api\/repos\/create$/)
        .at(-1)!
        .body.toString(),
    ),
    { name: 'tiny-sentiment', organization: 'alice', visibility: 'private', type: 'model' },
  );
  // Storage uploads carry their length (presigned URLs refuse chunked bodies); the large files went in parts.
  const puts = mine.filter((r) => r.method === 'PUT');
  assert.ok(puts.length > 0);
  for (const r of puts) {
    assert.equal(r.headers['content-length'], String(r.body.length));
    assert.equal(r.headers['transfer-encoding'], undefined);
  }
  assert.ok(
    puts.some((r) => r.path.startsWith('/lfs-part/')),
    'no multipart upload',
  );
  // model.onnx and onnx/model.onnx (a hard link) are one LFS object, sent once; the batch asks for SHA-256 oids.
  assert.equal(commit.lfs.get('model.onnx'), commit.lfs.get('onnx/model.onnx'));
  const sentOids = new Set(puts.map((r) => /\/([0-9a-f]{64})(\/\d+)?$/.exec(r.path)![1]));
  assert.equal(sentOids.size, new Set(commit.lfs.values()).size);
  const putPaths = puts.map((r) => r.path);
  assert.equal(new Set(putPaths).size, putPaths.length, 'an object or part was sent twice');
  const batch = JSON.parse(
    hub
      .requestsTo('POST', /info\/lfs\/objects\/batch$/)
      .at(-1)!
      .body.toString(),
  ) as { hash_algo: string; transfers: string[] };
  assert.equal(batch.hash_algo, 'sha_256');
  assert.deepEqual(batch.transfers, ['basic', 'multipart']);

  // Progress: every file reported uploaded exactly once, LFS files hashed first.
  const uploaded = events
    .filter((e) => e.kind === 'file' && e.state === 'uploaded')
    .map((e) => (e as { path: string }).path);
  assert.deepEqual(uploaded.slice().sort(), local.map((f) => f.path).sort());
  assert.ok(events.some((e) => e.kind === 'file' && e.state === 'hashing' && e.path === 'model.safetensors'));
  assert.deepEqual(events[0], { kind: 'account', name: 'alice' });
  assert.deepEqual(events[1], { kind: 'repo', repoId: 'alice/tiny-sentiment', created: true });

  assert.deepEqual(folderSnapshot(run), before, 'the run folder changed');
});

test('pushing again to an existing repo adds a commit and sends no LFS object twice; a bare name is the account', async () => {
  await push('alice/again').result;
  const mark = hub.requests.length;
  const { result, events } = push('again', { private: true });
  const pushed = await result;
  assert.equal(pushed.repoId, 'alice/again');
  assert.equal(pushed.created, false);
  assert.deepEqual(events[1], { kind: 'repo', repoId: 'alice/again', created: false });
  const repo = hub.repos.get('alice/again')!;
  assert.equal(repo.private, false, 'an existing repo keeps its visibility');
  assert.equal(repo.commits.length, 2);
  assert.match(repo.commits[1].summary, /^Upload best with bertft \d/);
  const mine = hub.requests.slice(mark);
  assert.equal(mine.filter((r) => r.path.startsWith('/lfs-')).length, 0, 'LFS objects were sent again');
  assert.equal(mine.filter((r) => /\/commit\/main$/.test(r.path)).length, 1);
});

test('an organization the account belongs to is pushed to; another namespace is refused with a fix', async () => {
  assert.equal((await push('team/shared').result).repoId, 'team/shared');
  const err = await rejectsWithCode(push('bob/mine').result, 'PUSH_FORBIDDEN');
  assert.match(err.message, /bob\/mine.*403.*rights to create a model under the namespace "bob"/);
  assert.match(err.fix ?? '', /write access to bob/);
  assert.equal(hub.repos.has('bob/mine'), false);
});

test('no token, a token the Hub refuses, a read token and an invalid name stop before anything is written', async () => {
  const before = folderSnapshot(run);
  const creates = hub.requestsTo('POST', /^\/api\/repos\/create$/).length;

  const none = await rejectsWithCode(push('alice/x', { token: undefined }).result, 'PUSH_NO_TOKEN');
  assert.match(none.fix ?? '', /write access.*settings\/tokens.*HF_TOKEN.*Set Hugging Face Token/);
  const fromEnv = pushModel({
    model: run,
    repo: 'alice/from-env',
    endpoint: hub.url,
    env: { ...NO_TOKEN_ENV, HF_TOKEN: WRITE },
  });
  assert.equal((await fromEnv).repoId, 'alice/from-env');

  const refused = await rejectsWithCode(push('alice/x', { token: 'hf_revoked' }).result, 'PUSH_UNAUTHORIZED');
  assert.match(refused.message, /refused the token \(HTTP 401: Invalid credentials in Authorization header\)/);
  assert.match(refused.fix ?? '', /write access/);
  await rejectsWithCode(push('alice/x', { token: 'not-a-token' }).result, 'PUSH_TOKEN_INVALID');
  const read = await rejectsWithCode(push('alice/x', { token: READ }).result, 'PUSH_READ_TOKEN');
  assert.match(read.message, /read token/);

  const invalid = await rejectsWithCode(push('alice/bad name').result, 'PUSH_REPO_INVALID');
  assert.match(invalid.message, /"bad name" is not a valid name/);
  assert.equal(repoIdProblem('a/b/c')?.includes('more than one'), true);
  assert.equal(repoIdProblem('alice/x--y')?.includes('"--"'), true);
  assert.equal(repoIdProblem('alice/model.git')?.includes('.git'), true);
  assert.equal(repoIdProblem('-alice/x')?.includes('not a valid name'), true);
  assert.equal(repoIdProblem('alice/My_model-1.0'), undefined);

  const noModel = await rejectsWithCode(
    push('alice/x', { model: path.join(run, 'checkpoints') }).result,
    'PUSH_NO_MODEL',
  );
  assert.match(noModel.message, /not a model folder \(no config\.json\)/);

  assert.equal(
    hub.requestsTo('POST', /^\/api\/repos\/create$/).length,
    creates + 1,
    'only the HF_TOKEN push created a repo',
  );
  assert.deepEqual(folderSnapshot(run), before);
});

test('a 500 in the middle of the upload: nothing committed, the folder untouched, and the retry finishes the job', async () => {
  const before = folderSnapshot(run);
  hub.failures.push({ method: 'PUT', path: /^\/lfs-(upload|part)\//, status: 500, times: 1 });
  const err = await rejectsWithCode(push('alice/flaky').result, 'PUSH_FAILED');
  assert.match(err.message, /The push to alice\/flaky failed: 127\.0\.0\.1:\d+ answered HTTP 500/);
  assert.match(err.message, /Nothing was committed to alice\/flaky\. Your model at .*best is unchanged\./);
  assert.match(err.fix ?? '', /Run the same push again/);
  assert.equal(hub.repos.get('alice/flaky')!.commits.length, 0);
  assert.deepEqual(folderSnapshot(run), before);

  // The commit itself failing is the same story.
  hub.failures.push({ method: 'POST', path: /\/commit\/main$/, status: 503, error: 'Service Unavailable' });
  const atCommit = await rejectsWithCode(push('alice/flaky').result, 'PUSH_FAILED');
  assert.match(atCommit.message, /HTTP 503: Service Unavailable/);
  assert.equal(hub.repos.get('alice/flaky')!.commits.length, 0);

  const pushed = await push('alice/flaky').result;
  assert.equal(pushed.created, false);
  const commit = hub.repos.get('alice/flaky')!.commits[0];
  for (const f of modelFolderFiles(best)) assert.ok(commit.files.get(f.path)!.equals(fs.readFileSync(f.file)), f.path);
  assert.deepEqual(folderSnapshot(run), before);
});

test('a file that changes while it is pushed stops the push with what to do; nothing is committed', async () => {
  const copy = fs.mkdtempSync(path.join(path.dirname(run), 'changing-'));
  fs.cpSync(best, copy, { recursive: true });
  const config = path.join(copy, 'config.json');
  const err = await rejectsWithCode(
    push('alice/changing', {
      model: copy,
      onProgress: (p) => {
        // After the large files went up, before the commit reads the small ones: a training run saving again.
        if (p.kind === 'committing') fs.writeFileSync(config, `${fs.readFileSync(config, 'utf8')}\n `);
      },
    }).result,
    'PUSH_FILE_CHANGED',
  );
  assert.match(err.message, /changed or vanished while it was being pushed\. Nothing was committed to alice\/changing/);
  assert.match(err.fix ?? '', /Wait until nothing writes the model folder/);
  assert.equal(hub.repos.get('alice/changing')!.commits.length, 0);
  fs.rmSync(copy, { recursive: true, force: true });
});

test('no server at the endpoint: a network error that names the host and says the model is unchanged', async () => {
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const err = await rejectsWithCode(
    push('alice/offline', { endpoint: `http://127.0.0.1:${port}` }).result,
    'PUSH_NETWORK',
  );
  assert.match(
    err.message,
    new RegExp(`Cannot push to alice/offline on 127\\.0\\.0\\.1:${port}: the connection was refused`),
  );
  assert.match(err.message, /is unchanged/);
  assert.match(err.fix ?? '', /HTTPS_PROXY.*HF_ENDPOINT/);
});

test('HTTP_PROXY carries every request of a push, uploads included', async () => {
  const proxy = await startConnectProxy();
  const saved = { HTTP_PROXY: process.env.HTTP_PROXY, NO_PROXY: process.env.NO_PROXY, no_proxy: process.env.no_proxy };
  process.env.HTTP_PROXY = proxy.url();
  delete process.env.NO_PROXY;
  delete process.env.no_proxy;
  const mark = hub.requests.length;
  try {
    await push('alice/proxied').result;
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await proxy.close();
  }
  const mine = hub.requests.slice(mark);
  assert.ok(mine.length > 4);
  const forwarded = proxy.requests.map((r) => `${r.method} ${new URL(r.target).pathname}`);
  for (const r of mine)
    assert.ok(forwarded.includes(`${r.method} ${encodeURI(r.path)}`), `${r.method} ${r.path} bypassed the proxy`);
});

test('bertft push: progress lines per file, the result, and exit 1 with the fix for a refused token', async () => {
  const io = (): CliIo & { out: string; err: string } => {
    const sink = { out: '', err: '', stderrIsTTY: false } as CliIo & { out: string; err: string };
    sink.stdout = (t) => void (sink.out += t);
    sink.stderr = (t) => void (sink.err += t);
    return sink;
  };
  const saved = { HF_ENDPOINT: process.env.HF_ENDPOINT, HF_TOKEN: process.env.HF_TOKEN };
  process.env.HF_ENDPOINT = hub.url;
  process.env.HF_TOKEN = WRITE;
  try {
    const text = io();
    assert.equal(await runCli(['push', run, '--repo', 'alice/cli', '--private'], text), 0, text.err);
    assert.match(text.err, /^Signed in as alice\nCreated alice\/cli \(private\)\n/);
    assert.match(text.err, /\n {2}model\.safetensors \(\d+ [kM]B, LFS\)\n/);
    assert.match(text.err, /\n {2}config\.json \(\d+ k?B\)\n/);
    assert.match(text.err, /\nCommitting \d+ files…\n/);
    assert.match(text.out, new RegExp(`^Pushed \\d+ files \\(\\d+ by LFS\\) from .*best to ${hub.url}/alice/cli\\n`));

    const json = io();
    assert.equal(await runCli(['push', '--model', best, '--repo', 'alice/cli', '--json', '--message', 'v2'], json), 0);
    const lines = json.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; path?: string; created?: boolean; repoId?: string });
    const files = lines
      .filter((l) => l.event === 'file')
      .map((l) => l.path)
      .sort();
    assert.deepEqual(
      files,
      modelFolderFiles(best)
        .map((f) => f.path)
        .sort(),
    );
    const done = lines[lines.length - 1];
    assert.equal(done.event, 'pushed');
    assert.equal(done.created, false);
    assert.equal(done.repoId, 'alice/cli');
    assert.equal(hub.repos.get('alice/cli')!.commits[1].summary, 'v2');
    assert.equal(json.err, '');

    process.env.HF_TOKEN = 'hf_revoked';
    const refused = io();
    assert.equal(await runCli(['push', run, '--repo', 'alice/cli'], refused), 1);
    assert.match(refused.err, /refused the token \(HTTP 401.*\nFix: Create a token with write access at/);

    const usage = io();
    assert.equal(await runCli(['push', run], usage), 1);
    assert.match(usage.err, /--repo/);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});

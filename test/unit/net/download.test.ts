import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { ChecksumError, downloadFile, hashFile, incompletePath } from '../../../src/core/net/download';
import { AbortedError, ConnectionError, HttpStatusError, request } from '../../../src/core/net/http';
import { LoopbackServer, startLoopbackServer } from '../../helpers/loopback-server';
import { sha256, tempDir, tinySafetensors } from './tiny-hub';

let root: string;
let server: LoopbackServer;
const payload = tinySafetensors(50_000); // ~200 KB

before(async () => {
  root = tempDir('dl-root');
  fs.writeFileSync(path.join(root, 'blob.bin'), payload);
  server = await startLoopbackServer({ root });
});

after(async () => {
  await server.close();
  fs.rmSync(root, { recursive: true, force: true });
});

function fresh(): string {
  server.requests.length = 0;
  server.faults = {};
  return path.join(tempDir('dl-dest'), 'out.bin');
}

const verifySha = (file: string) =>
  hashFile(file, 'sha256').then((h) => {
    if (h !== sha256(payload)) throw new ChecksumError(file, sha256(payload), h);
  });

test('a cut-off transfer keeps its partial file, and the next call resumes it with Range', async () => {
  const dest = fresh();
  server.faults = { cutAfterBytes: { bytes: 70_000, count: 1 } };
  await assert.rejects(downloadFile(`${server.url}/blob.bin`, dest, { retries: 0 }), ConnectionError);
  assert.equal(fs.statSync(incompletePath(dest)).size, 70_000);
  assert.ok(!fs.existsSync(dest));

  const progress: number[] = [];
  await downloadFile(`${server.url}/blob.bin`, dest, { verify: verifySha, onProgress: (b) => progress.push(b) });
  assert.equal(server.requests.at(-1)?.headers.range, 'bytes=70000-');
  assert.ok(fs.readFileSync(dest).equals(payload));
  assert.ok(!fs.existsSync(incompletePath(dest)));
  assert.equal(progress.at(-1), payload.length);
  assert.ok(progress[0] > 70_000, 'progress counts the bytes already on disk');
});

test('a server that ignores Range gets the whole file again, not a doubled one', async () => {
  const dest = fresh();
  fs.writeFileSync(incompletePath(dest), payload.subarray(0, 1000));
  server.faults = { ignoreRange: true };
  await downloadFile(`${server.url}/blob.bin`, dest, { expectedSize: payload.length, verify: verifySha });
  assert.equal(server.requests[0].headers.range, 'bytes=1000-');
  assert.ok(fs.readFileSync(dest).equals(payload));
});

test('a partial file longer than the remote one starts over (416)', async () => {
  const dest = fresh();
  fs.writeFileSync(incompletePath(dest), Buffer.concat([payload, Buffer.alloc(10)]));
  await downloadFile(`${server.url}/blob.bin`, dest, { verify: verifySha });
  assert.deepEqual(
    server.requests.map((r) => r.headers.range),
    [`bytes=${payload.length + 10}-`, undefined],
  );
  assert.ok(fs.readFileSync(dest).equals(payload));
});

test('a failed verification deletes the partial file and places nothing', async () => {
  const dest = fresh();
  server.faults = { corrupt: ['blob.bin'] };
  await assert.rejects(downloadFile(`${server.url}/blob.bin`, dest, { verify: verifySha }), ChecksumError);
  assert.ok(!fs.existsSync(dest));
  assert.ok(!fs.existsSync(incompletePath(dest)));
});

test('a body without Content-Length cut mid-way (chunked) is resumed, never placed short', async () => {
  const dest = fresh();
  server.faults = { unsized: 'chunked', cutAfterBytes: { bytes: 70_000, count: 1 } };
  await assert.rejects(downloadFile(`${server.url}/blob.bin`, dest, { retries: 0 }), ConnectionError);
  assert.ok(!fs.existsSync(dest), 'a cut chunked body is not taken as the whole file');
  await downloadFile(`${server.url}/blob.bin`, dest);
  assert.equal(server.requests.at(-1)?.headers.range, 'bytes=70000-');
  assert.ok(fs.readFileSync(dest).equals(payload));
});

test('a body without Content-Length that the server ends by closing early looks complete: verify is what refuses it', async () => {
  const dest = fresh();
  server.faults = { unsized: 'close', cutAfterBytes: { bytes: 70_000, count: 2 } };
  await downloadFile(`${server.url}/blob.bin`, dest);
  assert.equal(fs.statSync(dest).size, 70_000, 'no transport check can tell: the connection closed cleanly');
  const checked = fresh().replace('out.bin', 'checked.bin');
  server.faults = { unsized: 'close', cutAfterBytes: { bytes: 70_000, count: 1 } };
  await assert.rejects(downloadFile(`${server.url}/blob.bin`, checked, { verify: verifySha }), ChecksumError);
  assert.ok(!fs.existsSync(checked) && !fs.existsSync(incompletePath(checked)));
});

test('a wrong size is rejected like a wrong checksum', async () => {
  const dest = fresh();
  await assert.rejects(
    downloadFile(`${server.url}/blob.bin`, dest, { expectedSize: payload.length - 1 }),
    ChecksumError,
  );
  assert.ok(!fs.existsSync(dest));
});

test('HTTP errors surface as HttpStatusError with the status', async () => {
  const dest = fresh();
  await assert.rejects(
    downloadFile(`${server.url}/nope.bin`, dest),
    (e: unknown) => e instanceof HttpStatusError && e.status === 404,
  );
});

test('an aborted signal cancels the download', async () => {
  const dest = fresh();
  const ctrl = new AbortController();
  ctrl.abort();
  await assert.rejects(downloadFile(`${server.url}/blob.bin`, dest, { signal: ctrl.signal }), AbortedError);
  assert.ok(!fs.existsSync(dest));
});

test('a server that does not answer in time gives a ConnectionError (ETIMEDOUT)', async () => {
  const dest = fresh();
  server.faults = { delayMs: 400 };
  await assert.rejects(
    downloadFile(`${server.url}/blob.bin`, dest, { timeoutMs: 100 }),
    (e: unknown) => e instanceof ConnectionError && e.code === 'ETIMEDOUT',
  );
});

test('a redirect to another origin is followed without the Authorization header', async () => {
  const dest = fresh();
  const seen: (string | undefined)[] = [];
  const redirector = http.createServer((req, res) => {
    seen.push(req.headers.authorization);
    res.writeHead(302, { location: `${server.url}/blob.bin` }).end();
  });
  await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r));
  try {
    const port = (redirector.address() as AddressInfo).port;
    await downloadFile(`http://127.0.0.1:${port}/resolve/blob.bin`, dest, {
      headers: { authorization: 'Bearer hf_secret' },
      verify: verifySha,
    });
  } finally {
    await new Promise<void>((r) => redirector.close(() => r()));
  }
  assert.deepEqual(seen, ['Bearer hf_secret']);
  assert.equal(server.requests.length, 1);
  assert.equal(server.requests[0].headers.authorization, undefined);
  assert.ok(fs.readFileSync(dest).equals(payload));
});

test("'relative' redirects follow a relative Location (a renamed Hub repo) but stop at an absolute one (the CDN)", async () => {
  const redirector = http.createServer((req, res) => {
    if (req.url === '/old/resolve/main/f') return void res.writeHead(307, { location: '/new/resolve/main/f' }).end();
    res.writeHead(302, { location: 'https://cdn.example/f', 'x-linked-etag': '"abc"' }).end();
  });
  await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r));
  try {
    const base = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}`;
    const res = await request(`${base}/old/resolve/main/f`, { method: 'HEAD', followRedirects: 'relative' });
    assert.equal(res.status, 302);
    assert.equal(res.url, `${base}/new/resolve/main/f`);
    assert.equal(res.headers['x-linked-etag'], '"abc"');
  } finally {
    await new Promise<void>((r) => redirector.close(() => r()));
  }
});

/**
 * Downloads through the proxy the environment names (HTTPS_PROXY / HTTP_PROXY / NO_PROXY, as curl reads them): a
 * loopback forwarding proxy records what it forwarded and the ports of its upstream connections, and the loopback Hub
 * records the port of every request it served, so "it went through the proxy" is checked, not assumed. The TLS cases
 * run in a child process, because Node reads NODE_EXTRA_CA_CERTS only at start.
 */
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { UserError } from '../../../src/core/errors';
import { bypassesProxy, proxyFor } from '../../../src/core/net/proxy';
import { resolveModel } from '../../../src/core/model/hub';
import { runCli } from '../../../src/cli/main';
import type { CliIo } from '../../../src/cli/output';
import { fakeNupkg, publishFakeFeed } from '../../helpers/fake-nuget';
import { startConnectProxy, type ConnectProxy } from '../../helpers/connect-proxy';
import { startLoopbackServer, type LoopbackServer } from '../../helpers/loopback-server';
import { makeSelfSignedCertificate } from '../../helpers/tls-cert';
import { rejectsWithCode } from '../../helpers/rejects';
import { tempDir, writeTinyRepo } from './tiny-hub';

const PROXY_VARS = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'];
const HUB_JS = path.join(__dirname, '..', '..', '..', 'src', 'core', 'model', 'hub.js');

let root: string;
let hub: LoopbackServer;
let proxy: ConnectProxy;

before(async () => {
  root = tempDir('proxy-hub');
  writeTinyRepo(root, 'org/tiny-bert', 'json');
  hub = await startLoopbackServer({ root });
  proxy = await startConnectProxy();
});

after(async () => {
  await Promise.all([hub.close(), proxy.close()]);
  fs.rmSync(root, { recursive: true, force: true });
});

afterEach(() => {
  for (const name of PROXY_VARS) delete process.env[name];
});

/** A fresh cache, the loopback Hub as endpoint, and nothing recorded yet. */
function fresh(endpoint = hub.url): NodeJS.ProcessEnv {
  hub.requests.length = 0;
  proxy.requests.length = 0;
  proxy.upstreamPorts.clear(); // ports are reused by later connections
  const home = tempDir('proxy-hf-home');
  return { HF_HOME: home, HF_HUB_CACHE: path.join(home, 'hub'), HF_ENDPOINT: endpoint };
}

/** Every request the server saw came over a connection the proxy opened (and there was at least one). */
function allThroughProxy(server: LoopbackServer, through: ConnectProxy): void {
  assert.ok(server.requests.length > 0, 'the server was asked');
  for (const r of server.requests) {
    assert.ok(through.upstreamPorts.has(r.remotePort), `${r.method} ${r.path} came directly, not through the proxy`);
  }
}

async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('which variable applies: https_proxy / HTTPS_PROXY for https, http_proxy / HTTP_PROXY for http, lower case first', () => {
  const https = new URL('https://huggingface.co/x');
  const plain = new URL('http://mirror.example/x');
  const env = { HTTPS_PROXY: 'http://upper:1', https_proxy: 'http://lower:2', HTTP_PROXY: 'plain:3' };
  assert.equal(proxyFor(https, env)?.url.host, 'lower:2');
  assert.equal(proxyFor(https, env)?.variable, 'https_proxy');
  assert.equal(proxyFor(https, { HTTPS_PROXY: 'http://upper:1' })?.url.host, 'upper:1');
  // An http URL never takes the https proxy; a proxy without a scheme is an HTTP proxy, as in curl.
  assert.equal(proxyFor(plain, { HTTPS_PROXY: 'http://upper:1' }), undefined);
  assert.equal(proxyFor(plain, env)?.url.href, 'http://plain:3/');
  assert.equal(proxyFor(https, {}), undefined);
  assert.equal(proxyFor(https, { https_proxy: '  ', HTTPS_PROXY: 'http://upper:1' })?.variable, 'HTTPS_PROXY');
  // no_proxy wins over NO_PROXY, as curl reads them.
  assert.equal(proxyFor(https, { ...env, no_proxy: 'huggingface.co', NO_PROXY: 'other.example' }), undefined);
  assert.ok(proxyFor(https, { ...env, no_proxy: 'other.example', NO_PROXY: 'huggingface.co' }));

  assert.throws(
    () => proxyFor(https, { HTTPS_PROXY: 'socks5://127.0.0.1:1080' }),
    (e: unknown) => e instanceof UserError && e.code === 'PROXY_UNSUPPORTED' && /HTTPS_PROXY/.test(e.message),
  );
  assert.throws(
    () => proxyFor(https, { HTTPS_PROXY: 'http://user:pw@[bad' }),
    (e: unknown) => e instanceof UserError && e.code === 'PROXY_INVALID' && !/pw/.test(e.message + (e.fix ?? '')),
  );
});

test('NO_PROXY matches as curl does: suffixes on name boundaries, *, ports, IPs, CIDR blocks, IPv6', () => {
  const cases: [string, string, boolean][] = [
    ['https://huggingface.co/a', 'huggingface.co', true],
    ['https://cdn.huggingface.co/a', 'huggingface.co', true],
    ['https://cdn.huggingface.co/a', '.huggingface.co', true],
    ['https://cdn.huggingface.co/a', '*.huggingface.co', true],
    ['https://nothuggingface.co/a', 'huggingface.co', false],
    ['https://HuggingFace.CO/a', 'huggingface.co', true],
    ['https://huggingface.co/a', 'other.example, huggingface.co', true],
    ['https://huggingface.co/a', 'other.example huggingface.co', true],
    ['https://huggingface.co/a', '*', true],
    ['https://huggingface.co/a', '', false],
    ['https://huggingface.co/a', 'huggingface.co:443', true],
    ['https://huggingface.co/a', 'huggingface.co:8443', false],
    ['http://huggingface.co:8080/a', 'huggingface.co:8080', true],
    ['http://127.0.0.1:8080/a', '127.0.0.1', true],
    ['http://127.0.0.1:8080/a', '127.0.0.2', false],
    ['http://10.1.2.3/a', '10.0.0.0/8', true],
    ['http://11.1.2.3/a', '10.0.0.0/8', false],
    ['http://[::1]:9000/a', '::1', true],
    ['http://[::1]:9000/a', '[::1]:9000', true],
    ['http://[::1]:9000/a', '[::1]:9001', false],
    ['http://[fd00::5]/a', 'fd00::/8', true],
    ['http://127.0.0.1/a', 'localhost', false], // names are not resolved
    ['http://localhost/a', '127.0.0.1', false],
  ];
  for (const [url, noProxy, expected] of cases) {
    assert.equal(bypassesProxy(new URL(url), noProxy), expected, `${url} with NO_PROXY="${noProxy}"`);
  }
});

test('a Hub download over http goes through HTTP_PROXY (every request, the LFS redirect too)', async () => {
  const env = fresh();
  process.env.HTTP_PROXY = proxy.url();
  const model = await resolveModel('org/tiny-bert', { env });
  assert.equal(model.kind, 'hub');
  allThroughProxy(hub, proxy);
  assert.ok(hub.requestsFor('/lfs/').length > 0, 'the weights came from the LFS redirect');
  assert.ok(proxy.requests.some((r) => r.target === `${hub.url}/org/tiny-bert/resolve/main/config.json`));
});

test('NO_PROXY sends the Hub download directly: the proxy is not asked', async () => {
  const env = fresh();
  process.env.http_proxy = proxy.url();
  process.env.no_proxy = `example.com, 127.0.0.1:${new URL(hub.url).port}`;
  assert.equal((await resolveModel('org/tiny-bert', { env })).kind, 'hub');
  assert.ok(hub.requests.length > 0);
  assert.deepEqual(proxy.requests, []);
  assert.ok(hub.requests.every((r) => !proxy.upstreamPorts.has(r.remotePort)));
});

test('proxy credentials in the URL are sent as Proxy-Authorization; a 407 names the proxy, never the password', async () => {
  const guarded = await startConnectProxy({ user: 'alice', password: 'p@ss word' });
  try {
    const env = fresh();
    process.env.HTTP_PROXY = guarded.url({ user: 'alice', password: 'p@ss word' });
    assert.equal((await resolveModel('org/tiny-bert', { env })).kind, 'hub');
    allThroughProxy(hub, guarded);

    process.env.HTTP_PROXY = guarded.url({ user: 'alice', password: 'wrong-secret' });
    const err = await rejectsWithCode(resolveModel('org/tiny-bert', { env: fresh() }), 'PROXY_FAILED');
    assert.match(err.message, /through the proxy 127\.0\.0\.1:\d+ \(from HTTP_PROXY\): .*407/);
    assert.match(err.fix ?? '', /HTTP_PROXY.*NO_PROXY/);
    assert.doesNotMatch(`${err.message} ${err.fix ?? ''}`, /wrong-secret|alice/);

    // The same for a CONNECT tunnel (https): the proxy refuses it before any TLS.
    process.env.HTTPS_PROXY = process.env.HTTP_PROXY;
    guarded.requests.length = 0;
    const tunnel = await rejectsWithCode(
      resolveModel('org/tiny-bert', { env: fresh('https://127.0.0.1:1') }),
      'PROXY_FAILED',
    );
    assert.match(tunnel.message, /Cannot reach 127\.0\.0\.1:1 through the proxy .*\(from HTTPS_PROXY\): .*407/);
    assert.doesNotMatch(`${tunnel.message} ${tunnel.fix ?? ''}`, /wrong-secret|alice/);
    assert.equal(guarded.requests[0].method, 'CONNECT');
    assert.match(String(guarded.requests[0].headers['proxy-authorization']), /^Basic /);
  } finally {
    await guarded.close();
  }
});

test('a proxy that cannot be reached is named as the problem, for http and https URLs alike', async () => {
  const port = await closedPort();
  process.env.HTTP_PROXY = `http://127.0.0.1:${port}`;
  process.env.HTTPS_PROXY = `http://127.0.0.1:${port}`;
  const plain = await rejectsWithCode(resolveModel('org/tiny-bert', { env: fresh() }), 'PROXY_FAILED');
  assert.match(plain.message, new RegExp(`proxy 127\\.0\\.0\\.1:${port} \\(from HTTP_PROXY\\).*ECONNREFUSED`));
  const tls = await rejectsWithCode(
    resolveModel('org/tiny-bert', { env: fresh('https://127.0.0.1:1') }),
    'PROXY_FAILED',
  );
  assert.match(tls.message, new RegExp(`Cannot reach 127\\.0\\.0\\.1:1 through the proxy 127\\.0\\.0\\.1:${port}`));
});

test('bertft gpu --install-cuda fetches the CUDA provider through HTTP_PROXY', async () => {
  const feedRoot = tempDir('proxy-feed');
  const feedServer = await startLoopbackServer({ root: feedRoot });
  try {
    const feed = publishFakeFeed(feedRoot, feedServer.url, 'feed', fakeNupkg(), true);
    proxy.requests.length = 0;
    process.env.HTTP_PROXY = proxy.url();
    const io: CliIo & { out: string; err: string } = {
      out: '',
      err: '',
      stderrIsTTY: false,
      stdout: (t) => void (io.out += t),
      stderr: (t) => void (io.err += t),
    };
    const args = ['gpu', '--install-cuda', '--json', '--feed', feed, '--target-dir', tempDir('proxy-ort')];
    const code = await runCli([...args, '--cache', tempDir('proxy-cuda-cache')], io);
    assert.equal(code, 0, io.err);
    allThroughProxy(feedServer, proxy);
    assert.ok(
      proxy.requests.some((r) => r.target.endsWith('.nupkg')),
      'the package came through the proxy',
    );
  } finally {
    await feedServer.close();
  }
});

/** Resolves org/tiny-bert in a fresh Node process with `env` (HTTPS_PROXY, NODE_EXTRA_CA_CERTS...). */
function resolveInChild(env: NodeJS.ProcessEnv): Promise<{ ok: boolean; code?: string; text: string }> {
  const script = `
    require(${JSON.stringify(HUB_JS)}).resolveModel('org/tiny-bert').then(
      (m) => console.log(JSON.stringify({ ok: true, text: m.dir })),
      (e) => console.log(JSON.stringify({ ok: false, code: e.code, text: e.describe ? e.describe() : String(e) })),
    );`;
  return new Promise((resolve, reject) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !PROXY_VARS.includes(k)));
    delete clean.NODE_EXTRA_CA_CERTS;
    const child = spawn(process.execPath, ['-e', script], { env: { ...clean, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', () => {
      try {
        resolve(JSON.parse(out.trim()) as { ok: boolean; code?: string; text: string });
      } catch {
        reject(new Error(`child answered ${out} ${err}`));
      }
    });
  });
}

test('an https Hub is reached through a CONNECT tunnel; NODE_EXTRA_CA_CERTS makes its certificate trusted', async (t) => {
  const certificate = makeSelfSignedCertificate();
  if (!certificate) return t.skip('openssl is not installed: no certificate to serve HTTPS with');
  const tlsHub = await startLoopbackServer({ root, tls: certificate });
  try {
    const base = { ...fresh(tlsHub.url), HTTPS_PROXY: proxy.url() };
    tlsHub.requests.length = 0;

    // Without the CA the certificate is refused, and the message says what to do.
    const refused = await resolveInChild(base);
    assert.equal(refused.ok, false, refused.text);
    assert.equal(refused.code, 'HUB_NETWORK', refused.text);
    assert.match(refused.text, /certificate is self-signed/);
    assert.match(refused.text, /NODE_EXTRA_CA_CERTS/);
    assert.ok(
      proxy.requests.some((r) => r.method === 'CONNECT' && r.target === new URL(tlsHub.url).host),
      'the tunnel was asked for',
    );

    const trusted = await resolveInChild({
      ...fresh(tlsHub.url),
      HTTPS_PROXY: proxy.url(),
      NODE_EXTRA_CA_CERTS: certificate.certFile,
    });
    assert.equal(trusted.ok, true, trusted.text);
    allThroughProxy(tlsHub, proxy);
    assert.ok(
      proxy.requests.every((r) => r.method === 'CONNECT'),
      'https requests are tunnelled, never forwarded',
    );

    // BERTFT_PROXY_STRICT_SSL=false (VS Code's http.proxyStrictSSL: false) accepts the proxied certificate...
    const lax = await resolveInChild({
      ...fresh(tlsHub.url),
      HTTPS_PROXY: proxy.url(),
      BERTFT_PROXY_STRICT_SSL: 'false',
    });
    assert.equal(lax.ok, true, lax.text);
    // ...but only through a proxy: a direct connection still checks it.
    const direct = await resolveInChild({ ...fresh(tlsHub.url), BERTFT_PROXY_STRICT_SSL: 'false' });
    assert.equal(direct.ok, false, direct.text);
    assert.match(direct.text, /certificate is self-signed/);
  } finally {
    await tlsHub.close();
  }
});

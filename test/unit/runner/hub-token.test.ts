/**
 * The Hub token is a secret: it reaches the Hub in the Authorization header, and nowhere else. A gated model on the
 * loopback Hub (which answers 401 unless the header carries the token) is fine-tuned by the real trainer child, started
 * with the environment the extension gives it (networkEnv.ts: VS Code's proxy settings and the stored token), and by
 * `bertft train` with HF_TOKEN; then every file of the run folder, every event, stdout and stderr are searched for
 * the token. A wrong token fails with a message that does not quote it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startTrainer } from '../../../src/trainer/client';
import type { TrainerEvent } from '../../../src/trainer/protocol';
import { childNetworkEnv } from '../../../src/extension/networkEnv';
import { startConnectProxy } from '../../helpers/connect-proxy';
import { startLoopbackServer } from '../../helpers/loopback-server';
import { bertftAsync, hubEnv, publishTinyCheckpoint } from '../families/tiny-models';
import { tempDir, writeSentimentCsv } from './fixtures';

const TOKEN = 'hf_SecretTokenForTests0123456789abcdef';
const WRONG = 'hf_WrongTokenForTests9876543210fedcba';
const MODEL = 'org/tiny-distilbert';
const TRAINING = { maxSteps: 2, batchSize: 8, maxLength: 16, device: 'cpu' } as const;

/** Every file under `dir` (recursively) whose bytes contain `secret`. */
function filesContaining(dir: string, secret: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return filesContaining(full, secret);
    return entry.isFile() && fs.readFileSync(full).includes(secret) ? [full] : [];
  });
}

/** The environment of this process without anything that would send the loopback Hub elsewhere or carry a token. */
function cleanEnv(): NodeJS.ProcessEnv {
  const drop = /^(https?_proxy|no_proxy|hf_token|hf_token_path|hf_hub_offline|bertft_proxy_strict_ssl)$/i;
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !drop.test(k)));
}

async function publishGated(dir: string) {
  const hubRoot = path.join(dir, 'hub');
  assert.equal(await publishTinyCheckpoint(hubRoot, 'distilbert'), MODEL);
  return startLoopbackServer({ root: hubRoot, gated: { [MODEL]: TOKEN } });
}

test('the trainer child gets the stored token and the proxy setting from the extension: the gated model downloads through the proxy, and the token is in no file, event or stderr', async () => {
  const dir = tempDir('token-child');
  const hub = await publishGated(dir);
  const proxy = await startConnectProxy();
  const out = path.join(dir, 'run');
  let stderr = '';
  const events: TrainerEvent[] = [];
  try {
    const env = childNetworkEnv(
      { ...cleanEnv(), ...hubEnv(hub.url, dir) },
      { proxy: proxy.url(), noProxy: [], proxyStrictSSL: true },
      TOKEN,
    );
    const handle = startTrainer({
      options: { data: writeSentimentCsv(dir), out, model: MODEL, ...TRAINING },
      env,
      onStderr: (text) => (stderr += text),
    });
    for await (const e of handle.events) events.push(e);
    assert.equal((await handle.exited).code, 0, `${stderr}\n${JSON.stringify(events.at(-1))}`);
  } finally {
    await Promise.all([hub.close(), proxy.close()]);
  }
  assert.equal(events.at(-1)?.event, 'done');
  const resolves = hub.requests.filter((r) => r.path.includes('/resolve/'));
  assert.ok(resolves.length > 0);
  for (const r of resolves) assert.equal(r.headers.authorization, `Bearer ${TOKEN}`, `${r.method} ${r.path}`);
  assert.ok(
    hub.requests.every((r) => proxy.upstreamPorts.has(r.remotePort)),
    'every Hub request came through http.proxy',
  );

  assert.deepEqual(filesContaining(out, TOKEN), [], 'run folder files holding the token');
  assert.ok(fs.existsSync(path.join(out, 'run.json')) && fs.existsSync(path.join(out, 'metrics.jsonl')));
  assert.ok(!JSON.stringify(events).includes(TOKEN), 'an event carries the token');
  assert.ok(!stderr.includes(TOKEN), 'stderr carries the token');
});

test('bertft train with HF_TOKEN: a wrong token fails without quoting it, the right one trains, and neither appears in output or the run folder', async () => {
  const dir = tempDir('token-cli');
  const hub = await publishGated(dir);
  const data = writeSentimentCsv(dir);
  const args = (out: string) => [
    'train',
    '--json',
    '--data',
    data,
    '--out',
    out,
    '--model',
    MODEL,
    '--max-steps',
    '2',
    '--batch-size',
    '8',
    '--max-length',
    '16',
    '--device',
    'cpu',
  ];
  const base = { ...cleanEnv(), ...hubEnv(hub.url, dir) };
  try {
    const refusedOut = path.join(dir, 'refused');
    const refused = await bertftAsync({ ...base, HF_TOKEN: WRONG }, ...args(refusedOut));
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stdout + refused.stderr, /your token does not give access/);
    assert.match(refused.stdout + refused.stderr, /BERT: Set Hugging Face Token/);
    for (const secret of [WRONG, WRONG.slice(3, 15)]) {
      assert.ok(!(refused.stdout + refused.stderr).includes(secret), 'the refusal quotes the token');
      assert.deepEqual(filesContaining(refusedOut, secret), []);
    }

    const out = path.join(dir, 'run');
    const trained = await bertftAsync({ ...base, HF_TOKEN: TOKEN }, ...args(out));
    assert.equal(trained.status, 0, trained.stderr);
    for (const secret of [TOKEN, TOKEN.slice(3, 15)]) {
      assert.ok(!(trained.stdout + trained.stderr).includes(secret), 'the output carries the token');
      assert.deepEqual(filesContaining(out, secret), []);
    }
    assert.ok(hub.requests.some((r) => r.headers.authorization === `Bearer ${TOKEN}`));
  } finally {
    await hub.close();
  }
});

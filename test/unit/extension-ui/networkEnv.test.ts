import { test } from 'node:test';
import assert from 'node:assert/strict';
import { childNetworkEnv, type NetworkSettings } from '../../../src/extension/networkEnv';
import { proxyFor, proxyStrictSSL } from '../../../src/core/net/proxy';

const NONE: NetworkSettings = { proxy: '', noProxy: [], proxyStrictSSL: true };

test('no proxy setting and no token: the child keeps exactly what it inherits', () => {
  const base = { PATH: '/bin', https_proxy: 'http://inherited:1', NO_PROXY: 'corp.example', HF_TOKEN: 'hf_env' };
  assert.deepEqual(childNetworkEnv(base, NONE, undefined), base);
});

test('http.proxy overrides inherited proxies of both spellings, for https and http URLs alike', () => {
  const env = childNetworkEnv(
    { https_proxy: 'http://inherited:1' },
    { ...NONE, proxy: ' http://corp:3128 ' },
    undefined,
  );
  assert.equal(proxyFor(new URL('https://huggingface.co/'), env)?.url.host, 'corp:3128');
  assert.equal(proxyFor(new URL('http://mirror.example/'), env)?.url.host, 'corp:3128');
});

test('http.noProxy joins the inherited NO_PROXY; http.proxyStrictSSL false reaches the child', () => {
  const env = childNetworkEnv(
    { NO_PROXY: 'corp.example' },
    { proxy: 'http://corp:3128', noProxy: ['mirror.internal', ' '], proxyStrictSSL: false },
    undefined,
  );
  assert.equal(env.NO_PROXY, 'mirror.internal,corp.example');
  assert.equal(env.no_proxy, env.NO_PROXY);
  assert.equal(proxyFor(new URL('https://hub.mirror.internal/'), env), undefined);
  assert.equal(proxyFor(new URL('https://a.corp.example/'), env), undefined);
  assert.ok(proxyFor(new URL('https://huggingface.co/'), env));
  assert.equal(proxyStrictSSL(env), false);
  assert.equal(proxyStrictSSL(childNetworkEnv({}, NONE, undefined)), true);
});

test('a stored token becomes HF_TOKEN, over one inherited from the environment', () => {
  assert.equal(childNetworkEnv({ HF_TOKEN: 'hf_env' }, NONE, 'hf_stored').HF_TOKEN, 'hf_stored');
  assert.equal(childNetworkEnv({}, NONE, undefined).HF_TOKEN, undefined);
});

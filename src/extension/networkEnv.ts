/**
 * What the trainer child needs from this window to reach the network: VS Code's proxy settings and the Hugging Face
 * token, as the environment variables the CLI reads too (core/net/proxy.ts, core/model/hub.ts). The extension host
 * needs none of it (VS Code proxies its requests itself), but the child is a plain Node process. Pure: unit-tested.
 */
import { PROXY_STRICT_SSL_VAR } from '../core/net/proxy';

/** VS Code's `http.proxy`, `http.noProxy` and `http.proxyStrictSSL` settings. */
export interface NetworkSettings {
  /** Empty: the child keeps the proxy variables it inherits. */
  proxy: string;
  noProxy: readonly string[];
  proxyStrictSSL: boolean;
}

/**
 * `base` with the settings applied: `http.proxy` becomes HTTPS_PROXY and HTTP_PROXY (both spellings, so an inherited
 * lower-case one does not win over it), `http.noProxy` joins NO_PROXY, `http.proxyStrictSSL: false` becomes
 * BERTFT_PROXY_STRICT_SSL=false, and a stored token becomes HF_TOKEN. The token travels only in the environment:
 * a command line can be read by other users of the machine.
 */
export function childNetworkEnv(
  base: NodeJS.ProcessEnv,
  settings: NetworkSettings,
  hubToken: string | undefined,
): NodeJS.ProcessEnv {
  const env = { ...base };
  const proxy = settings.proxy.trim();
  if (proxy !== '') {
    for (const name of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy']) env[name] = proxy;
  }
  const noProxy = settings.noProxy.map((h) => h.trim()).filter((h) => h !== '');
  if (noProxy.length > 0) {
    const inherited = env.no_proxy ?? env.NO_PROXY ?? '';
    const joined = [...noProxy, ...inherited.split(/[\s,]+/).filter((h) => h !== '')].join(',');
    env.NO_PROXY = joined;
    env.no_proxy = joined;
  }
  if (!settings.proxyStrictSSL) env[PROXY_STRICT_SSL_VAR] = 'false';
  if (hubToken) env.HF_TOKEN = hubToken;
  return env;
}

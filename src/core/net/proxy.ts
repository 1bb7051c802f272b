/**
 * Proxies from the environment, read as curl and Python's requests read them: `https_proxy` / `HTTPS_PROXY` for https
 * URLs, `http_proxy` / `HTTP_PROXY` for http URLs (the lower-case name wins), and `no_proxy` / `NO_PROXY` for the
 * hosts that are reached directly. An https URL goes through an HTTP CONNECT tunnel (TLS runs end to end inside it, so
 * the usual certificate checks, NODE_EXTRA_CA_CERTS included, apply to the server); an http URL is sent to the proxy
 * in absolute form. `BERTFT_PROXY_STRICT_SSL=false` (what VS Code's `http.proxyStrictSSL: false` becomes for the
 * trainer) accepts any certificate on connections made through a proxy, for proxies that inspect TLS with a
 * certificate of their own; NODE_EXTRA_CA_CERTS with that proxy's CA is the safer fix.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { UserError } from '../errors';

export interface Proxy {
  /** The proxy's URL, credentials included: never shown; `describeProxy` names it for messages. */
  url: URL;
  /** The variable it came from, as spelled in the environment (e.g. `https_proxy`). */
  variable: string;
}

/** The variable that turns off certificate checks on proxied connections (any of false, 0, no, off). */
export const PROXY_STRICT_SSL_VAR = 'BERTFT_PROXY_STRICT_SSL';

let proxiesFromEnvironment = true;

/**
 * The VS Code extension host calls this once: VS Code patches its http and https modules to apply the user's proxy
 * settings (`http.proxy`, the system's, these variables) to every request, so a tunnel of ours would go through its
 * proxy a second time. The CLI and the trainer child never call it.
 */
export function leaveProxiesToHost(): void {
  proxiesFromEnvironment = false;
}

/** The proxy a request to `target` goes through, or undefined for a direct connection. */
export function proxyFor(target: URL, env: NodeJS.ProcessEnv = process.env): Proxy | undefined {
  if (!proxiesFromEnvironment) return undefined;
  const names = target.protocol === 'https:' ? ['https_proxy', 'HTTPS_PROXY'] : ['http_proxy', 'HTTP_PROXY'];
  const variable = names.find((name) => (env[name] ?? '').trim() !== '');
  if (variable === undefined) return undefined;
  if (bypassesProxy(target, env.no_proxy ?? env.NO_PROXY ?? '')) return undefined;
  return { url: parseProxyUrl(env[variable]!.trim(), variable), variable };
}

/** `host:port (from https_proxy)`: a proxy named for people, without its credentials. */
export function describeProxy(proxy: Proxy): string {
  return `${proxy.url.host} (from ${proxy.variable})`;
}

function parseProxyUrl(value: string, variable: string): URL {
  // Like curl, a proxy given without a scheme is an HTTP proxy.
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UserError(`${variable} is not a proxy URL.`, {
      code: 'PROXY_INVALID',
      fix: `Set ${variable} to http://host:port (or http://user:password@host:port), or unset it to connect directly.`,
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UserError(`${variable} names a ${url.protocol.slice(0, -1)} proxy; only HTTP(S) proxies are supported.`, {
      code: 'PROXY_UNSUPPORTED',
      fix: `Set ${variable} to an HTTP proxy (http://host:port), or unset it to connect directly.`,
    });
  }
  return url;
}

/**
 * Whether `target` is reached directly under a NO_PROXY list, with curl's rules: entries separated by commas or
 * spaces; `*` alone matches every host; a host name matches itself and its subdomains (a leading `.` or `*.` is
 * ignored); an IP address matches itself, a CIDR block (`10.0.0.0/8`, `fd00::/8`) its addresses; `host:port` (or
 * `[v6]:port`) only that port. Names are not resolved: `localhost` does not match 127.0.0.1.
 */
export function bypassesProxy(target: URL, noProxy: string): boolean {
  const host = target.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    const { name, port: entryPort } = splitPort(entry);
    if (entryPort !== undefined && entryPort !== port) continue;
    if (matchesAddress(host, name)) return true;
  }
  return false;
}

function splitPort(entry: string): { name: string; port?: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { name: bracketed[1], port: bracketed[2] === undefined ? undefined : Number(bracketed[2]) };
  const hostPort = /^([^:]+):(\d+)$/.exec(entry); // one colon: host:port (more are an IPv6 address)
  return hostPort ? { name: hostPort[1], port: Number(hostPort[2]) } : { name: entry };
}

function matchesAddress(host: string, name: string): boolean {
  const cidr = /^(.+)\/(\d{1,3})$/.exec(name);
  if (cidr) {
    const family = net.isIP(cidr[1]);
    const prefix = Number(cidr[2]);
    if (family === 0 || net.isIP(host) !== family || prefix > (family === 4 ? 32 : 128)) return false;
    const block = new net.BlockList();
    block.addSubnet(cidr[1], prefix, family === 4 ? 'ipv4' : 'ipv6');
    return block.check(host, family === 4 ? 'ipv4' : 'ipv6');
  }
  if (net.isIP(name) !== 0) return net.isIP(host) !== 0 && sameAddress(host, name);
  const domain = name.replace(/^\*?\.+/, '');
  return domain !== '' && (host === domain || host.endsWith(`.${domain}`));
}

function sameAddress(a: string, b: string): boolean {
  const family = net.isIP(a);
  if (family !== net.isIP(b)) return false;
  const block = new net.BlockList();
  block.addAddress(b, family === 4 ? 'ipv4' : 'ipv6');
  return block.check(a, family === 4 ? 'ipv4' : 'ipv6'); // ::1 and 0:0:0:0:0:0:0:1 are the same address
}

/** Whether TLS certificates are checked on connections made through a proxy (see PROXY_STRICT_SSL_VAR). */
export function proxyStrictSSL(env: NodeJS.ProcessEnv = process.env): boolean {
  return !['false', '0', 'no', 'off'].includes((env[PROXY_STRICT_SSL_VAR] ?? '').trim().toLowerCase());
}

/** `Proxy-Authorization` for a proxy URL with credentials (percent-decoded, as curl does), else none. */
export function proxyAuthorization(proxy: Proxy): Record<string, string> {
  if (!proxy.url.username && !proxy.url.password) return {};
  const credentials = `${decodeURIComponent(proxy.url.username)}:${decodeURIComponent(proxy.url.password)}`;
  return { 'proxy-authorization': `Basic ${Buffer.from(credentials).toString('base64')}` };
}

/** Where a plain-HTTP request to `target` goes when sent through `proxy`: the proxy, asked for the absolute URL. */
export function viaProxyOptions(
  proxy: Proxy,
  target: URL,
): { lib: typeof http | typeof https; options: https.RequestOptions } {
  return {
    lib: proxy.url.protocol === 'https:' ? https : http,
    options: {
      host: proxy.url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: proxy.url.port || undefined,
      path: target.href,
      rejectUnauthorized: proxyStrictSSL(),
    },
  };
}

/** The proxy could not be used: it is unreachable, or it refused the tunnel. Not a failure of the server behind it. */
export function proxyError(proxy: Proxy, target: URL, what: string, cause?: unknown): UserError {
  return new UserError(`Cannot reach ${target.host} through the proxy ${describeProxy(proxy)}: ${what}.`, {
    code: 'PROXY_FAILED',
    cause,
    fix:
      `Check ${proxy.variable}: its host, port, user and password (in VS Code, the http.proxy setting). ` +
      `Or list ${target.hostname} in NO_PROXY to connect directly.`,
  });
}

/** The proxy answered `status` instead of forwarding: a refused tunnel, or a 407 for a forwarded request. */
export function proxyRefused(proxy: Proxy, target: URL, status: number, statusMessage = ''): UserError {
  const reason = status === 407 ? ' (it needs a user and password, or rejected the ones given)' : '';
  return proxyError(proxy, target, `it answered HTTP ${status} ${statusMessage}`.trim() + reason);
}

export interface TunnelOptions {
  signal?: AbortSignal;
  timeoutMs: number;
}

/**
 * Opens a CONNECT tunnel to `target` (host:port) through `proxy` and resolves with the raw socket, ready for TLS.
 * Rejects with a PROXY_FAILED UserError when the proxy cannot be reached or answers anything but 2xx, and with the
 * socket error (for the caller to map) when `signal` aborts.
 */
export function openTunnel(proxy: Proxy, target: URL, opts: TunnelOptions): Promise<net.Socket> {
  const authority = `${target.hostname}:${target.port || (target.protocol === 'https:' ? 443 : 80)}`;
  const { lib, options } = viaProxyOptions(proxy, target);
  return new Promise((resolve, reject) => {
    const req = lib.request({
      ...options,
      method: 'CONNECT',
      path: authority,
      headers: { host: authority, ...proxyAuthorization(proxy) },
      signal: opts.signal,
    });
    req.setTimeout(opts.timeoutMs, () => {
      req.destroy(Object.assign(new Error('the proxy did not answer'), { code: 'ETIMEDOUT' }));
    });
    req.once('connect', (res: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      req.setTimeout(0);
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        socket.destroy();
        return reject(proxyRefused(proxy, target, status, res.statusMessage));
      }
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    req.once('error', (err: NodeJS.ErrnoException) => {
      if (opts.signal?.aborted) return reject(err);
      reject(proxyError(proxy, target, `it could not be reached (${err.code ?? err.message})`, err));
    });
    req.end();
  });
}

/** TLS to `target` over an open tunnel: the server's certificate is checked as on a direct connection. */
export function tlsOverTunnel(socket: net.Socket, target: URL): tls.TLSSocket {
  const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
  return tls.connect({
    socket,
    servername: net.isIP(host) === 0 ? host : undefined, // SNI carries names only
    rejectUnauthorized: proxyStrictSSL(),
  });
}

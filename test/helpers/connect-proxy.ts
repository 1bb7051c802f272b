/**
 * A forwarding proxy on 127.0.0.1 for network tests, as corporate proxies behave: CONNECT opens a tunnel to
 * host:port (for https URLs), and a request in absolute form (`GET http://host/path`) is forwarded (for http URLs).
 * It records what it was asked and the local port of each upstream connection it made, so a test can prove that a
 * server's requests came through it. With `credentials` it answers 407 unless Proxy-Authorization matches them.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  method: string;
  /** host:port for CONNECT, the absolute URL otherwise. */
  target: string;
  headers: http.IncomingHttpHeaders;
}

export class ConnectProxy {
  readonly requests: ProxiedRequest[] = [];
  /** Local ports of the connections this proxy opened to servers. */
  readonly upstreamPorts = new Set<number>();
  private readonly server: http.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly credentials?: { user: string; password: string }) {
    this.server = http.createServer((req, res) => this.forward(req, res));
    this.server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) =>
      this.tunnel(req, client, head),
    );
    this.server.on('connection', (socket: net.Socket) => this.track(socket));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  /** http://127.0.0.1:<port>, or with `user:password@` when given. */
  url(auth?: { user: string; password: string }): string {
    const { port } = this.server.address() as AddressInfo;
    const userinfo = auth ? `${encodeURIComponent(auth.user)}:${encodeURIComponent(auth.password)}@` : '';
    return `http://${userinfo}127.0.0.1:${port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
  }

  private authorized(req: http.IncomingMessage): boolean {
    if (!this.credentials) return true;
    const expected = Buffer.from(`${this.credentials.user}:${this.credentials.password}`).toString('base64');
    return req.headers['proxy-authorization'] === `Basic ${expected}`;
  }

  private tunnel(req: http.IncomingMessage, client: net.Socket, head: Buffer): void {
    this.requests.push({ method: 'CONNECT', target: req.url ?? '', headers: req.headers });
    if (!this.authorized(req)) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n\r\n');
      return;
    }
    const [host, port] = (req.url ?? '').split(/:(?=\d+$)/);
    const upstream = net.connect(Number(port), host.replace(/^\[|\]$/g, ''), () => {
      this.upstreamPorts.add(upstream.localPort ?? 0);
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    this.track(upstream);
    upstream.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'));
    client.on('error', () => upstream.destroy());
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.requests.push({ method: req.method ?? 'GET', target: req.url ?? '', headers: req.headers });
    if (!this.authorized(req)) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"' });
      return void res.end();
    }
    const target = new URL(req.url ?? '');
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    const upstream = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: req.method,
        headers,
        agent: false, // a connection of its own, so its port is recorded (a pooled one may be another proxy's)
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('socket', (socket: net.Socket) =>
      socket.on('connect', () => this.upstreamPorts.add(socket.localPort ?? 0)),
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  }
}

export async function startConnectProxy(credentials?: { user: string; password: string }): Promise<ConnectProxy> {
  return new ConnectProxy(credentials).start();
}

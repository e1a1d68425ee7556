/**
 * A reverse proxy on 127.0.0.1 in front of the real kube-apiserver, for breaking what lies
 * between a client and the server on purpose: `cut()` makes the server unreachable (open
 * connections reset, new ones refused) until `restore()`; `expireWatches()` answers the next
 * watch of each resource as the apiserver answers a resourceVersion it no longer has (an
 * ERROR event with a 410 Expired Status, then the end of the stream). Everything else goes to
 * the real server unchanged, over TLS with the cluster's CA.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { request as httpsRequest } from 'node:https';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { readFileSync } from 'node:fs';

export class FaultProxy {
  private server: Server | undefined;
  private port = 0;
  private readonly sockets = new Set<Socket>();
  private readonly expiring = new Set<string>();
  private readonly upstream: URL;
  private readonly ca: Buffer;
  /** Watch requests seen, by path. */
  readonly watches = new Map<string, number>();
  /** Every request seen, in order: `METHOD path` (with `?watch` for watches). */
  readonly requests: string[] = [];

  constructor(admin: KubeConfig) {
    const cluster = admin.getCurrentCluster();
    if (!cluster) throw new Error('no current cluster');
    this.upstream = new URL(cluster.server);
    this.ca = cluster.caData !== undefined ? Buffer.from(cluster.caData, 'base64') : readFileSync(cluster.caFile ?? '');
  }

  /** http://127.0.0.1:<port>, for a kubeconfig's cluster.server. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => this.forward(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** The API server becomes unreachable: connections reset, the port refuses new ones. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Reachable again, on the same port. */
  restore(): Promise<void> {
    return this.start();
  }

  /** Ends every open watch, and answers the next watch of each of `paths` with 410 Expired. */
  expireWatches(paths: readonly string[]): void {
    for (const p of paths) this.expiring.add(p);
    for (const s of this.sockets) s.destroy();
  }

  async stop(): Promise<void> {
    await this.cut();
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.upstream);
    this.requests.push(`${req.method ?? ''} ${url.pathname}${url.searchParams.get('watch') === 'true' ? '?watch' : ''}`);
    if (url.searchParams.get('watch') === 'true') {
      this.watches.set(url.pathname, (this.watches.get(url.pathname) ?? 0) + 1);
      if (this.expiring.delete(url.pathname)) {
        const rv = url.searchParams.get('resourceVersion') ?? '';
        res.writeHead(200, { 'Content-Type': 'application/json' });
        const status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `too old resource version: ${rv}`, reason: 'Expired', code: 410 };
        res.end(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
        return;
      }
    }
    const up = httpsRequest(
      { host: this.upstream.hostname, port: this.upstream.port, path: `${url.pathname}${url.search}`, method: req.method, headers: { ...req.headers, host: this.upstream.host }, ca: this.ca },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
        upRes.on('error', () => res.destroy());
      },
    );
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
  }
}

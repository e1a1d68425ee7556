/** The observability listener: /metrics (Prometheus) and /healthz. Off unless configured. */
import { createServer, type Server } from 'node:http';
import type client from 'prom-client';
import { checkHealth } from './health.js';
import type { DaemonSnapshot } from './snapshot.js';

export class ObservabilityServer {
  private server: Server | undefined;

  constructor(
    private readonly daemon: DaemonSnapshot,
    private readonly registry: client.Registry,
  ) {}

  /** `listen` is host:port; an IPv6 host may be bracketed ([::1]:9650). */
  async start(listen: string): Promise<{ host: string; port: number }> {
    const colon = listen.lastIndexOf(':');
    const host = listen.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
    const port = Number(listen.slice(colon + 1));
    const server = createServer((req, res) => {
      void this.handle(req.url ?? '/').then(
        ({ status, type, body }) => {
          res.writeHead(status, { 'content-type': type });
          res.end(body);
        },
        (error: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`error: ${error instanceof Error ? error.message : String(error)}\n`);
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    const address = server.address();
    return { host, port: typeof address === 'object' && address !== null ? address.port : port };
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(url: string): Promise<{ status: number; type: string; body: string }> {
    const path = url.split('?')[0];
    if (path === '/metrics') return { status: 200, type: this.registry.contentType, body: await this.registry.metrics() };
    if (path === '/healthz') {
      const report = await checkHealth(this.daemon);
      return report.healthy
        ? { status: 200, type: 'text/plain', body: 'ok\n' }
        : { status: 503, type: 'application/json', body: `${JSON.stringify(report)}\n` };
    }
    return { status: 404, type: 'text/plain', body: 'not found: try /metrics or /healthz\n' };
  }
}

/**
 * The daemon's control socket: a unix socket (mode 0600) answering status, reload, and a
 * watch stream that sends a fresh status on every transition.
 */
import { chmod, mkdir, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { ControlRequest, ReloadReport, StatusReport } from './protocol.js';

export interface ControlHandlers {
  status(): StatusReport;
  reload(): Promise<ReloadReport>;
}

const MAX_REQUEST_BYTES = 4096;

export class ControlServer {
  private server: Server | undefined;
  private readonly watchers = new Set<Socket>();

  constructor(
    private readonly path: string,
    private readonly handlers: ControlHandlers,
  ) {}

  async start(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o755 });
    // A socket file left by a killed daemon would make listen() fail with EADDRINUSE.
    await rm(this.path, { force: true });
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    await chmod(this.path, 0o600);
    this.server = server;
  }

  /** Pushes the current status to every watcher (called on each transition). */
  notifyWatchers(): void {
    if (this.watchers.size === 0) return;
    const line = `${JSON.stringify({ ok: true, status: this.handlers.status() })}\n`;
    for (const socket of this.watchers) socket.write(line);
  }

  async stop(): Promise<void> {
    for (const socket of this.watchers) socket.destroy();
    this.watchers.clear();
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(this.path, { force: true });
  }

  private accept(socket: Socket): void {
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('error', () => this.watchers.delete(socket));
    socket.on('close', () => this.watchers.delete(socket));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.length > MAX_REQUEST_BYTES) {
        socket.end(`${JSON.stringify({ ok: false, error: 'request too long' })}\n`);
        return;
      }
      const newline = buffer.indexOf('\n');
      if (newline < 0) return;
      const line = buffer.slice(0, newline);
      buffer = '';
      void this.answer(socket, line);
    });
  }

  private async answer(socket: Socket, line: string): Promise<void> {
    let request: ControlRequest;
    try {
      request = JSON.parse(line) as ControlRequest;
    } catch {
      socket.end(`${JSON.stringify({ ok: false, error: 'request is not JSON' })}\n`);
      return;
    }
    switch (request.command) {
      case 'status':
        socket.end(`${JSON.stringify({ ok: true, status: this.handlers.status() })}\n`);
        return;
      case 'watch':
        this.watchers.add(socket);
        socket.write(`${JSON.stringify({ ok: true, status: this.handlers.status() })}\n`);
        return;
      case 'reload':
        socket.end(`${JSON.stringify({ ok: true, reload: await this.handlers.reload() })}\n`);
        return;
      default:
        socket.end(`${JSON.stringify({ ok: false, error: `unknown command ${JSON.stringify((request as { command?: unknown }).command)}` })}\n`);
    }
  }
}

/**
 * The daemon's control socket: a unix socket (mode 0600) answering status, reload, and a
 * watch stream that sends a fresh status on every transition.
 *
 * One request line per connection. Nothing a client sends or fails to send may end the
 * process or hold its resources: a daemon that dies keeps its VIPs while a Backup takes them.
 * So every line gets an answer or an error reply, a line has a size limit, a client that sends
 * no whole line in time is cut off, and so is a watcher that stops reading.
 */
import { chmod, mkdir, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { parseControlRequest, type ControlResponse, type ReloadReport, type StatusReport } from './protocol.js';

export interface ControlHandlers {
  status(): StatusReport;
  reload(): Promise<ReloadReport>;
}

export interface ControlServerLimits {
  /**
   * A connection that has not sent a whole request line this long after connecting is closed
   * with an error reply; so is one whose answer the client has not taken this long after it
   * was sent. Watchers, once accepted, have no limit.
   */
  readonly idleTimeoutMs?: number | undefined;
}

/** The longest request line, newline excluded (every valid request is under 30 bytes). */
export const MAX_REQUEST_BYTES = 4096;
export const DEFAULT_CONTROL_IDLE_TIMEOUT_MS = 5_000;
/** Connections at once; more are closed at accept (each costs a file descriptor). */
export const MAX_CONTROL_CONNECTIONS = 64;
/** Unsent status a watcher may leave queued before it is dropped (it stopped reading). */
const MAX_WATCHER_BACKLOG_BYTES = 1 << 20;
const NEWLINE = 0x0a;

const line = (response: ControlResponse): string => `${JSON.stringify(response)}\n`;

export class ControlServer {
  private server: Server | undefined;
  private readonly watchers = new Set<Socket>();
  private readonly idleTimeoutMs: number;

  constructor(
    private readonly path: string,
    private readonly handlers: ControlHandlers,
    limits: ControlServerLimits = {},
  ) {
    this.idleTimeoutMs = limits.idleTimeoutMs ?? DEFAULT_CONTROL_IDLE_TIMEOUT_MS;
  }

  async start(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o755 });
    // A socket file left by a killed daemon would make listen() fail with EADDRINUSE.
    await rm(this.path, { force: true });
    const server = createServer((socket) => this.accept(socket));
    server.maxConnections = MAX_CONTROL_CONNECTIONS;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // accept() failures (EMFILE) are reported here; they concern one client, never the daemon.
    server.on('error', () => undefined);
    await chmod(this.path, 0o600);
    this.server = server;
  }

  /** Pushes the current status to every watcher (called on each transition). */
  notifyWatchers(): void {
    if (this.watchers.size === 0) return;
    const text = line({ ok: true, status: this.handlers.status() });
    for (const socket of this.watchers) {
      if (socket.writableLength > MAX_WATCHER_BACKLOG_BYTES) {
        this.watchers.delete(socket);
        socket.destroy();
      } else socket.write(text);
    }
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
    const chunks: Buffer[] = [];
    let size = 0;
    let received = false;
    socket.setTimeout(this.idleTimeoutMs);
    socket.on('timeout', () => {
      if (received) socket.destroy();
      else {
        received = true;
        this.finish(socket, { ok: false, error: `no request line within ${this.idleTimeoutMs} ms` });
      }
    });
    // EPIPE or ECONNRESET from a client that left: nothing to answer, the socket closes.
    socket.on('error', () => this.watchers.delete(socket));
    socket.on('close', () => this.watchers.delete(socket));
    socket.on('data', (chunk: Buffer) => {
      if (received) return; // one request per connection: what follows it is ignored
      const newline = chunk.indexOf(NEWLINE);
      const part = newline < 0 ? chunk : chunk.subarray(0, newline);
      size += part.length;
      if (size > MAX_REQUEST_BYTES) {
        received = true;
        this.finish(socket, { ok: false, error: `request line longer than ${MAX_REQUEST_BYTES} bytes` });
        return;
      }
      chunks.push(part);
      if (newline < 0) return;
      received = true;
      socket.setTimeout(0); // the request is ours now: answering may take a reload's time
      void this.answer(socket, Buffer.concat(chunks).toString('utf8'));
    });
  }

  private async answer(socket: Socket, text: string): Promise<void> {
    const parsed = parseControlRequest(text);
    if (!parsed.ok) {
      this.finish(socket, { ok: false, error: parsed.error });
      return;
    }
    try {
      switch (parsed.request.command) {
        case 'status':
          this.finish(socket, { ok: true, status: this.handlers.status() });
          return;
        case 'watch':
          if (socket.destroyed) return;
          this.watchers.add(socket);
          socket.write(line({ ok: true, status: this.handlers.status() }));
          return;
        case 'reload':
          this.finish(socket, { ok: true, reload: await this.handlers.reload() });
          return;
      }
    } catch (error) {
      this.finish(socket, { ok: false, error: `the daemon could not answer: ${error instanceof Error ? error.message : String(error)}` });
    }
  }

  /** The last line of a connection; a client that does not take it in time is cut off. */
  private finish(socket: Socket, response: ControlResponse): void {
    this.watchers.delete(socket);
    if (socket.destroyed) return;
    socket.setTimeout(this.idleTimeoutMs);
    socket.end(line(response));
  }
}

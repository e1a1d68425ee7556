/** A raw client for control-socket tests: bytes in, everything the server sends until it closes. */
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InstanceStatus, ReloadReport, StatusReport } from '../../src/control/protocol.js';
import type { ControlHandlers } from '../../src/control/server.js';

/** A scratch directory removed by `remove()`, to be called from afterEach (runs on failure too). */
export function scratchDir(): { readonly dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'keepvip-control-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function connect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Collects what the server sends until it closes the connection. */
export function received(socket: Socket): Promise<string> {
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (text += chunk));
  return new Promise((resolve) => socket.once('close', () => resolve(text)));
}

/** Sends `bytes` (nothing more: no newline added) and returns what came back before the close. */
export async function exchange(path: string, bytes: string | Uint8Array): Promise<string> {
  const socket = await connect(path);
  const answer = received(socket);
  socket.on('error', () => undefined); // EPIPE when the server closed first (a line too long)
  socket.write(bytes);
  return answer;
}

export function instanceStatus(name: string): InstanceStatus {
  return {
    name,
    interface: 'eth0',
    vrid: 51,
    version: 3,
    family: 4,
    state: 'Master',
    priority: 150,
    configuredPriority: 150,
    master: '10.99.0.11',
    vips: ['10.99.0.100/24'],
    transitions: 2,
    lastTransition: null,
    faults: [],
  };
}

/** Handlers that answer like a daemon with `instances` instances, counting reloads. */
export class FakeHandlers implements ControlHandlers {
  reloads = 0;
  reloadResult: () => Promise<ReloadReport> = () => Promise.resolve({ ok: true, instances: [], global: [] });
  constructor(public report: StatusReport = { instances: [instanceStatus('vi_1')] }) {}
  status(): StatusReport {
    return this.report;
  }
  reload(): Promise<ReloadReport> {
    this.reloads++;
    return this.reloadResult();
  }
}

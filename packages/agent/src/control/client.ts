/** Talks to a running daemon over its control socket. */
import { createConnection } from 'node:net';
import type { ControlRequest, ControlResponse } from './protocol.js';

export class ControlClientError extends Error {
  constructor(
    readonly code: 'not_running' | 'bad_response' | 'refused',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ControlClientError';
  }
}

/** Sends one request; calls `onResponse` for each response line until the daemon closes (or `signal` aborts). */
export async function controlRequest(
  path: string,
  request: ControlRequest,
  onResponse: (response: ControlResponse) => void,
  signal?: AbortSignal,
): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const socket = createConnection(path);
    let buffer = '';
    socket.setEncoding('utf8');
    signal?.addEventListener('abort', () => {
      socket.destroy();
      resolve();
    });
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        try {
          onResponse(JSON.parse(line) as ControlResponse);
        } catch (cause) {
          socket.destroy();
          reject(cause instanceof ControlClientError ? cause : new ControlClientError('bad_response', 'the daemon sent something that is not JSON', { cause }));
          return;
        }
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      const code = error.code === 'ENOENT' || error.code === 'ECONNREFUSED' ? 'not_running' : 'refused';
      reject(new ControlClientError(code, code === 'not_running' ? `no keepvip daemon answers on ${path}` : error.message, { cause: error }));
    });
    socket.on('close', () => resolve());
  });
}

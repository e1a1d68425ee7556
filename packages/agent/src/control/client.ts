/** Talks to a running daemon over its control socket. */
import { createConnection } from 'node:net';
import type { ControlRequest, ControlResponse } from './protocol.js';

export class ControlClientError extends Error {
  constructor(
    readonly code: 'not_running' | 'bad_response' | 'refused' | 'no_answer' | 'timed_out',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ControlClientError';
  }
}

export interface ControlRequestOptions {
  /** Ends a watch: the promise resolves. */
  readonly signal?: AbortSignal;
  /** How long the daemon has to send its first answer. */
  readonly timeoutMs?: number;
}

export const DEFAULT_CONTROL_TIMEOUT_MS = 10_000;

/**
 * Sends one request and calls `onResponse` for each response line. Resolves when the daemon
 * closes after answering (or `signal` aborts); rejects when it closes without an answer, with
 * half a line, or after a watch it should have kept open (a daemon that died), and when no
 * answer comes within `timeoutMs`.
 */
export async function controlRequest(
  path: string,
  request: ControlRequest,
  onResponse: (response: ControlResponse) => void,
  options: ControlRequestOptions = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_CONTROL_TIMEOUT_MS;
  await new Promise<void>((resolve, reject) => {
    const socket = createConnection(path);
    let buffer = '';
    let answers = 0;
    let settled = false;
    const settle = (error?: ControlClientError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', abort);
      socket.destroy();
      if (error === undefined) resolve();
      else reject(error);
    };
    const abort = () => settle();
    const timer = setTimeout(() => settle(new ControlClientError('timed_out', `the daemon on ${path} did not answer within ${timeoutMs} ms`)), timeoutMs);
    if (options.signal?.aborted === true) {
      settle();
      return;
    }
    options.signal?.addEventListener('abort', abort);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let newline = buffer.indexOf('\n'); newline >= 0 && !settled; newline = buffer.indexOf('\n')) {
        const text = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        const response = parseResponse(text);
        if (response === undefined) return settle(new ControlClientError('bad_response', `the daemon on ${path} sent something that is not a control response`));
        answers++;
        clearTimeout(timer);
        try {
          onResponse(response);
        } catch (error) {
          return settle(error instanceof ControlClientError ? error : new ControlClientError('bad_response', String(error), { cause: error }));
        }
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') settle(new ControlClientError('not_running', `no keepvip daemon answers on ${path}`, { cause: error }));
      // A daemon killed before it read the request resets the connection.
      else if ((error.code === 'ECONNRESET' || error.code === 'EPIPE') && answers === 0) settle(noAnswer(path, error));
      else settle(new ControlClientError('refused', `${path}: ${error.message}`, { cause: error }));
    });
    socket.on('close', () => {
      if (buffer !== '') settle(new ControlClientError('bad_response', `the daemon on ${path} closed the connection in the middle of an answer`));
      else if (answers === 0) settle(noAnswer(path));
      else if (request.command === 'watch') settle(new ControlClientError('no_answer', `the daemon on ${path} ended the watch (did it stop?)`));
      else settle();
    });
  });
}

function noAnswer(path: string, cause?: Error): ControlClientError {
  return new ControlClientError('no_answer', `the daemon on ${path} closed the connection without answering (did it stop?)`, { cause });
}

function parseResponse(text: string): ControlResponse | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && typeof (value as { ok?: unknown }).ok === 'boolean') return value as ControlResponse;
  } catch {
    // Not JSON: reported by the caller.
  }
  return undefined;
}

/** The control client against daemons that answer, die, stall or send garbage. */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { ControlClientError, controlRequest } from '../../src/control/client.js';
import type { ControlRequest, ControlResponse } from '../../src/control/protocol.js';
import { scratchDir } from './socket-helpers.js';

let scratch: ReturnType<typeof scratchDir>;
let path: string;
let server: Server | undefined;
const open = new Set<Socket>();

beforeEach(() => {
  scratch = scratchDir();
  path = join(scratch.dir, 'daemon.sock');
});
afterEach(async () => {
  for (const socket of open) socket.destroy();
  open.clear();
  const s = server;
  server = undefined;
  if (s !== undefined) await new Promise((resolve) => s.close(resolve));
  scratch.remove();
});

/** A daemon stand-in: `behave` runs once the request line has arrived. */
async function daemon(behave: (socket: Socket, request: string) => void): Promise<void> {
  server = createServer((socket) => {
    open.add(socket);
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('\n')) behave(socket, text.trim());
    });
  });
  const s = server;
  await new Promise<void>((resolve) => s.listen(path, resolve));
}

async function ask(request: ControlRequest, timeoutMs = 2_000, signal?: AbortSignal): Promise<ControlResponse[]> {
  const responses: ControlResponse[] = [];
  await controlRequest(path, request, (r) => responses.push(r), { timeoutMs, ...(signal === undefined ? {} : { signal }) });
  return responses;
}

async function failure(request: ControlRequest, timeoutMs = 2_000): Promise<ControlClientError> {
  const error = await ask(request, timeoutMs).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ControlClientError)) throw new Error(`expected a ControlClientError, got ${String(error)}`);
  return error;
}

describe('controlRequest', () => {
  it('resolves with the answer when the daemon answers and closes', async () => {
    await daemon((socket, request) => {
      expect(request).toBe('{"command":"reload"}');
      socket.end('{"ok":true,"reload":{"ok":true,"instances":[],"global":[]}}\n');
    });
    expect(await ask({ command: 'reload' })).toEqual([{ ok: true, reload: { ok: true, instances: [], global: [] } }]);
  });

  it('no daemon: not_running', async () => {
    expect(await failure({ command: 'status' })).toMatchObject({ code: 'not_running', message: `no keepvip daemon answers on ${path}` });
  });

  it('a daemon that closes without answering (it died): no_answer, an error', async () => {
    await daemon((socket) => socket.destroy());
    expect(await failure({ command: 'reload' })).toMatchObject({
      code: 'no_answer',
      message: `the daemon on ${path} closed the connection without answering (did it stop?)`,
    });
  });

  it('a daemon that never answers: timed_out after the timeout', async () => {
    await daemon(() => undefined);
    const started = Date.now();
    expect(await failure({ command: 'status' }, 150)).toMatchObject({ code: 'timed_out', message: `the daemon on ${path} did not answer within 150 ms` });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it.each([
    ['half a line then the close', '{"ok":true,"sta'],
    ['a line that is not JSON', 'garbage\n'],
    ['null', 'null\n'],
    ['an array', '[{"ok":true}]\n'],
    ['an object without ok', '{"status":{}}\n'],
  ])('%s: bad_response', async (_name, answer) => {
    await daemon((socket) => socket.end(answer));
    expect((await failure({ command: 'status' })).code).toBe('bad_response');
  });

  it('a watch the daemon ends is an error (the daemon stopped)', async () => {
    await daemon((socket) => {
      socket.write('{"ok":true,"status":{"instances":[]}}\n');
      setTimeout(() => socket.end(), 20);
    });
    expect(await failure({ command: 'watch' })).toMatchObject({ code: 'no_answer', message: `the daemon on ${path} ended the watch (did it stop?)` });
  });

  it('a watch the caller aborts resolves', async () => {
    await daemon((socket) => socket.write('{"ok":true,"status":{"instances":[]}}\n'));
    const abort = new AbortController();
    const watching = ask({ command: 'watch' }, 2_000, abort.signal);
    setTimeout(() => abort.abort(), 50);
    expect(await watching).toEqual([{ ok: true, status: { instances: [] } }]);
  });

  it('the timeout covers the first answer of a watch only', async () => {
    await daemon((socket) => {
      socket.write('{"ok":true,"status":{"instances":[]}}\n');
      setTimeout(() => socket.write('{"ok":true,"status":{"instances":[]}}\n'), 200);
    });
    const abort = new AbortController();
    const responses: ControlResponse[] = [];
    const watching = controlRequest(path, { command: 'watch' }, (r) => {
      responses.push(r);
      if (responses.length === 2) abort.abort();
    }, { timeoutMs: 100, signal: abort.signal });
    await watching;
    expect(responses).toHaveLength(2);
  });
});

/**
 * The control server against hostile and broken clients, on a real unix socket: every request
 * line gets one answer or one error reply, and the server keeps serving. (A throw in a socket
 * handler would be an uncaught exception here, failing the run, as it ended the daemon.)
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { join } from 'node:path';
import { ControlServer, MAX_CONTROL_CONNECTIONS, MAX_REQUEST_BYTES } from '../../src/control/server.js';
import type { ControlResponse } from '../../src/control/protocol.js';
import { connect, exchange, FakeHandlers, instanceStatus, received, scratchDir } from './socket-helpers.js';

const IDLE_MS = 150;
let scratch: ReturnType<typeof scratchDir>;
let handlers: FakeHandlers;
let server: ControlServer;
let path: string;

beforeEach(async () => {
  scratch = scratchDir();
  path = join(scratch.dir, 'keepvip.sock');
  handlers = new FakeHandlers();
  server = new ControlServer(path, handlers, { idleTimeoutMs: IDLE_MS });
  await server.start();
});
afterEach(async () => {
  await server.stop();
  scratch.remove();
});

/** The one response line of a connection. */
function only(text: string): ControlResponse {
  const lines = text.split('\n');
  expect(lines).toHaveLength(2);
  expect(lines[1]).toBe('');
  return JSON.parse(lines[0] ?? '') as ControlResponse;
}

async function stillServes(): Promise<void> {
  expect(only(await exchange(path, '{"command":"status"}\n'))).toEqual({ ok: true, status: handlers.report });
}

describe('ControlServer', () => {
  it('answers status and reload', async () => {
    await stillServes();
    expect(only(await exchange(path, '{"command":"reload"}\n'))).toEqual({ ok: true, reload: { ok: true, instances: [], global: [] } });
    expect(handlers.reloads).toBe(1);
  });

  it.each([
    ['null', 'not null'],
    ['[]', 'not an array'],
    ['[null]', 'not an array'],
    ['0', 'not a number'],
    ['"status"', 'not a string'],
    ['{}', 'request has no "command"'],
    ['{"command":null}', '"command" must be a string, not null'],
    ['{"command":"shutdown"}', 'unknown command "shutdown"'],
    ['{"command":"status","x":1}', 'unknown member "x"'],
    ['not json', 'request is not JSON'],
    ['', 'request is not JSON'],
  ])('%s gets an error reply, and the server keeps serving', async (request, error) => {
    const response = only(await exchange(path, `${request}\n`));
    expect(response.ok).toBe(false);
    expect(!response.ok && response.error).toContain(error);
    await stillServes();
  });

  it('binary bytes (invalid UTF-8, NUL, 0xff) get an error reply', async () => {
    const response = only(await exchange(path, Uint8Array.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x7b, 0x0a])));
    expect(response).toEqual({ ok: false, error: 'request is not JSON (send one line such as {"command":"status"})' });
    await stillServes();
  });

  it(`a line of ${MAX_REQUEST_BYTES} bytes is read; one byte more is refused without waiting for its end`, async () => {
    const padded = (n: number) => `{"command":"status"${' '.repeat(n - 20)}}`;
    expect(Buffer.byteLength(padded(MAX_REQUEST_BYTES))).toBe(MAX_REQUEST_BYTES);
    expect(only(await exchange(path, `${padded(MAX_REQUEST_BYTES)}\n`)).ok).toBe(true);
    expect(only(await exchange(path, padded(MAX_REQUEST_BYTES + 1)))).toEqual({ ok: false, error: `request line longer than ${MAX_REQUEST_BYTES} bytes` });
    // 1 MiB with no newline at all: refused once the limit is passed.
    expect(only(await exchange(path, 'x'.repeat(1 << 20)))).toEqual({ ok: false, error: `request line longer than ${MAX_REQUEST_BYTES} bytes` });
    await stillServes();
  });

  it('counts the limit in bytes, not characters', async () => {
    const line = `{"command":"${'é'.repeat(MAX_REQUEST_BYTES / 2)}"}`;
    expect(line.length).toBeLessThan(MAX_REQUEST_BYTES);
    expect(only(await exchange(path, `${line}\n`))).toEqual({ ok: false, error: `request line longer than ${MAX_REQUEST_BYTES} bytes` });
  });

  it('half a line then idle: an error reply after the idle timeout, then the close', async () => {
    const started = Date.now();
    expect(only(await exchange(path, '{"comm'))).toEqual({ ok: false, error: `no request line within ${IDLE_MS} ms` });
    expect(Date.now() - started).toBeGreaterThanOrEqual(IDLE_MS - 20);
    expect(only(await exchange(path, ''))).toEqual({ ok: false, error: `no request line within ${IDLE_MS} ms` });
    await stillServes();
  });

  it('one request per connection: what follows the first line is ignored', async () => {
    expect(only(await exchange(path, '{"command":"status"}\n{"command":"reload"}\nnull\n'))).toEqual({ ok: true, status: handlers.report });
    expect(handlers.reloads).toBe(0);
  });

  it('a request split across many writes is put together', async () => {
    const socket = await connect(path);
    const answer = received(socket);
    for (const c of '{"command":"status"}\n') {
      socket.write(c);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(only(await answer)).toEqual({ ok: true, status: handlers.report });
  });

  it('a failing handler gets an error reply, not a dead daemon', async () => {
    handlers.reloadResult = () => Promise.reject(new Error('disk on fire'));
    expect(only(await exchange(path, '{"command":"reload"}\n'))).toEqual({ ok: false, error: 'the daemon could not answer: disk on fire' });
    handlers.status = () => {
      throw new Error('no status');
    };
    expect(only(await exchange(path, '{"command":"status"}\n'))).toEqual({ ok: false, error: 'the daemon could not answer: no status' });
  });

  it('a client that leaves before its reload is answered costs nothing', async () => {
    let finish: () => void = () => undefined;
    handlers.reloadResult = () => new Promise((resolve) => (finish = () => resolve({ ok: true, instances: [], global: [] })));
    const socket = await connect(path);
    socket.write('{"command":"reload"}\n');
    await new Promise((resolve) => setTimeout(resolve, 20));
    socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 20));
    finish();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await stillServes();
  });

  it(`at most ${MAX_CONTROL_CONNECTIONS} connections at once; idle ones are cut and then others are served`, async () => {
    const idle = await Promise.all(Array.from({ length: MAX_CONTROL_CONNECTIONS }, () => connect(path)));
    const idleAnswers = idle.map((s) => received(s));
    // One more is closed at once, unanswered.
    expect(await exchange(path, '{"command":"status"}\n')).toBe('');
    for (const text of await Promise.all(idleAnswers)) expect(only(text)).toEqual({ ok: false, error: `no request line within ${IDLE_MS} ms` });
    await stillServes();
  });

  it('a watcher that stops reading is dropped once its backlog passes 1 MiB; others keep theirs', async () => {
    // About 200 KB per status.
    handlers.report = { instances: Array.from({ length: 600 }, (_, i) => instanceStatus(`instance_${i}`)) };
    const stalled = await connect(path);
    stalled.write('{"command":"watch"}\n');
    const reading = await connect(path);
    const readingAnswer = received(reading);
    reading.write('{"command":"watch"}\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    // `stalled` has no reader: past Node's and the kernel's buffers, the server's queue grows.
    for (let i = 0; i < 20; i++) {
      server.notifyWatchers();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    // Reading now: the server cut the stalled watcher off, so it ends short of 21 lines.
    const stalledText = await received(stalled);
    expect(stalledText.split('\n').filter(Boolean).length).toBeLessThan(21);
    reading.destroy();
    // The reader got every status (its last line may be cut by our destroy).
    expect((await readingAnswer).split('\n').length).toBeGreaterThanOrEqual(21);
  });

  describe('fuzzed (seeded)', () => {
    const isAnswer = (response: ControlResponse) =>
      response.ok ? 'status' in response || 'reload' in response : typeof response.error === 'string' && response.error.length > 0;

    it('any JSON value as a line: one answer or one error reply; the server keeps serving', async () => {
      await fc.assert(
        fc.asyncProperty(fc.jsonValue(), async (value) => {
          const response = only(await exchange(path, `${JSON.stringify(value)}\n`));
          expect(isAnswer(response)).toBe(true);
        }),
        { seed: 0x6b76_0009, numRuns: 300 },
      );
      await stillServes();
    });

    it('any bytes ending in a newline: one answer or one error reply; the server keeps serving', async () => {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 2 * MAX_REQUEST_BYTES }), async (bytes) => {
          const response = only(await exchange(path, Buffer.concat([bytes, Buffer.from('\n')])));
          expect(isAnswer(response)).toBe(true);
          if (!bytes.includes(0x0a) && bytes.length > MAX_REQUEST_BYTES) expect(response).toEqual({ ok: false, error: `request line longer than ${MAX_REQUEST_BYTES} bytes` });
        }),
        { seed: 0x6b76_0009, numRuns: 300 },
      );
      await stillServes();
    });
  });
});

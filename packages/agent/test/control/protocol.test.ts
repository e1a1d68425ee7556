/** Request lines as a client may send them: every one is a request or an error naming what is wrong. */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { CONTROL_COMMANDS, parseControlRequest } from '../../src/control/protocol.js';

describe('parseControlRequest', () => {
  it.each([
    ['{"command":"status"}', { ok: true, request: { command: 'status' } }],
    [' {"command":"reload"}\r', { ok: true, request: { command: 'reload' } }],
    ['{"command":"watch"}', { ok: true, request: { command: 'watch' } }],
  ])('accepts %s', (line, expected) => {
    expect(parseControlRequest(line)).toEqual(expected);
  });

  it.each([
    ['null', 'request must be a JSON object such as {"command":"status"}, not null'],
    ['[]', 'request must be a JSON object such as {"command":"status"}, not an array'],
    ['[{"command":"status"}]', 'request must be a JSON object such as {"command":"status"}, not an array'],
    ['42', 'request must be a JSON object such as {"command":"status"}, not a number'],
    ['"status"', 'request must be a JSON object such as {"command":"status"}, not a string'],
    ['true', 'request must be a JSON object such as {"command":"status"}, not a boolean'],
    ['', 'request is not JSON (send one line such as {"command":"status"})'],
    ['{"command":', 'request is not JSON (send one line such as {"command":"status"})'],
    ['\u0000\uffff', 'request is not JSON (send one line such as {"command":"status"})'],
    ['{}', 'request has no "command" (one of status, reload, watch)'],
    ['{"command":null}', '"command" must be a string, not null'],
    ['{"command":["status"]}', '"command" must be a string, not an array'],
    ['{"command":{"toString":"status"}}', '"command" must be a string, not an object'],
    ['{"command":"stop"}', 'unknown command "stop" (one of status, reload, watch)'],
    ['{"command":"toString"}', 'unknown command "toString" (one of status, reload, watch)'],
    ['{"command":"status","force":true}', 'unknown member "force" in the request (it takes only "command")'],
    ['{"__proto__":{"command":"status"}}', 'unknown member "__proto__" in the request (it takes only "command")'],
  ])('refuses %j', (line, error) => {
    expect(parseControlRequest(line)).toEqual({ ok: false, error });
  });

  it('cuts a long unknown command in its error', () => {
    const result = parseControlRequest(JSON.stringify({ command: 'x'.repeat(4000) }));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error.length).toBeLessThan(200);
  });

  it('any JSON value: a request only for the exact known shapes, otherwise an error (never a throw)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.record({ command: fc.oneof(fc.constantFrom(...CONTROL_COMMANDS), fc.jsonValue()) })), (value) => {
        const result = parseControlRequest(JSON.stringify(value));
        const valid =
          typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 1 && CONTROL_COMMANDS.some((c) => c === (value as { command?: unknown }).command);
        expect(result.ok).toBe(valid);
        if (!result.ok) expect(result.error).toMatch(/^(request|unknown|")/);
      }),
      { seed: 0x6b76_0009, numRuns: 2_000 },
    );
  });

  it('any string: never a throw, a request only if it is one', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        const result = parseControlRequest(text);
        if (result.ok) expect(JSON.parse(text)).toEqual(result.request);
        else expect(typeof result.error).toBe('string');
      }),
      { seed: 0x6b76_0009, numRuns: 2_000 },
    );
  });
});

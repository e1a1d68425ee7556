/**
 * Properties, over thousands of generated inputs: emit then parse is the identity, for v2/v3
 * and IPv4/IPv6; parse never throws, on random bytes or on mutated keepalived bytes.
 */

import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  DECODE_ERROR_CODES,
  bytesToIpv4,
  bytesToIpv6,
  emitAdvert,
  parseAdvert,
  type Advert,
  type AdvertContext,
} from '../../src/index.js';
import { V2_FIXTURE, V3_FIXTURE, withChecksum } from './build.js';

const RUNS = 5000;

// Addresses are generated as bytes and written in canonical text, which is what parse returns.
const ipv4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => bytesToIpv4(b));
const ipv6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => bytesToIpv6(b));
const ctxArb = (family: 4 | 6, v3Ipv4ChecksumWithoutPseudoHeader = false): fc.Arbitrary<AdvertContext> => {
  const address = family === 4 ? ipv4 : ipv6;
  return fc.record({ src: address, dst: address }).map(({ src, dst }) => ({
    family,
    src,
    dst,
    v3Ipv4ChecksumWithoutPseudoHeader,
  }));
};

const common = {
  type: fc.constant(1),
  vrid: fc.integer({ min: 1, max: 255 }),
  priority: fc.integer({ min: 0, max: 255 }),
};
const v2Advert: fc.Arbitrary<Advert> = fc.record({
  ...common,
  version: fc.constant(2 as const),
  advertIntervalCs: fc.integer({ min: 1, max: 255 }).map((s) => s * 100),
  addresses: fc.array(ipv4, { minLength: 1, maxLength: 255 }),
  authType: fc.constantFrom(0, 1),
  authData: fc.uint8Array({ minLength: 8, maxLength: 8 }),
});
const v3Advert = (address: fc.Arbitrary<string>): fc.Arbitrary<Advert> =>
  fc.record({
    ...common,
    version: fc.constant(3 as const),
    advertIntervalCs: fc.integer({ min: 1, max: 4095 }),
    addresses: fc.array(address, { minLength: 1, maxLength: 255 }),
    authType: fc.constant(0),
    authData: fc.constant(new Uint8Array(0)),
  });

function roundTrips(advert: Advert, ctx: AdvertContext): void {
  const bytes = emitAdvert(advert, ctx);
  expect(parseAdvert(bytes, ctx)).toEqual({ ok: true, value: advert });
}

describe('emit then parse is the identity', () => {
  it('VRRPv2, IPv4', () => {
    fc.assert(fc.property(v2Advert, ctxArb(4), roundTrips), { numRuns: RUNS });
  });
  it('VRRPv3, IPv4, with the pseudo-header', () => {
    fc.assert(fc.property(v3Advert(ipv4), ctxArb(4), roundTrips), { numRuns: RUNS });
  });
  it('VRRPv3, IPv4, without the pseudo-header (the option)', () => {
    fc.assert(fc.property(v3Advert(ipv4), ctxArb(4, true), roundTrips), { numRuns: RUNS });
  });
  it('VRRPv3, IPv6', () => {
    fc.assert(fc.property(v3Advert(ipv6), ctxArb(6), roundTrips), { numRuns: RUNS });
  });
});

const anyCtx: fc.Arbitrary<AdvertContext> = fc.oneof(
  ctxArb(4),
  ctxArb(4, true),
  ctxArb(6),
  fc.constant({ family: 4 as const, src: V3_FIXTURE.src, dst: V3_FIXTURE.dst }),
  fc.record({ family: fc.constantFrom(4 as const, 6 as const), src: fc.string(), dst: fc.string() }),
);

/** parse's contract on any input: no throw, and an error is one of the listed codes. */
function parsesSafely(bytes: Uint8Array, ctx: AdvertContext): void {
  const result = parseAdvert(bytes, ctx);
  if (!result.ok) {
    expect(DECODE_ERROR_CODES).toContain(result.error.code);
    return;
  }
  // Whatever parses re-emits, and parses again to the same value.
  expect(parseAdvert(emitAdvert(result.value, ctx), ctx)).toEqual(result);
}

describe('parse never throws', () => {
  it('on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), anyCtx, parsesSafely), { numRuns: RUNS });
  });

  it('on random bytes that look like a VRRP header (so the later checks run)', () => {
    const header = fc.tuple(fc.constantFrom(0x21, 0x31, 0x20, 0x41), fc.uint8Array({ maxLength: 300 }));
    fc.assert(
      fc.property(header, anyCtx, fc.boolean(), ([first, rest], ctx, fix) => {
        const bytes = Uint8Array.from([first, ...rest]);
        parsesSafely(fix ? withChecksum(bytes, ctx) : bytes, ctx);
      }),
      { numRuns: RUNS },
    );
  });

  it('on mutated keepalived adverts, with and without a repaired checksum', () => {
    const fixture = fc.constantFrom(V2_FIXTURE, V3_FIXTURE);
    const edit = fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) });
    fc.assert(
      fc.property(
        fixture,
        fc.array(edit, { maxLength: 6 }),
        fc.integer({ min: -8, max: 40 }),
        fc.boolean(),
        (packet, edits, resize, fix) => {
          const ctx: AdvertContext = { family: 4, src: packet.src, dst: packet.dst };
          const bytes = new Uint8Array(Math.max(0, packet.message.length + resize));
          bytes.set(packet.message.subarray(0, bytes.length));
          for (const { at, value } of edits) if (bytes.length > 0) bytes[at % bytes.length] = value;
          parsesSafely(fix ? withChecksum(bytes, ctx) : bytes, ctx);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('pseudo-header addresses, converted once per address', () => {
  it('checks every source right across more sources than the conversion keeps (its eviction)', () => {
    const advert: Advert = { version: 3, type: 1, vrid: 7, priority: 100, advertIntervalCs: 10, addresses: ['10.99.0.100'], authType: 0, authData: new Uint8Array(0) };
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 600; i++) {
        const src = `10.${(i >> 8) & 0xff}.${i & 0xff}.${round + 1}`;
        const bytes = emitAdvert(advert, { family: 4, src, dst: '224.0.0.18' });
        expect(parseAdvert(bytes, { family: 4, src, dst: '224.0.0.18' }).ok).toBe(true);
        // The same bytes from any other source fail the checksum: a stale entry would pass them.
        const other = `10.${(i >> 8) & 0xff}.${i & 0xff}.${round + 101}`;
        const wrong = parseAdvert(bytes, { family: 4, src: other, dst: '224.0.0.18' });
        expect(wrong.ok ? 'ok' : wrong.error.code).toBe('bad_checksum');
      }
    }
  });
});

/**
 * One negative case (at least) per DecodeError code. The Record type makes a new code without
 * a case a compile error, and the first test makes it a test failure as well.
 */

import { describe, expect, it } from '@jest/globals';
import { DECODE_ERROR_CODES, parseAdvert, type AdvertContext, type DecodeErrorCode } from '../../src/index.js';
import { mutated, V2_CTX, V2_FIXTURE, V3_CTX, V3_FIXTURE } from './build.js';

interface Case {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly ctx: AdvertContext;
}

const v2 = V2_FIXTURE.message;
const v3 = V3_FIXTURE.message;

const CASES: Record<DecodeErrorCode, readonly Case[]> = {
  truncated: [
    { name: 'empty', bytes: new Uint8Array(0), ctx: V3_CTX },
    { name: '7 bytes of a v3 header', bytes: v3.subarray(0, 7), ctx: V3_CTX },
  ],
  bad_version: [
    { name: 'version 1', bytes: mutated(v2, V2_CTX, (b) => (b[0] = 0x11)), ctx: V2_CTX },
    { name: 'version 4', bytes: mutated(v3, V3_CTX, (b) => (b[0] = 0x41)), ctx: V3_CTX },
  ],
  version_family_mismatch: [
    { name: 'v2 over IPv6', bytes: v2, ctx: { family: 6, src: 'fe80::1', dst: 'ff02::12' } },
  ],
  bad_type: [
    { name: 'v3 type 2', bytes: mutated(v3, V3_CTX, (b) => (b[0] = 0x32)), ctx: V3_CTX },
    { name: 'v2 type 0', bytes: mutated(v2, V2_CTX, (b) => (b[0] = 0x20)), ctx: V2_CTX },
  ],
  length_mismatch: [
    { name: 'v2 without its auth data', bytes: v2.subarray(0, 12), ctx: V2_CTX },
    { name: 'v3 with one trailing byte', bytes: Uint8Array.from([...v3, 0]), ctx: V3_CTX },
    { name: 'v3 counting 2 addresses, carrying 1', bytes: mutated(v3, V3_CTX, (b) => (b[3] = 2)), ctx: V3_CTX },
    { name: 'v3 IPv4 message read as IPv6', bytes: v3, ctx: { family: 6, src: 'fe80::1', dst: 'ff02::12' } },
  ],
  bad_context: [
    { name: 'v3 with a src that is no address', bytes: v3, ctx: { ...V3_CTX, src: 'not-an-address' } },
    { name: 'v3 IPv4 with an IPv6 dst', bytes: v3, ctx: { ...V3_CTX, dst: 'ff02::12' } },
  ],
  bad_checksum: [
    { name: 'v2 with a flipped address bit', bytes: v2.map((x, i) => (i === 11 ? x ^ 1 : x)), ctx: V2_CTX },
    { name: 'v3 from another source', bytes: v3, ctx: { ...V3_CTX, src: '10.99.0.13' } },
  ],
  bad_address_count: [
    { name: 'v3 with no address', bytes: mutated(v3.subarray(0, 8), V3_CTX, (b) => (b[3] = 0)), ctx: V3_CTX },
    {
      name: 'v2 with no address',
      bytes: mutated(Uint8Array.from([...v2.subarray(0, 8), ...v2.subarray(12)]), V2_CTX, (b) => (b[3] = 0)),
      ctx: V2_CTX,
    },
  ],
  bad_vrid: [{ name: 'VRID 0', bytes: mutated(v3, V3_CTX, (b) => (b[1] = 0)), ctx: V3_CTX }],
  bad_advert_interval: [
    { name: 'v2 Adver Int 0 s', bytes: mutated(v2, V2_CTX, (b) => (b[5] = 0)), ctx: V2_CTX },
    {
      name: 'v3 Max Adver Int 0 under set reserved bits',
      bytes: mutated(v3, V3_CTX, (b) => ((b[4] = 0xf0), (b[5] = 0))),
      ctx: V3_CTX,
    },
  ],
  unsupported_auth_type: [
    { name: 'v2 IP Authentication Header (2)', bytes: mutated(v2, V2_CTX, (b) => (b[4] = 2)), ctx: V2_CTX },
    { name: 'v2 unknown auth type 7', bytes: mutated(v2, V2_CTX, (b) => (b[4] = 7)), ctx: V2_CTX },
  ],
};

describe('DecodeError codes', () => {
  it.each(DECODE_ERROR_CODES)('%s has a negative case', (code) => {
    expect(CASES[code]?.length ?? 0).toBeGreaterThan(0);
  });

  it('lists every code once', () => {
    expect(new Set(DECODE_ERROR_CODES).size).toBe(DECODE_ERROR_CODES.length);
    expect(Object.keys(CASES).sort()).toEqual([...DECODE_ERROR_CODES].sort());
  });

  const all = DECODE_ERROR_CODES.flatMap((code) => CASES[code].map((c) => [code, c.name, c] as const));
  it.each(all)('%s: %s', (code, _name, { bytes, ctx }) => {
    const result = parseAdvert(bytes, ctx);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe(code);
      expect(result.error.message.length).toBeGreaterThan(0);
    }
  });
});

describe('fields the RFCs say to accept', () => {
  it('ignores the v3 reserved bits (RFC 5798 §5.2.6)', () => {
    const bytes = mutated(v3, V3_CTX, (b) => (b[4] = (b[4] ?? 0) | 0xf0));
    expect(parseAdvert(bytes, V3_CTX)).toMatchObject({ ok: true, value: { advertIntervalCs: 10 } });
  });

  it('accepts a v2 simple password and hands its 8 bytes to the instance to compare', () => {
    const password = [...Buffer.from('secret\0\0')];
    const bytes = mutated(v2, V2_CTX, (b) => ((b[4] = 1), b.set(password, 12)));
    expect(parseAdvert(bytes, V2_CTX)).toMatchObject({
      ok: true,
      value: { authType: 1, authData: Uint8Array.from(password) },
    });
  });

  it('accepts priority 0 and 255, VRID 255 and the largest intervals', () => {
    const bytes = mutated(v3, V3_CTX, (b) => ((b[1] = 255), (b[2] = 255), (b[4] = 0x0f), (b[5] = 0xff)));
    expect(parseAdvert(bytes, V3_CTX)).toMatchObject({
      ok: true,
      value: { vrid: 255, priority: 255, advertIntervalCs: 4095 },
    });
    const v2max = mutated(v2, V2_CTX, (b) => ((b[2] = 0), (b[5] = 255)));
    expect(parseAdvert(v2max, V2_CTX)).toMatchObject({ ok: true, value: { priority: 0, advertIntervalCs: 25500 } });
  });

  it('accepts 0xffff for a checksum that computes to 0 (the other one\'s-complement zero)', () => {
    // The last 16 bits of the address take every value, so one of them makes the sum 0xffff.
    const zeroSum = Array.from({ length: 0x10000 }, (_, word) =>
      mutated(v3, V3_CTX, (b) => ((b[10] = word >> 8), (b[11] = word & 0xff))),
    ).find((b) => b[6] === 0 && b[7] === 0);
    expect(zeroSum).toBeDefined();
    const bytes = zeroSum!.slice();
    bytes.set([0xff, 0xff], 6);
    expect(parseAdvert(bytes, V3_CTX).ok).toBe(true);
    expect(parseAdvert(zeroSum!, V3_CTX).ok).toBe(true);
  });
});

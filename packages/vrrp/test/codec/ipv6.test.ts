/**
 * VRRPv3 over IPv6: adverts leave from the link-local address to ff02::12 (RFC 5798 §5.1.2),
 * and the checksum covers the RFC 2460 §8.1 pseudo-header. The expected checksum is computed
 * here from explicit bytes, independently of the codec, and was cross-checked by hand.
 */

import { describe, expect, it } from '@jest/globals';
import { emitAdvert, parseAdvert, vrrpChecksum, type Advert, type AdvertContext } from '../../src/index.js';

const CTX: AdvertContext = { family: 6, src: 'fe80::99ff:fe00:11', dst: 'ff02::12' };
const ADVERT: Advert = {
  version: 3,
  type: 1,
  vrid: 7,
  priority: 200,
  advertIntervalCs: 100,
  addresses: ['2001:db8::100', 'fe80::1'],
  authType: 0,
  authData: new Uint8Array(0),
};

const MESSAGE_WITHOUT_CHECKSUM = [
  0x31, 0x07, 0xc8, 0x02, // version 3 | type 1, VRID 7, priority 200, 2 addresses
  0x00, 0x64, 0x00, 0x00, // rsvd 0 | Max Adver Int 100 cs, checksum (zero while summing)
  0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00, // 2001:db8::100
  0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01, // fe80::1
];
const PSEUDO_HEADER = [
  0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0x99, 0xff, 0xfe, 0x00, 0x00, 0x11, // src fe80::99ff:fe00:11
  0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x12, // dst ff02::12
  0x00, 0x00, 0x00, 40, // upper-layer packet length, 32 bits
  0x00, 0x00, 0x00, 112, // three zero bytes, next header 112 (VRRP)
];

/** RFC 1071, spelled out: sum 16-bit words, fold the carries, complement. */
function internetChecksum(bytes: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i]! << 8) + bytes[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return 0xffff - sum;
}

describe('VRRPv3 over IPv6', () => {
  const expectedChecksum = internetChecksum([...PSEUDO_HEADER, ...MESSAGE_WITHOUT_CHECKSUM]);

  it('the hand-computed checksum of the fixed vector is 0x4317', () => {
    expect(expectedChecksum).toBe(0x4317);
  });

  it('emits the expected bytes, checksum included', () => {
    const expected = Uint8Array.from(MESSAGE_WITHOUT_CHECKSUM);
    expected[6] = expectedChecksum >> 8;
    expected[7] = expectedChecksum & 0xff;
    expect(emitAdvert(ADVERT, CTX)).toEqual(expected);
  });

  it('vrrpChecksum agrees, whatever the checksum field holds', () => {
    const message = Uint8Array.from(MESSAGE_WITHOUT_CHECKSUM);
    const pseudoHeader = { src: Uint8Array.from(PSEUDO_HEADER.slice(0, 16)), dst: Uint8Array.from(PSEUDO_HEADER.slice(16, 32)) };
    expect(vrrpChecksum(message, pseudoHeader)).toBe(expectedChecksum);
    message[6] = 0xab;
    expect(vrrpChecksum(message, pseudoHeader)).toBe(expectedChecksum);
  });

  it('round-trips', () => {
    expect(parseAdvert(emitAdvert(ADVERT, CTX), CTX)).toEqual({ ok: true, value: ADVERT });
  });

  it('the checksum depends on the link-local source', () => {
    const bytes = emitAdvert(ADVERT, CTX);
    expect(parseAdvert(bytes, { ...CTX, src: 'fe80::99ff:fe00:12' })).toMatchObject({
      ok: false,
      error: { code: 'bad_checksum', received: 0x4317 },
    });
  });

  it('ignores v3Ipv4ChecksumWithoutPseudoHeader: IPv6 always has the pseudo-header', () => {
    const bytes = emitAdvert(ADVERT, { ...CTX, v3Ipv4ChecksumWithoutPseudoHeader: true });
    expect(bytes.subarray(6, 8)).toEqual(Uint8Array.from([0x43, 0x17]));
  });
});

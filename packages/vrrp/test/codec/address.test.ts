/** Address text <-> bytes, and RFC 5952 canonical IPv6 text. */

import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { bytesToIpv6, canonicalAddress, ipv4ToBytes, ipv6ToBytes } from '../../src/index.js';

describe('IPv4', () => {
  it('parses dotted decimal and refuses the rest', () => {
    expect(ipv4ToBytes('10.99.0.100')).toEqual(Uint8Array.from([10, 99, 0, 100]));
    for (const bad of ['10.99.0', '10.99.0.256', '010.1.1.1', '::1', '', 'a.b.c.d']) {
      expect(ipv4ToBytes(bad)).toBeUndefined();
    }
  });
});

describe('IPv6 (RFC 5952)', () => {
  it.each([
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'], // §4.1, §4.3: no leading zeros, lowercase
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // §4.2.3: first of two equal runs
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // §4.2.3: the longest run
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // §4.2.2: one zero group stays
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['fe80:0:0:0:0:0:0:0', 'fe80::'],
    ['FF02::12', 'ff02::12'],
    ['::ffff:c000:0201', '::ffff:192.0.2.1'], // §5: IPv4-mapped in dotted decimal
    ['::192.0.2.1', '::c000:201'], // deprecated IPv4-compatible: plain hex
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
  ])('%s -> %s', (text, canonical) => {
    expect(canonicalAddress(6, text)).toBe(canonical);
  });

  it('refuses zones and non-addresses', () => {
    for (const bad of ['fe80::1%eth0', '1::2::3', '10.0.0.1', '12345::', ':::', '']) {
      expect(ipv6ToBytes(bad)).toBeUndefined();
    }
  });

  it('matches the WHATWG URL serializer (an independent formatter) outside IPv4-mapped space', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        const text = bytesToIpv6(bytes);
        expect(ipv6ToBytes(text)).toEqual(bytes);
        if (!text.includes('.')) expect(`[${text}]`).toBe(new URL(`http://[${text}]/`).hostname);
      }),
      { numRuns: 5000 },
    );
  });

  it('zero-heavy addresses too (the compression cases)', () => {
    const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
    fc.assert(
      fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (groups) => {
        const bytes = new Uint8Array(groups.flatMap((g) => [g >> 8, g & 0xff]));
        const text = bytesToIpv6(bytes);
        expect(ipv6ToBytes(text)).toEqual(bytes);
        if (!text.includes('.')) expect(`[${text}]`).toBe(new URL(`http://[${groups.map((g) => g.toString(16)).join(':')}]/`).hostname);
      }),
      { numRuns: 5000 },
    );
  });

  it('parses whatever fast-check calls an IPv6 address, and its canonical text is a fixed point', () => {
    fc.assert(
      fc.property(fc.ipV6(), (text) => {
        const canonical = canonicalAddress(6, text);
        expect(canonical).toBeDefined();
        expect(canonicalAddress(6, canonical!)).toBe(canonical);
        expect(ipv6ToBytes(canonical!)).toEqual(ipv6ToBytes(text));
      }),
      { numRuns: 2000 },
    );
  });
});

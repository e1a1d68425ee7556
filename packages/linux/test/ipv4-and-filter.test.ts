import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { AddressTexts, BoundedMap, BufferViews } from '../src/advert/caches.js';
import { IPV4_DST_OFFSET, IPV4_SRC_OFFSET, Ipv4HeaderView } from '../src/advert/ipv4-header.js';
import { checkAdvert, type AdvertPacket } from '../src/advert/receive-filter.js';
import { internetChecksum } from '../src/frames/checksum.js';

// First advert of fixtures/keepalived-v3-ipv4.txt: IPv4 header + VRRPv3 message.
const KEEPALIVED_V3 = Buffer.from('45c0002000120000ff70d01b0a63000be0000012' + '31339601000a42fd0a630064', 'hex');

describe('IPv4 header view', () => {
  /** The bytes at the start of a larger reused buffer, as the transport reads them. */
  function inBuffer(bytes: Uint8Array): Ipv4HeaderView {
    const buffer = new Uint8Array(128).fill(0xee);
    buffer.set(bytes);
    return new Ipv4HeaderView(buffer);
  }

  test('reads TTL, protocol, lengths and addresses of the header keepalived sends', () => {
    const view = inBuffer(KEEPALIVED_V3);
    expect(view.check(KEEPALIVED_V3.length)).toBeUndefined();
    expect(view.ttl).toBe(255);
    expect(view.protocol).toBe(112);
    expect(view.headerLength).toBe(20);
    expect(view.totalLength).toBe(32);
    expect(Array.from(view.bytes.subarray(IPV4_SRC_OFFSET, IPV4_SRC_OFFSET + 4))).toEqual([10, 99, 0, 11]);
    expect(Array.from(view.bytes.subarray(IPV4_DST_OFFSET, IPV4_DST_OFFSET + 4))).toEqual([224, 0, 0, 18]);
  });

  test.each([
    ['shorter than a header', KEEPALIVED_V3.subarray(0, 19), 19, 'truncated_ip'],
    ['shorter than its total length', KEEPALIVED_V3.subarray(0, 30), 30, 'truncated_ip'],
    ['cut by the kernel (longer than the buffer)', KEEPALIVED_V3, 129, 'truncated_ip'],
    ['not version 4', Buffer.concat([Buffer.from([0x65]), KEEPALIVED_V3.subarray(1)]), 32, 'bad_ip_header'],
    ['header length below 20', Buffer.concat([Buffer.from([0x44]), KEEPALIVED_V3.subarray(1)]), 32, 'bad_ip_header'],
    ['total length below the header', Buffer.concat([KEEPALIVED_V3.subarray(0, 2), Buffer.from([0, 16]), KEEPALIVED_V3.subarray(4)]), 32, 'bad_ip_header'],
  ])('%s -> %s', (_name, bytes, length, reason) => {
    expect(inBuffer(bytes).check(length)).toBe(reason);
  });

  /** An IPv4 header as RFC 791 §3.1 lays it out, from its fields, followed by `payload`. */
  interface Header {
    version: number;
    ihlWords: number;
    ttl: number;
    protocol: number;
    src: Uint8Array;
    dst: Uint8Array;
    payloadLength: number;
  }
  const headerArb: fc.Arbitrary<Header> = fc.record({
    version: fc.constant(4),
    ihlWords: fc.integer({ min: 5, max: 15 }),
    ttl: fc.integer({ min: 0, max: 255 }),
    protocol: fc.integer({ min: 0, max: 255 }),
    src: fc.uint8Array({ minLength: 4, maxLength: 4 }),
    dst: fc.uint8Array({ minLength: 4, maxLength: 4 }),
    payloadLength: fc.integer({ min: 0, max: 40 }),
  });
  function packetOf(h: Header, totalLength = h.ihlWords * 4 + h.payloadLength): Uint8Array {
    const bytes = new Uint8Array(h.ihlWords * 4 + h.payloadLength).fill(0xa5);
    bytes[0] = (h.version << 4) | h.ihlWords;
    bytes[2] = totalLength >> 8;
    bytes[3] = totalLength & 0xff;
    bytes[8] = h.ttl;
    bytes[9] = h.protocol;
    bytes.set(h.src, 12);
    bytes.set(h.dst, 16);
    return bytes;
  }

  test('any well-formed header: accepted at its total length, and every field reads back', () => {
    fc.assert(
      fc.property(headerArb, (h) => {
        const packet = packetOf(h);
        const view = inBuffer(packet);
        expect(view.check(packet.length)).toBeUndefined();
        expect([view.headerLength, view.totalLength, view.ttl, view.protocol]).toEqual([h.ihlWords * 4, packet.length, h.ttl, h.protocol]);
        expect(view.bytes.subarray(IPV4_SRC_OFFSET, IPV4_SRC_OFFSET + 4)).toEqual(h.src);
        expect(view.bytes.subarray(IPV4_DST_OFFSET, IPV4_DST_OFFSET + 4)).toEqual(h.dst);
      }),
    );
  });

  test('any well-formed header read short of its total length is truncated_ip, whatever the cut', () => {
    fc.assert(
      fc.property(headerArb, fc.nat(), (h, cutSeed) => {
        const packet = packetOf(h);
        const length = cutSeed % packet.length; // 0 .. totalLength - 1
        expect(inBuffer(packet).check(length)).toBe('truncated_ip');
      }),
    );
  });

  test('a version other than 4, an IHL below 5 words or a total length below the header is bad_ip_header', () => {
    const broken = fc.oneof(
      fc.tuple(headerArb, fc.integer({ min: 0, max: 15 }).filter((v) => v !== 4)).map(([h, version]) => packetOf({ ...h, version })),
      fc.tuple(headerArb, fc.integer({ min: 0, max: 4 })).map(([h, ihlWords]) => {
        const packet = packetOf({ ...h, payloadLength: h.payloadLength + 20 });
        packet[0] = 0x40 | ihlWords;
        return packet;
      }),
      fc.tuple(headerArb, fc.nat()).map(([h, n]) => packetOf(h, n % (h.ihlWords * 4))),
    );
    fc.assert(
      fc.property(broken, (packet) => {
        expect(inBuffer(packet).check(packet.length)).toBe('bad_ip_header');
      }),
    );
  });

  test('arbitrary bytes at any length: the RFC 791 fields at their offsets, and a verdict that agrees with them', () => {
    const verdicts = new Set<string | undefined>();
    // size 'max': lengths up to 64 (fast-check's default size keeps arrays to about 10 bytes).
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64, size: 'max' }), fc.integer({ min: 0, max: 80 }), (bytes, length) => {
        const view = new Ipv4HeaderView(bytes);
        const at = (i: number) => bytes[i] ?? 0; // past the end reads as 0: check() has said truncated_ip first
        expect([view.headerLength, view.totalLength, view.ttl, view.protocol]).toEqual([(at(0) & 0x0f) * 4, (at(2) << 8) | at(3), at(8), at(9)]);
        const verdict = view.check(length);
        verdicts.add(verdict);
        if (length > bytes.length || length < 20) expect(verdict).toBe('truncated_ip');
        else if (at(0) >> 4 !== 4 || view.headerLength < 20 || view.totalLength < view.headerLength) expect(verdict).toBe('bad_ip_header');
        else expect(verdict).toBe(length < view.totalLength ? 'truncated_ip' : undefined);
      }),
    );
    // The bytes reached past the length checks (well-formed headers: the properties above).
    expect(verdicts).toEqual(new Set(['truncated_ip', 'bad_ip_header']));
  });
});

describe('receive caches', () => {
  test('address texts are canonical, made once per address, and follow the bytes', () => {
    const texts = new AddressTexts(16);
    const bytes = Uint8Array.from([0, 0, 0xfe, 0x80, ...new Array<number>(13).fill(0), 1]);
    const first = texts.text(bytes, 2);
    expect(first).toBe('fe80::1');
    expect(texts.text(bytes, 2)).toBe(first);
    bytes[17] = 2;
    expect(texts.text(bytes, 2)).toBe('fe80::2');
    const v4 = new AddressTexts(4);
    expect(v4.text(KEEPALIVED_V3, IPV4_SRC_OFFSET)).toBe('10.99.0.11');
    expect(v4.text(KEEPALIVED_V3, IPV4_DST_OFFSET)).toBe('224.0.0.18');
  });

  test('views show whatever the buffer holds now, one object per [start, end)', () => {
    const buffer = new Uint8Array(16);
    const views = new BufferViews(buffer);
    const a = views.view(4, 8);
    expect(views.view(4, 8)).toBe(a);
    expect(views.view(4, 9)).not.toBe(a);
    buffer.set([1, 2, 3, 4], 4);
    expect(Array.from(a)).toEqual([1, 2, 3, 4]);
  });

  test('a bounded map forgets everything once full', () => {
    const map = new BoundedMap<number, string>(2);
    map.set(1, 'a');
    map.set(2, 'b');
    expect(map.get(1)).toBe('a');
    map.set(3, 'c');
    expect([map.get(1), map.get(2), map.get(3)]).toEqual([undefined, undefined, 'c']);
  });
});

describe('checksum', () => {
  test('RFC 1071 example and odd lengths across parts', () => {
    // RFC 1071 §3: 0001 f203 f4f5 f6f7 sums to ddf2, checksum 220d.
    expect(internetChecksum(Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]))).toBe(0x220d);
    const whole = Uint8Array.from([1, 2, 3, 4, 5]);
    expect(internetChecksum(whole.subarray(0, 1), whole.subarray(1, 4), whole.subarray(4))).toBe(internetChecksum(whole));
  });
});

describe('receive filter (RFC 5798 §7.1 IP-level checks)', () => {
  const good: AdvertPacket = { family: 4, src: '10.0.0.2', dst: '224.0.0.18', ttlOrHopLimit: 255, ifindex: 3, payload: new Uint8Array(8) };
  const ctx = { ifindex: 3, ownAddresses: new Set(['10.0.0.1']) };
  test.each([
    ['accepted', good, undefined],
    ['TTL 64', { ...good, ttlOrHopLimit: 64 }, 'bad_ttl'],
    ['TTL 254', { ...good, ttlOrHopLimit: 254 }, 'bad_ttl'],
    ['from ourselves', { ...good, src: '10.0.0.1' }, 'own_packet'],
    ['on another interface', { ...good, ifindex: 4 }, 'wrong_interface'],
  ])('%s', (_name, packet, reason) => {
    expect(checkAdvert(packet, ctx)).toBe(reason);
  });
});

import { describe, expect, test } from '@jest/globals';
import { buildIpv4Header, parseIpv4Packet } from '../src/advert/ipv4-header.js';
import { checkAdvert, type AdvertPacket } from '../src/advert/receive-filter.js';
import { internetChecksum } from '../src/frames/checksum.js';
import { ipv4ToBytes } from '../src/ip.js';

// First advert of fixtures/keepalived-v3-ipv4.txt: IPv4 header + VRRPv3 message.
const KEEPALIVED_V3 = Buffer.from('45c0002000120000ff70d01b0a63000be0000012' + '31339601000a42fd0a630064', 'hex');

describe('IPv4 header', () => {
  test('builds the header keepalived sends, byte for byte', () => {
    const header = buildIpv4Header({
      src: ipv4ToBytes('10.99.0.11'),
      dst: ipv4ToBytes('224.0.0.18'),
      protocol: 112,
      payloadLength: 12,
      ttl: 255,
      tos: 0xc0,
      id: 0x12,
    });
    expect(Buffer.from(header).toString('hex')).toBe(KEEPALIVED_V3.subarray(0, 20).toString('hex'));
    expect(internetChecksum(header)).toBe(0);
  });

  test('parses TTL, addresses and payload', () => {
    const r = parseIpv4Packet(KEEPALIVED_V3);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.packet.ttl).toBe(255);
    expect(r.packet.protocol).toBe(112);
    expect(Array.from(r.packet.src)).toEqual([10, 99, 0, 11]);
    expect(Buffer.from(r.packet.payload).toString('hex')).toBe('31339601000a42fd0a630064');
  });

  test.each([
    ['shorter than a header', KEEPALIVED_V3.subarray(0, 19), 'truncated_ip'],
    ['shorter than its total length', KEEPALIVED_V3.subarray(0, 30), 'truncated_ip'],
    ['not version 4', Buffer.concat([Buffer.from([0x65]), KEEPALIVED_V3.subarray(1)]), 'bad_ip_header'],
    ['header length below 20', Buffer.concat([Buffer.from([0x44]), KEEPALIVED_V3.subarray(1)]), 'bad_ip_header'],
  ])('%s -> %s', (_name, bytes, reason) => {
    expect(parseIpv4Packet(bytes)).toEqual({ ok: false, reason });
  });

  test('random bytes never throw', () => {
    for (let i = 0; i < 2000; i++) {
      const bytes = Uint8Array.from({ length: Math.floor(Math.random() * 64) }, () => Math.floor(Math.random() * 256));
      expect(() => parseIpv4Packet(bytes)).not.toThrow();
    }
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

/** Real keepalived 2.2.7 adverts (the repository's fixtures/): decode to the known fields, re-emit byte for byte. */

import { describe, expect, it } from '@jest/globals';
import { emitAdvert, parseAdvert, type AdvertContext } from '../../src/index.js';
import { vrrpMessages, type CapturedVrrp } from './pcap.js';

const VIP = '10.99.0.100';
const ctxOf = (packet: CapturedVrrp, extra: Partial<AdvertContext> = {}): AdvertContext => ({
  family: 4,
  src: packet.src,
  dst: packet.dst,
  ...extra,
});

describe('keepalived VRRPv2 capture', () => {
  const packets = vrrpMessages('keepalived-v2-ipv4.pcap');

  it('holds the adverts the README describes', () => {
    expect(packets).toHaveLength(12);
    expect(packets.every((p) => p.ttl === 255 && p.dst === '224.0.0.18')).toBe(true);
  });

  it.each(packets.map((p, i) => [i, p] as const))('advert %i decodes to the known fields', (_i, packet) => {
    const result = parseAdvert(packet.message, ctxOf(packet));
    expect(result).toMatchObject({
      ok: true,
      value: {
        version: 2,
        type: 1,
        vrid: 51,
        advertIntervalCs: 100,
        addresses: [VIP],
        authType: 0,
        authData: new Uint8Array(8),
      },
    });
  });

  it('carries the priority-150 master, its priority-0 goodbye, then the priority-100 successor', () => {
    const seen = packets.map((p) => {
      const result = parseAdvert(p.message, ctxOf(p));
      return result.ok ? `${p.src}:${result.value.priority}` : result.error.code;
    });
    const goodbye = seen.indexOf('10.99.0.11:0');
    expect(seen.slice(0, goodbye)).toEqual(Array(goodbye).fill('10.99.0.11:150'));
    expect(goodbye).toBeGreaterThan(0);
    expect(seen.slice(goodbye + 1)).toEqual(Array(seen.length - goodbye - 1).fill('10.99.0.12:100'));
  });

  it.each(packets.map((p, i) => [i, p] as const))('advert %i re-emits to identical bytes', (_i, packet) => {
    const result = parseAdvert(packet.message, ctxOf(packet));
    if (!result.ok) throw new Error(result.error.message);
    expect(emitAdvert(result.value, ctxOf(packet))).toEqual(packet.message);
  });

  it('ignores the v3 pseudo-header option: v2 never has a pseudo-header', () => {
    const packet = packets[0]!;
    const ctx = ctxOf(packet, { v3Ipv4ChecksumWithoutPseudoHeader: true, src: '192.0.2.1' });
    expect(parseAdvert(packet.message, ctx).ok).toBe(true);
  });
});

describe('keepalived VRRPv3 IPv4 capture', () => {
  const packets = vrrpMessages('keepalived-v3-ipv4.pcap');

  it('holds 30 adverts at 0.1 s', () => {
    expect(packets).toHaveLength(30);
  });

  it.each(packets.map((p, i) => [i, p] as const))('advert %i decodes and re-emits identically', (_i, packet) => {
    const result = parseAdvert(packet.message, ctxOf(packet));
    expect(result).toEqual({
      ok: true,
      value: {
        version: 3,
        type: 1,
        vrid: 51,
        priority: 150,
        advertIntervalCs: 10,
        addresses: [VIP],
        authType: 0,
        authData: new Uint8Array(0),
      },
    });
    if (result.ok) expect(emitAdvert(result.value, ctxOf(packet))).toEqual(packet.message);
  });

  it('fails the checksum when verified without the pseudo-header: keepalived includes it for IPv4', () => {
    const packet = packets[0]!;
    const result = parseAdvert(packet.message, ctxOf(packet, { v3Ipv4ChecksumWithoutPseudoHeader: true }));
    expect(result).toMatchObject({ ok: false, error: { code: 'bad_checksum', received: 0x42fd } });
  });

  it('fails the checksum when the pseudo-header has another destination (say, unicast)', () => {
    const packet = packets[0]!;
    const result = parseAdvert(packet.message, ctxOf(packet, { dst: '10.99.0.12' }));
    expect(result).toMatchObject({ ok: false, error: { code: 'bad_checksum' } });
  });

  it('with the option, emits a checksum over the message only, which parses back with the option', () => {
    const packet = packets[0]!;
    const ctx = ctxOf(packet, { v3Ipv4ChecksumWithoutPseudoHeader: true });
    const decoded = parseAdvert(packet.message, ctxOf(packet));
    if (!decoded.ok) throw new Error(decoded.error.message);
    const bytes = emitAdvert(decoded.value, ctx);
    expect(bytes.subarray(6, 8)).not.toEqual(packet.message.subarray(6, 8));
    expect(parseAdvert(bytes, ctx)).toEqual(decoded);
    expect(parseAdvert(bytes, ctxOf(packet))).toMatchObject({ ok: false, error: { code: 'bad_checksum' } });
  });
});

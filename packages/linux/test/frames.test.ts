/** Golden bytes: our frame builders against keepalived's own frames. */
import { describe, expect, test } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { buildGratuitousArp } from '../src/frames/arp.js';
import { internetChecksum, ipv6PseudoHeader } from '../src/frames/checksum.js';
import { parseMac } from '../src/frames/ethernet.js';
import { ALL_NODES, buildUnsolicitedNeighborAdvert } from '../src/frames/neighbor-advert.js';
import { ipv4ToBytes, ipv6ToBytes } from '../src/ip.js';
import { readPcap } from './helpers/pcap.js';

// The repository's fixtures/ (scripts/fixtures/capture-keepalived captures them again).
const FIXTURES = fileURLToPath(new URL('../../../fixtures/', import.meta.url));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('gratuitous ARP', () => {
  const records = readPcap(`${FIXTURES}keepalived-garp-takeover.pcap`);

  test('equals every frame keepalived sent on takeover, byte for byte', () => {
    const ours = buildGratuitousArp({ mac: parseMac('02:99:00:00:00:12'), ip: ipv4ToBytes('10.99.0.100') });
    expect(records.length).toBeGreaterThanOrEqual(5);
    for (const r of records) expect(hex(r.bytes)).toBe(hex(ours));
  });

  test('keepalived sends 5 at once and 5 more about 5 s later (the default policy)', () => {
    const t0 = records[0]?.timeUs ?? 0;
    const offsetsMs = records.map((r) => Math.round((r.timeUs - t0) / 1000));
    expect(offsetsMs.filter((ms) => ms < 100)).toHaveLength(5);
    expect(offsetsMs.filter((ms) => ms > 4900 && ms < 5100)).toHaveLength(records.length - 5);
  });
});

describe('unsolicited neighbour advertisement', () => {
  const mac = parseMac('02:99:00:00:00:12');
  const vip = ipv6ToBytes('2001:db8:99::100');
  const frame = buildUnsolicitedNeighborAdvert({ mac, ip: vip });

  test('layout: Ethernet to 33:33:00:00:00:01, IPv6 from the VIP to ff02::1, hop limit 255', () => {
    expect(frame.length).toBe(14 + 40 + 32);
    expect(hex(frame.subarray(0, 14))).toBe('333300000001' + '029900000012' + '86dd');
    expect(hex(frame.subarray(14, 22))).toBe('60000000' + '0020' + '3a' + 'ff'); // version, length 32, ICMPv6, 255
    expect(hex(frame.subarray(22, 38))).toBe(hex(vip));
    expect(hex(frame.subarray(38, 54))).toBe(hex(ALL_NODES));
  });

  test('ICMPv6: type 136 code 0, Override only, target = VIP, one target link-layer option', () => {
    const icmp = frame.subarray(54);
    expect(icmp[0]).toBe(136);
    expect(icmp[1]).toBe(0);
    expect(hex(icmp.subarray(4, 8))).toBe('20000000');
    expect(hex(icmp.subarray(8, 24))).toBe(hex(vip));
    expect(hex(icmp.subarray(24, 32))).toBe('0201' + '029900000012');
  });

  test('the checksum verifies over the pseudo-header', () => {
    const icmp = frame.subarray(54);
    expect(internetChecksum(ipv6PseudoHeader(vip, ALL_NODES, icmp.length, 58), icmp)).toBe(0);
  });
});

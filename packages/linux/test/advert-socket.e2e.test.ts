/**
 * AdvertSocket on the wire, between two network namespaces joined by a veth pair. The
 * code under test runs in child processes inside the namespaces (test/children).
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { internetChecksum } from '../src/frames/checksum.js';
import { Lab, type Child } from './helpers/lab.js';
import { readPcap } from './helpers/pcap.js';
import { requireLabPrerequisites } from './helpers/prerequisites.js';

jest.setTimeout(30_000);

// A VRRPv3 advert from the fixture (vrid 51, prio 150, 10 cs, 10.99.0.100); the socket
// does not parse it, any bytes would do.
const PAYLOAD_HEX = '3133960100 0a42fd0a630064'.replace(/ /g, '');
const A_V4 = '10.211.0.1';
const B_V4 = '10.211.0.2';
// Every byte of a 32-bit ifindex differs: the addon hands IPv6's over byte by byte.
const B_IFINDEX = 0x01020304;
const A_IFINDEX = 0x01020305;
const ETHERNET_HEADER = 14;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('AdvertSocket end to end', () => {
  const lab = new Lab();
  const dir = mkdtempSync(join(tmpdir(), 'kvl-advert-'));

  beforeAll(async () => {
    requireLabPrerequisites();
    await lab.addNamespace('a');
    await lab.addNamespace('b');
    await lab.link(
      { ns: 'a', ifname: 'eth0', cidr: `${A_V4}/24`, index: A_IFINDEX },
      { ns: 'b', ifname: 'eth0', cidr: `${B_V4}/24`, index: B_IFINDEX },
    );
  });
  afterAll(async () => {
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  async function receiver(family: 4 | 6, listenMs = 8000): Promise<Child> {
    const rx = lab.child('b', 'advert-node.mjs', { ifname: 'eth0', family, listenMs });
    await rx.waitFor((l) => l['event'] === 'ready');
    return rx;
  }

  async function linkLocal(ns: string): Promise<string> {
    const out = await lab.exec(ns, ['ip', '-6', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'link']);
    const m = /inet6 (fe80::[0-9a-f:]+)\//.exec(out);
    if (m?.[1] === undefined) throw new Error(`no link-local in ${out}`);
    return m[1];
  }

  test('IPv4 multicast advert arrives with TTL 255 from the primary address to 224.0.0.18', async () => {
    const rx = await receiver(4);
    const tx = lab.child('a', 'advert-node.mjs', { ifname: 'eth0', family: 4, send: { payloadHex: PAYLOAD_HEX, count: 3 } });
    expect(await tx.exited).toBe(0);
    const advert = await rx.waitFor((l) => l['event'] === 'advert');
    await rx.stop();
    expect(advert).toMatchObject({ family: 4, src: A_V4, dst: '224.0.0.18', ttlOrHopLimit: 255, payload: PAYLOAD_HEX });
    expect(tx.events('sent').every((s) => s['ok'] === true)).toBe(true);
    expect(rx.events('advert')).toHaveLength(3);
  });

  test('IPv4 unicast advert to a peer keeps TTL 255', async () => {
    const rx = await receiver(4);
    const tx = lab.child('a', 'advert-node.mjs', { ifname: 'eth0', family: 4, send: { payloadHex: PAYLOAD_HEX, count: 1, dst: B_V4 } });
    expect(await tx.exited).toBe(0);
    const advert = await rx.waitFor((l) => l['event'] === 'advert');
    await rx.stop();
    expect(advert).toMatchObject({ family: 4, src: A_V4, dst: B_V4, ttlOrHopLimit: 255 });
  });

  test('IPv6 advert arrives from the link-local address to ff02::12 with hop limit 255 (from the addon)', async () => {
    const rx = await receiver(6);
    const tx = lab.child('a', 'advert-node.mjs', { ifname: 'eth0', family: 6, send: { payloadHex: PAYLOAD_HEX, count: 2 } });
    expect(await tx.exited).toBe(0);
    const advert = await rx.waitFor((l) => l['event'] === 'advert');
    await rx.stop();
    expect(rx.events('ready')[0]).toMatchObject({ ifindex: B_IFINDEX });
    expect(advert).toMatchObject({
      family: 6,
      src: await linkLocal('a'),
      dst: 'ff02::12',
      ttlOrHopLimit: 255,
      ifindex: B_IFINDEX,
      payload: PAYLOAD_HEX,
    });
  });

  test('IPv6 unicast advert to the peer reports that destination, hop limit 255 and the arrival ifindex', async () => {
    const rx = await receiver(6);
    const dst = await linkLocal('b');
    const tx = lab.child('a', 'advert-node.mjs', { ifname: 'eth0', family: 6, send: { payloadHex: PAYLOAD_HEX, count: 1, dst } });
    expect(await tx.exited).toBe(0);
    const advert = await rx.waitFor((l) => l['event'] === 'advert');
    await rx.stop();
    expect(advert).toMatchObject({ family: 6, src: await linkLocal('a'), dst, ttlOrHopLimit: 255, ifindex: B_IFINDEX, payload: PAYLOAD_HEX });
  });

  test('the IPv4 header on the wire: TOS 0xc0, TTL 255, protocol 112, the primary source, no DF, id and checksum by the kernel', async () => {
    const pcap = join(dir, 'ipv4-header.pcap');
    const tcpdump = lab.spawn('b', ['tcpdump', '-i', 'eth0', '--immediate-mode', '-U', '-Z', 'root', '-n', '-w', pcap, 'ip proto 112']);
    for (let i = 0; i < 50 && !tcpdump.stderr.join('').includes('listening on'); i++) await new Promise((r) => setTimeout(r, 100));
    // A secondary address on A: the source must stay the primary one.
    await lab.exec('a', ['ip', 'addr', 'add', '10.211.0.100/24', 'dev', 'eth0']);
    try {
      for (const dst of ['224.0.0.18', B_V4]) {
        const tx = lab.child('a', 'advert-node.mjs', { ifname: 'eth0', family: 4, send: { payloadHex: PAYLOAD_HEX, count: 3, dst, intervalMs: 1 } });
        expect(await tx.exited).toBe(0);
      }
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await tcpdump.stop();
      await lab.exec('a', ['ip', 'addr', 'del', '10.211.0.100/24', 'dev', 'eth0']);
    }

    const packets = readPcap(pcap).map((r) => r.bytes.subarray(ETHERNET_HEADER));
    expect(packets).toHaveLength(6);
    const ids = new Set<string>();
    packets.forEach((p, i) => {
      const header = p.subarray(0, 20);
      const dst = i < 3 ? 'e0000012' : '0ad30002';
      // Version 4, IHL 5, TOS 0xc0, total length; flags and fragment 0 (no DF); TTL 255,
      // protocol 112; source 10.211.0.1; the destination; then the payload.
      expect(hex(header.subarray(0, 4))).toBe(`45c0${(20 + PAYLOAD_HEX.length / 2).toString(16).padStart(4, '0')}`);
      expect(hex(header.subarray(6, 10))).toBe('0000ff70');
      expect(hex(header.subarray(12, 20))).toBe(`0ad30001${dst}`);
      expect(hex(p.subarray(20))).toBe(PAYLOAD_HEX);
      expect(internetChecksum(header)).toBe(0);
      ids.add(hex(header.subarray(4, 6)));
    });
    // We send id 0: the kernel numbers the packets (raw(7)), so they differ.
    expect(ids.size).toBe(6);
    expect(ids.has('0000')).toBe(false);

    const text = await lab.exec('b', ['tcpdump', '-nn', '-vv', '-r', pcap]);
    expect(text.match(/tos 0xc0, ttl 255, id \d+, offset 0, flags \[none\], proto VRRP \(112\), length 32\)/g)).toHaveLength(6);
    expect(text).not.toMatch(/bad cksum/);
  });

  test.each([4, 6] as const)('IPv%d: 300 adverts sent at once all arrive, each with its own bytes', async (family) => {
    const rx = await receiver(family);
    // Three lengths in turn, so payloads of every length follow each other in the buffer.
    const payloadsHex = Array.from({ length: 300 }, (_, i) => `${PAYLOAD_HEX}${'00'.repeat(4 * (i % 3))}${i.toString(16).padStart(4, '0')}`);
    const tx = lab.child('a', 'advert-node.mjs', { ifname: 'eth0', family, send: { payloadsHex } });
    expect(await tx.exited).toBe(0);
    const outcomes = tx.events('sent');
    expect(outcomes).toHaveLength(300);
    expect(outcomes.filter((o) => o['ok'] !== true)).toEqual([]);
    await rx.waitFor(() => rx.events('advert').length >= 300);
    await rx.stop();
    const received = rx.events('advert');
    // Every packet sent arrives with its own bytes, in order: the reused buffer mixes none up.
    expect(received.map((a) => a['payload'])).toEqual(payloadsHex);
    expect(new Set(received.map((a) => `${String(a['src'])} ${String(a['dst'])} ${String(a['ttlOrHopLimit'])}`)).size).toBe(1);
    expect(rx.events('counters')[0]?.['counters']).toMatchObject({ received: 300, accepted: 300, receiveErrors: 0 });
  });

  test('a full send buffer is an EAGAIN outcome, counted, only after far more than a burst of 255', async () => {
    // A slow queue holds every packet sent, and each holds its share of the send buffer.
    await lab.exec('a', ['tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'tbf', 'rate', '8kbit', 'burst', '1600', 'limit', '100000000']);
    try {
      const tx = lab.child('a', 'advert-node.mjs', { ifname: 'eth0', family: 4, send: { payloadHex: PAYLOAD_HEX, untilFailure: 200_000 } });
      expect(await tx.exited).toBe(0);
      const burst = tx.events('burst')[0];
      expect(burst?.['failure']).toEqual({ ok: false, code: 'EAGAIN' });
      // The default send buffer (wmem_default) holds about 250 such packets; ours 4 MiB.
      expect(burst?.['sent']).toBeGreaterThan(2000);
      expect(tx.events('counters')[0]?.['counters']).toMatchObject({ sent: burst?.['sent'], sendErrors: 1 });
    } finally {
      await lab.exec('a', ['tc', 'qdisc', 'del', 'dev', 'eth0', 'root']);
    }
  });

  test('addon: arguments checked, EAGAIN when drained, EBADF once closed (AdvertSocket too)', async () => {
    const child = lab.child('a', 'addon-node.mjs', { mode: 'checks', ifname: 'eth0', ifindex: A_IFINDEX, source4: A_V4 });
    expect(await child.exited).toBe(0);
    const checks = Object.fromEntries(child.events('check').map((c) => [c['name'], c['threw'] ?? c['returned']]));
    const typeError = 'TypeError';
    expect(checks).toEqual({
      'raw4Open ttl 0': typeError,
      'raw4Open ttl 256': typeError,
      'raw4Open tos 256': typeError,
      'raw4Open no tos': typeError,
      'raw4Open source 0.0.0.0': typeError,
      'raw4Open source multicast': typeError,
      'raw4Open source 3 bytes': typeError,
      'raw4Open group 16 bytes': typeError,
      'recv4Into drained': 'EAGAIN',
      'recv6Into drained': 'EAGAIN',
      'recv6Into short meta': typeError,
      'raw6Send on an IPv4 handle': typeError,
      'raw4Send to 16 bytes': typeError,
      'socketDrops fresh': 0,
      'socketDrops not a handle': typeError,
      'close twice': null,
      'raw4Send closed': 'EBADF',
      'recv4Into closed': 'EBADF',
      'raw6Send closed': 'EBADF',
      'socketDrops closed': 'EBADF',
      'AdvertSocket send to IPv6': { ok: false, code: 'EAFNOSUPPORT' },
      'AdvertSocket send closed': { ok: false, code: 'EBADF' },
    });
    expect(child.events('counters')[0]?.['counters']).toMatchObject({ sent: 0, sendErrors: 1 });
  });

  test.each([4, 6] as const)('IPv%d: a packet cut by a small buffer reports its whole length', async (family) => {
    const rx = lab.child('b', 'addon-node.mjs', { mode: 'cut', family, ifindex: B_IFINDEX, source4: B_V4, bufferLength: 8 });
    await rx.waitFor((l) => l['event'] === 'ready');
    const tx = lab.child('a', 'advert-node.mjs', { ifname: 'eth0', family, send: { payloadHex: PAYLOAD_HEX, count: 1 } });
    expect(await tx.exited).toBe(0);
    const received = await rx.waitFor((l) => l['event'] === 'received');
    // IPv4 sockets hand over the header too; IPv6 ones flag the cut in the metadata.
    expect(received).toMatchObject(family === 4 ? { length: 20 + PAYLOAD_HEX.length / 2 } : { length: PAYLOAD_HEX.length / 2 });
    if (family === 6) expect((received['flags'] as number) & 0x04).toBe(0x04);
    await rx.stop();
  });

  test.each([4, 6] as const)('IPv%d packets with TTL/hop limit 64 are dropped and counted as bad_ttl', async (family) => {
    const rx = await receiver(family);
    const tx = lab.child('a', 'raw-sender.mjs', {
      family,
      ifindex: A_IFINDEX,
      source: A_V4,
      ttl: 64,
      payloadHex: PAYLOAD_HEX,
      dst: family === 4 ? '224.0.0.18' : 'ff02::12',
      count: 2,
    });
    expect(await tx.exited).toBe(0);
    await rx.waitFor((l) => l['event'] === 'drop' && l['reason'] === 'bad_ttl');
    await rx.waitFor((l) => l['event'] === 'drop' && rx.events('drop').length >= 2, 3000);
    await rx.stop();
    const counters = rx.events('counters')[0]?.['counters'] as { dropped: Record<string, number>; accepted: number };
    expect(counters.dropped['bad_ttl']).toBe(2);
    expect(counters.accepted).toBe(0);
    expect(rx.events('advert')).toHaveLength(0);
  });

  test('our own packet reflected back to us from the wire is dropped as own_packet', async () => {
    // A forges B's address as the source, as a reflecting switch would return B's advert.
    // The kernel drops a packet from the wire whose source is a local address ("martian
    // source") unless accept_local is on, so it is, for this test only.
    await lab.exec('b', ['sysctl', '-qw', 'net.ipv4.conf.eth0.accept_local=1']);
    try {
      const rx = await receiver(4);
      const tx = lab.child('a', 'raw-sender.mjs', { family: 4, ifindex: A_IFINDEX, source: B_V4, ttl: 255, payloadHex: PAYLOAD_HEX, dst: '224.0.0.18', count: 1 });
      expect(await tx.exited).toBe(0);
      await rx.waitFor((l) => l['event'] === 'drop');
      await rx.stop();
      expect(rx.events('drop')[0]).toMatchObject({ reason: 'own_packet', src: B_V4 });
      expect(rx.events('advert')).toHaveLength(0);
    } finally {
      await lab.exec('b', ['sysctl', '-qw', 'net.ipv4.conf.eth0.accept_local=0']);
    }
  });
});

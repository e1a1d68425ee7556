/**
 * AdvertSocket on the wire, between two network namespaces joined by a veth pair. The
 * code under test runs in child processes inside the namespaces (test/children).
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { Lab, type Child } from './helpers/lab.js';
import { requireLabPrerequisites } from './helpers/prerequisites.js';

jest.setTimeout(30_000);

// A VRRPv3 advert from the fixture (vrid 51, prio 150, 10 cs, 10.99.0.100); the socket
// does not parse it, any bytes would do.
const PAYLOAD_HEX = '3133960100 0a42fd0a630064'.replace(/ /g, '');
const A_V4 = '10.211.0.1';
const B_V4 = '10.211.0.2';

describe('AdvertSocket end to end', () => {
  const lab = new Lab();

  beforeAll(async () => {
    requireLabPrerequisites();
    await lab.addNamespace('a');
    await lab.addNamespace('b');
    await lab.link({ ns: 'a', ifname: 'eth0', cidr: `${A_V4}/24` }, { ns: 'b', ifname: 'eth0', cidr: `${B_V4}/24` });
  });
  afterAll(() => lab.destroy());

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
    const ready = rx.events('ready')[0];
    expect(advert).toMatchObject({
      family: 6,
      src: await linkLocal('a'),
      dst: 'ff02::12',
      ttlOrHopLimit: 255,
      ifindex: ready?.['ifindex'],
      payload: PAYLOAD_HEX,
    });
  });

  test.each([4, 6] as const)('IPv%d packets with TTL/hop limit 64 are dropped and counted as bad_ttl', async (family) => {
    const rx = await receiver(family);
    const ifindex = Number((await lab.exec('a', ['cat', '/sys/class/net/eth0/ifindex'])).trim());
    const tx = lab.child('a', 'raw-sender.mjs', {
      family,
      ifindex,
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
      const ifindex = Number((await lab.exec('a', ['cat', '/sys/class/net/eth0/ifindex'])).trim());
      const tx = lab.child('a', 'raw-sender.mjs', { family: 4, ifindex, source: B_V4, ttl: 255, payloadHex: PAYLOAD_HEX, dst: '224.0.0.18', count: 1 });
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

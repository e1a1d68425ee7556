/**
 * Gratuitous ARP and unsolicited NA on the wire: a peer namespace's neighbour entry for
 * the VIP moves to our MAC, and tcpdump in the peer captures exactly the builder's bytes.
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from './helpers/lab.js';
import { readPcap } from './helpers/pcap.js';
import { requireLabPrerequisites } from './helpers/prerequisites.js';

jest.setTimeout(30_000);

const VIP4 = '10.213.0.100';
const VIP6 = '2001:db8:213::100';
const OLD_MAC = '02:de:ad:00:00:01';
const OUR_MAC = '02:21:30:00:00:01';
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('NeighborAnnouncer end to end', () => {
  const lab = new Lab();
  const dir = mkdtempSync(join(tmpdir(), 'kvl-announce-'));

  beforeAll(async () => {
    requireLabPrerequisites();
    await lab.addNamespace('master');
    await lab.addNamespace('peer');
    await lab.link(
      { ns: 'master', ifname: 'eth0', cidr: '10.213.0.1/24', mac: OUR_MAC },
      { ns: 'peer', ifname: 'eth0', cidr: '10.213.0.2/24' },
    );
    await lab.exec('peer', ['ip', '-6', 'addr', 'add', '2001:db8:213::2/64', 'dev', 'eth0', 'nodad']);
    // The peer believes the VIPs live at an old MAC (the previous master). Linux updates
    // an existing entry from a gratuitous ARP / an NA with Override; it does not create one.
    await lab.exec('peer', ['ip', 'neigh', 'replace', VIP4, 'lladdr', OLD_MAC, 'dev', 'eth0', 'nud', 'stale']);
    await lab.exec('peer', ['ip', '-6', 'neigh', 'replace', VIP6, 'lladdr', OLD_MAC, 'dev', 'eth0', 'nud', 'stale']);
  });
  afterAll(async () => {
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the peer neighbour entries move to our MAC and the captured frames equal the builders', async () => {
    const pcap = join(dir, 'peer.pcap');
    const tcpdump = lab.spawn('peer', ['tcpdump', '-i', 'eth0', '--immediate-mode', '-U', '-Z', 'root', '-n', '-w', pcap, 'arp or icmp6']);
    // tcpdump says "listening on" on stderr once its capture is armed; immediate mode,
    // or frames wait in the kernel ring until a block times out and SIGTERM loses them.
    for (let i = 0; i < 50 && !tcpdump.stderr.join('').includes('listening on'); i++) await new Promise((r) => setTimeout(r, 100));

    const child = lab.child('master', 'announce-node.mjs', { ifname: 'eth0', vips: [VIP4, VIP6], policy: { repeat: 2, delayMs: 0 } });
    expect(await child.exited).toBe(0);
    expect(child.events('counters')[0]).toMatchObject({ mac: OUR_MAC, counters: { arpSent: 2, naSent: 2, sendErrors: 0 } });

    await new Promise((r) => setTimeout(r, 300));
    await tcpdump.stop();
    if (readPcap(pcap).length === 0) throw new Error(`empty capture; tcpdump said: ${tcpdump.stderr.join('')}`);

    expect(await lab.exec('peer', ['ip', 'neigh', 'show', VIP4, 'dev', 'eth0'])).toContain(`lladdr ${OUR_MAC}`);
    expect(await lab.exec('peer', ['ip', '-6', 'neigh', 'show', VIP6, 'dev', 'eth0'])).toContain(`lladdr ${OUR_MAC}`);

    const built = new Map(child.events('frame').map((f) => [f['vip'] as string, f['hex'] as string]));
    const captured = readPcap(pcap).map((r) => hex(r.bytes));
    expect(captured.filter((h) => h === built.get(VIP4))).toHaveLength(2);
    expect(captured.filter((h) => h === built.get(VIP6))).toHaveLength(2);
  });

  test('tcpdump decodes our NA as valid (checksum good, Override flag, target option)', async () => {
    const text = await lab.exec('peer', ['tcpdump', '-nn', '-vv', '-r', join(dir, 'peer.pcap'), 'icmp6']);
    expect(text).toContain(`neighbor advertisement, length 32, tgt is ${VIP6}, Flags [override]`);
    expect(text).toContain('hlim 255');
    expect(text).not.toMatch(/bad icmp6 cksum/);
    expect(text).toContain(`destination link-address option (2), length 8 (1): ${OUR_MAC}`);
  });
});

/**
 * ctnetlink messages: the bytes of the dump and delete requests (golden, per
 * <linux/netfilter/nfnetlink_conntrack.h>; header fields in a little-endian host's order,
 * ctnetlink's values in network order), an entry as the kernel dumps it, and which flows a NAT
 * change leaves stale. What the kernel does with them is the lab's (nat-conntrack.e2e.test.ts).
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Conntrack } from '../src/conntrack/conntrack.js';
import { deleteRequest, dumpRequest, IPPROTO_UDP, parseEntry, type ConntrackEntry } from '../src/conntrack/ct-message.js';
import { staleUdpFlows } from '../src/conntrack/stale-flows.js';
import { encodeMessage, forEachMessage, nestedAttribute, NLMSG_DONE, setSequence, u8Attribute, type Attribute } from '../src/netlink/codec.js';
import type { NativeAddon, NativeHandle } from '../src/native/addon.js';
import { validateBindings, type NatBinding } from '../src/nft/nat-binding.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const fromHexText = (...parts: string[]): string => parts.join('').replace(/\s+/g, '');
const goldenTest = endianness() === 'LE' ? test : test.skip;

/** A client's UDP flow to 10.0.0.100:53, DNATed to 10.1.0.5:5353 and masqueraded (10.0.0.1). */
const sample: ConntrackEntry = {
  family: 4,
  original: { source: '10.0.1.2', destination: '10.0.0.100', protocol: 17, sourcePort: 40000, destinationPort: 53 },
  reply: { source: '10.1.0.5', destination: '10.0.0.1', protocol: 17, sourcePort: 5353, destinationPort: 40000 },
  zone: 0,
  id: 12345,
};
/** The same over IPv6, in zone 3. */
const sample6: ConntrackEntry = {
  family: 6,
  original: { source: '2001:db8:1::2', destination: '2001:db8::100', protocol: 17, sourcePort: 1, destinationPort: 53 },
  reply: { source: '2001:db8:2::5', destination: '2001:db8::1', protocol: 17, sourcePort: 5353, destinationPort: 1 },
  zone: 3,
  id: 0xffffffff,
};

describe('requests (golden bytes)', () => {
  goldenTest('IPv4 dump: CT_GET|DUMP, the original tuple to VIP:port and a CTA_FILTER on destination, protocol and port', () => {
    const message = dumpRequest({ family: 4, protocol: IPPROTO_UDP, destination: '10.0.0.100', port: 53 });
    setSequence(message, 1);
    expect(hex(message)).toBe(
      fromHexText(
        '44000000 0101 0103 01000000 00000000', // nlmsghdr: 68 bytes, CTNETLINK << 8 | CT_GET, REQUEST|DUMP, seq 1
        '02 00 0000', // nfgenmsg: AF_INET, version 0, res_id 0
        '2400 0180', // CTA_TUPLE_ORIG, nested
        '0c00 0180 0800 0200 0a000064', //   CTA_TUPLE_IP { CTA_IP_V4_DST 10.0.0.100 }
        '1400 0280 0500 0100 11000000 0600 0300 0035 0000', //   CTA_TUPLE_PROTO { CTA_PROTO_NUM 17, CTA_PROTO_DST_PORT 53 (be16) }
        '0c00 1980 0800 0100 2a000000', // CTA_FILTER { CTA_FILTER_ORIG_FLAGS IP_DST|PROTO_NUM|PROTO_DST_PORT (host u32) }
      ),
    );
  });

  goldenTest('IPv6 dump: the destination address is left out of the tuple and of the filter (the kernel compares IPv6 inverted)', () => {
    const message = dumpRequest({ family: 6, protocol: IPPROTO_UDP, destination: '2001:db8::100', port: 5353 });
    setSequence(message, 2);
    expect(hex(message)).toBe(
      fromHexText(
        '3c000000 0101 0103 02000000 00000000',
        '0a 00 0000', // AF_INET6
        '1c00 0180',
        '0400 0180', //   CTA_TUPLE_IP, empty
        '1400 0280 0500 0100 11000000 0600 0300 14e9 0000', //   protocol 17, destination port 5353
        '0c00 1980 0800 0100 28000000', // PROTO_NUM|PROTO_DST_PORT
      ),
    );
  });

  goldenTest('a dump of every UDP flow of a family (several bindings at once): the protocol alone, in the tuple and the filter', () => {
    const message = dumpRequest({ family: 4, protocol: IPPROTO_UDP });
    setSequence(message, 5);
    expect(hex(message)).toBe(
      fromHexText(
        '34000000 0101 0103 05000000 00000000',
        '02 00 0000',
        '1400 0180',
        '0400 0180', //   CTA_TUPLE_IP, empty
        '0c00 0280 0500 0100 11000000', //   CTA_TUPLE_PROTO { CTA_PROTO_NUM 17 }
        '0c00 1980 0800 0100 08000000', // PROTO_NUM
      ),
    );
  });

  goldenTest('IPv4 delete: CT_DELETE|ACK of the whole original tuple, its zone and its id (both be16/be32)', () => {
    const message = deleteRequest({ ...sample, zone: 7, id: 0xdeadbeef });
    setSequence(message, 3);
    expect(hex(message)).toBe(
      fromHexText(
        '58000000 0201 0500 03000000 00000000', // 88 bytes, CTNETLINK << 8 | CT_DELETE, REQUEST|ACK
        '02 00 0000',
        '3400 0180', // CTA_TUPLE_ORIG
        '1400 0180 0800 0100 0a000102 0800 0200 0a000064', //   CTA_TUPLE_IP { V4_SRC 10.0.1.2, V4_DST 10.0.0.100 }
        '1c00 0280 0500 0100 11000000 0600 0200 9c40 0000 0600 0300 0035 0000', //   { NUM 17, SRC_PORT 40000, DST_PORT 53 }
        '0600 1200 0007 0000', // CTA_ZONE 7
        '0800 0c00 deadbeef', // CTA_ID
      ),
    );
  });

  goldenTest('IPv6 delete in the default zone without an id: no CTA_ZONE, no CTA_ID', () => {
    const message = deleteRequest({ ...sample6, zone: 0, id: undefined });
    setSequence(message, 4);
    expect(hex(message)).toBe(
      fromHexText(
        '60000000 0201 0500 04000000 00000000',
        '0a 00 0000',
        '4c00 0180',
        '2c00 0180 1400 0300 20010db8000100000000000000000002 1400 0400 20010db8000000000000000000000100', // V6_SRC, V6_DST
        '1c00 0280 0500 0100 11000000 0600 0200 0001 0000 0600 0300 0035 0000',
      ),
    );
  });
});

// ---------- entries as the kernel dumps them ----------

const be16 = (type: number, v: number): Attribute => ({ type, value: Uint8Array.of(v >> 8, v & 0xff) });
const be32 = (type: number, v: number): Attribute => ({ type, value: Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff) });
const ipBytes = (a: string): Uint8Array => (a.includes(':') ? Uint8Array.from(Buffer.from(expand6(a), 'hex')) : Uint8Array.from(a.split('.').map(Number)));
function expand6(a: string): string {
  const [head = '', tail = ''] = a.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === '' ? [] : tail.split(':');
  return [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t].map((g) => g.padStart(4, '0')).join('');
}

function tupleAttribute(type: number, family: 4 | 6, t: ConntrackEntry['original']): Attribute {
  const src = family === 4 ? 1 : 3;
  return nestedAttribute(type, [
    nestedAttribute(1, [
      { type: src, value: ipBytes(t.source) },
      { type: src + 1, value: ipBytes(t.destination) },
    ]),
    nestedAttribute(2, [u8Attribute(1, t.protocol), be16(2, t.sourcePort), be16(3, t.destinationPort)]),
  ]);
}

/** The payload of an IPCTNL_MSG_CT_NEW as a dump sends it: nfgenmsg, both tuples, status, timeout, the id, a zone if any. */
function entryPayload(e: ConntrackEntry, extra: Attribute[] = []): Uint8Array {
  const attributes = [
    tupleAttribute(1, e.family, e.original),
    tupleAttribute(2, e.family, e.reply),
    be32(3, 0x1a8), // CTA_STATUS: CONFIRMED|SRC_NAT|DST_NAT|...
    be32(7, 30), // CTA_TIMEOUT
    ...(e.id === undefined ? [] : [be32(12, e.id)]),
    ...(e.zone === 0 ? [] : [be16(18, e.zone)]),
    ...extra,
  ];
  return encodeMessage(0, 0, Uint8Array.of(e.family === 4 ? 2 : 10, 0, 0, 0), attributes).subarray(16);
}

const CT_NEW = 0x100;

describe('parseEntry', () => {
  test('an IPv4 entry: both tuples, the id, the default zone', () => {
    expect(parseEntry(CT_NEW, entryPayload(sample))).toEqual(sample);
  });

  test('an IPv6 entry in zone 3; attributes it does not know are skipped', () => {
    expect(parseEntry(CT_NEW, entryPayload(sample6, [{ type: 99, value: Uint8Array.of(1, 2, 3) }]))).toEqual(sample6);
  });

  test('not an entry: another subsystem, a delete event, another family, a tuple without ports or with a short address', () => {
    expect(parseEntry(0x200, entryPayload(sample))).toBeUndefined(); // NFNL_SUBSYS_CTNETLINK_EXP
    expect(parseEntry(0x102, entryPayload(sample))).toBeUndefined(); // CT_DELETE
    const other = entryPayload(sample);
    other[0] = 7;
    expect(parseEntry(CT_NEW, other)).toBeUndefined();
    const noPorts = encodeMessage(0, 0, Uint8Array.of(2, 0, 0, 0), [
      nestedAttribute(1, [nestedAttribute(1, [{ type: 1, value: ipBytes('10.0.1.2') }, { type: 2, value: ipBytes('10.0.0.100') }]), nestedAttribute(2, [u8Attribute(1, 1)])]),
      tupleAttribute(2, 4, sample.reply),
    ]).subarray(16);
    expect(parseEntry(CT_NEW, noPorts)).toBeUndefined();
    const short = encodeMessage(0, 0, Uint8Array.of(2, 0, 0, 0), [
      nestedAttribute(1, [nestedAttribute(1, [{ type: 1, value: Uint8Array.of(10, 0) }, { type: 2, value: ipBytes('10.0.0.100') }]), nestedAttribute(2, [u8Attribute(1, 17), be16(2, 1), be16(3, 2)])]),
      tupleAttribute(2, 4, sample.reply),
    ]).subarray(16);
    expect(parseEntry(CT_NEW, short)).toBeUndefined();
  });

  test('round trip: any entry built as the kernel dumps it parses back to itself', () => {
    const port = fc.integer({ min: 0, max: 65_535 });
    const v4 = fc.ipV4();
    const tuple = (address: fc.Arbitrary<string>) =>
      fc.record({ source: address, destination: address, protocol: fc.constantFrom(6, 17, 132), sourcePort: port, destinationPort: port });
    fc.assert(
      fc.property(tuple(v4), tuple(v4), fc.integer({ min: 0, max: 65_535 }), fc.option(fc.nat({ max: 0xffffffff }), { nil: undefined }), (original, reply, zone, id) => {
        const entry: ConntrackEntry = { family: 4, original, reply, zone, id };
        expect(parseEntry(CT_NEW, entryPayload(entry))).toEqual(entry);
      }),
    );
  });

  test('any bytes: never throws', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 200 }), (type, payload) => {
        parseEntry(type, payload);
      }),
    );
  });
});

describe('the kernel\'s own dump (fixtures/conntrack-udp-dnat.txt, scripts/fixtures/capture-conntrack.ts)', () => {
  const lines = readFileSync(fileURLToPath(new URL('../../../fixtures/conntrack-udp-dnat.txt', import.meta.url)), 'utf8')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'));
  const replies = (family: string) => {
    const found: Array<{ type: number; entry: ConntrackEntry | undefined }> = [];
    for (const line of lines.filter((l) => l.startsWith(`${family} `))) {
      const problem = forEachMessage(Uint8Array.from(Buffer.from(line.slice(2), 'hex')), (m) => found.push({ type: m.type, entry: parseEntry(m.type, m.payload) }));
      expect(problem).toBeUndefined();
    }
    return found;
  };

  const flow = (family: 4 | 6, client: string, vip: string, pod: string, node: string): ConntrackEntry => ({
    family,
    original: { source: client, destination: vip, protocol: IPPROTO_UDP, sourcePort: 40053, destinationPort: 53 },
    reply: { source: pod, destination: node, protocol: IPPROTO_UDP, sourcePort: 5353, destinationPort: 40053 },
    zone: 0,
    id: expect.any(Number) as unknown as number,
  });
  const cases = [
    ['4', flow(4, '10.99.77.2', '10.99.77.100', '10.98.1.2', '10.98.1.1')],
    ['6', flow(6, 'fd99:77::2', 'fd99:77::100', 'fd98:1::2', 'fd98:1::1')],
  ] as const;
  (endianness() === 'LE' ? test.each(cases) : test.skip.each(cases))('IPv%s: one entry, the client to the VIP and the pod back to the node, then NLMSG_DONE', (family, entry) => {
    expect(replies(family)).toEqual([
      { type: 0x100, entry },
      { type: NLMSG_DONE, entry: undefined },
    ]);
  });
});

describe('staleUdpFlows', () => {
  const udp = (vip: string, endpoints: string[], port = 53): NatBinding => ({ vip, protocol: 'UDP', port, endpoints: endpoints.map((a) => ({ address: a, port: 5353 })) });
  const tcp = (vip: string, endpoints: string[]): NatBinding => ({ vip, protocol: 'TCP', port: 53, endpoints: endpoints.map((a) => ({ address: a, port: 5353 })) });
  const stale = (before: NatBinding[], after: NatBinding[]) => staleUdpFlows(validateBindings(before), validateBindings(after));

  test('an endpoint removed from a UDP binding: that endpoint only', () => {
    expect(stale([udp('10.0.0.100', ['10.1.0.1', '10.1.0.2'])], [udp('10.0.0.100', ['10.1.0.2'])])).toEqual([
      { family: 4, vip: '10.0.0.100', port: 53, endpoints: [{ address: '10.1.0.1', port: 5353 }] },
    ]);
  });

  test('a binding removed (its VIP left this node), or left with no endpoints: every endpoint it had', () => {
    const both = [{ address: '2001:db8:1::1', port: 5353 }, { address: '2001:db8:1::2', port: 5353 }];
    const before = [udp('2001:DB8::100', ['2001:db8:1::2', '2001:db8:1::1'])];
    expect(stale(before, [])).toEqual([{ family: 6, vip: '2001:db8::100', port: 53, endpoints: both }]);
    expect(stale(before, [udp('2001:db8::100', [])])).toEqual([{ family: 6, vip: '2001:db8::100', port: 53, endpoints: both }]);
  });

  test('an endpoint whose target port changed is a removed endpoint (its flows go to the old port)', () => {
    const before = [udp('10.0.0.100', ['10.1.0.1'])];
    const after: NatBinding[] = [{ ...udp('10.0.0.100', []), endpoints: [{ address: '10.1.0.1', port: 5354 }] }];
    expect(stale(before, after)).toEqual([{ family: 4, vip: '10.0.0.100', port: 53, endpoints: [{ address: '10.1.0.1', port: 5353 }] }]);
  });

  test('nothing for TCP bindings, endpoints added, unchanged bindings, or another port of the same VIP', () => {
    expect(stale([tcp('10.0.0.100', ['10.1.0.1', '10.1.0.2'])], [tcp('10.0.0.100', ['10.1.0.2'])])).toEqual([]);
    expect(stale([udp('10.0.0.100', ['10.1.0.1'])], [udp('10.0.0.100', ['10.1.0.1', '10.1.0.2'])])).toEqual([]);
    expect(stale([udp('10.0.0.100', ['10.1.0.1']), udp('10.0.0.100', ['10.1.0.1'], 54)], [udp('10.0.0.100', ['10.1.0.1']), udp('10.0.0.100', ['10.1.0.2'], 54)])).toEqual([
      { family: 4, vip: '10.0.0.100', port: 54, endpoints: [{ address: '10.1.0.1', port: 5353 }] },
    ]);
  });
});

// ---------- Conntrack over a stand-in addon that plays a kernel without CTA_FILTER ----------

const PORT = 4242;
const header = (length: number, type: number, flags: number, seq: number): Uint8Array => {
  const h = new Uint8Array(16);
  const v = new DataView(h.buffer);
  const le = endianness() === 'LE';
  v.setUint32(0, length, le);
  v.setUint16(4, type, le);
  v.setUint16(6, flags, le);
  v.setUint32(8, seq, le);
  v.setUint32(12, PORT, le);
  return h;
};
const frame = (type: number, flags: number, seq: number, payload: Uint8Array): Uint8Array => {
  const padded = new Uint8Array((payload.length + 3) & ~3);
  padded.set(payload);
  return Uint8Array.from(Buffer.concat([header(16 + payload.length, type, flags, seq), padded]));
};
const errno = (code: number): Uint8Array => {
  const b = new Uint8Array(20);
  new DataView(b.buffer).setInt32(0, code, endianness() === 'LE');
  return b;
};
const tupleKey = (t: ConntrackEntry['original']): string => `${t.source} ${t.destination} ${t.protocol} ${t.sourcePort} ${t.destinationPort}`;

/** The whole table on every dump (an old kernel ignores CTA_FILTER); deletes by original tuple; `refuse` answers EPERM. */
class FakeConntrack {
  readonly table = new Map<string, ConntrackEntry>();
  readonly refuse = new Set<string>();
  /** Entries that expire between the dump and their delete (ENOENT). */
  readonly vanish = new Set<string>();
  requests = 0;
  dumps = 0;
  closed = 0;
  #queue: Uint8Array[] = [];
  #onReadable: ((error: null) => void) | undefined;

  constructor(entries: ConntrackEntry[]) {
    for (const e of entries) this.table.set(tupleKey(e.original), e);
  }

  readonly addon = {
    netfilterOpen: () => ({}) as NativeHandle,
    netlinkOpen: () => 'EPROTONOSUPPORT',
    netlinkPort: () => PORT,
    netlinkSend: (_h: NativeHandle, m: Uint8Array) => {
      this.requests++;
      this.#answer(m.slice());
      setImmediate(() => this.#onReadable?.(null));
      return m.length;
    },
    netlinkRecvInto: (_h: NativeHandle, buffer: Uint8Array) => {
      const next = this.#queue.shift();
      if (next === undefined) return 'EAGAIN';
      buffer.set(next);
      return next.length;
    },
    pollStart: (_h: NativeHandle, cb: (error: null) => void) => {
      this.#onReadable = cb;
      return undefined;
    },
    pollRef: () => undefined,
    close: () => {
      this.closed++;
      return undefined;
    },
  } as unknown as NativeAddon;

  #answer(m: Uint8Array): void {
    const v = new DataView(m.buffer);
    const le = endianness() === 'LE';
    const type = v.getUint16(4, le);
    const seq = v.getUint32(8, le);
    if (type === 0x101) {
      this.dumps++;
      for (const e of this.table.values()) this.#queue.push(frame(CT_NEW, 2, seq, entryPayload(e)));
      this.#queue.push(frame(3, 2, seq, new Uint8Array(4)));
      return;
    }
    // A delete: the original tuple is the first attribute; read it back with the parser.
    const asEntry = Uint8Array.from(m.subarray(16));
    const tuple = parseEntry(CT_NEW, Uint8Array.from(Buffer.concat([asEntry, encodeMessage(0, 0, new Uint8Array(0), [tupleAttribute(2, 4, sample.reply)]).subarray(16)])));
    const key = tuple === undefined ? '' : tupleKey(tuple.original);
    const code = this.refuse.has(key) ? -1 : this.vanish.has(key) || !this.table.delete(key) ? -2 : 0;
    this.#queue.push(frame(2, 0, seq, errno(code)));
  }
}

describe('Conntrack.deleteUdpFlows', () => {
  const flow = (client: string, clientPort: number, endpoint: string, endpointPort: number, protocol = 17, vipPort = 53): ConntrackEntry => ({
    family: 4,
    original: { source: client, destination: '10.0.0.100', protocol, sourcePort: clientPort, destinationPort: vipPort },
    reply: { source: endpoint, destination: '10.0.0.1', protocol, sourcePort: endpointPort, destinationPort: clientPort },
    zone: 0,
    id: clientPort,
  });
  const gone = { family: 4 as const, vip: '10.0.0.100', port: 53, endpoints: [{ address: '10.1.0.1', port: 5353 }] };

  test('deletes only UDP flows to VIP:port whose reply comes from a removed endpoint, at its target port', async () => {
    const stale = [flow('10.0.1.2', 1000, '10.1.0.1', 5353), flow('10.0.1.3', 1001, '10.1.0.1', 5353)];
    const kept = [
      flow('10.0.1.2', 1002, '10.1.0.2', 5353), // the endpoint that stays
      flow('10.0.1.2', 1003, '10.1.0.1', 5353, 6), // TCP to the removed endpoint
      flow('10.0.1.2', 1004, '10.1.0.1', 5353, 17, 54), // another port of the VIP
      flow('10.0.1.2', 1005, '10.1.0.1', 5354), // the removed address at another target port
    ];
    const kernel = new FakeConntrack([...stale, ...kept]);
    expect(await new Conntrack({ addon: kernel.addon }).deleteUdpFlows([gone])).toEqual([{ flows: gone, deleted: 2 }]);
    expect([...kernel.table.values()]).toEqual(kept);
    expect(kernel.closed).toBe(1);
  });

  test('several bindings: one dump for the family, each binding its own flows and count, in order', async () => {
    const other = { family: 4 as const, vip: '10.0.0.100', port: 54, endpoints: [{ address: '10.1.0.1', port: 5353 }] };
    const entries = [flow('10.0.1.2', 1000, '10.1.0.1', 5353), flow('10.0.1.2', 1004, '10.1.0.1', 5353, 17, 54), flow('10.0.1.3', 1005, '10.1.0.1', 5353, 17, 54)];
    const kernel = new FakeConntrack([...entries, flow('10.0.1.2', 1002, '10.1.0.2', 5353)]);
    expect(await new Conntrack({ addon: kernel.addon }).deleteUdpFlows([other, gone])).toEqual([
      { flows: other, deleted: 2 },
      { flows: gone, deleted: 1 },
    ]);
    expect(kernel.dumps).toBe(1);
    expect(kernel.table.size).toBe(1);
  });

  test('an entry gone before its delete (ENOENT) is neither counted nor a failure', async () => {
    const kernel = new FakeConntrack([flow('10.0.1.2', 1000, '10.1.0.1', 5353), flow('10.0.1.3', 1001, '10.1.0.1', 5353)]);
    kernel.vanish.add(tupleKey(flow('10.0.1.3', 1001, '10.1.0.1', 5353).original));
    expect(await new Conntrack({ addon: kernel.addon }).deleteUdpFlows([gone])).toEqual([{ flows: gone, deleted: 1 }]);
  });

  test('a refused delete: every other entry is still deleted, then its binding fails with the errno and the count', async () => {
    const entries = [1000, 1001, 1002].map((p) => flow('10.0.1.2', p, '10.1.0.1', 5353));
    const kernel = new FakeConntrack(entries);
    kernel.refuse.add(tupleKey((entries[1] as ConntrackEntry).original));
    const [outcome] = await new Conntrack({ addon: kernel.addon }).deleteUdpFlows([gone]);
    expect(outcome).toMatchObject({ flows: gone, deleted: 2, error: { code: 'EPERM', message: expect.stringContaining('deleted 2 of 3 UDP conntrack entries to 10.0.0.100 port 53') } });
    expect([...kernel.table.values()]).toEqual([entries[1]]);
    expect(kernel.closed).toBe(1);
  });

  test('no endpoints: no request; an addon built before netfilterOpen: a named error saying to rebuild it', async () => {
    const kernel = new FakeConntrack([]);
    const none = { ...gone, endpoints: [] };
    expect(await new Conntrack({ addon: kernel.addon }).deleteUdpFlows([none])).toEqual([{ flows: none, deleted: 0 }]);
    expect(kernel.requests).toBe(0);
    const old = { ...kernel.addon, netfilterOpen: undefined } as unknown as NativeAddon;
    const [outcome] = await new Conntrack({ addon: old }).deleteUdpFlows([gone]);
    expect(outcome).toMatchObject({ deleted: 0, error: { code: 'ENOSYS', message: expect.stringContaining('build:native') } });
  });
});

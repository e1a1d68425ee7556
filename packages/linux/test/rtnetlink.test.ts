/**
 * Our rtnetlink: the bytes of the requests we send, and the socket's handling of what the
 * kernel answers (multi-part dumps, ACKs, errors, cut or malformed datagrams), played by
 * a stand-in addon so that every case is exact. Golden bytes are a little-endian host's.
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { endianness } from 'node:os';
import type { NetlinkError } from '../src/errors.js';
import type { ErrnoName, NativeAddon, NativeHandle } from '../src/native/addon.js';
import { dumpAddresses, type KernelAddress } from '../src/netlink/address-dump.js';
import { delAddressRequest, newAddressRequest } from '../src/netlink/address-request.js';
import {
  encodeMessage,
  errnoName,
  forEachAttribute,
  forEachMessage,
  NLMSG_DONE,
  NLMSG_ERROR,
  NlmFlag,
  Rtm,
  setSequence,
  writeU16,
  writeU32,
  type NetlinkMessage,
} from '../src/netlink/codec.js';
import { carrierOf, getLinkRequest, parseLinkMessage } from '../src/netlink/link-message.js';
import { RtNetlinkSocket, type NotificationListener } from '../src/netlink/rtnl.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const fromHex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const littleEndian = endianness() === 'LE';
const goldenTest = littleEndian ? test : test.skip;
/** Hex written in groups, one field or attribute each. */
const fromHexText = (...parts: string[]): string => parts.join('').replace(/\s+/g, '');

describe('request encoding (golden bytes)', () => {
  goldenTest('RTM_NEWADDR for an IPv4 VIP: CREATE|EXCL|ACK, IFA_LOCAL, IFA_ADDRESS, IFA_LABEL, IFA_PROTO', () => {
    const message = newAddressRequest({
      family: 2,
      prefixLength: 24,
      ifindex: 3,
      address: Uint8Array.of(10, 0, 0, 100),
      proto: 0x6b,
      label: 'eth0:kv',
    });
    setSequence(message, 7);
    expect(hex(message)).toBe(
      fromHexText(
        '3c000000 1400 0506 07000000 00000000', // nlmsghdr: 60 bytes, RTM_NEWADDR, REQUEST|ACK|EXCL|CREATE, seq 7, pid 0
        '02 18 00 00 03000000', // ifaddrmsg: AF_INET, /24, no flags, universe scope, ifindex 3
        '0800 0200 0a000064', // IFA_LOCAL 10.0.0.100
        '0800 0100 0a000064', // IFA_ADDRESS 10.0.0.100
        '0c00 0300 657468303a6b7600', // IFA_LABEL "eth0:kv\0"
        '0500 0b00 6b 000000', // IFA_PROTO 0x6b, padded to 4
      ),
    );
  });

  goldenTest('RTM_NEWADDR for an IPv6 VIP carries IFA_FLAGS NODAD and no label', () => {
    const address = fromHex('20010db8000000000000000000000100');
    const message = newAddressRequest({ family: 10, prefixLength: 64, ifindex: 0x01020304, address, proto: 0x6b, flags: 0x02 });
    setSequence(message, 0x01000000);
    expect(hex(message)).toBe(
      fromHexText(
        '50000000 1400 0506 00000001 00000000',
        '0a 40 00 00 04030201',
        '1400 0200 20010db8000000000000000000000100',
        '1400 0100 20010db8000000000000000000000100',
        '0800 0800 02000000',
        '0500 0b00 6b000000',
      ),
    );
  });

  goldenTest('RTM_DELADDR names the address by IFA_LOCAL only, acknowledged', () => {
    const message = delAddressRequest({ family: 2, prefixLength: 32, ifindex: 3, address: Uint8Array.of(10, 0, 0, 100) });
    setSequence(message, 2);
    expect(hex(message)).toBe(fromHexText('20000000 1500 0500 02000000 00000000', '02 20 00 00 03000000', '0800 0200 0a000064'));
  });

  goldenTest('RTM_GETLINK by name: a zero ifinfomsg and IFLA_IFNAME', () => {
    const message = getLinkRequest('eth0');
    setSequence(message, 1);
    expect(hex(message)).toBe(fromHexText('2c000000 1200 0500 01000000 00000000', '00000000 00000000 00000000 00000000', '0900 0300 6574683000 000000'));
  });

  test('an attribute of any length is padded to 4 and the padding counted in nlmsg_len', () => {
    for (let n = 0; n < 9; n++) {
      const message = encodeMessage(99, 0, new Uint8Array(1), [{ type: 1, value: new Uint8Array(n).fill(0xaa) }]);
      expect(message.length % 4).toBe(0);
      expect(message.length).toBe(16 + 4 + 4 + Math.ceil(n / 4) * 4);
      expect(new DataView(message.buffer).getUint32(0, littleEndian)).toBe(message.length);
      const seen: number[] = [];
      forEachAttribute(message.subarray(16), 4, (_type, value) => seen.push(value.length));
      expect(seen).toEqual([n]);
    }
  });
});

// ---------- what the kernel sends: messages built by hand, per <linux/netlink.h> ----------

const PORT = 4242;

function message(type: number, flags: number, seq: number, payload: Uint8Array, pid = PORT): Uint8Array {
  const padded = (payload.length + 3) & ~3;
  const bytes = new Uint8Array(16 + padded);
  writeU32(bytes, 0, 16 + payload.length);
  writeU16(bytes, 4, type);
  writeU16(bytes, 6, flags);
  writeU32(bytes, 8, seq);
  writeU32(bytes, 12, pid);
  bytes.set(payload, 16);
  return bytes;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

/** An RTM_NEWADDR payload as a dump carries it: 10.9.0.<last>/32 on ifindex, label and proto. */
function addressPayload(last: number, ifindex = 3): Uint8Array {
  const ifaddrmsg = new Uint8Array(8);
  ifaddrmsg.set([2, 32, 0x80, 0]);
  writeU32(ifaddrmsg, 4, ifindex);
  const attrs = encodeMessage(0, 0, ifaddrmsg, [
    { type: 2, value: Uint8Array.of(10, 9, 0, last) },
    { type: 1, value: Uint8Array.of(10, 9, 0, last) },
    { type: 3, value: Buffer.from('d0:kv\0') },
    { type: 11, value: Uint8Array.of(0x6b) },
  ]);
  return attrs.subarray(16);
}

function errorPayload(errno: number, requestHeader = new Uint8Array(16)): Uint8Array {
  const bytes = new Uint8Array(4 + requestHeader.length);
  writeU32(bytes, 0, errno >>> 0);
  bytes.set(requestHeader, 4);
  return bytes;
}

function donePayload(errno = 0): Uint8Array {
  const bytes = new Uint8Array(4);
  writeU32(bytes, 0, errno >>> 0);
  return bytes;
}

/** The addon, playing the kernel: records what is sent, hands over queued datagrams. */
class FakeKernel {
  readonly sent: Uint8Array[] = [];
  readonly queue: Array<Uint8Array | ErrnoName | { length: number }> = [];
  onReadable: ((error: ErrnoName | null) => void) | undefined;
  referenced = true;
  closed = false;

  readonly addon = {
    netlinkOpen: () => ({}) as NativeHandle,
    netlinkPort: () => PORT,
    netlinkSend: (_h: NativeHandle, m: Uint8Array) => {
      this.sent.push(m.slice());
      return m.length;
    },
    netlinkRecvInto: (_h: NativeHandle, buffer: Uint8Array) => {
      const next = this.queue.shift();
      if (next === undefined) return 'EAGAIN';
      if (typeof next === 'string') return next;
      if (!(next instanceof Uint8Array)) return next.length; // a datagram longer than the buffer
      buffer.set(next.subarray(0, buffer.length));
      return next.length;
    },
    pollStart: (_h: NativeHandle, cb: (error: ErrnoName | null) => void) => {
      this.onReadable = cb;
      return undefined;
    },
    pollRef: (_h: NativeHandle, ref: boolean) => {
      this.referenced = ref;
      return undefined;
    },
    close: () => {
      this.closed = true;
      return undefined;
    },
  } as unknown as NativeAddon;

  seqOf(i: number): number {
    const m = this.sent[i];
    if (m === undefined) throw new Error(`no request ${i}`);
    return new DataView(m.buffer, m.byteOffset).getUint32(8, littleEndian);
  }

  /** Queues datagrams and signals readability, as the poll would. */
  deliver(...datagrams: Array<Uint8Array | ErrnoName | { length: number }>): void {
    this.queue.push(...datagrams);
    this.onReadable?.(null);
  }
}

function open(kernel: FakeKernel, listener?: NotificationListener): RtNetlinkSocket {
  const socket = new RtNetlinkSocket({ addon: kernel.addon });
  if (listener !== undefined) socket.listen(listener);
  return socket;
}

const ignore = (): undefined => undefined;

describe('replies and notifications', () => {
  test('a dump in several datagrams, with an event between them, ends at NLMSG_DONE', async () => {
    const kernel = new FakeKernel();
    const events: NetlinkMessage[] = [];
    const socket = open(kernel, { message: (m) => events.push({ ...m, payload: m.payload.slice() }), error: (e) => { throw e; } });
    const dump = dumpAddresses(socket);
    const seq = kernel.seqOf(0);
    const request = kernel.sent[0] ?? new Uint8Array();
    expect(hex(request.subarray(4, 8))).toBe('16000103'); // RTM_GETADDR, REQUEST|DUMP (no ACK: a dump ends at DONE)
    const multi = NlmFlag.multi;
    kernel.deliver(
      concat(message(Rtm.newAddr, multi, seq, addressPayload(1)), message(Rtm.newAddr, multi, seq, addressPayload(2))),
      message(Rtm.newLink, 0, 0, new Uint8Array(16), 0), // a link event, not ours to match
      concat(message(Rtm.newAddr, multi, seq, addressPayload(3, 4)), message(NLMSG_DONE, multi, seq, donePayload())),
    );
    const addresses = await dump;
    expect(addresses.map((a) => [Array.from(a.address ?? []).join('.'), a.ifindex, a.label, a.proto, a.prefixLength])).toEqual([
      ['10.9.0.1', 3, 'd0:kv', 0x6b, 32],
      ['10.9.0.2', 3, 'd0:kv', 0x6b, 32],
      ['10.9.0.3', 4, 'd0:kv', 0x6b, 32],
    ]);
    expect(events.map((e) => e.type)).toEqual([Rtm.newLink]);
    socket.close();
  });

  test('parsed addresses are copies: the receive buffer is reused by the next datagram', async () => {
    const kernel = new FakeKernel();
    const socket = open(kernel);
    const dump = dumpAddresses(socket, 3);
    const seq = kernel.seqOf(0);
    kernel.deliver(message(Rtm.newAddr, NlmFlag.multi, seq, addressPayload(1)));
    kernel.deliver(concat(message(Rtm.newAddr, NlmFlag.multi, seq, addressPayload(2)), message(NLMSG_DONE, NlmFlag.multi, seq, donePayload())));
    expect((await dump).map((a: KernelAddress) => a.address?.[3])).toEqual([1, 2]);
    socket.close();
  });

  test('ACKs and errors go to their own requests, in whatever order they come', async () => {
    const kernel = new FakeKernel();
    const socket = open(kernel);
    const add = socket.request('newAddress', encodeMessage(Rtm.newAddr, NlmFlag.request | NlmFlag.ack, new Uint8Array(8)), ignore);
    const del = socket.request('delAddress', encodeMessage(Rtm.delAddr, NlmFlag.request | NlmFlag.ack, new Uint8Array(8)), ignore);
    const other = socket.request('newAddress', encodeMessage(Rtm.newAddr, NlmFlag.request | NlmFlag.ack, new Uint8Array(8)), ignore);
    const [a, d, o] = [kernel.seqOf(0), kernel.seqOf(1), kernel.seqOf(2)];
    expect(new Set([a, d, o]).size).toBe(3);
    kernel.deliver(
      message(NLMSG_ERROR, 0x100, o, errorPayload(-17)), // EEXIST; 0x100: NLM_F_CAPPED
      message(NLMSG_ERROR, 0x100, d, errorPayload(-99)), // EADDRNOTAVAIL
      message(NLMSG_ERROR, 0, a, errorPayload(0)), // the ACK
    );
    await expect(add).resolves.toEqual([]);
    await expect(del).rejects.toMatchObject({ name: 'NetlinkError', code: 'EADDRNOTAVAIL' });
    await expect(other).rejects.toMatchObject({ name: 'NetlinkError', code: 'EEXIST' });
    socket.close();
  });

  test('a reply before the ACK is what the request returns (RTM_GETLINK)', async () => {
    const kernel = new FakeKernel();
    const socket = open(kernel);
    const get = socket.request('getLink', getLinkRequest('eth0'), (type, payload) => (type === Rtm.newLink ? parseLinkMessage(payload) : undefined));
    const seq = kernel.seqOf(0);
    const ifinfomsg = new Uint8Array(16);
    writeU32(ifinfomsg, 4, 5);
    writeU32(ifinfomsg, 8, 0x1 | 0x40 | 0x10000);
    const link = encodeMessage(Rtm.newLink, 0, ifinfomsg, [
      { type: 3, value: Buffer.from('eth0\0') },
      { type: 1, value: Uint8Array.of(2, 0, 0, 0, 0, 1) },
    ]).subarray(16);
    kernel.deliver(concat(message(Rtm.newLink, 0, seq, link), message(NLMSG_ERROR, 0, seq, errorPayload(0))));
    const [found] = await get;
    expect(found).toMatchObject({ family: 0, ifindex: 5, ifname: 'eth0' });
    expect(carrierOf(found?.flags ?? 0)).toBe(true);
    expect(hex(found?.address ?? new Uint8Array())).toBe('020000000001');
    socket.close();
  });

  test('a dump that fails says why: EBUSY as NLMSG_ERROR, or an errno in NLMSG_DONE', async () => {
    const kernel = new FakeKernel();
    const socket = open(kernel);
    const busy = dumpAddresses(socket);
    kernel.deliver(message(NLMSG_ERROR, 0x100, kernel.seqOf(0), errorPayload(-16)));
    await expect(busy).rejects.toMatchObject({ code: 'EBUSY' });
    const interrupted = dumpAddresses(socket);
    kernel.deliver(message(NLMSG_DONE, NlmFlag.multi, kernel.seqOf(1), donePayload(-4)));
    await expect(interrupted).rejects.toMatchObject({ code: 'EINTR' });
    // A filtered dump of an index that is gone is an empty list, as an unfiltered one would give.
    const gone = dumpAddresses(socket, 77);
    kernel.deliver(message(NLMSG_DONE, NlmFlag.multi, kernel.seqOf(2), donePayload(-19)));
    await expect(gone).resolves.toEqual([]);
    socket.close();
  });

  test('a datagram cut short fails the request it answers with EMSGSIZE, at once', async () => {
    const kernel = new FakeKernel();
    const socket = open(kernel);
    const dump = dumpAddresses(socket);
    const cut = concat(message(Rtm.newAddr, NlmFlag.multi, kernel.seqOf(0), addressPayload(1)), new Uint8Array(40_000));
    kernel.deliver(cut);
    await expect(dump).rejects.toMatchObject({ code: 'EMSGSIZE' });
    socket.close();
  });

  test('a malformed datagram fails its request (EBADMSG) or is reported; nothing throws', async () => {
    const kernel = new FakeKernel();
    const errors: NetlinkError[] = [];
    const socket = open(kernel, { message: ignore, error: (e) => errors.push(e) });
    const dump = dumpAddresses(socket);
    const bad = message(Rtm.newAddr, NlmFlag.multi, kernel.seqOf(0), addressPayload(1));
    writeU32(bad, 0, 4000); // nlmsg_len past the end
    kernel.deliver(bad);
    await expect(dump).rejects.toMatchObject({ code: 'EBADMSG' });
    kernel.deliver(Uint8Array.of(1, 2, 3), 'ENOBUFS', message(NLMSG_ERROR, 0, 999, new Uint8Array(2)));
    expect(errors.map((e) => e.code)).toEqual(['EBADMSG', 'ENOBUFS']);
    socket.close();
  });

  test('garbage and others\' messages amid a dump: reported or passed on, never a throw, and the dump ends with exactly its replies', async () => {
    // Noise: arbitrary bytes (the walk stops where a length does not fit), well-formed
    // messages from another port (notifications, whatever their body), and late answers to
    // requests of ours that are gone (our port, another sequence number: dropped).
    const noise = fc.array(
      fc.oneof(
        fc.uint8Array({ maxLength: 80, size: 'max' }).map((bytes) => ({ kind: 'bytes' as const, bytes })),
        fc.integer({ min: 1, max: 254 }).map((last) => ({ kind: 'late' as const, bytes: message(Rtm.newAddr, NlmFlag.multi, 0xdead, addressPayload(last)) })),
        fc.tuple(fc.integer({ min: 16, max: 0xffff }), fc.uint8Array({ maxLength: 60, size: 'max' })).map(([type, body]) => ({ kind: 'notification' as const, bytes: message(type, 0, 7, body, PORT + 1) })),
      ),
      { maxLength: 30 },
    );
    await fc.assert(
      fc.asyncProperty(noise, fc.array(fc.integer({ min: 1, max: 254 }), { maxLength: 5 }), async (datagrams, lasts) => {
        const kernel = new FakeKernel();
        const notified: NetlinkMessage[] = [];
        const errors: NetlinkError[] = [];
        const socket = open(kernel, { message: (m) => notified.push(m), error: (e) => errors.push(e) });
        const dump = dumpAddresses(socket);
        const seq = kernel.seqOf(0);
        const replies = lasts.map((last) => message(Rtm.newAddr, NlmFlag.multi, seq, addressPayload(last)));
        // The noise goes between the replies, a share before each.
        const share = Math.ceil(datagrams.length / (replies.length + 1));
        for (let i = 0; i <= replies.length; i++) {
          for (const d of datagrams.slice(i * share, (i + 1) * share)) expect(() => kernel.deliver(d.bytes)).not.toThrow();
          const reply = replies[i];
          if (reply !== undefined) kernel.deliver(reply);
        }
        kernel.deliver(message(NLMSG_DONE, NlmFlag.multi, seq, donePayload()));
        const addresses = await dump;
        expect(addresses.map((a) => Array.from(a.address ?? []))).toEqual(lasts.map((last) => [10, 9, 0, last]));
        // Every notification reached the listener; anything unreadable was reported as EBADMSG.
        const sent = datagrams.filter((d) => d.kind === 'notification');
        expect(notified.filter((m) => m.pid === PORT + 1 && m.seq === 7).length).toBeGreaterThanOrEqual(sent.length);
        expect(errors.every((e) => e.code === 'EBADMSG')).toBe(true);
        socket.close();
      }),
    );
  });

  test('a datagram of whole messages is walked message by message; cut anywhere, the whole ones before the cut and a reason', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 16, max: 0xffff }), fc.uint8Array({ maxLength: 40, size: 'max' })), { minLength: 1, maxLength: 6 }), fc.nat(), (parts, cutSeed) => {
        const messages = parts.map(([type, body], i) => message(type, 0, i, body));
        const datagram = concat(...messages);
        const walk = (bytes: Uint8Array) => {
          const seen: Array<[number, number, number[]]> = [];
          const problem = forEachMessage(bytes, (m) => seen.push([m.type, m.seq, Array.from(m.payload)]));
          return { seen, problem };
        };
        expect(walk(datagram)).toEqual({ seen: parts.map(([type, body], i) => [type, i, Array.from(body)]), problem: undefined });
        const cut = cutSeed % datagram.length;
        // Message i is read when its header and body (nlmsg_len, padding aside) are inside the cut.
        let whole = 0;
        let next = 0;
        for (const [i, [, body]] of parts.entries()) {
          if (next + 16 + body.length > cut) break;
          whole = i + 1;
          next += messages[i]?.length ?? 0;
        }
        const { seen, problem } = walk(datagram.subarray(0, cut));
        expect(seen.map(([, seq]) => seq)).toEqual([...Array(whole).keys()]);
        // Nothing is left unread when the cut falls at or inside the last whole message's padding.
        expect(problem === undefined).toBe(next >= cut);
      }),
    );
  });

  test('link messages: undefined below an ifinfomsg, else its index and flags as they are; name and address read back', () => {
    let parsedSome = 0;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64, size: 'max' }), (bytes) => {
        const link = parseLinkMessage(bytes);
        if (bytes.length < 16) return expect(link).toBeUndefined();
        parsedSome++;
        const b = Buffer.from(bytes);
        const u32 = (at: number) => (littleEndian ? b.readUInt32LE(at) : b.readUInt32BE(at));
        expect(link).toMatchObject({ family: bytes[0], ifindex: u32(4) | 0, flags: u32(8) });
      }),
    );
    expect(parsedSome).toBeGreaterThan(50); // most runs are long enough to parse
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9]{1,15}$/), fc.uint8Array({ minLength: 6, maxLength: 6 }), fc.integer({ min: 1, max: 0x7fffffff }), (ifname, mac, ifindex) => {
        const ifinfomsg = new Uint8Array(16);
        writeU32(ifinfomsg, 4, ifindex);
        writeU32(ifinfomsg, 8, 0x10043); // IFF_UP | IFF_RUNNING | IFF_LOWER_UP | IFF_BROADCAST
        const payload = encodeMessage(Rtm.newLink, 0, ifinfomsg, [{ type: 3, value: Buffer.from(`${ifname}\0`) }, { type: 1, value: mac }]).subarray(16);
        expect(parseLinkMessage(payload)).toEqual({ family: 0, ifindex, flags: 0x10043, ifname, address: mac });
      }),
    );
  });

  test('close fails requests in flight (EBADF); replies to none are dropped', async () => {
    const kernel = new FakeKernel();
    const socket = open(kernel);
    expect(kernel.referenced).toBe(false); // a request socket does not hold the process
    const pending = dumpAddresses(socket);
    socket.close();
    await expect(pending).rejects.toMatchObject({ code: 'EBADF' });
    expect(kernel.closed).toBe(true);
    await expect(dumpAddresses(socket)).rejects.toMatchObject({ code: 'EBADF' });
  });

  test('errno names: the kernel negative errno as Node names it', () => {
    expect(errnoName(-17)).toBe('EEXIST');
    expect(errnoName(-99)).toBe('EADDRNOTAVAIL');
    expect(errnoName(-19)).toBe('ENODEV');
    expect(errnoName(-531)).toBe('-531'); // no name: the number, as before
  });
});

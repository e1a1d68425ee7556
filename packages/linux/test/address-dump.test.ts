import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { endianness } from 'node:os';
import {
  encodeIfaddrmsg,
  IFA_ADDRESS,
  IFA_FLAGS,
  IFA_LABEL,
  IFA_LOCAL,
  IFADDRMSG_LENGTH,
  parseAddressMessage,
  type KernelAddress,
} from '../src/netlink/address-dump.js';
import { IFA_PROTO, isOurs } from '../src/netlink/address-tag.js';
import { encodeMessage, Rtm, stringAttribute, u32Attribute, u8Attribute, type Attribute } from '../src/netlink/codec.js';
import { parseVip } from '../src/address/vip.js';

// An RTM_NEWADDR payload as the kernel sends it (captured from a dump): 10.5.0.9/24 on
// ifindex 3, label "d0", IFA_PROTO 0x6b, IFA_FLAGS 0x80 (permanent).
const DUMPED = Buffer.from(
  '0218800003000000' + '080001000a050009' + '080002000a050009' + '0700030064300000' + '05000b006b000000' + '0800080080000000',
  'hex',
);

describe('RTM_NEWADDR parsing', () => {
  test('reads family, prefix, index, address, label, proto and IFA_FLAGS', () => {
    const a = parseAddressMessage(DUMPED);
    expect(a).toMatchObject({ family: 2, prefixLength: 24, ifindex: 3, label: 'd0', proto: 0x6b, flags: 0x80 });
    expect(Array.from(a?.address ?? [])).toEqual([10, 5, 0, 9]);
  });

  const hostU32 = (b: Uint8Array, at: number) => (endianness() === 'LE' ? Buffer.from(b).readUInt32LE(at) : Buffer.from(b).readUInt32BE(at));
  /** An RTM_NEWADDR payload from its parts: ifaddrmsg, then the attributes present, in this order. */
  const messageArb = fc.record({
    family: fc.constantFrom(2, 10),
    prefixLength: fc.integer({ min: 0, max: 128 }),
    headerFlags: fc.integer({ min: 0, max: 255 }),
    scope: fc.integer({ min: 0, max: 255 }),
    ifindex: fc.nat({ max: 0xffffffff }),
    address: fc.option(fc.uint8Array({ minLength: 4, maxLength: 16 }), { nil: undefined }),
    local: fc.option(fc.uint8Array({ minLength: 4, maxLength: 16 }), { nil: undefined }),
    label: fc.option(fc.stringMatching(/^[a-z0-9:.]{1,15}$/), { nil: undefined }),
    proto: fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
    flags: fc.option(fc.nat({ max: 0xffffffff }), { nil: undefined }),
  });
  type Parts = typeof messageArb extends fc.Arbitrary<infer T> ? T : never;
  function attributesOf(m: Parts): Attribute[] {
    const out: Attribute[] = [];
    if (m.address !== undefined) out.push({ type: IFA_ADDRESS, value: m.address });
    if (m.local !== undefined) out.push({ type: IFA_LOCAL, value: m.local });
    if (m.label !== undefined) out.push(stringAttribute(IFA_LABEL, m.label));
    if (m.proto !== undefined) out.push(u8Attribute(IFA_PROTO, m.proto));
    if (m.flags !== undefined) out.push(u32Attribute(IFA_FLAGS, m.flags));
    return out;
  }
  function payloadOf(m: Parts): Uint8Array {
    const fixed = encodeIfaddrmsg({ family: m.family, prefixLength: m.prefixLength, flags: m.headerFlags, scope: m.scope, ifindex: m.ifindex });
    return encodeMessage(Rtm.newAddr, 0, fixed, attributesOf(m)).subarray(16);
  }
  /** What a parser must make of `m` when only its attributes in `kept` reached it. */
  function expected(m: Parts, kept: ReadonlySet<number>): KernelAddress {
    const has = (type: number) => kept.has(type);
    return {
      family: m.family,
      prefixLength: m.prefixLength,
      scope: m.scope,
      ifindex: m.ifindex,
      flags: has(IFA_FLAGS) ? (m.flags ?? 0) : m.headerFlags,
      address: has(IFA_LOCAL) ? m.local : has(IFA_ADDRESS) ? m.address : undefined,
      label: has(IFA_LABEL) ? m.label : undefined,
      proto: has(IFA_PROTO) ? m.proto : undefined,
    };
  }

  test('any message: every field and attribute reads back; IFA_LOCAL wins over IFA_ADDRESS, IFA_FLAGS over the header byte', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        const all = new Set(attributesOf(m).map((a) => a.type));
        expect(parseAddressMessage(payloadOf(m))).toEqual(expected(m, all));
      }),
    );
  });

  test('cut anywhere: undefined inside ifaddrmsg, else the header and exactly the attributes that arrived whole', () => {
    fc.assert(
      fc.property(messageArb, fc.nat(), (m, cutSeed) => {
        const payload = payloadOf(m);
        const cut = cutSeed % (payload.length + 1);
        const kept = new Set<number>();
        let end = IFADDRMSG_LENGTH;
        for (const a of attributesOf(m)) {
          if (end + 4 + a.value.length > cut) break; // rtattr: 4-byte header, value, padded to 4
          kept.add(a.type);
          end += (4 + a.value.length + 3) & ~3;
        }
        const parsed = parseAddressMessage(payload.subarray(0, cut));
        if (cut < IFADDRMSG_LENGTH) expect(parsed).toBeUndefined();
        else expect(parsed).toEqual(expected(m, kept));
      }),
    );
  });

  test('arbitrary bytes: undefined below 8 bytes, else the ifaddrmsg fields as they are, never a throw', () => {
    let parsedSome = 0;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64, size: 'max' }), (bytes) => {
        const parsed = parseAddressMessage(bytes);
        if (bytes.length < IFADDRMSG_LENGTH) return expect(parsed).toBeUndefined();
        parsedSome++;
        expect(parsed).toMatchObject({ family: bytes[0], prefixLength: bytes[1], scope: bytes[3], ifindex: hostU32(bytes, 4) });
      }),
    );
    expect(parsedSome).toBeGreaterThan(50); // most runs are long enough to parse
  });
});

describe('tags and VIPs', () => {
  test('IFA_PROTO decides when present; the label only without it', () => {
    expect(isOurs({ proto: 0x6b, label: undefined }, 'eth0')).toBe(true);
    expect(isOurs({ proto: 18, label: 'eth0:kv' }, 'eth0')).toBe(false); // keepalived's
    expect(isOurs({ proto: undefined, label: 'eth0:kv' }, 'eth0')).toBe(true);
    expect(isOurs({ proto: undefined, label: 'eth0' }, 'eth0')).toBe(false);
    expect(isOurs({ proto: undefined, label: 'averylongname:kv' }, 'averylongname')).toBe(false);
  });

  test('parseVip defaults to a host prefix and normalises', () => {
    expect(parseVip('10.0.0.1')).toEqual({ address: '10.0.0.1', prefixLength: 32, family: 4 });
    expect(parseVip('2001:DB8::0:1/64')).toEqual({ address: '2001:db8::1', prefixLength: 64, family: 6 });
    expect(() => parseVip('10.0.0.1/33')).toThrow('bad prefix length');
    expect(() => parseVip('10.0.0.1/24/1')).toThrow('not an address');
  });
});

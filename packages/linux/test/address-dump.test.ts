import { describe, expect, test } from '@jest/globals';
import { parseAddressMessage } from '../src/netlink/address-dump.js';
import { isOurs } from '../src/netlink/address-tag.js';
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

  test('short or malformed input never throws', () => {
    expect(parseAddressMessage(DUMPED.subarray(0, 7))).toBeUndefined();
    expect(() => parseAddressMessage(DUMPED.subarray(0, 13))).not.toThrow();
    for (let i = 0; i < 1000; i++) {
      const bytes = Uint8Array.from({ length: 8 + Math.floor(Math.random() * 40) }, () => Math.floor(Math.random() * 256));
      expect(() => parseAddressMessage(bytes)).not.toThrow();
    }
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

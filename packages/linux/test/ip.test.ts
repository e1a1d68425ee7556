import { describe, expect, test } from '@jest/globals';
import { bytesToIpv6, familyOf, ipv4ToBytes, ipv6ToBytes, isIpv6LinkLocal, normalizeIp } from '../src/ip.js';
import { InvalidArgumentError } from '../src/errors.js';

describe('ip', () => {
  test.each([
    ['::', '::'],
    ['::1', '::1'],
    ['FE80:0:0:0:0:0:0:1', 'fe80::1'],
    ['ff02::12', 'ff02::12'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // RFC 5952 §4.2.3: first of equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // one zero group is not compressed
    ['::ffff:10.0.0.1', '::ffff:10.0.0.1'], // RFC 5952 §5, as the codec spells it
    ['fe80::1%eth0', 'fe80::1'],
    ['10.0.0.1', '10.0.0.1'],
  ])('normalizeIp(%s) = %s', (input, expected) => {
    expect(normalizeIp(input)).toBe(expected);
  });

  test('round trip through bytes', () => {
    expect(Array.from(ipv6ToBytes('ff02::12'))).toEqual([0xff, 0x02, ...new Array<number>(13).fill(0), 0x12]);
    expect(bytesToIpv6(ipv6ToBytes('2001:db8::ff00:42:8329'))).toBe('2001:db8::ff00:42:8329');
    expect(Array.from(ipv4ToBytes('224.0.0.18'))).toEqual([224, 0, 0, 18]);
  });

  test('families and link-local', () => {
    expect(familyOf('10.1.2.3')).toBe(4);
    expect(familyOf('fe80::1%v0')).toBe(6);
    expect(familyOf('nope')).toBeUndefined();
    expect(isIpv6LinkLocal(ipv6ToBytes('fe80::1'))).toBe(true);
    expect(isIpv6LinkLocal(ipv6ToBytes('fec0::1'))).toBe(false);
  });

  test('bad input is a named error with a code', () => {
    expect(() => ipv4ToBytes('10.0.0.256')).toThrow(InvalidArgumentError);
    try {
      ipv6ToBytes('fe80:::1');
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidArgumentError);
      expect((e as InvalidArgumentError).code).toBe('EINVAL');
    }
  });
});

/** emitAdvert refuses adverts that cannot go on the wire, with a named error and a code. */

import { describe, expect, it } from '@jest/globals';
import {
  AdvertEncodeError,
  ENCODE_ERROR_CODES,
  emitAdvert,
  type Advert,
  type AdvertContext,
  type EncodeErrorCode,
} from '../../src/index.js';

const V2: Advert = {
  version: 2,
  type: 1,
  vrid: 51,
  priority: 150,
  advertIntervalCs: 100,
  addresses: ['10.99.0.100'],
  authType: 0,
  authData: new Uint8Array(8),
};
const V3: Advert = { ...V2, version: 3, advertIntervalCs: 10, authData: new Uint8Array(0) };
const CTX4: AdvertContext = { family: 4, src: '10.99.0.11', dst: '224.0.0.18' };
const CTX6: AdvertContext = { family: 6, src: 'fe80::1', dst: 'ff02::12' };

type Case = readonly [name: string, advert: Advert, ctx: AdvertContext];
const CASES: Record<EncodeErrorCode, readonly Case[]> = {
  bad_version: [['version 4', { ...V3, version: 4 as 3 }, CTX4]],
  version_family_mismatch: [['v2 over IPv6', { ...V2, addresses: ['2001:db8::1'] }, CTX6]],
  bad_type: [['type 2', { ...V3, type: 2 }, CTX4]],
  bad_vrid: [
    ['VRID 0', { ...V3, vrid: 0 }, CTX4],
    ['VRID 256', { ...V3, vrid: 256 }, CTX4],
    ['VRID 1.5', { ...V3, vrid: 1.5 }, CTX4],
  ],
  bad_priority: [
    ['priority -1', { ...V3, priority: -1 }, CTX4],
    ['priority 256', { ...V3, priority: 256 }, CTX4],
  ],
  bad_advert_interval: [
    ['v2 150 cs (not whole seconds)', { ...V2, advertIntervalCs: 150 }, CTX4],
    ['v2 0 s', { ...V2, advertIntervalCs: 0 }, CTX4],
    ['v2 256 s', { ...V2, advertIntervalCs: 25600 }, CTX4],
    ['v3 0 cs', { ...V3, advertIntervalCs: 0 }, CTX4],
    ['v3 4096 cs (13 bits)', { ...V3, advertIntervalCs: 4096 }, CTX4],
  ],
  bad_address_count: [
    ['no address', { ...V3, addresses: [] }, CTX4],
    ['256 addresses', { ...V3, addresses: Array<string>(256).fill('10.0.0.1') }, CTX4],
  ],
  bad_address: [
    ['IPv6 address in an IPv4 advert', { ...V3, addresses: ['2001:db8::1'] }, CTX4],
    ['not an address', { ...V3, addresses: ['10.0.0.256'] }, CTX4],
    ['zone identifier', { ...V3, addresses: ['fe80::1%eth0'] }, CTX6],
  ],
  bad_auth: [
    ['v2 auth type 2', { ...V2, authType: 2 }, CTX4],
    ['v2 auth data of 7 bytes', { ...V2, authData: new Uint8Array(7) }, CTX4],
    ['v3 with auth data', { ...V3, authData: new Uint8Array(8) }, CTX4],
    ['v3 with an auth type', { ...V3, authType: 1 }, CTX4],
  ],
  bad_context: [['v3 with an unusable src', V3, { ...CTX4, src: 'fe80::1' }]],
};

describe('emitAdvert errors', () => {
  it.each(ENCODE_ERROR_CODES)('%s has a case', (code) => {
    expect(CASES[code]?.length ?? 0).toBeGreaterThan(0);
  });

  const all = ENCODE_ERROR_CODES.flatMap((code) => CASES[code].map((c) => [code, ...c] as const));
  it.each(all)('%s: %s', (code, _name, advert, ctx) => {
    let thrown: unknown;
    try {
      emitAdvert(advert, ctx);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AdvertEncodeError);
    expect(thrown).toMatchObject({ name: 'AdvertEncodeError', code });
  });

  it('emits the valid baselines', () => {
    expect(emitAdvert(V2, CTX4)).toHaveLength(20);
    expect(emitAdvert(V3, CTX4)).toHaveLength(12);
    expect(emitAdvert({ ...V3, addresses: ['2001:db8::1'] }, CTX6)).toHaveLength(24);
  });
});

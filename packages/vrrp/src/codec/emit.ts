/**
 * emitAdvert: an Advert -> the bytes of its VRRP message, checksum filled in. An Advert that
 * cannot be put on the wire is a programmer error (the instance builds adverts from validated
 * configuration), so emit throws AdvertEncodeError with a code instead of returning a Result.
 */

import { ADVERTISEMENT_TYPE, AuthType, type Advert, type AdvertContext } from '../advert.js';
import { addressToBytes } from './address.js';
import { checksumScope, vrrpChecksum } from './checksum.js';
import { AdvertEncodeError } from './errors.js';
import { CS_PER_S } from './parse.js';
import { AdvertView, expectedLength, MAX_ADVER_INT_MASK, V2_AUTH_DATA_LENGTH } from './view.js';

const MAX_U8 = 255;

export function emitAdvert(advert: Advert, ctx: AdvertContext): Uint8Array {
  checkAdvert(advert, ctx);
  const { version } = advert;
  const addresses = advert.addresses.map((text) => {
    const bytes = addressToBytes(ctx.family, text);
    if (bytes === undefined) fail('bad_address', `${text} is not an IPv${ctx.family} address`);
    return bytes;
  });
  const scope = checksumScope(version, ctx);
  if (!scope.ok) fail('bad_context', `cannot build the IPv${ctx.family} pseudo-header from ${ctx.src} / ${ctx.dst}`);

  const view = new AdvertView(new Uint8Array(expectedLength(version, ctx.family, addresses.length)));
  view.setVersionType(version, advert.type);
  view.setVrid(advert.vrid);
  view.setPriority(advert.priority);
  view.setCount(addresses.length);
  if (version === 2) {
    view.setAuthType(advert.authType);
    view.setAdverIntS(advert.advertIntervalCs / CS_PER_S);
    view.bytes.set(advert.authData, view.authDataOffset(addresses.length));
  } else {
    view.setMaxAdverIntCs(advert.advertIntervalCs);
  }
  addresses.forEach((bytes, i) => view.bytes.set(bytes, view.addressOffset(ctx.family, i)));
  // RFC 3768 §7.2, RFC 5798 §7.2: compute the checksum last, over the filled-in message.
  view.setChecksum(vrrpChecksum(view.bytes, scope.value));
  return view.bytes;
}

function checkAdvert(advert: Advert, ctx: AdvertContext): void {
  const { version } = advert;
  if (version !== 2 && version !== 3) fail('bad_version', `VRRP version ${String(version)} is neither 2 nor 3`);
  if (version === 2 && ctx.family !== 4) fail('version_family_mismatch', 'VRRPv2 is IPv4 only (RFC 3768)');
  if (advert.type !== ADVERTISEMENT_TYPE) fail('bad_type', `type ${advert.type} is not ADVERTISEMENT (1)`);
  if (!inRange(advert.vrid, 1, MAX_U8)) fail('bad_vrid', `VRID ${advert.vrid} is outside 1..255`);
  if (!inRange(advert.priority, 0, MAX_U8)) fail('bad_priority', `priority ${advert.priority} is outside 0..255`);
  checkInterval(advert);
  // RFC 5798 §5.2.5, RFC 3768 §5.3.9: one address at least; the count is 8 bits.
  if (!inRange(advert.addresses.length, 1, MAX_U8)) {
    fail('bad_address_count', `${advert.addresses.length} addresses; an advert carries 1..255`);
  }
  checkAuth(advert);
}

function checkInterval({ version, advertIntervalCs: cs }: Advert): void {
  if (version === 2) {
    // RFC 3768 §5.3.7: whole seconds in 8 bits.
    if (!inRange(cs / CS_PER_S, 1, MAX_U8)) {
      fail('bad_advert_interval', `VRRPv2 interval ${cs} cs is not a whole number of seconds in 1..255`);
    }
  } else if (!inRange(cs, 1, MAX_ADVER_INT_MASK)) {
    // RFC 5798 §5.2.7: 12 bits of centiseconds.
    fail('bad_advert_interval', `VRRPv3 interval ${cs} cs is outside 1..4095`);
  }
}

function checkAuth({ version, authType, authData }: Advert): void {
  if (version === 3) {
    // RFC 5798 removed authentication (§9): nothing to carry.
    if (authType !== AuthType.none || authData.length !== 0) fail('bad_auth', 'VRRPv3 carries no authentication');
    return;
  }
  if (authType !== AuthType.none && authType !== AuthType.simplePassword) {
    fail('bad_auth', `VRRPv2 auth type ${authType} cannot be sent (0 none, 1 simple password)`);
  }
  if (authData.length !== V2_AUTH_DATA_LENGTH) {
    fail('bad_auth', `VRRPv2 auth data is ${authData.length} bytes, not ${V2_AUTH_DATA_LENGTH}`);
  }
}

function inRange(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

function fail(code: AdvertEncodeError['code'], message: string): never {
  throw new AdvertEncodeError(code, message);
}

/**
 * parseAdvert: bytes of one VRRP message -> a validated Advert, or the first check it fails.
 * Never throws, whatever the bytes (every read goes through AdvertView after the length
 * checks). The repr layer over view.ts.
 */

import { ADVERTISEMENT_TYPE, AuthType, type Advert, type AdvertContext } from '../advert.js';
import { err, ok, type Result } from '../result.js';
import { bytesToAddress } from './address.js';
import { checksumScope, vrrpChecksum } from './checksum.js';
import type { DecodeError } from './errors.js';
import { checkedView, expectedLength, FIXED_HEADER_LENGTH, V2_AUTH_DATA_LENGTH, type AdvertView } from './view.js';

/** Centiseconds per second: v2 carries seconds, Advert carries centiseconds. */
export const CS_PER_S = 100;

/** RFC 3768 §5.3.6: the auth types a v2 receiver can still check (2, IP AH, is gone). */
const V2_ACCEPTED_AUTH_TYPES: ReadonlySet<number> = new Set([AuthType.none, AuthType.simplePassword]);

const NO_AUTH_DATA = new Uint8Array(0);

export function parseAdvert(bytes: Uint8Array, ctx: AdvertContext): Result<Advert, DecodeError> {
  // RFC 3768/5798 §7.1: the complete packet; first the fixed header, the count comes later.
  const view = checkedView(bytes);
  if (view === undefined) {
    return err({
      code: 'truncated',
      message: `VRRP message of ${bytes.length} bytes is shorter than the ${FIXED_HEADER_LENGTH}-byte header`,
      length: bytes.length,
      minimum: FIXED_HEADER_LENGTH,
    });
  }
  // RFC 3768/5798 §7.1: verify the version. Both are accepted here; the instance checks that
  // it is the configured one.
  const version = view.version;
  if (version !== 2 && version !== 3) {
    return err({ code: 'bad_version', message: `VRRP version ${version} is neither 2 nor 3`, version });
  }
  // RFC 3768 defines VRRPv2 for IPv4 only.
  if (version === 2 && ctx.family === 6) {
    return err({
      code: 'version_family_mismatch',
      message: 'VRRPv2 message received over IPv6 (RFC 3768 is IPv4 only)',
      version,
      family: ctx.family,
    });
  }
  // RFC 3768 §5.3.2, RFC 5798 §5.2.2: a packet with unknown type MUST be discarded.
  if (view.type !== ADVERTISEMENT_TYPE) {
    return err({ code: 'bad_type', message: `VRRP type ${view.type} is not ADVERTISEMENT (1)`, type: view.type });
  }
  // RFC 3768/5798 §7.1: the complete packet, addresses (and v2 auth data) included. Extra
  // bytes are refused too, as keepalived does: the count and the length must agree.
  const expected = expectedLength(version, ctx.family, view.count);
  if (bytes.length !== expected) {
    return err({
      code: 'length_mismatch',
      message: `VRRP message is ${bytes.length} bytes, but ${view.count} address(es) make ${expected}`,
      length: bytes.length,
      expected,
      count: view.count,
    });
  }
  const checksumError = verifyChecksum(view, version, ctx);
  if (checksumError !== undefined) return err(checksumError);
  const fieldError = checkFields(view, version);
  if (fieldError !== undefined) return err(fieldError);
  return ok(toAdvert(view, version, ctx));
}

/** RFC 3768/5798 §7.1: MUST verify the VRRP checksum. */
function verifyChecksum(view: AdvertView, version: 2 | 3, ctx: AdvertContext): DecodeError | undefined {
  const scope = checksumScope(version, ctx);
  if (!scope.ok) {
    return {
      code: 'bad_context',
      message: `cannot build the IPv${ctx.family} pseudo-header from src ${ctx.src} / dst ${ctx.dst}`,
      src: ctx.src,
      dst: ctx.dst,
      family: ctx.family,
    };
  }
  const expected = vrrpChecksum(view.bytes, scope.value);
  const received = view.checksum;
  // One's complement has two zeros: a sender may write 0xffff where we compute 0 (RFC 1071).
  if (received === expected || (expected === 0 && received === 0xffff)) return undefined;
  return {
    code: 'bad_checksum',
    message: `VRRP checksum 0x${hex16(received)} should be 0x${hex16(expected)}`,
    received,
    expected,
  };
}

/** Field values the RFCs rule out, checked once the message is known to be intact. */
function checkFields(view: AdvertView, version: 2 | 3): DecodeError | undefined {
  // RFC 5798 §5.2.5: "The minimum value is 1"; RFC 3768 §5.3.9: "One or more IP addresses".
  if (view.count === 0) {
    return { code: 'bad_address_count', message: 'VRRP advertisement carries no address', count: 0 };
  }
  // RFC 3768 §5.3.3, RFC 5798 §5.2.3: VRID is in 1..255.
  if (view.vrid === 0) {
    return { code: 'bad_vrid', message: 'VRID 0 is outside 1..255', vrid: 0 };
  }
  // RFC 3768 §5.3.7 / RFC 5798 §5.2.7 define the interval *between* adverts; zero would make a
  // Backup's Master_Down_Interval just Skew_Time and let one bad packet start an election.
  const advertIntervalCs = version === 2 ? view.adverIntS * CS_PER_S : view.maxAdverIntCs;
  if (advertIntervalCs === 0) {
    return { code: 'bad_advert_interval', message: 'advertisement interval is 0', advertIntervalCs };
  }
  // RFC 3768 §5.3.6: unknown auth types MUST be discarded; type 2 (IP AH) left with RFC 2338.
  if (version === 2 && !V2_ACCEPTED_AUTH_TYPES.has(view.authType)) {
    return {
      code: 'unsupported_auth_type',
      message: `VRRPv2 auth type ${view.authType} is not supported (0 none, 1 simple password)`,
      authType: view.authType,
    };
  }
  return undefined;
}

function toAdvert(view: AdvertView, version: 2 | 3, ctx: AdvertContext): Advert {
  const addresses: string[] = [];
  for (let i = 0; i < view.count; i++) {
    addresses.push(bytesToAddress(ctx.family, view.bytes, view.addressOffset(ctx.family, i)));
  }
  if (version === 2) {
    const authStart = view.authDataOffset(view.count);
    return {
      version,
      type: view.type,
      vrid: view.vrid,
      priority: view.priority,
      advertIntervalCs: view.adverIntS * CS_PER_S,
      addresses,
      authType: view.authType,
      // A copy: the Advert must not change when the receive buffer is reused.
      authData: view.bytes.slice(authStart, authStart + V2_AUTH_DATA_LENGTH),
    };
  }
  return {
    version,
    type: view.type,
    vrid: view.vrid,
    priority: view.priority,
    advertIntervalCs: view.maxAdverIntCs,
    addresses,
    authType: AuthType.none,
    authData: NO_AUTH_DATA,
  };
}

function hex16(value: number): string {
  return value.toString(16).padStart(4, '0');
}

/** The VRRP packet codec (RFC 3768 VRRPv2, RFC 5798 VRRPv3, IPv4 and IPv6). */
export { parseAdvert, CS_PER_S } from './parse.js';
export { emitAdvert } from './emit.js';
export { vrrpChecksum, VRRP_PROTOCOL, type PseudoHeader } from './checksum.js';
export {
  DECODE_ERROR_CODES,
  ENCODE_ERROR_CODES,
  AdvertEncodeError,
  type DecodeError,
  type DecodeErrorCode,
  type EncodeErrorCode,
} from './errors.js';
export {
  ipv4ToBytes,
  bytesToIpv4,
  ipv6ToBytes,
  bytesToIpv6,
  addressToBytes,
  bytesToAddress,
  canonicalAddress,
} from './address.js';
export { FIXED_HEADER_LENGTH, V2_AUTH_DATA_LENGTH, expectedLength } from './view.js';

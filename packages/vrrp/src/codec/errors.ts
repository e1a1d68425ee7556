/**
 * Why a received message was dropped (one stable code per check, usable as a metric label:
 * `keepvip_adverts_dropped_total{reason}`), and the error emit throws on a programmer error.
 *
 * Only checks that need the VRRP bytes and the AdvertContext live here. TTL / hop limit 255,
 * "VRID configured on this interface", "not the address owner", the v2 auth type and Adver
 * Int matching the local configuration (RFC 3768 §7.1, RFC 5798 §7.1) need the IP header or
 * the instance, and are checked there.
 */

/** Every DecodeError code, in the order parseAdvert checks them. */
export const DECODE_ERROR_CODES = [
  'truncated',
  'bad_version',
  'version_family_mismatch',
  'bad_type',
  'length_mismatch',
  'bad_context',
  'bad_checksum',
  'bad_address_count',
  'bad_vrid',
  'bad_advert_interval',
  'unsupported_auth_type',
] as const;
export type DecodeErrorCode = (typeof DECODE_ERROR_CODES)[number];

interface Base<C extends DecodeErrorCode> {
  readonly code: C;
  /** For logs; not stable, never match on it. */
  readonly message: string;
}

export type DecodeError =
  /** RFC 3768/5798 §7.1 "complete VRRP packet": fewer bytes than the 8-byte fixed header. */
  | (Base<'truncated'> & { readonly length: number; readonly minimum: number })
  /** RFC 3768 §5.3.1, RFC 5798 §5.2.1: the version is neither 2 nor 3. */
  | (Base<'bad_version'> & { readonly version: number })
  /** RFC 3768 is IPv4 only: a v2 message on IPv6. */
  | (Base<'version_family_mismatch'> & { readonly version: number; readonly family: number })
  /** RFC 3768 §5.3.2, RFC 5798 §5.2.2: a type other than ADVERTISEMENT (1). */
  | (Base<'bad_type'> & { readonly type: number })
  /** RFC 3768/5798 §7.1: the length is not what the address count (and v2 auth data) makes. */
  | (Base<'length_mismatch'> & { readonly length: number; readonly expected: number; readonly count: number })
  /** The v3 pseudo-header cannot be built: ctx.src/ctx.dst are not addresses of ctx.family. */
  | (Base<'bad_context'> & { readonly src: string; readonly dst: string; readonly family: number })
  /** RFC 3768/5798 §7.1 "MUST verify the VRRP checksum". */
  | (Base<'bad_checksum'> & { readonly received: number; readonly expected: number })
  /** RFC 5798 §5.2.5 (minimum 1), RFC 3768 §5.3.9 ("one or more"): zero addresses. */
  | (Base<'bad_address_count'> & { readonly count: number })
  /** RFC 3768 §5.3.3, RFC 5798 §5.2.3: VRID 0 (the range is 1..255). */
  | (Base<'bad_vrid'> & { readonly vrid: number })
  /** A zero (Max) Adver Int: it would collapse Master_Down_Interval to Skew_Time. */
  | (Base<'bad_advert_interval'> & { readonly advertIntervalCs: number })
  /** RFC 3768 §5.3.6: auth type 2 (IP AH, RFC 2338 only) or an unknown one. */
  | (Base<'unsupported_auth_type'> & { readonly authType: number });

/** Exceptional failures of emitAdvert: the caller built an Advert that cannot go on the wire. */
export const ENCODE_ERROR_CODES = [
  'bad_version',
  'version_family_mismatch',
  'bad_type',
  'bad_vrid',
  'bad_priority',
  'bad_advert_interval',
  'bad_address_count',
  'bad_address',
  'bad_auth',
  'bad_context',
] as const;
export type EncodeErrorCode = (typeof ENCODE_ERROR_CODES)[number];

export class AdvertEncodeError extends Error {
  override readonly name = 'AdvertEncodeError';
  constructor(
    readonly code: EncodeErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The validated value of a VRRP advertisement (RFC 3768 §5, RFC 5798 §5). */

export type VrrpVersion = 2 | 3;
export type AddressFamily = 4 | 6;

/** RFC 3768 §5.3.6: authentication types of VRRPv2. VRRPv3 has none. */
export const AuthType = {
  none: 0,
  simplePassword: 1,
  /** Deprecated by RFC 3768; still recognised so it can be rejected by name. */
  ipAuthenticationHeader: 2,
} as const;
export type AuthType = (typeof AuthType)[keyof typeof AuthType];

/** The only packet type either version defines (ADVERTISEMENT). */
export const ADVERTISEMENT_TYPE = 1;

export interface Advert {
  readonly version: VrrpVersion;
  /** Always ADVERTISEMENT (1) for a parsed packet. */
  readonly type: number;
  /** Virtual Router Identifier, 1..255. */
  readonly vrid: number;
  /** 0 = the master is stopping, 255 = address owner. */
  readonly priority: number;
  /**
   * Advertisement interval in centiseconds. v3 carries Max_Adver_Int in centiseconds;
   * a v2 interval in seconds is converted (1 s -> 100).
   */
  readonly advertIntervalCs: number;
  /** The virtual addresses, as strings in the advert's family ("10.0.0.1", "fe80::1"). */
  readonly addresses: readonly string[];
  /** v2 only (0 for v3). */
  readonly authType: number;
  /** v2 only: the 8 bytes of authentication data (empty for v3). */
  readonly authData: Uint8Array;
}

/** What a codec needs besides the VRRP bytes: the IP layer around them. */
export interface AdvertContext {
  readonly family: AddressFamily;
  /** IP source address of the packet (for the v3 pseudo-header checksum). */
  readonly src: string;
  /** IP destination address of the packet (for the v3 pseudo-header checksum). */
  readonly dst: string;
  /**
   * VRRPv3 over IPv4 only: verify/compute the checksum over the VRRP message alone, without
   * the IPv4 pseudo-header, for devices that do so (keepalived includes it; so does RFC 5798).
   * Off by default.
   */
  readonly v3Ipv4ChecksumWithoutPseudoHeader?: boolean;
}

/**
 * RTM_NEWADDR and RTM_DELADDR requests (rtnetlink(7)), acknowledged (NLM_F_ACK): the
 * kernel's NLMSG_ERROR says 0 or why not. Adding is NLM_F_CREATE | NLM_F_EXCL, so an
 * address that exists fails with EEXIST instead of being replaced (and losing its tag).
 */
import { IFA_PROTO } from './address-tag.js';
import { encodeIfaddrmsg, IFA_ADDRESS, IFA_FLAGS, IFA_LABEL, IFA_LOCAL } from './address-dump.js';
import { encodeMessage, NlmFlag, Rtm, stringAttribute, u32Attribute, u8Attribute, type Attribute } from './codec.js';

export interface AddressChange {
  /** AF_INET (2) or AF_INET6 (10). */
  readonly family: number;
  readonly prefixLength: number;
  readonly ifindex: number;
  /** 4 or 16 bytes. */
  readonly address: Uint8Array;
}

export interface NewAddress extends AddressChange {
  /** IFA_PROTO: who added it (our tag). */
  readonly proto: number;
  /** IFA_LABEL, IPv4 only. */
  readonly label?: string;
  /** IFA_FLAGS (IFA_F_* bits, e.g. NODAD), sent only when set. */
  readonly flags?: number;
}

/**
 * Universe scope, no ifaddrmsg flags; IFA_LOCAL and IFA_ADDRESS both the address (not a
 * point-to-point peer), then label, flags and proto when there are any.
 */
export function newAddressRequest(a: NewAddress): Uint8Array {
  const attributes: Attribute[] = [
    { type: IFA_LOCAL, value: a.address },
    { type: IFA_ADDRESS, value: a.address },
  ];
  if (a.label !== undefined) attributes.push(stringAttribute(IFA_LABEL, a.label));
  if (a.flags !== undefined && a.flags !== 0) attributes.push(u32Attribute(IFA_FLAGS, a.flags));
  attributes.push(u8Attribute(IFA_PROTO, a.proto));
  return encodeMessage(
    Rtm.newAddr,
    NlmFlag.request | NlmFlag.ack | NlmFlag.create | NlmFlag.excl,
    encodeIfaddrmsg({ family: a.family, prefixLength: a.prefixLength, ifindex: a.ifindex }),
    attributes,
  );
}

/** IFA_LOCAL alone names the address to remove, for both families; a missing one fails with EADDRNOTAVAIL. */
export function delAddressRequest(a: AddressChange): Uint8Array {
  return encodeMessage(
    Rtm.delAddr,
    NlmFlag.request | NlmFlag.ack,
    encodeIfaddrmsg({ family: a.family, prefixLength: a.prefixLength, ifindex: a.ifindex }),
    [{ type: IFA_LOCAL, value: a.address }],
  );
}

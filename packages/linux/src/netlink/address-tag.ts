/**
 * How an address is marked as ours, so that reconcile and purge never touch an address an
 * operator or another daemon added.
 *
 * - IFA_PROTO (Linux >= 6.1), a u8 "who added this" as keepalived uses it. Our value is
 *   0x6b ('k'); keepalived's is RTPROT_KEEPALIVED (18), so the two never claim each
 *   other's addresses. Older kernels ignore the attribute, hence also:
 * - IFA_LABEL `<ifname>:kv` on IPv4 (labels exist for IPv4 only), when it fits in the
 *   15 characters of IFNAMSIZ. `ip addr` shows it, which helps an operator too.
 */
export const IFA_PROTO = 11;
export const KEEPVIP_IFA_PROTO = 0x6b;
const IFNAMSIZ_CHARS = 15;
const LABEL_SUFFIX = ':kv';

export function addressLabel(ifname: string): string | undefined {
  const label = ifname + LABEL_SUFFIX;
  return label.length <= IFNAMSIZ_CHARS ? label : undefined;
}

export interface TagFields {
  readonly proto: number | undefined;
  readonly label: string | undefined;
}

export function isOurs(fields: TagFields, ifname: string, proto = KEEPVIP_IFA_PROTO): boolean {
  if (fields.proto !== undefined) return fields.proto === proto;
  const label = addressLabel(ifname);
  return label !== undefined && fields.label === label;
}

/**
 * @keepvip/linux: the Linux data plane. Bytes and kernel objects only; VRRP semantics
 * (VRIDs, priorities, states) live in @keepvip/vrrp and the agent.
 */
export {
  LinuxNetError,
  SocketError,
  NetlinkError,
  InterfaceNotFoundError,
  InterfaceAddressError,
  AddonNotBuiltError,
  InvalidArgumentError,
} from './errors.js';
export type { Family } from './ip.js';
export { normalizeIp, familyOf } from './ip.js';

export {
  AdvertSocket,
  type AdvertSocketOptions,
  type AdvertSocketEvents,
  type AdvertCounters,
  type AdvertDrop,
} from './advert/advert-socket.js';
export { DropReason, ALL_DROP_REASONS, type AdvertPacket } from './advert/receive-filter.js';
export type { SendOutcome } from './advert/transport.js';
export { VRRP_GROUP_V4 } from './advert/ipv4-transport.js';
export { VRRP_GROUP_V6 } from './advert/ipv6-transport.js';

export { lookupInterface, type InterfaceInfo } from './netlink/interfaces.js';

export { AddressManager, type AddressManagerOptions, type ReconcileReport } from './address/address-manager.js';
export { parseVip, vipKey, type Vip } from './address/vip.js';
export { KEEPVIP_IFA_PROTO } from './netlink/address-tag.js';

export {
  NeighborAnnouncer,
  type NeighborAnnouncerOptions,
  type NeighborAnnouncerEvents,
  type AnnounceCounters,
  type FrameSender,
  type Timers,
} from './announce/neighbor-announcer.js';
export { KEEPALIVED_POLICY, burstSchedule, type AnnouncePolicy } from './announce/policy.js';
export { buildGratuitousArp, GARP_FRAME_LENGTH } from './frames/arp.js';
export { buildUnsolicitedNeighborAdvert, NA_FRAME_LENGTH } from './frames/neighbor-advert.js';
export { internetChecksum } from './frames/checksum.js';

export { LinkWatcher, type LinkState, type LinkWatcherEvents, type LinkWatcherOptions } from './link/link-watcher.js';

export { AcceptFilter, type AcceptFilterOptions } from './nft/accept-filter.js';
export { NftError } from './nft/nft.js';

export { releaseFreeMemory } from './memory/release.js';

export { NatBindings, parseTableListing, type NatBindingsOptions, type NatApplyReport, type ConntrackFlushFailure } from './nft/nat-bindings.js';
export { Conntrack, type ConntrackOptions, type UdpFlowsOutcome, type UdpFlowsToEndpoints } from './conntrack/conntrack.js';
export {
  validateBindings,
  validateBinding,
  revalidateBindings,
  type BindingCheck,
  type ValidationMemo,
  type AcceptedBinding,
  MAX_AFFINITY_TIMEOUT_SECONDS,
  type NatBinding,
  type NatEndpoint,
  type NatProtocol,
  type ValidBinding,
} from './nft/nat-binding.js';
export { renderNatScript, desiredContents, DEFAULT_NAT_TABLE, AFFINITY_SET_SIZE, type NatStart, type NatTableContents } from './nft/nat-render.js';

export { tryLockExclusive } from './lock/file-lock.js';

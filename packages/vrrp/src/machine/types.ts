/** The per-instance VRRP state machine's vocabulary: RFC 5798 §6 names, no I/O. */
import type { AddressFamily, Advert, VrrpVersion } from '../advert.js';

/**
 * RFC 5798 §6.4 states, plus keepalived's Fault: the interface (or a tracked object) is
 * down, so the instance neither advertises nor holds addresses.
 */
export const VrrpState = {
  Initialize: 'Initialize',
  Backup: 'Backup',
  Master: 'Master',
  Fault: 'Fault',
} as const;
export type VrrpState = (typeof VrrpState)[keyof typeof VrrpState];

/**
 * What an instance is told to be. A value: a running instance gets a new one through the
 * ConfigChanged event, which changes in place all but its identity (reconfigure.ts).
 */
export interface InstanceConfig {
  readonly name: string;
  readonly version: VrrpVersion;
  readonly family: AddressFamily;
  /** Virtual Router Identifier, 1..255. */
  readonly vrid: number;
  /** Priority as configured, 1..255 (255 = address owner). */
  readonly configuredPriority: number;
  /** Advertisement_Interval in centiseconds (v2: a multiple of 100). */
  readonly advertIntervalCs: number;
  /** RFC 5798 Preempt_Mode. */
  readonly preemptMode: boolean;
  /** keepalived preempt_delay: how long a Backup tolerates a lower-priority Master before preempting. */
  readonly preemptDelayMs: number;
  /** RFC 5798 Accept_Mode: carried to the data plane with the addresses. */
  readonly acceptMode: boolean;
  /** This router's primary address on the interface: the advert source and the tie-breaker. */
  readonly primaryAddress: string;
  /** The virtual addresses (IPvX_Addresses), in CIDR or plain form as the data plane takes them. */
  readonly vips: readonly string[];
  /** keepalived down_timer_adverts: advert intervals in Master_Down_Interval (RFC: 3). */
  readonly downTimerAdverts: number;
  /**
   * keepalived higher_prio_send_advert + garp_lower_prio_repeat: a Master that hears a
   * lower-priority advert answers at once with an advert and re-announces its addresses, so a
   * healed split brain resolves in one packet time rather than one advert interval.
   */
  readonly reassertOnLowerPriority: boolean;
  /** v2 simple password authentication: the 8 bytes a received advert must carry (undefined: none). */
  readonly authPassword?: Uint8Array | undefined;
}

export type TimerName = 'adverTimer' | 'masterDownTimer';

/** Stable reasons for a transition (metric and log labels). */
export const TransitionCause = {
  startup: 'startup',
  addressOwner: 'address_owner',
  masterDownTimer: 'master_down_timer',
  higherPriorityAdvert: 'higher_priority_advert',
  equalPriorityHigherAddress: 'equal_priority_higher_address',
  shutdown: 'shutdown',
  linkDown: 'link_down',
  linkUp: 'link_up',
} as const;
export type TransitionCause = (typeof TransitionCause)[keyof typeof TransitionCause];

/** Why a received advert was not acted on (metric labels, beside the codec's decode codes). */
export const AdvertDropReason = {
  vridMismatch: 'vrid_mismatch',
  versionMismatch: 'version_mismatch',
  authMismatch: 'auth_mismatch',
  /** RFC 3768 §7.1: a v2 advert whose interval differs from ours is discarded. */
  advertIntervalMismatch: 'advert_interval_mismatch',
  /** Initialize or Fault: the instance is not in the election. */
  notListening: 'not_listening',
} as const;
export type AdvertDropReason = (typeof AdvertDropReason)[keyof typeof AdvertDropReason];

/**
 * RFC 5798 §7.1 / RFC 3768 §7.1 checks whose failure is a misconfiguration to log and count,
 * not a reason to drop the advert (metric labels).
 */
export const AdvertMismatchReason = {
  /** "Count IPvX Addrs" and the addresses differ from the VIPs configured for the VRID. */
  addressListMismatch: 'address_list_mismatch',
} as const;
export type AdvertMismatchReason = (typeof AdvertMismatchReason)[keyof typeof AdvertMismatchReason];

export type VrrpEvent =
  | { readonly kind: 'Startup' }
  | { readonly kind: 'Shutdown' }
  /** `src` is the advert's IP source: the sender's primary address. */
  | { readonly kind: 'AdvertReceived'; readonly advert: Advert; readonly src: string }
  | { readonly kind: 'AdverTimerFired' }
  | { readonly kind: 'MasterDownTimerFired' }
  /** Tracking changed the effective priority (the agent clamps it to 1..254 for non-owners). */
  | { readonly kind: 'PriorityChanged'; readonly effectivePriority: number }
  | { readonly kind: 'LinkDown' }
  | { readonly kind: 'LinkUp' }
  /**
   * A new configuration for the running instance, with the effective priority it gives
   * (tracking applied by the agent). Identity (VRID, version, family) cannot change in place:
   * such an event is ignored and the agent restarts the instance (`configChange`).
   */
  | { readonly kind: 'ConfigChanged'; readonly config: InstanceConfig; readonly effectivePriority: number };

export type VrrpAction =
  | { readonly kind: 'SendAdvert'; readonly priority: number; readonly advertIntervalCs: number }
  | { readonly kind: 'AddVips'; readonly vips: readonly string[]; readonly acceptMode: boolean }
  | { readonly kind: 'RemoveVips'; readonly vips: readonly string[] }
  /**
   * Gratuitous ARP / unsolicited NA for the addresses: a takeover, a re-assertion, or
   * addresses added to a running Master (announced alone, the others are not repeated).
   */
  | { readonly kind: 'AnnounceVips'; readonly vips: readonly string[]; readonly reason: 'takeover' | 'reassert' | 'added' }
  /** A Master's Accept_Mode (or address ownership) changed: its held VIPs now take traffic, or not. */
  | { readonly kind: 'AcceptModeChanged'; readonly vips: readonly string[]; readonly acceptMode: boolean }
  /** `atMs` is an absolute time on the caller's clock; arming replaces any earlier deadline. */
  | { readonly kind: 'ArmTimer'; readonly timer: TimerName; readonly atMs: number }
  | { readonly kind: 'CancelTimer'; readonly timer: TimerName }
  | { readonly kind: 'StateChanged'; readonly from: VrrpState; readonly to: VrrpState; readonly cause: TransitionCause }
  | { readonly kind: 'AdvertDropped'; readonly reason: AdvertDropReason }
  /** An advert acted on although it shows a misconfiguration (the sender's addresses in `addresses`). */
  | { readonly kind: 'AdvertMismatch'; readonly reason: AdvertMismatchReason; readonly src: string; readonly addresses: readonly string[] }
  /**
   * A lower-priority advert that would have been answered (reassertOnLowerPriority) within the
   * rate limit: `advert` when nothing was sent, `announcement` when the advert left but the
   * ARP / NA burst did not. Counted, so a flood of forged adverts shows.
   */
  | { readonly kind: 'ReassertSuppressed'; readonly part: 'advert' | 'announcement' }
  /**
   * `silentMaster` changed: the address of the Master whose adverts stopped when this instance
   * took over on Master_Down_Timer, or null once that router is heard again or this instance
   * leaves Master. The agent leaves that node's endpoints out of the NAT bindings meanwhile.
   */
  | { readonly kind: 'SilentMasterChanged'; readonly address: string | null }
  /** An event that cannot happen in this state (a stale timer, a double start): counted, never thrown. */
  | { readonly kind: 'EventIgnored'; readonly event: VrrpEvent['kind']; readonly state: VrrpState };

/** One instance's whole protocol state. Values, never mutated: `step` returns a new one. */
export interface VrrpInstance {
  readonly config: InstanceConfig;
  readonly state: VrrpState;
  /** Priority after tracking; equals configuredPriority when nothing is tracked. */
  readonly effectivePriority: number;
  /** RFC 5798 Master_Adver_Interval (cs): learnt from the Master's adverts in v3. */
  readonly masterAdverIntervalCs: number;
  /** The current Master's address as last heard (or our own while Master), null if unknown. */
  readonly masterAddress: string | null;
  /**
   * In Backup, the Master whose silence Master_Down_Timer measures: the source of the last
   * advert accepted. Null when the timer runs for another reason: no Master heard since this
   * instance became Backup, a priority-0 advert (a handover), or a lower-priority advert from
   * that Master discarded to preempt it (it is alive).
   */
  readonly watchedMaster: string | null;
  /**
   * In Master, entered because the watched Master fell silent (Master_Down_Timer, RFC 5798
   * §6.4.2): its address, until an advert from it is heard again; null otherwise (a takeover
   * after a handover, by preemption, at startup, or as address owner).
   */
  readonly silentMaster: string | null;
  /** Deadlines (ms on the caller's clock) of the two RFC timers; null when not running. */
  readonly adverTimerAt: number | null;
  readonly masterDownTimerAt: number | null;
  /** keepalived preempt_delay: when a Backup that hears a lower-priority Master may preempt. */
  readonly preemptAllowedAt: number | null;
  /**
   * When this Master last answered a lower-priority advert with an advert, and with an
   * announcement (ms on the caller's clock); null since it became Master. The rate limit of
   * reassertOnLowerPriority.
   */
  readonly reassertAdvertAt: number | null;
  readonly reassertAnnounceAt: number | null;
  /** Set once the link is known down; cleared on LinkUp. */
  readonly linkDown: boolean;
  /** Whether the instance has been started (Startup seen, no Shutdown since). */
  readonly running: boolean;
}

export interface StepResult {
  readonly instance: VrrpInstance;
  readonly actions: readonly VrrpAction[];
}

/**
 * What an instance needs from the data plane, as small ports. The Linux adapter implements
 * them over @keepvip/linux; narrow unit tests may use fakes.
 */
import { nodeTimerHost, TimerQueue, type Timer } from './timer-queue.js';

export type { Timer } from './timer-queue.js';

export interface AnnouncePolicy {
  /** Frames at once on takeover. */
  readonly repeat: number;
  readonly intervalMs: number;
  /** A second burst of `repeat` frames after this delay (0 = none). */
  readonly delayMs: number;
  /** Periodic refresh while Master (0 = off). */
  readonly refreshMs: number;
}

/** Sends VRRP payloads on one interface and family (shared by its instances). */
export interface AdvertSender {
  /** The address adverts leave from: primary IPv4, or the IPv6 link-local. */
  readonly sourceAddress: string;
  /** Synchronous: the socket is non-blocking and a failure is a value, never an exception. */
  send(payload: Uint8Array, dst: string): { ok: true } | { ok: false; code: string };
}

/** Addresses on one interface, tagged as keepvip's in the kernel. CIDRs in canonical form. */
export interface VipPort {
  add(cidrs: readonly string[]): Promise<void>;
  remove(cidrs: readonly string[]): Promise<void>;
  /** Our tagged addresses the kernel holds now. */
  list(): Promise<readonly string[]>;
  /** Adds the missing, removes our extra ones; reports what changed. */
  reconcile(desired: readonly string[]): Promise<{ added: readonly string[]; removed: readonly string[] }>;
}

/** Gratuitous ARP / unsolicited NA on one interface, with one policy. */
export interface AnnouncerPort {
  /** Announces the addresses under `setId`, replacing what that set still had pending. */
  announce(setId: string, addresses: readonly string[]): void;
  /** Stops the set's pending repeats and refreshes. */
  cancel(setId: string): void;
}

/** An announcer the daemon opened, and closes when its last instance goes. */
export interface OpenAnnouncer extends AnnouncerPort {
  close(): void;
}

/** An interface as rtnetlink reports it: carrier, and its index (0 while it does not exist). */
export interface LinkState {
  readonly up: boolean;
  readonly ifindex: number;
}

/** A monotonic clock in milliseconds and one-shot timers on it, re-armed in place. */
export interface Clock {
  now(): number;
  /** A timer calling `fire` when it comes due; made once, armed and cancelled many times. */
  timer(fire: () => void): Timer;
}

const processTimers = new TimerQueue(nodeTimerHost);

/** Real time: every timer of the process on one queue (see timer-queue.ts). */
export const monotonicClock: Clock = {
  now: () => performance.now(),
  timer: (fire) => processTimers.timer(fire),
};

/** A received advert that passed the IP-level checks (TTL 255, interface, not our own). */
export interface ReceivedPacket {
  readonly src: string;
  readonly dst: string;
  /** A view of the socket's receive buffer: valid during the onPacket call only, never kept. */
  readonly payload: Uint8Array;
}

/** One interface and family's VRRP socket, shared by every instance on it. */
export interface AdvertChannel extends AdvertSender {
  /** IP-level drops by reason, as counted by the socket. */
  dropped(): Readonly<Record<string, number>>;
  close(): void;
}

/** RFC 5798 Accept_Mode off: packets addressed to these VIPs are dropped. */
export interface AcceptFilterPort {
  block(cidrs: readonly string[]): Promise<void>;
  unblock(cidrs: readonly string[]): Promise<void>;
}

/** The whole data plane the daemon needs; the Linux adapter is the real one. */
export interface DataPlane {
  openChannel(options: {
    ifname: string;
    family: 4 | 6;
    onPacket: (packet: ReceivedPacket) => void;
    /** The socket failed (not a packet problem): logged by the daemon. */
    onError: (message: string) => void;
  }): Promise<AdvertChannel>;
  /** The interface's addresses, over one netlink socket per interface (opened on first use). */
  vips(ifname: string): VipPort;
  /** Closes the interface's address socket until `vips(ifname)` is asked for again. */
  releaseVips(ifname: string): void;
  /** A new AF_PACKET announcer (the daemon shares it among the instances with this policy). */
  openAnnouncer(ifname: string, policy: AnnouncePolicy): Promise<OpenAnnouncer>;
  /**
   * Calls `onChange` with the link now and on every change of carrier or index (an interface
   * deleted, or created again); returns a stop function.
   */
  watchLink(ifname: string, onChange: (state: LinkState) => void): Promise<() => void>;
  /** The host's Accept_Mode filter; `reset` clears what an earlier run left, `remove` at exit. */
  readonly acceptFilter: AcceptFilterPort & { reset(): Promise<void>; remove(): Promise<void> };
  /** Frames sent by the announcers, per interface (summed over their policies, closed ones included). */
  announceCounters(): ReadonlyArray<{ ifname: string; arpSent: number; naSent: number; sendErrors: number }>;
  /** Hands memory the C allocator kept after a burst back to the kernel (see @keepvip/linux). */
  releaseFreeMemory(): void;
  close(): Promise<void>;
}

/** A ready pod's address and the target port its EndpointSlice gave. */
export interface NatEndpoint {
  readonly address: string;
  readonly port: number;
  /**
   * The endpoint's Node as the plan saw it: its InternalIP of the binding's family (the source
   * of its VRRP adverts) and its Ready condition. A new Master leaves out the endpoints of the
   * node whose adverts stopped (nat-silent-node.ts); absent: never left out.
   */
  readonly node?: { readonly address: string; readonly ready: boolean } | undefined;
}

/**
 * A Service port bound to a VIP (issue 12): new connections to vip:port go to one of the
 * endpoints (ready pods), with ClientIP affinity when the Service asks for it. Kubernetes names;
 * an endpoint carries the target port its EndpointSlice gave.
 */
export interface NatBinding {
  readonly vip: string;
  readonly protocol: 'TCP' | 'UDP' | 'SCTP';
  readonly port: number;
  /** Empty: connections to vip:port are refused. */
  readonly endpoints: readonly NatEndpoint[];
  /** sessionAffinity: ClientIP, with sessionAffinityConfig.clientIP.timeoutSeconds (1-86400); absent: None. */
  readonly clientIpAffinity?: { readonly timeoutSeconds: number } | undefined;
  /** Shown in the ruleset, e.g. "ingress/nginx:https". */
  readonly source?: string | undefined;
}

/**
 * A UDP binding whose flows to the endpoints a change removed (or to every endpoint, the binding
 * removed) kept their conntrack entries: the deletion failed, so those flows reach the old
 * endpoints until they go quiet for the UDP timeout.
 */
export interface NatFlushFailure {
  readonly vip: string;
  readonly protocol: 'UDP';
  readonly port: number;
  readonly message: string;
}

/** What an apply did beside the rules (issue 12): the deletion of conntrack entries of UDP flows to removed endpoints. */
export interface NatApplyReport {
  readonly conntrackDeleted: number;
  readonly conntrackFailures: readonly NatFlushFailure[];
}

/**
 * The NAT of the VIPs this node is Master for, level-based: `apply` takes the whole desired set
 * and resolves once the kernel has it (call it before announcing a VIP; one transaction, never
 * half the rules); invalid input rejects naming every problem and changes nothing. `remove`
 * takes every binding out (at start-up, for what a killed run left, and at exit).
 */
export interface NatBindingsPort {
  apply(desired: readonly NatBinding[]): Promise<NatApplyReport>;
  /** What `apply` would refuse in these bindings, each problem with its place; empty: none. Touches nothing. */
  problems(desired: readonly NatBinding[]): readonly string[];
  /**
   * Makes sure the kernel still holds the last set applied (a firewall reload may flush it),
   * without checking its bindings again: cheap whatever their number (the periodic reconcile).
   */
  check(): Promise<NatApplyReport>;
  remove(): Promise<void>;
}

/** What the daemon shows to metrics and health checks, read at scrape time. */
import type { VrrpState } from '@keepvip/vrrp';
import type { InstanceCounters } from '../instance/counters.js';
import type { InstanceFailure } from '../instances/failures.js';
import type { NatInstanceStats } from '../instances/nat-table.js';

export interface InstanceSnapshot {
  readonly name: string;
  readonly interface: string;
  readonly vrid: number;
  readonly family: 4 | 6;
  readonly state: VrrpState;
  readonly effectivePriority: number;
  readonly vips: readonly string[];
  readonly counters: InstanceCounters;
  /** NAT binding endpoints left out now, on the node whose adverts stopped (issue 12). */
  readonly natEndpointsLeftOut: number;
  readonly notifyRuns: number;
  readonly notifyFailures: number;
  /** Track script results so far, by script and result (ok, failed, timed_out). */
  readonly scriptResults: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

export interface ChannelSnapshot {
  readonly interface: string;
  readonly family: 4 | 6;
  /** Drops by reason before any instance saw them: IP-level (TTL, own packet, ...) and the dispatcher's (VRID 0, unknown VRID). */
  readonly dropped: Readonly<Record<string, number>>;
}

export interface DaemonSnapshot {
  instances(): readonly InstanceSnapshot[];
  /** Desired instances that could not start (retried). */
  failures(): readonly InstanceFailure[];
  /** How often each instance has failed so far, by name (also those running again). */
  failureTotals(): ReadonlyMap<string, number>;
  channels(): readonly ChannelSnapshot[];
  /** NAT bindings (issue 12) per instance that has had some: installed now, and failed syncs. */
  nat(): readonly NatInstanceStats[];
  announceCounters(): ReadonlyArray<{ ifname: string; arpSent: number; naSent: number; sendErrors: number }>;
  /** Our tagged addresses each interface holds now, as CIDRs. */
  heldAddresses(ifname: string): Promise<readonly string[]>;
}

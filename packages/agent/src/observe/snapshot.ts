/** What the daemon shows to metrics and health checks, read at scrape time. */
import type { VrrpState } from '@keepvip/vrrp';
import type { InstanceCounters } from '../instance/counters.js';

export interface InstanceSnapshot {
  readonly name: string;
  readonly interface: string;
  readonly vrid: number;
  readonly family: 4 | 6;
  readonly state: VrrpState;
  readonly effectivePriority: number;
  readonly vips: readonly string[];
  readonly counters: InstanceCounters;
  readonly notifyRuns: number;
  readonly notifyFailures: number;
  /** Track script results so far, by script and result (ok, failed, timed_out). */
  readonly scriptResults: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

export interface ChannelSnapshot {
  readonly interface: string;
  readonly family: 4 | 6;
  /** IP-level drops by reason (TTL, own packet, wrong interface, ...). */
  readonly dropped: Readonly<Record<string, number>>;
}

export interface DaemonSnapshot {
  instances(): readonly InstanceSnapshot[];
  channels(): readonly ChannelSnapshot[];
  announceCounters(): ReadonlyArray<{ ifname: string; arpSent: number; naSent: number; sendErrors: number }>;
  /** Our tagged addresses each interface holds now, as CIDRs. */
  heldAddresses(ifname: string): Promise<readonly string[]>;
}

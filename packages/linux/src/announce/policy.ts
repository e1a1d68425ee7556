/**
 * When gratuitous ARPs / unsolicited NAs go out after a takeover, and why.
 *
 * - A burst at once: peers and the switch must learn the new MAC before the first packet
 *   to the VIP is lost; `repeat` copies because a single frame can be dropped.
 * - A second burst after `delayMs`: keepalived's garp_master_delay (5 s). It catches
 *   hosts and switch ports that were not ready at the first burst (a port coming out of
 *   STP listening, a peer that was itself restarting).
 * - An optional periodic refresh: switch FDB entries age out (MetalLB#2910); a quiet VIP
 *   owner can otherwise be flooded to, or forgotten by, the fabric.
 */
export interface AnnouncePolicy {
  /** Frames per VIP in each burst (keepalived garp_master_repeat: 5). */
  readonly repeat: number;
  /** Gap between the frames of one burst; 0 sends them back to back (keepalived garp_interval 0). */
  readonly intervalMs: number;
  /** Start of the second burst after the first; 0 for none (keepalived garp_master_delay: 5 s). */
  readonly delayMs: number;
  /** Period of one frame per VIP while still announcing; undefined for none (garp_master_refresh). */
  readonly refreshMs?: number;
}

export const KEEPALIVED_POLICY: AnnouncePolicy = { repeat: 5, intervalMs: 0, delayMs: 5000 };

/** Send times of the bursts, relative to the announcement (ms): [0, 0, ..., delay, delay, ...]. */
export function burstSchedule(policy: AnnouncePolicy): number[] {
  const starts = policy.delayMs > 0 ? [0, policy.delayMs] : [0];
  return starts.flatMap((start) => Array.from({ length: policy.repeat }, (_, i) => start + i * policy.intervalMs));
}

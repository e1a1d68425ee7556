/**
 * The priorities of a ranking. RFC 5798 separates Backups only by Skew_Time, (256 - Priority) x
 * Master_Adver_Interval / 256: ranks one point apart (0.39 ms at 100 ms adverts) have
 * Master_Down_Timers that a loaded node's timer jitter overtakes, and both Backups took over
 * together in 7 of 9 lab crashes (docs/benchmarks.md), the loser's gratuitous ARP pulling
 * traffic to a node about to step back. So the first ranks are RANK_PRIORITY_STEP apart.
 */

/**
 * Priority points between consecutive ranks, top included (a Backup that preempts a demoted
 * Master races the next rank just as after a crash): 48 points = 3/16 Master_Adver_Interval
 * between their Master_Down_Timers, 18.75 ms at 100 ms adverts (above the 17 ms a loaded lab
 * node's timer was seen late), 187.5 ms at 1 s. The first Backup pays it once: its
 * Master_Down_Interval is that much longer than at maxPriority - 1 (321 ms, not 303, at 100 ms).
 */
export const RANK_PRIORITY_STEP = 48;

/**
 * Priorities for `count` ranked nodes, best first: `maxPriority` on top, then RANK_PRIORITY_STEP
 * down per rank while the ranks left can still count down by one above 1 (with 50 nodes from
 * 250: 250, 202, 154, 106, 58, then 45, 44, ..., 1); never below 1.
 */
export function rankPriorities(count: number, maxPriority: number): number[] {
  const out: number[] = [];
  for (let rank = 0; rank < count; rank++) {
    const previous = out[rank - 1];
    if (previous === undefined) {
      out.push(maxPriority);
      continue;
    }
    // One point per rank still below keeps the ranking strictly decreasing while it can be.
    const room = count - rank;
    out.push(Math.max(1, Math.min(previous - 1, Math.max(previous - RANK_PRIORITY_STEP, room))));
  }
  return out;
}

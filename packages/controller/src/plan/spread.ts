/**
 * Which node tops each unit (a Service's VIPs, or one VIP held alone): rendezvous hashing with
 * bounded loads, both ways. W VIPs, N nodes, fair share W/N:
 *
 * 1. Units are taken in a fixed order (by the hash of their id); each goes to the first node of
 *    its own rendezvous order, among the nodes it may top, with room under the cap
 *    (ceil(1.5 W/N), kept within 2 W/N where whole VIPs allow; see spreadBounds).
 * 2. Then each node below the floor (ceil(W/2N) when W >= N, else 0), in hash order, takes
 *    the units that rank it highest from nodes that stay at or above the floor without them.
 *
 * For VIPs of weight 1 over equal nodes every node ends between the floor and the cap, and a
 * node joining or leaving moves mostly the VIPs it must: a unit changes node when its first
 * choice joins or leaves, or when a bound that moved by one pushes it (the property tests
 * measure both). Every node computes the same result from the same input.
 */
import { hash32, rendezvousOrder, rendezvousScore } from './hash.js';

export interface SpreadUnit {
  readonly id: string;
  /** VIPs in the unit. */
  readonly weight: number;
  /** The nodes it may top (its best tier), in any order. */
  readonly candidates: readonly string[];
}

/** The upper bound, as a multiple of the fair share W/N. */
export const SPREAD_CAP_FACTOR = 1.5;

export function spreadBounds(totalWeight: number, nodes: number): { lo: number; hi: number } {
  if (nodes === 0) return { lo: 0, hi: 0 };
  // With fewer VIPs than nodes some node tops none: no floor is possible.
  const lo = totalWeight >= nodes ? Math.ceil(totalWeight / (2 * nodes)) : 0;
  // The cap, kept within twice the fair share where whole VIPs allow it.
  const fair = totalWeight / nodes;
  return { lo, hi: Math.max(Math.ceil(fair), Math.min(Math.ceil(SPREAD_CAP_FACTOR * fair), Math.floor(2 * fair))) };
}

/**
 * The top node of every unit with at least one candidate. `nodes` are all the nodes that
 * share the load (the fair share is over them).
 */
export function assignTops(units: readonly SpreadUnit[], nodes: readonly string[]): Map<string, string> {
  const placed = [...units].filter((u) => u.candidates.length > 0).sort((a, b) => hash32(a.id) - hash32(b.id) || (a.id < b.id ? -1 : 1));
  const totalWeight = placed.reduce((sum, u) => sum + u.weight, 0);
  const { lo, hi } = spreadBounds(totalWeight, nodes.length);
  const load = new Map<string, number>(nodes.map((n) => [n, 0]));
  const loadOf = (n: string) => load.get(n) ?? 0;
  const tops = new Map<string, string>();
  // Pass 1: each unit to its first choice with room under the cap.
  for (const unit of placed) {
    const prefs = rendezvousOrder(unit.id, unit.candidates);
    // Every candidate full: the least loaded, first in the unit's order on a tie.
    const choice = prefs.find((n) => loadOf(n) + unit.weight <= hi) ?? prefs.reduce((best, n) => (loadOf(n) < loadOf(best) ? n : best));
    load.set(choice, loadOf(choice) + unit.weight);
    tops.set(unit.id, choice);
  }
  // Pass 2: a node below the floor takes, one at a time, the unit that ranks it highest among
  // the units it may top whose node stays at or above the floor without them.
  const byId = new Map(placed.map((u) => [u.id, u]));
  for (const node of [...nodes].sort((a, b) => hash32(a) - hash32(b) || (a < b ? -1 : 1))) {
    while (loadOf(node) < lo) {
      let best: { unit: SpreadUnit; score: number } | undefined;
      for (const [id, from] of tops) {
        const unit = byId.get(id) as SpreadUnit;
        if (from === node || loadOf(from) - unit.weight < lo || !unit.candidates.includes(node)) continue;
        const score = rendezvousScore(unit.id, node);
        if (best === undefined || score > best.score || (score === best.score && unit.id < best.unit.id)) best = { unit, score };
      }
      if (best === undefined) break;
      const from = tops.get(best.unit.id) as string;
      load.set(from, loadOf(from) - best.unit.weight);
      load.set(node, loadOf(node) + best.unit.weight);
      tops.set(best.unit.id, node);
    }
  }
  return tops;
}

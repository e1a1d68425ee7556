/**
 * The endpoints a new Master leaves out of its NAT bindings (issue 12): those on the node whose
 * VRRP adverts stopped. A node that dies takes its pods with it, but Kubernetes marks them not
 * ready only after node-monitor-grace-period (40-50 s); until then their EndpointSlices list them
 * as ready, and a binding would send new connections (and a ClientIP-affine client's every
 * connection) to dead pods. keepalived users have real_server health checks for this; keepvip
 * uses what VRRP already knows.
 *
 * Conservative, on every count:
 * - only after a takeover on Master_Down_Timer from a Master that was heard and then fell silent
 *   (the state machine's `silentMaster`: not a priority-0 handover, a preemption or a start);
 * - only the endpoints whose node's address (planned from the Node) is that Master's advert source;
 * - never the last endpoint of a binding (a binding is not emptied: it would refuse everyone);
 * - only until the API server speaks of them again: a binding whose planned value changes (its
 *   endpoints, or their nodes' Ready conditions) is taken as planned from then on, except the
 *   silent node's endpoints while the API server reports that node not Ready (as it does once
 *   the node's lease lapses, before its pods' endpoints are marked not ready: no moment of dead
 *   pods back in); and all of them come back when the silent node is heard again or the
 *   instance leaves Master.
 */
import type { NatBinding } from '../ports.js';

/** One instance's exclusion, since its takeover from `address`. */
interface Held {
  readonly address: string;
  /**
   * Binding key -> the binding as planned at the takeover (JSON), with the last object seen
   * equal to it (compared first: a takeover of many instances syncs once per instance, and an
   * unchanged plan hands the same objects); a key gone: the plan changed it.
   */
  readonly asPlanned: Map<string, { json: string; seen: NatBinding }>;
  /** Every endpoint left out since the takeover, counted once. */
  readonly counted: Set<string>;
  /** The endpoints left out at the last call, and as text. */
  leftOut: readonly string[];
  leftOutText: string;
}

export interface SilentNodeView {
  /** The bindings as they go to the table now. */
  readonly bindings: readonly NatBinding[];
  /** The silent node's address (also when nothing is left out any more); null: none. */
  readonly address: string | null;
  /** "VIP PROTOCOL PORT -> address:port" of every endpoint left out now. */
  readonly leftOut: readonly string[];
  /** Endpoints left out for the first time since the takeover (the counter's increment). */
  readonly newlyLeftOut: number;
  /** `leftOut` differs from the last call's for this instance (worth a log line). */
  readonly changed: boolean;
}

const bindingKey = (b: NatBinding) => `${b.vip} ${b.protocol} ${b.port}`;

export class SilentNodeEndpoints {
  readonly #held = new Map<string, Held>();

  /** The bindings of Master `name` as they go to the table now, and what is left out of them. */
  filter(name: string, silentMaster: string | null, bindings: readonly NatBinding[]): SilentNodeView {
    let held = this.#held.get(name);
    if (silentMaster === null) {
      this.#held.delete(name);
      return { bindings, address: held?.address ?? null, leftOut: [], newlyLeftOut: 0, changed: held !== undefined && held.leftOut.length > 0 };
    }
    if (held === undefined || held.address !== silentMaster) {
      held = { address: silentMaster, asPlanned: new Map(bindings.map((b) => [bindingKey(b), { json: JSON.stringify(b), seen: b }])), counted: new Set(), leftOut: [], leftOutText: '' };
      this.#held.set(name, held);
    }
    const out: NatBinding[] = [];
    const leftOut: string[] = [];
    let newlyLeftOut = 0;
    for (const b of bindings) {
      const key = bindingKey(b);
      const planned = held.asPlanned.get(key);
      if (planned !== undefined && planned.seen !== b) {
        if (planned.json === JSON.stringify(b)) planned.seen = b;
        else held.asPlanned.delete(key);
      }
      const asPlannedAtTakeover = held.asPlanned.has(key);
      const isOut = (e: NatBinding['endpoints'][number]): boolean => e.node?.address === silentMaster && (asPlannedAtTakeover || e.node.ready === false);
      const kept = b.endpoints.filter((e) => !isOut(e));
      if (kept.length === 0 || kept.length === b.endpoints.length) {
        out.push(b);
        continue;
      }
      out.push({ ...b, endpoints: kept });
      for (const e of b.endpoints) {
        if (!isOut(e)) continue;
        const what = `${key} -> ${e.address}:${e.port}`;
        leftOut.push(what);
        if (!held.counted.has(what)) {
          held.counted.add(what);
          newlyLeftOut++;
        }
      }
    }
    const text = leftOut.join(', ');
    const changed = text !== held.leftOutText;
    held.leftOut = leftOut;
    held.leftOutText = text;
    return { bindings: out, address: silentMaster, leftOut, newlyLeftOut, changed };
  }

  /** What instance `name` leaves out now: the silent node's address and the endpoints; undefined: nothing. */
  of(name: string): { readonly node: string; readonly endpoints: readonly string[] } | undefined {
    const held = this.#held.get(name);
    return held === undefined || held.leftOut.length === 0 ? undefined : { node: held.address, endpoints: held.leftOut };
  }

  /** Forgets every instance but these (not Master, or gone). */
  keepOnly(names: ReadonlySet<string>): void {
    for (const name of this.#held.keys()) if (!names.has(name)) this.#held.delete(name);
  }
}

/**
 * VRIDs for VIP groups: the same on every node, unique per family across the cluster (so per
 * interface and family on every node), stable. Pinned VRIDs are taken first; each other group
 * starts at the slot its id hashes to in the range and takes the next free one. Groups are
 * placed in id order, so a group keeps its VRID unless a new group lands on its slot first
 * (pin the VRID where that matters).
 */
import { hash32 } from './hash.js';

export interface VridRange {
  readonly first: number;
  readonly last: number;
}

export const DEFAULT_VRID_RANGE: VridRange = { first: 1, last: 255 };

export interface VridRequest {
  readonly id: string;
  readonly pinned?: number;
}

export type VridOutcome = { readonly vrid: number } | { readonly conflict: string } | { readonly exhausted: true };

/** One outcome per request id. */
export function allocateVrids(requests: readonly VridRequest[], range: VridRange): Map<string, VridOutcome> {
  const out = new Map<string, VridOutcome>();
  const used = new Map<number, string>();
  const sorted = [...requests].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const request of sorted) {
    if (request.pinned === undefined) continue;
    const other = used.get(request.pinned);
    if (other !== undefined) out.set(request.id, { conflict: other });
    else {
      used.set(request.pinned, request.id);
      out.set(request.id, { vrid: request.pinned });
    }
  }
  const size = range.last - range.first + 1;
  for (const request of sorted) {
    if (request.pinned !== undefined) continue;
    const start = hash32(request.id) % size;
    let vrid: number | undefined;
    for (let step = 0; step < size; step++) {
      const candidate = range.first + ((start + step) % size);
      if (!used.has(candidate)) {
        vrid = candidate;
        break;
      }
    }
    if (vrid === undefined) out.set(request.id, { exhausted: true });
    else {
      used.set(vrid, request.id);
      out.set(request.id, { vrid });
    }
  }
  return out;
}

/** A range the options give, checked. */
export function checkVridRange(range: VridRange): string | undefined {
  const ok = Number.isInteger(range.first) && Number.isInteger(range.last) && range.first >= 1 && range.last <= 255 && range.first <= range.last;
  return ok ? undefined : `VRID range ${range.first}..${range.last} is not within 1..255`;
}

/**
 * keepalived's vrrp_sync_group: instances that must move together. A member that fails on
 * its own (link, tracking) puts every other member in Fault too; the group as a whole is
 * reported (and notified) as Master, Backup or Fault once its members agree.
 */
import type { VrrpState } from '@keepvip/vrrp';
import type { InstanceRunner } from './instance/runner.js';
import type { Notifier } from './notify/notifier.js';

export interface SyncGroupDef {
  readonly name: string;
  readonly members: readonly string[];
  readonly notifier: Notifier;
}

export class SyncGroups {
  private readonly groupOf = new Map<string, SyncGroupDef>();
  private readonly lastState = new Map<string, VrrpState>();

  constructor(
    private readonly groups: readonly SyncGroupDef[],
    private readonly lookup: (name: string) => InstanceRunner | undefined,
    private readonly onState: (group: string, state: VrrpState) => void,
  ) {
    for (const g of groups) for (const m of g.members) this.groupOf.set(m, g);
  }

  /** Recomputes every group (after members were added or removed). */
  refresh(): void {
    for (const g of this.groups) this.propagate(g);
  }

  /** A member's own faults changed: share them with the rest of its group. */
  faultsChanged(member: string): void {
    const g = this.groupOf.get(member);
    if (g !== undefined) this.propagate(g);
  }

  transitioned(member: string): void {
    const g = this.groupOf.get(member);
    if (g === undefined) return;
    const states = g.members.map((m) => this.lookup(m)?.state);
    let state: VrrpState | undefined;
    if (states.includes('Fault')) state = 'Fault';
    else if (states.every((s) => s === 'Master')) state = 'Master';
    else if (states.every((s) => s === 'Backup')) state = 'Backup';
    else if (states.every((s) => s === 'Initialize' || s === undefined)) state = 'Initialize';
    if (state === undefined || state === this.lastState.get(g.name)) return;
    this.lastState.set(g.name, state);
    this.onState(g.name, state);
    g.notifier.notify(state, 0);
  }

  private propagate(g: SyncGroupDef): void {
    // Only members' own reasons are shared: sharing shared ones would let two members hold
    // each other in Fault forever.
    const own = new Map(g.members.map((m) => [m, this.lookup(m)?.faultReasons(['link', 'track']) ?? []]));
    for (const member of g.members) {
      const reasons = g.members.filter((o) => o !== member).flatMap((o) => (own.get(o) ?? []).map((r) => `sync group ${g.name}: ${o}: ${r}`));
      this.lookup(member)?.setFault('sync', reasons);
    }
  }
}

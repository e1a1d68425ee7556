/** The control socket's protocol: one JSON request line, JSON response lines. */
import type { VrrpState } from '@keepvip/vrrp';
import type { InstanceFailure } from '../instances/failures.js';
import type { InstanceApplyResult } from '../instances/report.js';

export type ControlRequest = { readonly command: 'status' } | { readonly command: 'reload' } | { readonly command: 'watch' };

export interface InstanceStatus {
  readonly name: string;
  readonly interface: string;
  readonly vrid: number;
  readonly version: 2 | 3;
  readonly family: 4 | 6;
  readonly state: VrrpState;
  /** The effective priority (after tracking). */
  readonly priority: number;
  readonly configuredPriority: number;
  /** The current Master's address as last heard (ours while Master), or null. */
  readonly master: string | null;
  readonly vips: readonly string[];
  readonly transitions: number;
  readonly lastTransition: { readonly from: VrrpState; readonly to: VrrpState; readonly cause: string; readonly at: string } | null;
  /** Why the instance is held in Fault (empty when it is not). */
  readonly faults: readonly string[];
}

export interface StatusReport {
  readonly instances: readonly InstanceStatus[];
  /** Desired instances that could not start, with why (retried by the daemon). */
  readonly failed?: readonly InstanceFailure[];
}

/** A `global` field a reload changed. */
export interface GlobalChange {
  readonly field: string;
  readonly outcome: 'applied' | 'failed';
  readonly reason?: string;
}

export type ReloadReport =
  | { readonly ok: true; readonly instances: readonly InstanceApplyResult[]; readonly global: readonly GlobalChange[] }
  /** The file (or a global change that needs a restart) was refused: nothing changed. */
  | { readonly ok: false; readonly errors: readonly string[] };

export type ControlResponse =
  | { readonly ok: true; readonly status: StatusReport }
  | { readonly ok: true; readonly reload: ReloadReport }
  | { readonly ok: false; readonly error: string };

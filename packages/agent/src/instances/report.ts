/** What `apply` did, per instance: the answer to the controller and to `keepvip reload`. */
import type { TransitionCause, VrrpState } from '@keepvip/vrrp';

export type ApplyOutcome = 'added' | 'changed' | 'restarted' | 'unchanged' | 'removed' | 'failed';

export interface InstanceApplyResult {
  readonly name: string;
  /** Which desired set asked for it ("file", "controller", ...). */
  readonly source: string;
  readonly outcome: ApplyOutcome;
  /** For changed and restarted: the configuration fields that differed. */
  readonly fields?: readonly string[];
  /** For failed: why, naming what is missing (an interface, an address, a socket error). */
  readonly reason?: string;
  /** For failed: a stable code (ENODEV, EADDRNOTAVAIL, EPERM, conflict, ...). */
  readonly code?: string;
}

export type ApplyReport =
  | { readonly ok: true; readonly instances: readonly InstanceApplyResult[] }
  /** Nothing was applied (the daemon is stopping, or the desired set was rejected whole). */
  | { readonly ok: false; readonly errors: readonly string[] };

/** A transition of one instance, as the runtime API publishes it. */
export interface TransitionEvent {
  readonly instance: string;
  readonly source: string;
  readonly interface: string;
  readonly vrid: number;
  readonly family: 4 | 6;
  readonly from: VrrpState;
  readonly to: VrrpState;
  readonly cause: TransitionCause;
  /** Wall-clock time, ISO 8601. */
  readonly at: string;
}

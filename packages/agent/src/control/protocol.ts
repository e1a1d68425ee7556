/** The control socket's protocol: one JSON request line per connection, JSON response lines. */
import type { VrrpState } from '@keepvip/vrrp';
import type { InstanceFailure } from '../instances/failures.js';
import type { InstanceApplyResult } from '../instances/report.js';
import type { NatBinding } from '../ports.js';

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
  /** The Kubernetes Services (`namespace/name`) the VIPs serve; only on the controller's instances. */
  readonly services?: readonly string[];
  /**
   * The Service ports bound to the VIPs by NAT (issue 12), each with its endpoints; only on the
   * controller's instances that have some. In this node's nftables while the instance is Master.
   */
  readonly natBindings?: readonly NatBinding[];
  /**
   * The endpoints of those bindings this Master leaves out now ("VIP PROTOCOL PORT ->
   * address:port"): on the node at `node`, whose adverts stopped when it took over. Absent: none.
   */
  readonly natEndpointsLeftOut?: { readonly node: string; readonly endpoints: readonly string[] };
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

export const CONTROL_COMMANDS = ['status', 'reload', 'watch'] as const satisfies readonly ControlRequest['command'][];

export type ParsedRequest = { readonly ok: true; readonly request: ControlRequest } | { readonly ok: false; readonly error: string };

/** One request line, checked member by member: whatever a client sends, an error names what is wrong. */
export function parseControlRequest(line: string): ParsedRequest {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, error: 'request is not JSON (send one line such as {"command":"status"})' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: `request must be a JSON object such as {"command":"status"}, not ${describe(value)}` };
  }
  const members = Object.keys(value);
  const extra = members.find((key) => key !== 'command');
  if (extra !== undefined) return { ok: false, error: `unknown member ${JSON.stringify(extra)} in the request (it takes only "command")` };
  const command: unknown = (value as { command?: unknown }).command;
  if (!members.includes('command')) return { ok: false, error: `request has no "command" (one of ${CONTROL_COMMANDS.join(', ')})` };
  if (typeof command !== 'string') return { ok: false, error: `"command" must be a string, not ${describe(command)}` };
  const known = CONTROL_COMMANDS.find((c) => c === command);
  if (known === undefined) return { ok: false, error: `unknown command ${JSON.stringify(command.slice(0, 64))} (one of ${CONTROL_COMMANDS.join(', ')})` };
  return { ok: true, request: { command: known } };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

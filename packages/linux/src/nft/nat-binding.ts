/**
 * A NAT binding (issue 12): traffic to a VIP's Service port is sent to the Service's ready
 * endpoints. Kubernetes names: `protocol` is a Service port's protocol, `port` its port, each
 * endpoint carries the target port its EndpointSlice resolved (a named targetPort may differ
 * between slices), and `clientIpAffinity` is `sessionAffinity: ClientIP` with its
 * `sessionAffinityConfig.clientIP.timeoutSeconds`.
 */
import { InvalidArgumentError } from '../errors.js';
import { familyOf, ipToBytes, normalizeIp, type Family } from '../ip.js';

export type NatProtocol = 'TCP' | 'UDP' | 'SCTP';

export interface NatEndpoint {
  /** A ready pod's address, of the VIP's family. */
  readonly address: string;
  /** The target port on that pod. */
  readonly port: number;
}

export interface NatBinding {
  /** The VIP, a plain address (no prefix length). */
  readonly vip: string;
  readonly protocol: NatProtocol;
  /** The Service port clients connect to on the VIP. */
  readonly port: number;
  /** Empty: connections to VIP:port are refused (as kube-proxy does for a Service with no endpoints). */
  readonly endpoints: readonly NatEndpoint[];
  /** Absent: sessionAffinity None. */
  readonly clientIpAffinity?: { readonly timeoutSeconds: number } | undefined;
  /** Who asked, shown as a comment in the ruleset, e.g. "ingress/nginx:https". */
  readonly source?: string | undefined;
}

/** A binding checked and in canonical form: addresses normalised, endpoints sorted and unique. */
export interface ValidBinding {
  readonly family: Family;
  readonly vip: string;
  readonly protocol: NatProtocol;
  readonly port: number;
  readonly endpoints: readonly NatEndpoint[];
  readonly affinityTimeoutSeconds: number | undefined;
  readonly source: string | undefined;
}

/** Kubernetes' bound on sessionAffinityConfig.clientIP.timeoutSeconds. */
export const MAX_AFFINITY_TIMEOUT_SECONDS = 86_400;

const PROTOCOLS: readonly string[] = ['TCP', 'UDP', 'SCTP'];

function isPort(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65_535;
}

/** One binding checked alone: its problems (each with its place), or its canonical form. */
export type BindingCheck = { readonly problems: readonly string[] } | { readonly valid: ValidBinding };

/**
 * Checks one binding on its own (`at` is its place, e.g. `bindings[2]`). What depends on the
 * other bindings (a VIP:port bound twice) is checked across the set by `validateBindings`.
 */
export function validateBinding(b: NatBinding, at: string): BindingCheck {
  const problems: string[] = [];
  const family = typeof b.vip === 'string' ? familyOf(b.vip) : undefined;
  if (family === undefined) problems.push(`${at}.vip: ${JSON.stringify(b.vip)} is not an IP address`);
  if (!PROTOCOLS.includes(b.protocol)) problems.push(`${at}.protocol: ${JSON.stringify(b.protocol)} is not one of TCP, UDP, SCTP`);
  if (!isPort(b.port)) problems.push(`${at}.port: ${JSON.stringify(b.port)} is not a port (1-65535)`);
  const timeout = b.clientIpAffinity?.timeoutSeconds;
  if (b.clientIpAffinity !== undefined && !(Number.isInteger(timeout) && (timeout as number) >= 1 && (timeout as number) <= MAX_AFFINITY_TIMEOUT_SECONDS)) {
    problems.push(`${at}.clientIpAffinity.timeoutSeconds: ${JSON.stringify(timeout)} is not a whole number of seconds from 1 to ${MAX_AFFINITY_TIMEOUT_SECONDS}`);
  }
  if (b.source !== undefined && typeof b.source !== 'string') problems.push(`${at}.source: ${JSON.stringify(b.source)} is not text`);
  const endpoints = new Map<string, NatEndpoint>();
  (Array.isArray(b.endpoints) ? b.endpoints : []).forEach((e, j) => {
    const eat = `${at}.endpoints[${j}]`;
    const efamily = typeof e.address === 'string' ? familyOf(e.address) : undefined;
    if (efamily === undefined) problems.push(`${eat}.address: ${JSON.stringify(e.address)} is not an IP address`);
    else if (family !== undefined && efamily !== family) problems.push(`${eat}.address: ${e.address} is IPv${efamily}, the VIP ${b.vip} is IPv${family}`);
    if (!isPort(e.port)) problems.push(`${eat}.port: ${JSON.stringify(e.port)} is not a port (1-65535)`);
    if (efamily !== undefined && isPort(e.port)) {
      // The same endpoint in two EndpointSlices (a slice being replaced) is one endpoint.
      const endpoint = { address: normalizeIp(e.address), port: e.port };
      endpoints.set(`${endpoint.address} ${endpoint.port}`, endpoint);
    }
  });
  if (!Array.isArray(b.endpoints)) problems.push(`${at}.endpoints: not a list`);
  if (problems.length > 0 || family === undefined) return { problems };
  return {
    valid: {
      family,
      vip: normalizeIp(b.vip),
      protocol: b.protocol,
      port: b.port,
      endpoints: sortedBy([...endpoints.values()], (e) => `${addressKey(e.address)} ${portKey(e.port)}`),
      affinityTimeoutSeconds: timeout,
      source: b.source,
    },
  };
}

/** A binding accepted in an earlier set: what it was given as, and what it became. */
export interface AcceptedBinding {
  readonly input: NatBinding;
  readonly valid: ValidBinding;
  readonly sortKey: string;
}

/**
 * The bindings of the last set accepted, for `revalidateBindings`: found by identity (the same
 * object again) or by VIP, protocol and port as given (then compared by value). A binding's
 * check depends on that binding alone, so reusing its earlier result gives what checking it
 * again would. Bindings are taken as immutable (as their type says): one changed in place
 * after it was accepted would not be checked again.
 */
export interface ValidationMemo {
  readonly byInput: ReadonlyMap<NatBinding, AcceptedBinding>;
  readonly byKey: ReadonlyMap<string, AcceptedBinding>;
}

/**
 * Checks every binding and returns them in canonical form, sorted by VIP, protocol and port.
 * Collects every problem, each with its place (`bindings[2].endpoints[0].address`), and throws
 * one InvalidArgumentError listing them all; nothing is applied then.
 */
export function validateBindings(bindings: readonly NatBinding[]): ValidBinding[] {
  return revalidateBindings(bindings, undefined).valid;
}

/**
 * `validateBindings`, checking only the bindings that are not in `memo` (the last set
 * accepted) unchanged: with 1,000 bindings and one EndpointSlice changed, one binding is
 * checked, where every binding's addresses were parsed and its endpoints sorted before. The
 * check across the set (a VIP:port bound twice) still covers every binding, with one map
 * lookup each. Returns the memo of this set for the next call; throws as `validateBindings`
 * does, with the same problems in the same order. `check` is the per-binding check.
 */
export function revalidateBindings(
  bindings: readonly NatBinding[],
  memo: ValidationMemo | undefined,
  check: typeof validateBinding = validateBinding,
): { valid: ValidBinding[]; memo: ValidationMemo } {
  const problems: string[] = [];
  const accepted: AcceptedBinding[] = [];
  const seen = new Map<string, number>();
  bindings.forEach((b, i) => {
    const at = `bindings[${i}]`;
    let entry = memo?.byInput.get(b);
    if (entry === undefined) {
      const earlier = memo?.byKey.get(inputKey(b));
      if (earlier !== undefined && sameInput(earlier.input, b)) entry = { ...earlier, input: b };
    }
    if (entry === undefined) {
      const result = check(b, at);
      if ('problems' in result) {
        problems.push(...result.problems);
        return;
      }
      const v = result.valid;
      entry = { input: b, valid: v, sortKey: `${v.family} ${addressKey(v.vip)} ${v.protocol} ${portKey(v.port)}` };
    }
    const v = entry.valid;
    const key = `${v.vip} ${v.protocol} ${v.port}`;
    const first = seen.get(key);
    if (first !== undefined) {
      problems.push(`${at}: ${v.protocol} ${v.vip} port ${v.port} is already bound by bindings[${first}]`);
      return;
    }
    seen.set(key, i);
    accepted.push(entry);
  });
  if (problems.length > 0) throw new InvalidArgumentError(`invalid NAT bindings, nothing applied:\n  ${problems.join('\n  ')}`);
  const sorted = sortedBy(accepted, (a) => a.sortKey);
  return {
    valid: sorted.map((a) => a.valid),
    memo: { byInput: new Map(sorted.map((a) => [a.input, a])), byKey: new Map(sorted.map((a) => [inputKey(a.input), a])) },
  };
}

/** VIP, protocol and port as given (not normalised: only to find the earlier binding to compare). */
function inputKey(b: NatBinding): string {
  return `${String(b.vip)} ${String(b.protocol)} ${String(b.port)}`;
}

/** Whether two bindings as given are equal in every field the check reads. */
function sameInput(a: NatBinding, b: NatBinding): boolean {
  if (a.vip !== b.vip || a.protocol !== b.protocol || a.port !== b.port || a.source !== b.source) return false;
  if ((a.clientIpAffinity === undefined) !== (b.clientIpAffinity === undefined) || a.clientIpAffinity?.timeoutSeconds !== b.clientIpAffinity?.timeoutSeconds) return false;
  if (!Array.isArray(a.endpoints) || !Array.isArray(b.endpoints) || a.endpoints.length !== b.endpoints.length) return false;
  return a.endpoints.every((e, j) => e.address === b.endpoints[j]?.address && e.port === b.endpoints[j]?.port);
}

/**
 * `items` in the order of their keys, each key computed once: parsing two addresses in every
 * comparison was most of a sync of a Master's 1,000 bindings.
 */
function sortedBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  return items
    .map((item) => ({ item, key: key(item) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((k) => k.item);
}

/** An address's bytes in hex: within one family, text order is numeric order (10.0.0.9 before 10.0.0.10). */
function addressKey(address: string): string {
  return Buffer.from(ipToBytes(address)).toString('hex');
}

function portKey(port: number): string {
  return String(port).padStart(5, '0');
}

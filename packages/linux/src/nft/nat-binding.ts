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

/**
 * Checks every binding and returns them in canonical form, sorted by VIP, protocol and port.
 * Collects every problem, each with its place (`bindings[2].endpoints[0].address`), and throws
 * one InvalidArgumentError listing them all; nothing is applied then.
 */
export function validateBindings(bindings: readonly NatBinding[]): ValidBinding[] {
  const problems: string[] = [];
  const valid: ValidBinding[] = [];
  const seen = new Map<string, number>();
  bindings.forEach((b, i) => {
    const at = `bindings[${i}]`;
    const before = problems.length;
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
    if (problems.length > before || family === undefined) return;
    const vip = normalizeIp(b.vip);
    const key = `${vip} ${b.protocol} ${b.port}`;
    const first = seen.get(key);
    if (first !== undefined) {
      problems.push(`${at}: ${b.protocol} ${vip} port ${b.port} is already bound by bindings[${first}]`);
      return;
    }
    seen.set(key, i);
    valid.push({
      family,
      vip,
      protocol: b.protocol,
      port: b.port,
      endpoints: sortedBy([...endpoints.values()], (e) => `${addressKey(e.address)} ${portKey(e.port)}`),
      affinityTimeoutSeconds: timeout,
      source: b.source,
    });
  });
  if (problems.length > 0) throw new InvalidArgumentError(`invalid NAT bindings, nothing applied:\n  ${problems.join('\n  ')}`);
  return sortedBy(valid, (b) => `${b.family} ${addressKey(b.vip)} ${b.protocol} ${portKey(b.port)}`);
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

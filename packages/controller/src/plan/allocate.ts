/**
 * LoadBalancer Services of keepvip's class and their IPs. Pure and deterministic: the
 * allocator leader runs it to write `status.loadBalancer`, and every node runs the same
 * function over the same objects, so a node holds a new Service's VIP without waiting for
 * that write (VRRP never waits for the API server).
 *
 * Where a Service's IPs come from, first match wins:
 *   1. the annotation `keepvip.io/loadBalancerIPs` (comma list, one address per family);
 *   2. `spec.loadBalancerIP` (deprecated upstream, still what Istio sets);
 *   3. the IPs already in `status.loadBalancer.ingress[]` that lie in a pool (so a Service keeps
 *      its IP across restarts and replans);
 *   4. the first free address of a pool (`keepvip.io/address-pool` names one; otherwise every
 *      pool in name order), one per family the Service needs.
 * Conflicts: Services are taken oldest first (creationTimestamp, then namespace/name). A
 * requested IP that an older Service or a ConfigMap entry already holds rejects the later
 * Service; an IP only remembered in status is given up and a new one allocated.
 */
import { canonicalIp, familyOf, type Family } from './address.js';
import { compareByAge, objectKey, type Service } from './cluster.js';
import { freeAddresses, poolContains, type AddressPool } from './pools.js';
import { RejectionCode, type Rejection } from './rejection.js';
import { quote } from './text.js';

export const LOAD_BALANCER_CLASS = 'keepvip.io/vrrp';
export const LOAD_BALANCER_IPS_ANNOTATION = 'keepvip.io/loadBalancerIPs';
export const ADDRESS_POOL_ANNOTATION = 'keepvip.io/address-pool';

export type IpSource = 'annotation' | 'loadBalancerIP' | 'status' | 'pool';

export interface LoadBalancerAllocation {
  /** `namespace/name`. */
  readonly key: string;
  readonly service: Service;
  /** One per family, IPv4 first. */
  readonly ips: readonly string[];
  readonly source: IpSource;
}

export interface AllocationInput {
  readonly services: readonly Service[];
  readonly pools: readonly AddressPool[];
  /** VIPs the ConfigMap gives: address -> the Service key it binds, or null for hold-only. */
  readonly reserved?: ReadonlyMap<string, string | null>;
  /** Serve LoadBalancer Services without a class too (`--default-class`). */
  readonly defaultClass?: boolean;
}

export interface AllocationResult {
  readonly allocations: readonly LoadBalancerAllocation[];
  readonly rejected: readonly Rejection[];
}

/** Is this a LoadBalancer Service keepvip serves? */
export function isKeepvipLoadBalancer(service: Service, defaultClass = false): boolean {
  if (service.spec?.type !== 'LoadBalancer') return false;
  const cls = service.spec.loadBalancerClass;
  return cls === LOAD_BALANCER_CLASS || (cls === undefined && defaultClass);
}

function serviceFamilies(service: Service): { required: Family[]; optional: Family[] } {
  const families = (service.spec?.ipFamilies ?? ['IPv4']).map((f): Family => (f === 'IPv6' ? 6 : 4));
  const [primary = 4, ...rest] = families;
  const policy = service.spec?.ipFamilyPolicy;
  if (policy === 'RequireDualStack') return { required: [primary, ...rest], optional: [] };
  if (policy === 'PreferDualStack') return { required: [primary], optional: rest };
  return { required: [primary], optional: [] };
}

type Requested = { ips: string[]; source: 'annotation' | 'loadBalancerIP' } | { error: string } | undefined;

function requestedIps(service: Service): Requested {
  const annotation = service.metadata.annotations?.[LOAD_BALANCER_IPS_ANNOTATION];
  const [text, source] =
    annotation !== undefined && annotation.trim() !== ''
      ? [annotation, 'annotation' as const]
      : service.spec?.loadBalancerIP !== undefined && service.spec.loadBalancerIP !== ''
        ? [service.spec.loadBalancerIP, 'loadBalancerIP' as const]
        : [undefined, undefined];
  if (text === undefined || source === undefined) return undefined;
  const where = source === 'annotation' ? `annotation ${LOAD_BALANCER_IPS_ANNOTATION}` : 'spec.loadBalancerIP';
  const ips: string[] = [];
  const allowed = new Set(service.spec?.ipFamilies === undefined ? [4, 6] : serviceFamilies(service).required.concat(serviceFamilies(service).optional));
  for (const item of text.split(',')) {
    const ip = canonicalIp(item.trim());
    if (ip === undefined) return { error: `${where}: ${quote(item.trim())} is not an IP address` };
    const family = familyOf(ip) as Family;
    if (ips.some((other) => familyOf(other) === family)) return { error: `${where}: more than one IPv${family} address (one per family)` };
    if (!allowed.has(family)) return { error: `${where}: ${ip} is IPv${family}, but the Service's ipFamilies are [${(service.spec?.ipFamilies ?? []).join(', ')}]` };
    ips.push(ip);
  }
  return { ips: ips.sort((a, b) => (familyOf(a) ?? 6) - (familyOf(b) ?? 6)), source };
}

function reject(service: Service, reason: string, code: RejectionCode): Rejection {
  const key = objectKey(service.metadata);
  return { key, reason, code, object: { kind: 'Service', namespace: service.metadata.namespace ?? 'default', name: service.metadata.name } };
}

export function allocateLoadBalancerIPs(input: AllocationInput): AllocationResult {
  const reserved = input.reserved ?? new Map<string, string | null>();
  const services = input.services.filter((s) => isKeepvipLoadBalancer(s, input.defaultClass)).sort((a, b) => compareByAge(a.metadata, b.metadata));
  const owner = new Map<string, string>();
  const rejected: Rejection[] = [];
  const held = new Map<string, { ips: string[]; source: IpSource }>();
  const poolsFor = (service: Service): AddressPool[] | string => {
    const name = service.metadata.annotations?.[ADDRESS_POOL_ANNOTATION];
    if (name === undefined) return [...input.pools];
    const pool = input.pools.find((p) => p.name === name);
    return pool === undefined ? `annotation ${ADDRESS_POOL_ANNOTATION}: no pool is named ${quote(name)}` : [pool];
  };
  // Pass 1, oldest first: requested IPs, else the IPs remembered in status.
  for (const service of services) {
    const key = objectKey(service.metadata);
    const requested = requestedIps(service);
    if (requested !== undefined && 'error' in requested) {
      rejected.push(reject(service, requested.error, RejectionCode.InvalidAddress));
      continue;
    }
    if (requested !== undefined) {
      const clash = requested.ips
        .map((ip) => {
          const cm = reserved.get(ip);
          if (cm !== undefined && cm !== key) return `${ip} is a VIP of the ConfigMap${cm === null ? ' (held alone)' : ` for Service ${cm}`}`;
          const other = owner.get(ip);
          return other === undefined ? undefined : `${ip} is already the IP of Service ${other} (older)`;
        })
        .find((reason) => reason !== undefined);
      if (clash !== undefined) {
        rejected.push(reject(service, clash, RejectionCode.VipConflict));
        continue;
      }
      for (const ip of requested.ips) owner.set(ip, key);
      held.set(key, { ips: requested.ips, source: requested.source });
      continue;
    }
    const pools = poolsFor(service);
    if (typeof pools === 'string') continue; // rejected in pass 2
    const families = serviceFamilies(service);
    const wanted = new Set([...families.required, ...families.optional]);
    const kept: string[] = [];
    for (const ingress of service.status?.loadBalancer?.ingress ?? []) {
      const ip = ingress.ip === undefined ? undefined : canonicalIp(ingress.ip);
      if (ip === undefined) continue;
      const family = familyOf(ip) as Family;
      if (!wanted.has(family) || kept.some((k) => familyOf(k) === family)) continue;
      if (owner.has(ip) || reserved.has(ip) || !pools.some((p) => poolContains(p, ip))) continue;
      owner.set(ip, key);
      kept.push(ip);
    }
    if (kept.length > 0) held.set(key, { ips: kept, source: 'status' });
  }
  // Pass 2, oldest first: the families still missing come from the pools.
  const taken = new Set<string>([...owner.keys(), ...reserved.keys()]);
  const allocations: LoadBalancerAllocation[] = [];
  for (const service of services) {
    const key = objectKey(service.metadata);
    const requested = requestedIps(service);
    if (requested !== undefined) {
      const done = held.get(key);
      if (done !== undefined) allocations.push({ key, service, ips: done.ips, source: done.source });
      continue;
    }
    const pools = poolsFor(service);
    if (typeof pools === 'string') {
      rejected.push(reject(service, pools, RejectionCode.PoolExhausted));
      continue;
    }
    const previous = held.get(key);
    const ips = [...(previous?.ips ?? [])];
    const families = serviceFamilies(service);
    let missing: Family | undefined;
    for (const family of [...families.required, ...families.optional]) {
      if (ips.some((ip) => familyOf(ip) === family)) continue;
      const free = pools.map((pool) => freeAddresses(pool, family, taken).next()).find((next) => next.done !== true)?.value as string | undefined;
      if (free !== undefined) {
        taken.add(free);
        ips.push(free);
      } else if (families.required.includes(family)) {
        missing = family;
        break;
      }
    }
    if (missing !== undefined) {
      for (const ip of ips) if (!previous?.ips.includes(ip)) taken.delete(ip);
      const names = pools.map((p) => p.name).join(', ');
      rejected.push(reject(service, `no free IPv${missing} address in ${pools.length === 0 ? 'any pool (the ConfigMap declares none under _pools)' : `pool${pools.length > 1 ? 's' : ''} ${names}`}`, RejectionCode.PoolExhausted));
      continue;
    }
    ips.sort((a, b) => (familyOf(a) ?? 6) - (familyOf(b) ?? 6));
    allocations.push({ key, service, ips, source: previous !== undefined && ips.every((ip) => previous.ips.includes(ip)) ? 'status' : 'pool' });
  }
  return { allocations, rejected };
}

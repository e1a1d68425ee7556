/**
 * The planner: (ConfigMap, Services, EndpointSlices, Nodes) -> the VRRP instances of every
 * node. Pure and deterministic, so every node computes the same ranking, VRIDs and groups.
 *
 * - Nodes: only Ready nodes that are not being deleted and have an InternalIP of the VIP's
 *   family run its instance; a not-ready node runs nothing (its keepvip stops the instances,
 *   sending priority 0, and the next node takes over).
 * - Ranking of a VIP's nodes, best first: a ready local endpoint, then a serving (terminating)
 *   one, then none; with `externalTrafficPolicy: Local` nodes without one do not run it at
 *   all. Within that, `preferredNodes` first; then the spread's top (spread.ts); then the
 *   other nodes in rendezvous order. Priorities from maxPriority down, the first ranks
 *   RANK_PRIORITY_STEP apart (priority.ts), so the top is unique.
 * - Units and groups: a Service's VIPs (per family, interface, ports, preferences, pinned
 *   VRID) move together as one unit and one instance; VIPs held alone are spread one by one
 *   and share an instance with every other such VIP of the same top (they rank nodes
 *   identically). 1,000 VIPs fit in 255 VRIDs when they fall into at most 255 such groups.
 */
import { compareIps, familyOf, type Family } from './address.js';
import { allocateLoadBalancerIPs, LOAD_BALANCER_CLASS, type LoadBalancerAllocation } from './allocate.js';
import { isNodeReady, objectKey, type ClusterState, type Node, type Service } from './cluster.js';
import { parseVipConfigMap, type VipEntry } from './configmap.js';
import type { NatBinding } from '@keepvip/agent';
import { endpointTiers, EndpointTier, indexSlices, portNames } from './endpoints.js';
import { rendezvousScorer } from './hash.js';
import type { PlanMemo } from './memo.js';
import { bindsNat, natBindingsFor, ServiceEndpoints, type EndpointNode } from './nat.js';
import { RejectionCode, type RejectedObject, type Rejection } from './rejection.js';
import { rankPriorities } from './priority.js';
import { assignTops } from './spread.js';
import { allocateVrids, checkVridRange, DEFAULT_VRID_RANGE, type VridRange } from './vrid.js';

export interface ClusterPlanOptions {
  /** Auto-allocated VRIDs stay in this range (pinned ones may sit anywhere in 1..255). */
  readonly vridRange?: VridRange;
  /** Serve LoadBalancer Services without a loadBalancerClass too. */
  readonly defaultClass?: boolean;
  /** The top node's priority; the next ones count down from it (priority.ts; 2..254, default 250). */
  readonly maxPriority?: number;
  /** Kept from plan to plan by one planner: unchanged Services' bindings are not made again. */
  readonly memo?: PlanMemo;
}

export const DEFAULT_MAX_PRIORITY = 250;
/** Addresses per advert: the VRRP count field is 8 bits; IPv6 keeps the advert under a 1500-byte MTU. */
export const MAX_VIPS_PER_INSTANCE: Readonly<Record<Family, number>> = { 4: 255, 6: 90 };

export interface RankedNode {
  readonly node: string;
  readonly priority: number;
  /** The node's InternalIP of the group's family (its unicast peer address). */
  readonly address: string;
}

/** One VRRP instance as the whole cluster runs it. */
export interface PlannedGroup {
  readonly name: string;
  readonly family: Family;
  readonly vrid: number;
  /** Set when the entry names an interface; otherwise each node's InternalIP interface. */
  readonly interface?: string;
  /** CIDRs, sorted. */
  readonly vips: readonly string[];
  /** `namespace/name` of the Services served, sorted. */
  readonly services: readonly string[];
  /** ConfigMap keys and Service keys behind the VIPs. */
  readonly keys: readonly string[];
  /** Every node that runs it, best first; priorities strictly decrease (down to 1). */
  readonly ranking: readonly RankedNode[];
  /** The Service ports its ConfigMap VIPs bind (nat.ts), installed by the Master; empty: none. */
  readonly natBindings: readonly NatBinding[];
}

export interface ClusterPlan {
  readonly groups: readonly PlannedGroup[];
  readonly rejected: readonly Rejection[];
  /** keepvip's LoadBalancer Services and their IPs (allocate.ts). */
  readonly allocations: readonly LoadBalancerAllocation[];
  /**
   * What the allocator publishes in `status.loadBalancer.ingress`, per Service `namespace/name`:
   * the IPs of keepvip's LoadBalancer Services, plus the held ConfigMap VIPs of Services of type
   * LoadBalancer that have no loadBalancerClass or keepvip's (kube-proxy forwards an LB IP only
   * once it is in the status; another class's status is that implementation's to write).
   */
  readonly ingress: readonly { readonly key: string; readonly ips: readonly string[] }[];
  readonly nodes: readonly Node[];
}

interface Vip extends VipEntry {
  readonly origin: RejectedObject;
}

interface Unit {
  readonly id: string;
  /** What its ranking depends on besides its top; groups of held-alone VIPs share it. */
  readonly classKey: string;
  readonly family: Family;
  readonly interface: string | undefined;
  readonly pinned: number | undefined;
  readonly held: boolean;
  readonly vips: Vip[];
  /** Candidate node -> tier (lower is better). */
  readonly tiers: Map<string, number>;
}

function internalIp(node: Node, family: Family): string | undefined {
  return node.status?.addresses?.find((a) => a.type === 'InternalIP' && familyOf(a.address) === family)?.address;
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function unitKeyOf(vip: Vip): { id: string; classKey: string; held: boolean } {
  const base = `v${vip.family}|if:${vip.interface ?? ''}|pref:${[...vip.preferredNodes].sort().join(',')}|vrid:${vip.vrid ?? ''}`;
  if (vip.service !== undefined) {
    const id = `svc:${vip.service.namespace}/${vip.service.name}|ports:${vip.ports.map(String).sort().join(',')}|${base}`;
    return { id, classKey: id, held: false };
  }
  const classKey = `held|${base}`;
  // Held VIPs with a pinned VRID share that one instance; others are spread one by one.
  return vip.vrid === undefined ? { id: `${classKey}|vip:${vip.address}`, classKey, held: true } : { id: classKey, classKey, held: false };
}

/** The VIPs of the ConfigMap and of LoadBalancer Services, each with where it came from. */
function collectVips(state: ClusterState, options: ClusterPlanOptions, rejected: Rejection[]): { vips: Vip[]; allocations: readonly LoadBalancerAllocation[] } {
  const parsed = parseVipConfigMap(state.configMap);
  rejected.push(...parsed.rejected);
  const configMapRef: RejectedObject = { kind: 'ConfigMap', namespace: state.configMap?.metadata.namespace ?? 'default', name: state.configMap?.metadata.name ?? '' };
  const services = new Map(state.services.map((s) => [objectKey(s.metadata), s]));
  const vips: Vip[] = [];
  for (const entry of parsed.entries) {
    if (entry.service !== undefined && !services.has(`${entry.service.namespace}/${entry.service.name}`)) {
      rejected.push({ key: entry.key, reason: `Service ${entry.service.namespace}/${entry.service.name} not found`, code: RejectionCode.UnknownService, object: configMapRef });
      continue;
    }
    vips.push({ ...entry, origin: configMapRef });
  }
  const reserved = new Map<string, string | null>(vips.map((v) => [v.address, v.service === undefined ? null : `${v.service.namespace}/${v.service.name}`]));
  const allocated = allocateLoadBalancerIPs({ services: state.services, pools: parsed.pools, reserved, ...(options.defaultClass === undefined ? {} : { defaultClass: options.defaultClass }) });
  rejected.push(...allocated.rejected);
  for (const allocation of allocated.allocations) {
    const meta = allocation.service.metadata;
    const namespace = meta.namespace ?? 'default';
    for (const ip of allocation.ips) {
      if (reserved.has(ip)) continue; // the ConfigMap binds this VIP to this Service already
      const family = familyOf(ip) as Family;
      vips.push({
        key: allocation.key,
        address: ip,
        prefixLength: family === 4 ? 32 : 128,
        family,
        service: { namespace, name: meta.name },
        preferredNodes: [],
        ports: [],
        origin: { kind: 'Service', namespace, name: meta.name },
      });
    }
  }
  return { vips, allocations: allocated.allocations };
}

/** Candidate nodes and their tiers for a VIP, or the reason none may run it. */
function tiersFor(vip: Vip, eligible: readonly string[], services: Map<string, Service>, slices: SliceIndex): Map<string, number> | { reason: string; code: RejectionCode } {
  if (eligible.length === 0) return { reason: `no Ready node has an IPv${vip.family} InternalIP`, code: RejectionCode.NoEligibleNode };
  const preferred = new Set(vip.preferredNodes);
  const tier = (endpoint: number, node: string) => endpoint * 2 + (preferred.has(node) ? 0 : 1);
  if (vip.service === undefined) return new Map(eligible.map((n) => [n, tier(EndpointTier.None, n)]));
  const key = `${vip.service.namespace}/${vip.service.name}`;
  const service = services.get(key) as Service;
  const ports = portNames(service, vip.ports);
  if (typeof ports === 'string') return { reason: ports, code: RejectionCode.InvalidEntry };
  const endpoints = endpointTiers(slices.get(key) ?? [], vip.family, ports);
  const local = service.spec?.externalTrafficPolicy === 'Local';
  const tiers = new Map<string, number>();
  for (const node of eligible) {
    const endpoint = endpoints.get(node) ?? EndpointTier.None;
    if (local && endpoint === EndpointTier.None) continue;
    tiers.set(node, tier(endpoint, node));
  }
  if (tiers.size === 0) {
    return { reason: `Service ${key} has externalTrafficPolicy: Local and no ready or serving IPv${vip.family} endpoint on a Ready node; no node holds the VIP until one has`, code: RejectionCode.NoEndpoints };
  }
  return tiers;
}

type SliceIndex = ReturnType<typeof indexSlices>;

function buildUnits(vips: readonly Vip[], state: ClusterState, services: Map<string, Service>, slices: SliceIndex, rejected: Rejection[]): Unit[] {
  const ready = state.nodes.filter(isNodeReady);
  const eligible: Record<Family, string[]> = {
    4: ready.filter((n) => internalIp(n, 4) !== undefined).map((n) => n.metadata.name),
    6: ready.filter((n) => internalIp(n, 6) !== undefined).map((n) => n.metadata.name),
  };
  const units = new Map<string, Unit | { reason: string; code: RejectionCode }>();
  for (const vip of vips) {
    const { id, classKey, held } = unitKeyOf(vip);
    let unit = units.get(id);
    if (unit === undefined) {
      const tiers = tiersFor(vip, eligible[vip.family], services, slices);
      unit = tiers instanceof Map ? { id, classKey, family: vip.family, interface: vip.interface, pinned: vip.vrid, held, vips: [], tiers } : tiers;
      units.set(id, unit);
    }
    // Every VIP of a unit gets the same answer.
    if ('vips' in unit) unit.vips.push(vip);
    else rejected.push({ key: vip.key, reason: unit.reason, code: unit.code, object: vip.origin });
  }
  return [...units.values()].filter((u): u is Unit => 'vips' in u);
}

/** Nodes best first: tier, the top, then rendezvous order of `rankKey`. */
function rankNodes(tiers: ReadonlyMap<string, number>, top: string, rankKey: string): string[] {
  const score = rendezvousScorer(rankKey);
  const scored = [...tiers].map(([node, tier]) => ({ node, tier, first: node === top ? 0 : 1, score: score(node) }));
  scored.sort((a, b) => a.tier - b.tier || a.first - b.first || b.score - a.score || compareText(a.node, b.node));
  return scored.map((s) => s.node);
}

interface Draft {
  readonly id: string;
  readonly family: Family;
  readonly interface: string | undefined;
  readonly pinned: number | undefined;
  readonly vips: Vip[];
  readonly order: readonly string[];
}

function draftGroups(units: readonly Unit[]): Draft[] {
  const drafts = new Map<string, Draft>();
  for (const family of [4, 6] as const) {
    const ofFamily = units.filter((u) => u.family === family);
    const nodes = new Set<string>();
    const spreadUnits = ofFamily.map((u) => {
      let best = Number.POSITIVE_INFINITY;
      let candidates: string[] = [];
      for (const [node, tier] of u.tiers) {
        nodes.add(node);
        if (tier < best) {
          best = tier;
          candidates = [node];
        } else if (tier === best) candidates.push(node);
      }
      return { id: u.id, weight: u.vips.length, candidates };
    });
    const tops = assignTops(spreadUnits, [...nodes].sort());
    for (const unit of ofFamily) {
      const top = tops.get(unit.id) as string;
      // Held-alone VIPs of one class and top rank nodes identically: one group.
      const id = unit.held ? `${unit.classKey}|top:${top}` : unit.id;
      const draft = drafts.get(id);
      if (draft !== undefined) draft.vips.push(...unit.vips);
      else drafts.set(id, { id, family, interface: unit.interface, pinned: unit.pinned, vips: [...unit.vips], order: rankNodes(unit.tiers, top, `${unit.classKey}|${top}`) });
    }
  }
  // A group too big for one advert is split, in address order.
  const out: Draft[] = [];
  for (const draft of drafts.values()) {
    const max = MAX_VIPS_PER_INSTANCE[draft.family];
    const vips = [...draft.vips].sort((a, b) => compareIps(a.address, b.address));
    for (let i = 0; i < vips.length; i += max) out.push({ ...draft, id: i === 0 ? draft.id : `${draft.id}#${i / max}`, vips: vips.slice(i, i + max) });
  }
  return out;
}

function publishedIngress(allocations: readonly LoadBalancerAllocation[], groups: readonly PlannedGroup[], services: readonly Service[]): { key: string; ips: string[] }[] {
  const ips = new Map<string, Set<string>>(allocations.map((a) => [a.key, new Set(a.ips)]));
  const byKey = new Map(services.map((s) => [objectKey(s.metadata), s]));
  for (const group of groups) {
    // A group serves at most one Service: its VIPs are that Service's.
    for (const key of group.services) {
      const svc = byKey.get(key);
      if (svc?.spec?.type !== 'LoadBalancer' || (svc.spec.loadBalancerClass !== undefined && svc.spec.loadBalancerClass !== LOAD_BALANCER_CLASS)) continue;
      const set = ips.get(key) ?? new Set<string>();
      for (const vip of group.vips) set.add(vip.slice(0, vip.indexOf('/')));
      ips.set(key, set);
    }
  }
  return [...ips].sort(([a], [b]) => compareText(a, b)).map(([key, set]) => ({ key, ips: [...set].sort(compareIps) }));
}

/**
 * A ConfigMap VIP bound to a Service that is not a LoadBalancer: its ports' bindings (nat.ts).
 * `endpoints` holds each Service's endpoints for this plan, read once for all its VIPs.
 */
function natBindingsOf(vip: Vip, services: Map<string, Service>, slices: SliceIndex, endpoints: Map<string, ServiceEndpoints>, nodes: ReadonlyMap<string, EndpointNode>, memo: PlanMemo | undefined): NatBinding[] {
  if (vip.origin.kind !== 'ConfigMap' || vip.service === undefined) return [];
  const key = `${vip.service.namespace}/${vip.service.name}`;
  const service = services.get(key);
  if (service === undefined || !bindsNat(service)) return [];
  let ofService = endpoints.get(key);
  if (ofService === undefined) {
    const ofSlices = slices.get(key) ?? [];
    const make = () => new ServiceEndpoints(ofSlices, nodes);
    ofService = memo === undefined ? make() : memo.endpoints(key, ofSlices, make);
    endpoints.set(key, ofService);
  }
  const endpointsOf = ofService;
  if (memo === undefined) return natBindingsFor(service, endpointsOf, vip);
  return memo.bindings(key, service, `${vip.address} ${JSON.stringify(vip.ports)}`, () => natBindingsFor(service, endpointsOf, vip));
}

function reject(vips: readonly Vip[], reason: string, code: RejectionCode, rejected: Rejection[]): void {
  const seen = new Set<string>();
  for (const vip of vips) {
    if (seen.has(vip.key)) continue;
    seen.add(vip.key);
    rejected.push({ key: vip.key, reason, code, object: vip.origin });
  }
}

export function planCluster(state: ClusterState, options: ClusterPlanOptions = {}): ClusterPlan {
  const range = options.vridRange ?? DEFAULT_VRID_RANGE;
  const rangeError = checkVridRange(range);
  if (rangeError !== undefined) throw new RangeError(rangeError);
  const maxPriority = options.maxPriority ?? DEFAULT_MAX_PRIORITY;
  if (!Number.isInteger(maxPriority) || maxPriority < 2 || maxPriority > 254) throw new RangeError(`maxPriority ${maxPriority} is not within 2..254`);
  const rejected: Rejection[] = [];
  options.memo?.begin(state.nodes);
  const { vips, allocations } = collectVips(state, options, rejected);
  const services = new Map(state.services.map((s) => [objectKey(s.metadata), s]));
  const slices = indexSlices(state.endpointSlices);
  const endpoints = new Map<string, ServiceEndpoints>();
  const drafts = draftGroups(buildUnits(vips, state, services, slices, rejected));
  // Each node's InternalIP per family, looked up once (a ranking lists every node of every
  // group, and the NAT bindings' endpoints carry their node's).
  const nodes = new Map<string, EndpointNode>(state.nodes.map((n) => [n.metadata.name, { addresses: { 4: internalIp(n, 4), 6: internalIp(n, 6) }, ready: isNodeReady(n) }]));
  const groups: PlannedGroup[] = [];
  for (const family of [4, 6] as const) {
    const ofFamily = drafts.filter((d) => d.family === family);
    const vrids = allocateVrids(ofFamily.map((d) => ({ id: d.id, ...(d.pinned === undefined ? {} : { pinned: d.pinned }) })), range);
    for (const draft of ofFamily) {
      const outcome = vrids.get(draft.id);
      if (outcome === undefined || !('vrid' in outcome)) {
        const reason =
          outcome !== undefined && 'conflict' in outcome
            ? `VRID ${draft.pinned ?? ''} is pinned by another IPv${family} group (${ofFamily.find((d) => d.id === outcome.conflict)?.vips.map((v) => v.key).join(', ') ?? outcome.conflict})`
            : `no free IPv${family} VRID in ${range.first}..${range.last} (${ofFamily.length} groups need one); widen the range or pin VRIDs`;
        reject(draft.vips, reason, outcome !== undefined && 'conflict' in outcome ? RejectionCode.VridConflict : RejectionCode.VridRangeExhausted, rejected);
        continue;
      }
      const priorities = rankPriorities(draft.order.length, maxPriority);
      const served = [...new Set(draft.vips.flatMap((v) => (v.service === undefined ? [] : [`${v.service.namespace}/${v.service.name}`])))].sort();
      groups.push({
        name: `k8s-v${family}-${outcome.vrid}`,
        family,
        vrid: outcome.vrid,
        ...(draft.interface === undefined ? {} : { interface: draft.interface }),
        vips: draft.vips.map((v) => `${v.address}/${v.prefixLength}`),
        services: served,
        natBindings: draft.vips.flatMap((v) => natBindingsOf(v, services, slices, endpoints, nodes, options.memo)),
        keys: [...new Set(draft.vips.map((v) => v.key))].sort(),
        ranking: draft.order.map((node, rank) => ({
          node,
          priority: priorities[rank] as number,
          address: nodes.get(node)?.addresses[family] as string,
        })),
      });
    }
  }
  options.memo?.end();
  groups.sort((a, b) => a.family - b.family || a.vrid - b.vrid);
  const ingress = publishedIngress(allocations, groups, state.services);
  rejected.sort((a, b) => compareText(a.key, b.key) || compareText(a.reason, b.reason));
  return { groups, rejected, allocations, ingress, nodes: state.nodes };
}

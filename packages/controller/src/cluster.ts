/**
 * What the controller reads from and writes to the cluster, as plain objects and small ports.
 * Only kube-adapter.ts talks to the API server (through @kubernetes/client-node); the planner,
 * the reconcile loop and their tests depend on these types alone.
 *
 * The objects keep the Kubernetes JSON field names and shapes (a subset of them), so what
 * `kubectl get -o yaml` prints for the same objects has the same type.
 */

import type {
  ConfigMap,
  Endpoint as PlannedEndpoint,
  EndpointSlice,
  LoadBalancerIngress,
  Node,
  NodeAddress,
  NodeCondition,
  ObjectMeta as PlannedObjectMeta,
  Service,
  ServicePort as PlannedServicePort,
} from './plan/cluster.js';

export type { LoadBalancerIngress };

// The planner's object types (plan/cluster.ts) are as loose as `kubectl get -o yaml`; these
// narrow them to what the adapter always fills in, and add the few fields only it reads.

export interface ObjectMeta extends PlannedObjectMeta {
  readonly resourceVersion?: string;
  /** RFC 3339, as the API server writes it. */
  readonly creationTimestamp?: string;
  /** Set once the object is being deleted (RFC 3339). */
  readonly deletionTimestamp?: string;
}

export interface ConfigMapObject extends ConfigMap {
  readonly metadata: ObjectMeta;
  readonly data: Readonly<Record<string, string>>;
}

export interface ServicePort extends PlannedServicePort {
  readonly nodePort?: number;
}

export interface ServiceObject extends Service {
  readonly metadata: ObjectMeta;
  readonly spec: NonNullable<Service['spec']> & {
    readonly clusterIP?: string;
    readonly externalIPs?: readonly string[];
    readonly ports?: readonly ServicePort[];
  };
  readonly status: { readonly loadBalancer: { readonly ingress?: readonly LoadBalancerIngress[] } };
}

export interface Endpoint extends PlannedEndpoint {
  readonly conditions: NonNullable<PlannedEndpoint['conditions']>;
  readonly zone?: string;
}

export interface EndpointSliceObject extends EndpointSlice {
  /** `labels['kubernetes.io/service-name']` names the Service the slice belongs to. */
  readonly metadata: ObjectMeta;
  readonly endpoints: readonly Endpoint[];
}

export interface NodeObject extends Node {
  readonly metadata: ObjectMeta;
  readonly spec: NonNullable<Node['spec']>;
  readonly status: { readonly addresses: readonly NodeAddress[]; readonly conditions: readonly NodeCondition[] };
}

/** Everything the planner reads, as last seen from the API server. */
export interface ClusterSnapshot {
  /** The VIP ConfigMap; undefined when it does not exist. */
  readonly configMap: ConfigMapObject | undefined;
  readonly services: readonly ServiceObject[];
  readonly endpointSlices: readonly EndpointSliceObject[];
  readonly nodes: readonly NodeObject[];
}

/** The informers' view of the cluster. */
export interface ClusterSource {
  /**
   * True once every informer has listed its objects at least once. Stays true while a watch
   * is broken: the snapshot is then stale but whole, which is what must keep being served.
   */
  readonly synced: boolean;
  snapshot(): ClusterSnapshot;
  /** Called (asynchronously, never inside an informer callback) after anything changed. */
  onChange(listener: () => void): () => void;
}

/** The object an Event is about (a Node's namespace is ''; its Events go to `default`, as the kubelet's do). */
export interface InvolvedObject {
  readonly kind: 'ConfigMap' | 'Service' | 'Node';
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
}

export interface EventRecord {
  readonly regarding: InvolvedObject;
  readonly type: 'Normal' | 'Warning';
  /** CamelCase, stable: what a person filters on (`kubectl get events --field-selector reason=...`). */
  readonly reason: string;
  /** What happened and what to do about it. */
  readonly message: string;
}

/** The controller's writes. Each call is one request; failures throw (and are counted). */
export interface ClusterWriter {
  /**
   * Sets `status.loadBalancer.ingress` of the Service to one `{ ip, ipMode: VIP }` per IP;
   * an empty list removes it.
   */
  setServiceIngress(namespace: string, name: string, ips: readonly string[]): Promise<void>;
  recordEvent(event: EventRecord): Promise<void>;
}

/** Who allocates (writes statuses and Events): one node at a time, by a Lease. */
export interface Leadership {
  readonly isLeader: boolean;
  onChange(listener: (isLeader: boolean) => void): () => void;
}

/** Counters for the controller, read by the metrics listener at scrape time. */
export interface ControllerCounters {
  /** Reconciles run (a plan made from a synced snapshot). */
  reconciles: number;
  /** Reconciles whose plan or apply threw. */
  reconcileErrors: number;
  /** Plans applied (the plan differed from the last one applied). */
  applies: number;
  planSecondsSum: number;
  planSecondsCount: number;
  /** Entries the last plan rejected (a gauge). */
  rejectedEntries: number;
  /** Failed API requests, by `resource:verb` (e.g. `services:list`, `leases:update`). */
  readonly apiErrors: Map<string, number>;
  /** Watch events received, by resource. */
  readonly watchEvents: Map<string, number>;
  /** Objects the informers saw added, updated or deleted, by resource (a relist adds none). */
  readonly informerChanges: Map<string, number>;
  /** Full lists after the first one (410 Gone, or a restart after an error), by resource. */
  readonly relists: Map<string, number>;
}

export function newControllerCounters(): ControllerCounters {
  return {
    reconciles: 0,
    reconcileErrors: 0,
    applies: 0,
    planSecondsSum: 0,
    planSecondsCount: 0,
    rejectedEntries: 0,
    apiErrors: new Map(),
    watchEvents: new Map(),
    informerChanges: new Map(),
    relists: new Map(),
  };
}

export function countInto(map: Map<string, number>, key: string, n = 1): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

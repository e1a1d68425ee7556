/**
 * The cluster objects the planner reads: a small, plain subset of the Kubernetes API shapes
 * (field names as in core/v1 and discovery.k8s.io/v1), so the planner is tested without a
 * server and without `@kubernetes/client-node`. Objects from the client or from
 * `kubectl get -o yaml` fit these types as they are; every field the planner does not read is
 * left out, and every field it reads may be missing.
 */

export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly creationTimestamp?: string | Date;
  readonly deletionTimestamp?: string | Date;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface ConfigMap {
  readonly metadata: ObjectMeta;
  readonly data?: Readonly<Record<string, string>>;
}

export interface ServicePort {
  readonly name?: string;
  readonly port: number;
  readonly protocol?: string;
}

export interface LoadBalancerIngress {
  readonly ip?: string;
  readonly hostname?: string;
  readonly ipMode?: string;
}

export interface Service {
  readonly metadata: ObjectMeta;
  readonly spec?: {
    readonly type?: string;
    readonly loadBalancerClass?: string;
    readonly loadBalancerIP?: string;
    readonly externalTrafficPolicy?: string;
    readonly ipFamilies?: readonly string[];
    readonly ipFamilyPolicy?: string;
    /** `ClientIP` keeps a client on one endpoint (the NAT binding's affinity); absent: None. */
    readonly sessionAffinity?: string;
    readonly sessionAffinityConfig?: { readonly clientIP?: { readonly timeoutSeconds?: number } };
    readonly ports?: readonly ServicePort[];
  };
  readonly status?: { readonly loadBalancer?: { readonly ingress?: readonly LoadBalancerIngress[] } };
}

export interface EndpointConditions {
  /** Absent means ready (discovery.k8s.io/v1). */
  readonly ready?: boolean;
  /** Absent means the same as `ready`. */
  readonly serving?: boolean;
  readonly terminating?: boolean;
}

export interface Endpoint {
  readonly addresses: readonly string[];
  readonly conditions?: EndpointConditions;
  readonly nodeName?: string;
}

export interface EndpointPort {
  readonly name?: string;
  readonly port?: number;
  readonly protocol?: string;
}

export interface EndpointSlice {
  readonly metadata: ObjectMeta;
  readonly addressType: string;
  readonly endpoints?: readonly Endpoint[];
  readonly ports?: readonly EndpointPort[];
}

export interface NodeAddress {
  readonly type: string;
  readonly address: string;
}

export interface NodeCondition {
  readonly type: string;
  readonly status: string;
}

export interface Node {
  readonly metadata: ObjectMeta;
  readonly spec?: { readonly unschedulable?: boolean };
  readonly status?: { readonly addresses?: readonly NodeAddress[]; readonly conditions?: readonly NodeCondition[] };
}

/** What the planner reads: one snapshot of the informers' caches (or of a file). */
export interface ClusterState {
  /** The VIP ConfigMap (`keepvip-system/keepvip-vips` by default); absent = no ConfigMap VIPs, no pools. */
  readonly configMap?: ConfigMap | undefined;
  readonly services: readonly Service[];
  readonly endpointSlices: readonly EndpointSlice[];
  readonly nodes: readonly Node[];
}

/** The label that ties an EndpointSlice to its Service (discovery.k8s.io/v1). */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** `namespace/name`, the way Kubernetes writes an object's key. */
export function objectKey(meta: ObjectMeta): string {
  return `${meta.namespace ?? 'default'}/${meta.name}`;
}

/** A Node runs VRRP for the plan only when its Ready condition is True and it is not being deleted. */
export function isNodeReady(node: Node): boolean {
  if (node.metadata.deletionTimestamp !== undefined) return false;
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** The millisecond time of a creationTimestamp; absent or unreadable counts as newest. */
export function creationTime(meta: ObjectMeta): number {
  const at = meta.creationTimestamp;
  if (at === undefined) return Number.POSITIVE_INFINITY;
  const ms = at instanceof Date ? at.getTime() : Date.parse(at);
  return Number.isNaN(ms) ? Number.POSITIVE_INFINITY : ms;
}

/** Older first, then by namespace/name: who keeps a contested IP or VIP. */
export function compareByAge(a: ObjectMeta, b: ObjectMeta): number {
  const ta = creationTime(a);
  const tb = creationTime(b);
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = objectKey(a);
  const kb = objectKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

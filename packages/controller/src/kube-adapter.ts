/**
 * The controller's only door to the API server (the one file that imports
 * @kubernetes/client-node): informers (list + watch) for the VIP ConfigMap, Services,
 * EndpointSlices and Nodes behind the ClusterSource port; Service status and Events behind
 * ClusterWriter; the allocator Lease behind a LeaseStore.
 *
 * Informers keep plain objects (cluster.ts), converted once as they arrive. Their callbacks
 * only mark the snapshot stale and schedule one notification. A watch that fails is restarted
 * with exponential backoff, resuming from its resourceVersion; a 410 Gone relists, and the
 * relist reports only what really changed (client-node's cache compares resourceVersions), so
 * nothing flaps. While the API server is away the last snapshot stays as it was.
 */
import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  KubeConfig,
  ListWatch,
  PatchStrategy,
  V1MicroTime,
  Watch,
  setHeaderOptions,
  type KubernetesListObject,
  type KubernetesObject,
  type V1Lease,
} from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import type winston from 'winston';
import {
  countInto,
  newControllerCounters,
  type ClusterSnapshot,
  type ClusterSource,
  type ClusterWriter,
  type ConfigMapObject,
  type ControllerCounters,
  type EndpointSliceObject,
  type EventRecord,
  type Leadership,
  type NodeObject,
  type ObjectMeta,
  type ServiceObject,
} from './cluster.js';
import { LeaderElector, type LeaseRecord, type LeaseSpec, type LeaseStore } from './leader-election.js';

export type { KubeConfig } from '@kubernetes/client-node';

/** `kubeconfig` file when given, else the in-cluster ServiceAccount (token, CA, KUBERNETES_SERVICE_HOST). */
export function loadKubeConfig(kubeconfigPath?: string): KubeConfig {
  const kc = new KubeConfig();
  if (kubeconfigPath === undefined) kc.loadFromCluster();
  else kc.loadFromFile(kubeconfigPath);
  return kc;
}

export interface NamespacedName {
  readonly namespace: string;
  readonly name: string;
}

const DEFAULT_VIP_CONFIGMAP: NamespacedName = { namespace: 'keepvip-system', name: 'keepvip-vips' };
/** The allocator Lease and its timings (client-go's defaults: 15 s, 10 s, 2 s). */
export interface LeaseOptions extends NamespacedName {
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
}

export const DEFAULT_LEASE: LeaseOptions = { namespace: 'keepvip-system', name: 'keepvip-allocator' };

export interface KubeClusterOptions {
  readonly kubeConfig: KubeConfig;
  /** This node's name: the Lease holder identity and the Events' reporting instance. */
  readonly nodeName: string;
  readonly vipConfigMap?: NamespacedName;
  /** The allocator Lease; `false` for none (this process always allocates). */
  readonly lease?: LeaseOptions | false;
  readonly logger: winston.Logger;
  readonly counters?: ControllerCounters;
  /** Restart delays of a failed list or watch: doubling from `initialMs` up to `maxMs` (±20 % jitter). */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /** For the jitter; Math.random by default. */
  readonly random?: () => number;
}

/** The API server as the controller sees it: the informers' snapshot, its writes, its leadership. */
export class KubeCluster implements ClusterSource, ClusterWriter {
  readonly counters: ControllerCounters;
  readonly leadership: Leadership;
  private readonly elector: LeaderElector | undefined;
  private readonly configMaps: Informer<ConfigMapObject>;
  private readonly services: Informer<ServiceObject>;
  private readonly slices: Informer<EndpointSliceObject>;
  private readonly nodes: Informer<NodeObject>;
  private readonly informers: readonly Informer<never>[];
  private readonly core: CoreV1Api;
  private readonly listeners = new Set<() => void>();
  private cached: ClusterSnapshot | undefined;
  private notifyPending = false;
  private readonly vipConfigMap: NamespacedName;

  constructor(private readonly options: KubeClusterOptions) {
    const kc = options.kubeConfig;
    this.counters = options.counters ?? newControllerCounters();
    this.core = kc.makeApiClient(CoreV1Api);
    const discovery = kc.makeApiClient(DiscoveryV1Api);
    const cm = (this.vipConfigMap = options.vipConfigMap ?? DEFAULT_VIP_CONFIGMAP);
    const common = { kc, owner: this };
    this.configMaps = new Informer({
      ...common,
      resource: 'configmaps',
      path: `/api/v1/namespaces/${cm.namespace}/configmaps`,
      // One named object: the field selector keeps every other ConfigMap off the wire.
      fieldSelector: `metadata.name=${cm.name}`,
      list: () => this.core.listNamespacedConfigMap({ namespace: cm.namespace, fieldSelector: `metadata.name=${cm.name}` }),
      view: toConfigMap,
    });
    this.services = new Informer({ ...common, resource: 'services', path: '/api/v1/services', list: () => this.core.listServiceForAllNamespaces(), view: toService });
    this.slices = new Informer({
      ...common,
      resource: 'endpointslices',
      path: '/apis/discovery.k8s.io/v1/endpointslices',
      list: () => discovery.listEndpointSliceForAllNamespaces(),
      view: toEndpointSlice,
    });
    this.nodes = new Informer({ ...common, resource: 'nodes', path: '/api/v1/nodes', list: () => this.core.listNode(), view: toNode });
    this.informers = [this.configMaps, this.services, this.slices, this.nodes] as Informer<never>[];

    const lease = options.lease ?? DEFAULT_LEASE;
    if (lease === false) {
      this.elector = undefined;
      this.leadership = { isLeader: true, onChange: () => () => undefined };
    } else {
      this.elector = new LeaderElector({
        identity: options.nodeName,
        store: new KubeLeaseStore(kc.makeApiClient(CoordinationV1Api), { namespace: lease.namespace, name: lease.name }),
        ...(lease.leaseDurationMs !== undefined && { leaseDurationMs: lease.leaseDurationMs }),
        ...(lease.renewDeadlineMs !== undefined && { renewDeadlineMs: lease.renewDeadlineMs }),
        ...(lease.retryPeriodMs !== undefined && { retryPeriodMs: lease.retryPeriodMs }),
        logger: options.logger,
        onApiError: (what) => countInto(this.counters.apiErrors, what),
      });
      this.leadership = this.elector;
    }
  }

  /** Starts the informers and the election; returns at once (see `synced` and `waitForSync`). */
  start(): void {
    for (const i of this.informers) i.start();
    this.elector?.start();
  }

  /** Stops watching; a leader hands its Lease back. */
  async stop(): Promise<void> {
    await Promise.all([...this.informers.map((i) => i.stop()), this.elector?.stop()]);
  }

  get synced(): boolean {
    return this.informers.every((i) => i.synced);
  }

  /** Resolves once synced; rejects after `timeoutMs`, naming what has not listed yet. */
  waitForSync(timeoutMs: number): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        const missing = this.informers.filter((i) => !i.synced).map((i) => i.resource);
        reject(new Error(`Kubernetes informers not synced after ${timeoutMs} ms: ${missing.join(', ')} not listed yet (is the API server reachable, and does the ServiceAccount have list/watch on them?)`));
      }, timeoutMs);
      const off = this.onChange(() => {
        if (!this.synced) return;
        clearTimeout(timer);
        off();
        resolve();
      });
    });
  }

  snapshot(): ClusterSnapshot {
    this.cached ??= {
      configMap: this.configMaps.get(this.vipConfigMap.name, this.vipConfigMap.namespace),
      services: this.services.list(),
      endpointSlices: this.slices.list(),
      nodes: this.nodes.list(),
    };
    return this.cached;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** From the informers: the snapshot is stale; listeners hear of it once, after the current turn. */
  changed(): void {
    this.cached = undefined;
    if (this.notifyPending) return;
    this.notifyPending = true;
    setImmediate(() => {
      this.notifyPending = false;
      for (const l of [...this.listeners]) l();
    });
  }

  async setServiceIngress(namespace: string, name: string, ips: readonly string[]): Promise<void> {
    // A JSON merge patch replaces the list whole; null deletes it.
    const ingress = ips.length === 0 ? null : ips.map((ip) => ({ ip, ipMode: 'VIP' }));
    await this.request('services/status:patch', () =>
      this.core.patchNamespacedServiceStatus({ name, namespace, body: { status: { loadBalancer: { ingress } } } }, mergePatch),
    );
  }

  async recordEvent(event: EventRecord): Promise<void> {
    const { regarding } = event;
    const now = new Date();
    const namespace = regarding.namespace === '' ? 'default' : regarding.namespace;
    await this.request('events:create', () =>
      this.core.createNamespacedEvent({
        namespace,
        body: {
          // client-go's naming: the object's name and a unique suffix.
          metadata: { name: `${regarding.name}.${now.getTime().toString(16)}${randomBytes(3).toString('hex')}`, namespace },
          involvedObject: { apiVersion: 'v1', kind: regarding.kind, namespace: regarding.namespace, name: regarding.name, ...(regarding.uid !== undefined && { uid: regarding.uid }) },
          type: event.type,
          reason: event.reason,
          message: event.message,
          source: { component: 'keepvip', host: this.options.nodeName },
          reportingComponent: 'keepvip.io/controller',
          reportingInstance: this.options.nodeName,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      }),
    );
  }

  /** Internal: one request, counted under `what` when it fails. */
  async request<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      countInto(this.counters.apiErrors, what);
      throw err;
    }
  }

  /** Internal: for the informers' diagnostics. */
  get logger(): winston.Logger {
    return this.options.logger;
  }

  /** Internal: the next restart delay after `failures` failures in a row. */
  backoffMs(failures: number): number {
    const { initialMs, maxMs } = this.options.backoff ?? { initialMs: 500, maxMs: 30_000 };
    const base = Math.min(maxMs, initialMs * 2 ** Math.min(failures - 1, 30));
    return Math.round(base * (0.8 + 0.4 * (this.options.random ?? Math.random)()));
  }
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** The HTTP status of a failed client-node call, if it got that far. */
export function httpStatus(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  if (err !== null && typeof err === 'object' && 'statusCode' in err && typeof err.statusCode === 'number') return err.statusCode;
  return undefined;
}

interface InformerOptions<T> {
  readonly kc: KubeConfig;
  readonly owner: KubeCluster;
  readonly resource: string;
  readonly path: string;
  readonly fieldSelector?: string;
  readonly list: () => Promise<KubernetesListObject<object>>;
  readonly view: (raw: unknown) => T;
}

/** Watch events converted to plain views before client-node's cache stores them; connects counted. */
class ViewWatch<T> extends Watch {
  constructor(
    private readonly opts: InformerOptions<T>,
    private readonly connected: () => void,
  ) {
    super(opts.kc);
  }

  override async watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    let failed = false;
    const controller = await super.watch(
      path,
      query,
      (phase: string, obj: unknown, raw: unknown) => {
        countInto(this.opts.owner.counters.watchEvents, this.opts.resource);
        // ERROR carries a Status and BOOKMARK only a resourceVersion: passed as they are.
        callback(phase, phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED' ? this.opts.view(obj) : obj, raw);
      },
      (err: unknown) => {
        if (err) failed = true;
        done(err);
      },
    );
    if (!failed) this.connected();
    return controller;
  }
}

/** One list+watch, restarted with backoff after a failure. */
class Informer<T extends { metadata: ObjectMeta }> {
  synced = false;
  // client-node's cache holds our views; it reads only metadata.name, namespace and
  // resourceVersion, which they keep. Its element type is its own model's, hence the casts.
  private readonly lw: ListWatch<KubernetesObject>;
  private failures = 0;
  private listed = 0;
  private listFailed = false;
  private restart: NodeJS.Timeout | undefined;
  private running = false;

  constructor(private readonly opts: InformerOptions<T>) {
    const watch = new ViewWatch(opts, () => (this.failures = 0));
    const list = async (): Promise<KubernetesListObject<KubernetesObject>> => {
      let result: KubernetesListObject<object>;
      try {
        result = await opts.list();
      } catch (err) {
        countInto(opts.owner.counters.apiErrors, `${opts.resource}:list`);
        this.listFailed = true; // counted here; 'error' reports the same failure next
        throw err;
      }
      if (this.listed++ > 0) countInto(opts.owner.counters.relists, opts.resource);
      this.failures = 0;
      // client-node stores the items right after this resolves, in the same turn: `synced`
      // is raised on the next one, when they are all in.
      if (!this.synced) {
        setImmediate(() => {
          if (!this.running) return;
          this.synced = true;
          opts.owner.logger.debug('informer synced', { resource: opts.resource, objects: result.items.length });
          opts.owner.changed();
        });
      }
      return { ...(result.metadata !== undefined && { metadata: result.metadata }), items: result.items.map((o) => opts.view(o) as KubernetesObject) };
    };
    this.lw = new ListWatch(opts.path, watch, list, false, undefined, opts.fieldSelector);
    const changed = (): void => {
      countInto(opts.owner.counters.informerChanges, opts.resource);
      opts.owner.changed();
    };
    this.lw.on('change', changed);
    this.lw.on('error', (err: unknown) => this.failed(err));
  }

  get resource(): string {
    return this.opts.resource;
  }

  start(): void {
    this.running = true;
    this.launch();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.restart);
    await this.lw.stop();
  }

  get(name: string, namespace: string): T | undefined {
    return this.lw.get(name, namespace) as T | undefined;
  }

  list(): readonly T[] {
    return this.lw.list() as readonly T[];
  }

  private launch(): void {
    // ListWatch reports every failure through 'error'; a rejection here is the same failure.
    this.lw.start().catch((err: unknown) => this.failed(err));
  }

  private failed(err: unknown): void {
    if (!this.running) return;
    if (!this.listFailed && httpStatus(err) !== 410) countInto(this.opts.owner.counters.apiErrors, `${this.opts.resource}:watch`);
    this.listFailed = false;
    this.failures++;
    const delay = this.opts.owner.backoffMs(this.failures);
    // The first failure is worth a warning; the repeats of one outage only at debug.
    const level = this.failures === 1 ? 'warn' : 'debug';
    this.opts.owner.logger.log(level, 'Kubernetes watch failed; keeping the last snapshot and retrying', {
      resource: this.opts.resource,
      error: describe(err),
      retryInMs: delay,
      failures: this.failures,
    });
    clearTimeout(this.restart);
    this.restart = setTimeout(() => {
      if (this.running) this.launch();
    }, delay);
  }
}

/** One line: the HTTP status and the API server's own message (a Status body), else the error's. */
function describe(err: unknown): string {
  const status = httpStatus(err);
  if (err instanceof ApiException) {
    let message = '';
    try {
      const body: unknown = typeof err.body === 'string' ? JSON.parse(err.body) : err.body;
      message = String(obj(body)['message'] ?? '');
    } catch {
      // not a Status: fall through to the status alone
    }
    return `HTTP ${err.code}${message === '' ? '' : `: ${message}`}`;
  }
  const message = err instanceof Error ? (err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message) : String(err);
  return status === undefined ? message : `HTTP ${status}: ${message}`;
}

/** The Lease through coordination.k8s.io/v1 (get, create, update: what rbac.yaml grants). */
class KubeLeaseStore implements LeaseStore {
  constructor(
    private readonly api: CoordinationV1Api,
    private readonly lease: NamespacedName,
  ) {}

  async get(): Promise<LeaseRecord | undefined> {
    try {
      return toLeaseRecord(await this.api.readNamespacedLease(this.lease));
    } catch (err) {
      if (httpStatus(err) === 404) return undefined;
      throw err;
    }
  }

  async create(spec: LeaseSpec): Promise<LeaseRecord> {
    return toLeaseRecord(await this.api.createNamespacedLease({ namespace: this.lease.namespace, body: { metadata: { name: this.lease.name }, spec: leaseSpec(spec) } }));
  }

  async update(current: LeaseRecord, spec: LeaseSpec): Promise<LeaseRecord> {
    return toLeaseRecord(
      await this.api.replaceNamespacedLease({
        ...this.lease,
        body: { metadata: { name: this.lease.name, namespace: this.lease.namespace, resourceVersion: current.resourceVersion }, spec: leaseSpec(spec) },
      }),
    );
  }
}

function leaseSpec(spec: LeaseSpec): NonNullable<V1Lease['spec']> {
  const micro = (d: Date | undefined) => (d === undefined ? undefined : new V1MicroTime(d.getTime()));
  return {
    holderIdentity: spec.holderIdentity,
    leaseDurationSeconds: spec.leaseDurationSeconds,
    acquireTime: micro(spec.acquireTime),
    renewTime: micro(spec.renewTime),
    leaseTransitions: spec.leaseTransitions,
  };
}

function toLeaseRecord(lease: V1Lease): LeaseRecord {
  const spec = lease.spec ?? {};
  return {
    holderIdentity: spec.holderIdentity ?? '',
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
    acquireTime: spec.acquireTime === undefined ? undefined : new Date(spec.acquireTime),
    renewTime: spec.renewTime === undefined ? undefined : new Date(spec.renewTime),
    leaseTransitions: spec.leaseTransitions ?? 0,
    resourceVersion: lease.metadata?.resourceVersion ?? '',
  };
}

// Views: the fields the controller reads, from either a client-node model (a list) or the raw
// JSON of a watch event. Both use the Kubernetes field names for these fields.

type Json = Record<string, unknown>;

const obj = (v: unknown): Json => (v !== null && typeof v === 'object' ? (v as Json) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const strings = (v: unknown): string[] => arr(v).filter((s): s is string => typeof s === 'string');
const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);
/** A model's Date or a watch event's string, as the string the API server sent. */
const time = (v: unknown): string | undefined => (v instanceof Date ? v.toISOString().replace(/\.000Z$/, 'Z') : str(v));
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

function stringMap(v: unknown): Record<string, string> | undefined {
  if (v === null || typeof v !== 'object') return undefined;
  return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/** Builds an object without the keys whose value is undefined (they would read as present). */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function toMeta(v: unknown): ObjectMeta {
  const m = obj(v);
  return defined({
    name: str(m['name']) ?? '',
    namespace: str(m['namespace']),
    uid: str(m['uid']),
    resourceVersion: str(m['resourceVersion']),
    creationTimestamp: time(m['creationTimestamp']),
    deletionTimestamp: time(m['deletionTimestamp']),
    labels: stringMap(m['labels']),
    annotations: stringMap(m['annotations']),
  });
}

export function toConfigMap(raw: unknown): ConfigMapObject {
  const o = obj(raw);
  return { metadata: toMeta(o['metadata']), data: stringMap(o['data']) ?? {} };
}

function affinityConfig(v: unknown): { clientIP: { timeoutSeconds?: number } } | undefined {
  const clientIP = obj(v)['clientIP'];
  if (clientIP === undefined || clientIP === null) return undefined;
  return { clientIP: defined({ timeoutSeconds: num(obj(clientIP)['timeoutSeconds']) }) };
}

export function toService(raw: unknown): ServiceObject {
  const o = obj(raw);
  const spec = obj(o['spec']);
  const ingress = arr(obj(obj(o['status'])['loadBalancer'])['ingress']).map((i) => defined({ ip: str(obj(i)['ip']), hostname: str(obj(i)['hostname']), ipMode: str(obj(i)['ipMode']) }));
  return {
    metadata: toMeta(o['metadata']),
    spec: defined({
      type: str(spec['type']),
      loadBalancerClass: str(spec['loadBalancerClass']),
      loadBalancerIP: str(spec['loadBalancerIP']),
      externalTrafficPolicy: str(spec['externalTrafficPolicy']),
      ipFamilies: spec['ipFamilies'] === undefined ? undefined : strings(spec['ipFamilies']),
      ipFamilyPolicy: str(spec['ipFamilyPolicy']),
      clusterIP: str(spec['clusterIP']),
      externalIPs: spec['externalIPs'] === undefined ? undefined : strings(spec['externalIPs']),
      sessionAffinity: str(spec['sessionAffinity']),
      sessionAffinityConfig: affinityConfig(spec['sessionAffinityConfig']),
      ports: arr(spec['ports']).map((p) => defined({ name: str(obj(p)['name']), port: num(obj(p)['port']) ?? 0, protocol: str(obj(p)['protocol']), nodePort: num(obj(p)['nodePort']) })),
    }),
    status: { loadBalancer: ingress.length === 0 ? {} : { ingress } },
  };
}

export function toEndpointSlice(raw: unknown): EndpointSliceObject {
  const o = obj(raw);
  return {
    metadata: toMeta(o['metadata']),
    addressType: str(o['addressType']) ?? '',
    endpoints: arr(o['endpoints']).map((e) => {
      const c = obj(obj(e)['conditions']);
      return defined({
        addresses: strings(obj(e)['addresses']),
        conditions: defined({ ready: bool(c['ready']), serving: bool(c['serving']), terminating: bool(c['terminating']) }),
        nodeName: str(obj(e)['nodeName']),
        zone: str(obj(e)['zone']),
      });
    }),
    ports: arr(o['ports']).map((p) => defined({ name: str(obj(p)['name']), port: num(obj(p)['port']), protocol: str(obj(p)['protocol']) })),
  };
}

export function toNode(raw: unknown): NodeObject {
  const o = obj(raw);
  const status = obj(o['status']);
  return {
    metadata: toMeta(o['metadata']),
    spec: defined({ unschedulable: bool(obj(o['spec'])['unschedulable']) }),
    status: {
      addresses: arr(status['addresses']).map((a) => ({ type: str(obj(a)['type']) ?? '', address: str(obj(a)['address']) ?? '' })),
      conditions: arr(status['conditions']).map((c) => ({ type: str(obj(c)['type']) ?? '', status: str(obj(c)['status']) ?? '' })),
    },
  };
}

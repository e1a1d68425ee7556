/**
 * ReconcileLoop with in-memory ports (a narrow unit test: the adapter is tested against the
 * real API server in kube-adapter.test.ts, and the two together in reconcile-kube.test.ts).
 */
import { describe, expect, it } from '@jest/globals';
import winston from 'winston';
import {
  newControllerCounters,
  type ClusterSnapshot,
  type ClusterSource,
  type ClusterWriter,
  type EventRecord,
  type Leadership,
  type ServiceObject,
} from '../src/cluster.js';
import { ReconcileLoop, canonical, type Plan, type ReconcileLoopOptions } from '../src/reconcile-loop.js';

const logger = winston.createLogger({ level: process.env.KEEPVIP_TEST_LOG ?? 'error', silent: process.env.KEEPVIP_TEST_LOG === undefined, transports: [new winston.transports.Console({ stderrLevels: ['error'] })] });
const CLASS = 'keepvip.io/vrrp';
const VIPS = { namespace: 'keepvip-system', name: 'keepvip-vips' };

class MemorySource implements ClusterSource {
  synced = false;
  private current: ClusterSnapshot = { configMap: undefined, services: [], endpointSlices: [], nodes: [] };
  private readonly listeners = new Set<() => void>();
  snapshot(): ClusterSnapshot {
    return this.current;
  }
  onChange(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  set(change: Partial<ClusterSnapshot>, synced = true): void {
    this.current = { ...this.current, ...change };
    this.synced = synced;
    for (const l of this.listeners) l();
  }
  data(data: Record<string, string>): void {
    this.set({ configMap: { metadata: { ...VIPS, resourceVersion: String(Math.random()) }, data } });
  }
}

class RecordingWriter implements ClusterWriter {
  readonly events: EventRecord[] = [];
  readonly ingress: [string, string[]][] = [];
  fail = false;
  async setServiceIngress(namespace: string, name: string, ips: readonly string[]): Promise<void> {
    if (this.fail) throw new Error('API server unreachable');
    this.ingress.push([`${namespace}/${name}`, [...ips]]);
  }
  async recordEvent(event: EventRecord): Promise<void> {
    if (this.fail) throw new Error('API server unreachable');
    this.events.push(event);
  }
}

class Switch implements Leadership {
  isLeader = false;
  private readonly listeners = new Set<(l: boolean) => void>();
  onChange(l: (isLeader: boolean) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  set(v: boolean): void {
    this.isLeader = v;
    for (const l of this.listeners) l(v);
  }
}

interface Instance {
  readonly vip: string;
}

/** A stand-in planner: every ConfigMap key is a VIP; a `:DR` value is rejected; LB Services get their annotation's IP. */
function plan(s: ClusterSnapshot): Plan<Instance> {
  const entries = Object.entries(s.configMap?.data ?? {});
  return {
    instances: entries.filter(([, v]) => !v.endsWith(':DR')).map(([vip]) => ({ vip })),
    rejected: entries.filter(([, v]) => v.endsWith(':DR')).map(([key]) => ({ key, reason: 'mode DR is not supported; drop the suffix for NAT' })),
    loadBalancers: s.services
      .filter((svc) => svc.spec.loadBalancerClass === CLASS && svc.metadata.annotations?.['keepvip.io/loadBalancerIPs'] !== undefined)
      .map((svc) => ({ key: `${svc.metadata.namespace ?? ''}/${svc.metadata.name}`, ips: (svc.metadata.annotations?.['keepvip.io/loadBalancerIPs'] ?? '').split(',') })),
  };
}

function service(name: string, opts: { cls?: string; ips?: string; ingress?: string[]; rv?: string } = {}): ServiceObject {
  return {
    metadata: { namespace: 'web', name, resourceVersion: opts.rv ?? '1', ...(opts.ips !== undefined && { annotations: { 'keepvip.io/loadBalancerIPs': opts.ips } }) },
    spec: { type: 'LoadBalancer', ...(opts.cls !== undefined && { loadBalancerClass: opts.cls }) },
    status: { loadBalancer: opts.ingress === undefined ? {} : { ingress: opts.ingress.map((ip) => ({ ip, ipMode: 'VIP' })) } },
  };
}

function setup(options: Partial<ReconcileLoopOptions<Instance>> = {}) {
  const source = new MemorySource();
  const writer = new RecordingWriter();
  const applied: (readonly Instance[])[] = [];
  const counters = newControllerCounters();
  let plans = 0;
  const loop = new ReconcileLoop<Instance>({
    source,
    writer,
    plan: (s) => {
      plans++;
      return plan(s);
    },
    apply: async (instances) => {
      applied.push(instances);
    },
    vipConfigMap: VIPS,
    loadBalancerClass: CLASS,
    counters,
    logger,
    debounceMs: 20,
    retryMs: 50,
    ...options,
  });
  loop.start();
  return { source, writer, applied, counters, loop, plans: () => plans };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ReconcileLoop', () => {
  it('plans nothing until the snapshot is synced, then applies the plan', async () => {
    const { source, applied, loop, counters } = setup();
    source.set({ configMap: { metadata: VIPS, data: { '10.0.0.1': '' } } }, false);
    await pause(60);
    await loop.settled();
    expect(applied).toEqual([]);
    expect(counters.reconciles).toBe(0);
    source.set({}, true);
    await loop.settled();
    expect(applied).toEqual([[{ vip: '10.0.0.1' }]]);
    expect(counters).toMatchObject({ reconciles: 1, applies: 1, planSecondsCount: 1, rejectedEntries: 0 });
    await loop.stop();
  });

  it('changes within the debounce window share one reconcile', async () => {
    const { source, applied, loop, plans } = setup();
    source.data({});
    await loop.settled();
    const before = plans();
    for (let i = 0; i < 20; i++) source.data({ [`10.0.0.${i}`]: '' });
    await pause(60);
    await loop.settled();
    expect(plans() - before).toBe(1);
    expect(applied.at(-1)).toHaveLength(1);
    expect(applied.at(-1)).toEqual([{ vip: '10.0.0.19' }]);
    await loop.stop();
  });

  it('a change after a quiet spell is planned at once, not a debounce later', async () => {
    const { source, loop, plans } = setup({ debounceMs: 1_000 });
    source.data({});
    await loop.settled();
    await pause(1_100); // quiet for longer than the debounce
    const before = plans();
    const changedAt = performance.now();
    source.data({ '10.0.0.1': '' });
    while (plans() === before) await pause(2);
    // A trailing debounce could not plan before 1,000 ms.
    expect(performance.now() - changedAt).toBeLessThan(700);
    await loop.stop();
  });

  it('changes made while a reconcile runs share one more reconcile, a debounce after it ended', async () => {
    let release: () => void = () => undefined;
    const ended: number[] = [];
    const started: number[] = [];
    const { source, applied, loop } = setup({
      debounceMs: 100,
      apply: async (instances) => {
        started.push(performance.now());
        if (started.length === 1) await new Promise<void>((r) => (release = r));
        applied.push(instances);
        ended.push(performance.now());
      },
    });
    source.data({ '10.0.0.1': '' });
    while (started.length === 0) await pause(2);
    for (let i = 2; i <= 10; i++) {
      source.data({ [`10.0.0.${i}`]: '' });
      await pause(2);
    }
    release();
    await loop.settled();
    expect(applied).toEqual([[{ vip: '10.0.0.1' }], [{ vip: '10.0.0.10' }]]);
    expect(started[1]! - ended[0]!).toBeGreaterThanOrEqual(95);
    await loop.stop();
  });

  it('instances that are the objects last applied are not serialised to be compared', async () => {
    // An object JSON cannot hold: comparing it by its text would throw.
    const circular: { vip: string; self?: unknown } = { vip: '10.0.0.1' };
    circular.self = circular;
    const { source, applied, loop, counters } = setup({ plan: () => ({ instances: [circular], rejected: [] }) });
    source.data({});
    await loop.settled();
    source.data({ '10.0.0.9': '' });
    while (counters.reconciles < 2) await pause(5);
    await loop.stop();
    expect(counters).toMatchObject({ reconcileErrors: 0, applies: 1 });
    expect(applied).toHaveLength(1);
  });

  it('does not apply a plan equal to the one applied (a relist or an unrelated change)', async () => {
    const { source, applied, loop, counters } = setup();
    source.data({ '10.0.0.1': '', '10.0.0.2': '' });
    await loop.settled();
    source.data({ '10.0.0.1': '', '10.0.0.2': '' });
    source.set({ nodes: [{ metadata: { name: 'n1' }, spec: {}, status: { addresses: [], conditions: [] } }] });
    await loop.settled();
    expect(counters.reconciles).toBeGreaterThanOrEqual(2);
    expect(applied).toHaveLength(1);
    expect(counters.applies).toBe(1);
    await loop.stop();
  });

  it('records one Event per distinct rejection, on the VIP ConfigMap', async () => {
    const { source, writer, loop, counters } = setup();
    source.data({ '10.0.0.1': '', '10.0.0.5': 'web/frontend:DR' });
    await loop.settled();
    expect(writer.events).toEqual([
      {
        regarding: { kind: 'ConfigMap', ...VIPS },
        type: 'Warning',
        reason: 'VIPRejected',
        message: 'key "10.0.0.5" of ConfigMap keepvip-system/keepvip-vips: mode DR is not supported; drop the suffix for NAT; the other VIPs are not affected',
      },
    ]);
    expect(counters.rejectedEntries).toBe(1);
    // Replanned with the same rejection: no second Event.
    source.data({ '10.0.0.1': '', '10.0.0.2': '', '10.0.0.5': 'web/frontend:DR' });
    await loop.settled();
    expect(writer.events).toHaveLength(1);
    // Fixed, then broken again: reported again.
    source.data({ '10.0.0.5': 'web/frontend' });
    await loop.settled();
    source.data({ '10.0.0.5': 'web/frontend:DR' });
    await loop.settled();
    expect(writer.events).toHaveLength(2);
    await loop.stop();
  });

  it('puts an Event about a Service on the Service, with the reason the planner gives', async () => {
    const { source, writer, loop } = setup({
      plan: () => ({
        instances: [],
        rejected: [{ key: 'web/frontend', object: { kind: 'Service', namespace: 'web', name: 'frontend' }, reason: '10.0.0.7 is already used by web/backend', code: 'VipConflict' }],
      }),
    });
    source.data({});
    await loop.settled();
    expect(writer.events).toEqual([
      {
        regarding: { kind: 'Service', namespace: 'web', name: 'frontend' },
        type: 'Warning',
        reason: 'VipConflict',
        message: '10.0.0.7 is already used by web/backend (keepvip entry "web/frontend"); the other VIPs are not affected',
      },
    ]);
    await loop.stop();
  });

  it("a node reports its own Node's rejections even when it is not the allocator", async () => {
    const { source, writer, loop } = setup({
      leadership: new Switch(),
      plan: () => ({
        instances: [],
        rejected: [
          { key: 'web-vips', object: { kind: 'Node', namespace: '', name: 'node-a' }, reason: 'no interface on node node-a holds its InternalIP 192.0.2.1', code: 'NoInterface' },
          { key: '10.0.0.5', reason: 'mode DR is not supported', code: 'UnsupportedMode' },
        ],
      }),
    });
    source.data({});
    await loop.settled();
    expect(writer.events).toEqual([
      {
        regarding: { kind: 'Node', namespace: '', name: 'node-a' },
        type: 'Warning',
        reason: 'NoInterface',
        message: 'no interface on node node-a holds its InternalIP 192.0.2.1 (keepvip entry "web-vips"); the other VIPs are not affected',
      },
    ]);
    await loop.stop();
  });

  it('only the allocator writes statuses and Events; a node that becomes it writes them', async () => {
    const leadership = new Switch();
    const { source, writer, applied, loop } = setup({ leadership });
    source.set({ services: [service('a', { cls: CLASS, ips: '10.0.0.10' })] });
    source.data({ '10.0.0.5': 'x/y:DR', '10.0.0.6': '' });
    await loop.settled();
    expect(applied).toEqual([[{ vip: '10.0.0.6' }]]); // every node applies its instances
    expect(writer.events).toEqual([]);
    expect(writer.ingress).toEqual([]);
    leadership.set(true);
    await loop.settled();
    expect(writer.events.map((e) => e.message)).toEqual([expect.stringContaining('"10.0.0.5"')]);
    expect(writer.ingress).toEqual([['web/a', ['10.0.0.10']]]);
    await loop.stop();
  });

  it('publishes ingress IPs, removes them when a Service leaves, leaves other classes alone, and writes once', async () => {
    const { source, writer, loop } = setup();
    source.set({
      services: [
        service('a', { cls: CLASS, ips: '10.0.0.10,fd00::10' }),
        service('b', { cls: CLASS, ips: '10.0.0.11', ingress: ['10.0.0.11'] }),
        service('metallb', { cls: 'metallb.io/metallb', ingress: ['192.0.2.1'] }),
        service('stale', { cls: CLASS, ingress: ['10.0.0.12'] }),
      ],
    });
    source.data({});
    await loop.settled();
    expect(writer.ingress.sort()).toEqual([
      ['web/a', ['10.0.0.10', 'fd00::10']],
      ['web/stale', []],
    ]);
    // Another change before the informer has seen our write: nothing is written twice.
    source.data({ '10.0.0.1': '' });
    await loop.settled();
    expect(writer.ingress).toHaveLength(2);
    // The informer catches up with the write: still nothing to do.
    source.set({ services: [service('a', { cls: CLASS, ips: '10.0.0.10,fd00::10', ingress: ['fd00::10', '10.0.0.10'], rv: '2' })] });
    await loop.settled();
    expect(writer.ingress).toHaveLength(2);
    // The annotation goes: the ingress keepvip wrote goes too.
    source.set({ services: [service('a', { cls: CLASS, ingress: ['fd00::10', '10.0.0.10'], rv: '3' })] });
    await loop.settled();
    expect(writer.ingress.at(-1)).toEqual(['web/a', []]);
    await loop.stop();
  });

  it('retries a failed apply and failed writes, and counts them', async () => {
    let failures = 1;
    const applied: (readonly Instance[])[] = [];
    const { source, writer, loop, counters } = setup({
      apply: async (instances) => {
        if (failures-- > 0) throw new Error('netlink busy');
        applied.push(instances);
      },
    });
    writer.fail = true;
    source.data({ '10.0.0.1': '', '10.0.0.2': 'a/b:DR' });
    while (counters.reconcileErrors === 0) await pause(5);
    expect(applied).toEqual([]);
    writer.fail = false;
    await loop.settled();
    expect(applied).toEqual([[{ vip: '10.0.0.1' }]]);
    expect(writer.events).toHaveLength(1);
    await loop.stop();
  });

  it('waits retryMs before retrying a failed apply', async () => {
    const attempts: number[] = [];
    const { source, loop } = setup({
      retryMs: 300,
      apply: async () => {
        attempts.push(performance.now());
        if (attempts.length === 1) throw new Error('netlink busy');
      },
    });
    source.data({ '10.0.0.1': '' });
    while (attempts.length < 2) await pause(10);
    expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(290);
    await loop.stop();
  });

  it('a retry armed far ahead does not hold back a change', async () => {
    let failing = true;
    let attempts = 0;
    const { source, loop, plans } = setup({
      retryMs: 5_000,
      apply: async () => {
        attempts++;
        if (failing) throw new Error('netlink busy');
      },
    });
    source.data({ '10.0.0.1': '' });
    while (attempts < 1) await pause(5);
    await pause(5); // the failed reconcile has ended and armed its 5 s retry
    failing = false;
    const before = plans();
    const changedAt = performance.now();
    source.data({ '10.0.0.2': '' });
    while (plans() === before) await pause(5);
    expect(performance.now() - changedAt).toBeLessThan(2_000);
    await loop.stop();
  });

  it('a planner that throws leaves the applied instances as they are', async () => {
    let broken = false;
    const { source, applied, loop, counters } = setup({
      plan: (s) => {
        if (broken) throw new Error('bug');
        return plan(s);
      },
    });
    source.data({ '10.0.0.1': '' });
    await loop.settled();
    broken = true;
    source.data({});
    await loop.settled();
    expect(applied).toEqual([[{ vip: '10.0.0.1' }]]);
    expect(counters.reconcileErrors).toBe(1);
    expect(loop.plan?.instances).toEqual([{ vip: '10.0.0.1' }]);
    await loop.stop();
  });

  it('stop() ends scheduling: later changes plan nothing', async () => {
    const { source, loop, plans } = setup();
    source.data({});
    await pause(40);
    await loop.stop();
    const before = plans();
    source.data({ '10.0.0.1': '' });
    await pause(60);
    expect(plans()).toBe(before);
  });

  it('canonical() ignores key order, keeps array order, and sees into Maps, Sets and bigints', () => {
    expect(canonical({ b: 1, a: [2, { d: 1, c: 2 }] })).toBe(canonical({ a: [2, { c: 2, d: 1 }], b: 1 }));
    expect(canonical([1, 2])).not.toBe(canonical([2, 1]));
    expect(canonical({ m: new Map([['a', 1]]) })).not.toBe(canonical({ m: new Map([['a', 2]]) }));
    expect(canonical({ s: new Set(['x']) })).not.toBe(canonical({ s: new Set(['y']) }));
    expect(canonical({ n: 1n })).not.toBe(canonical({ n: 2n }));
  });

  it('a plan that cannot be compared with the one applied is counted and retried, never unhandled', async () => {
    let calls = 0;
    const circular: { self?: unknown } = {};
    circular.self = circular;
    const { source, loop, counters } = setup({
      plan: () => {
        calls++;
        return { instances: calls === 2 ? [circular as unknown as Instance] : [{ vip: '10.0.0.1' }], rejected: [] };
      },
    });
    source.data({});
    await loop.settled();
    source.data({ '10.0.0.2': '' });
    while (calls < 3) await pause(10);
    await loop.settled();
    expect(counters.reconcileErrors).toBe(1);
    expect(loop.plan?.instances).toEqual([{ vip: '10.0.0.1' }]);
    await loop.stop();
  });
});

/**
 * `keepvip run --kubernetes`'s wiring on a fake cluster (the adapter and the loop are proven
 * against the real API server in packages/controller/test, the whole of it in the lab
 * cluster, test/e2e/kube-cluster.test.ts): the plan reaches the daemon's apply with the
 * Services it serves, a refused apply is retried, and the stop ends the loop before the informers.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, type ApplyReport, type Logger, type ResolvedInstance, type StatusReport } from '@keepvip/agent';
import { newControllerCounters, type ClusterSnapshot, type EventRecord } from '@keepvip/controller';
import { checkTemplate, startController, type ControllerSettings, type NodeCluster } from '../src/kubernetes.js';
import { LISTED_ENDPOINTS, statusTable } from '../src/status-table.js';

const logger: Logger = createLogger({ format: 'json', level: 'error' });

const node = (name: string, ip: string) => ({ metadata: { name }, spec: {}, status: { addresses: [{ type: 'InternalIP', address: ip }], conditions: [{ type: 'Ready', status: 'True' }] } });

const snapshot: ClusterSnapshot = {
  configMap: { metadata: { namespace: 'keepvip-system', name: 'keepvip-vips' }, data: { '10.0.0.100': 'web/gateway', '10.0.0.101': '', '10.0.0.102': 'web/gateway:DR' } },
  services: [{ metadata: { namespace: 'web', name: 'gateway' }, spec: { type: 'ClusterIP' }, status: { loadBalancer: {} } }],
  endpointSlices: [],
  nodes: [node('a', '192.168.0.1'), node('b', '192.168.0.2')],
};

class FakeCluster implements NodeCluster {
  readonly counters = newControllerCounters();
  readonly leadership = { isLeader: true, onChange: () => () => undefined };
  readonly events: EventRecord[] = [];
  readonly calls: string[] = [];
  synced = false;
  private listeners = new Set<() => void>();
  constructor(private current: ClusterSnapshot) {}
  snapshot(): ClusterSnapshot {
    return this.current;
  }
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  change(next: ClusterSnapshot, synced = true): void {
    this.current = next;
    this.synced = synced;
    for (const l of this.listeners) l();
  }
  async setServiceIngress(): Promise<void> {}
  async recordEvent(event: EventRecord): Promise<void> {
    this.events.push(event);
  }
  start(): void {
    this.calls.push('cluster.start');
  }
  async stop(): Promise<void> {
    this.calls.push('cluster.stop');
  }
}

const settings: ControllerSettings = { nodeName: 'a', vipConfigMap: { namespace: 'keepvip-system', name: 'keepvip-vips' }, vridRange: { first: 10, last: 20 }, defaultClass: false, unicast: true, interface: 'eth0', template: { advertInterval: '100ms' } };

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('keepvip run --kubernetes: the controller wired to the daemon', () => {
  it('applies nothing before the informers have synced, then the plan with its Services, VRIDs in range and unicast peers', async () => {
    const cluster = new FakeCluster(snapshot);
    const applied: (readonly ResolvedInstance[])[] = [];
    const controller = startController(settings, cluster, async (i) => (applied.push(i), { ok: true, instances: [] }), logger);
    await new Promise((r) => setTimeout(r, 100));
    expect(applied).toEqual([]);
    cluster.change(snapshot);
    await until('an apply', () => applied.length === 1);
    const byVip = Object.fromEntries((applied[0] ?? []).map((i) => [i.vips.map((v) => v.cidr).join(','), i]));
    expect(Object.keys(byVip).sort()).toEqual(['10.0.0.100/32', '10.0.0.101/32']);
    expect(byVip['10.0.0.100/32']).toMatchObject({ services: ['web/gateway'], interface: 'eth0', advertInterval: 100, unicastPeers: ['192.168.0.2'] });
    expect(byVip['10.0.0.101/32']?.services).toEqual([]);
    for (const i of applied[0] ?? []) expect(i.vrid >= 10 && i.vrid <= 20).toBe(true);
    // The bad entry alone: an Event on the ConfigMap naming its key.
    await until('the Event', () => cluster.events.length === 1);
    expect(cluster.events[0]).toMatchObject({ reason: 'UnsupportedMode', regarding: { kind: 'ConfigMap', name: 'keepvip-vips' }, message: expect.stringContaining('"10.0.0.102"') });
    await controller.stop();
  });

  it('retries an apply the daemon refuses whole, and counts it', async () => {
    const cluster = new FakeCluster(snapshot);
    let calls = 0;
    const apply = async (): Promise<ApplyReport> => (++calls === 1 ? { ok: false, errors: ['the daemon is stopping'] } : { ok: true, instances: [] });
    cluster.synced = true;
    const controller = startController(settings, cluster, apply, logger);
    await until('the retry', () => calls === 2);
    expect(cluster.counters.reconcileErrors).toBe(1);
    await controller.stop();
  });

  it('stops the loop before the informers, and applies nothing after the stop', async () => {
    const cluster = new FakeCluster(snapshot);
    let applies = 0;
    cluster.synced = true;
    const controller = startController(settings, cluster, async () => (applies++, { ok: true, instances: [] }), logger);
    await until('the first apply', () => applies === 1);
    await controller.stop();
    expect(cluster.calls).toEqual(['cluster.start', 'cluster.stop']);
    cluster.change({ ...snapshot, configMap: { metadata: { namespace: 'keepvip-system', name: 'keepvip-vips' }, data: { '10.0.0.105': '' } } });
    await new Promise((r) => setTimeout(r, 200));
    expect(applies).toBe(1);
  });

  it('refuses an advert interval the agent refuses, naming it', () => {
    expect(checkTemplate({ advertInterval: '100ms' })).toEqual([]);
    expect(checkTemplate({ advertInterval: '15ms' }).join()).toMatch(/advertInterval/);
  });
});

describe('keepvip status with the controller’s instances', () => {
  const instance = { interface: 'eth0', vrid: 11, version: 3 as const, family: 4 as const, state: 'Master' as const, priority: 250, configuredPriority: 250, master: '192.168.0.1', transitions: 1, lastTransition: null, faults: [] };
  it('shows the Services each instance serves (a column only when some instance has them)', () => {
    const report: StatusReport = { instances: [{ ...instance, name: 'k8s-v4-11', vips: ['10.0.0.100/32'], services: ['web/gateway'] }, { ...instance, name: 'k8s-v4-12', vrid: 12, vips: ['10.0.0.101/32'], services: [] }, { ...instance, name: 'file', vrid: 50, vips: ['10.0.0.9/24'] }] };
    const lines = statusTable(report).split('\n');
    expect(lines[0]).toMatch(/VIPS +SERVICES +TRANSITIONS/);
    expect(lines[1]).toMatch(/10\.0\.0\.100\/32 +web\/gateway +1/);
    expect(lines[2]).toMatch(/10\.0\.0\.101\/32 +- +1/);
    expect(lines[3]).toMatch(/10\.0\.0\.9\/24 +- +1/);
    expect(statusTable({ instances: [{ ...instance, name: 'file', vips: ['10.0.0.9/24'] }] })).not.toContain('SERVICES');
  });

  it('shows each NAT binding as VIP:port/protocol -> endpoints: listed when few, counted when many, none refusing', () => {
    const pods = (n: number, prefix = '10.244.1.') => Array.from({ length: n }, (_, k) => ({ address: `${prefix}${k + 2}`, port: 8080 }));
    const report: StatusReport = {
      instances: [
        {
          ...instance,
          name: 'k8s-v4-11',
          vips: ['10.0.0.100/32'],
          services: ['web/front'],
          natBindings: [
            { vip: '10.0.0.100', protocol: 'TCP', port: 80, endpoints: pods(LISTED_ENDPOINTS), source: 'web/front:http' },
            { vip: '10.0.0.100', protocol: 'TCP', port: 443, endpoints: pods(LISTED_ENDPOINTS + 1), clientIpAffinity: { timeoutSeconds: 10800 }, source: 'web/front:https' },
          ],
        },
        { ...instance, name: 'k8s-v6-12', vrid: 12, family: 6, vips: ['2001:db8::100/128'], services: ['web/dns'], natBindings: [{ vip: '2001:db8::100', protocol: 'UDP', port: 53, endpoints: [] }] },
        { ...instance, name: 'k8s-v4-13', vrid: 13, vips: ['10.0.0.101/32'], services: [] },
      ],
    };
    const lines = statusTable(report).split('\n');
    const nat = lines.slice(lines.indexOf('') + 1);
    expect(nat[0]).toMatch(/^NAT BINDING +INSTANCE +SERVICE PORT +AFFINITY +ENDPOINTS$/);
    expect(nat.slice(1)).toEqual([
      expect.stringMatching(/^10\.0\.0\.100:80\/TCP +k8s-v4-11 +web\/front:http +- +4: 10\.244\.1\.2:8080, 10\.244\.1\.3:8080, 10\.244\.1\.4:8080, 10\.244\.1\.5:8080$/),
      expect.stringMatching(/^10\.0\.0\.100:443\/TCP +k8s-v4-11 +web\/front:https +ClientIP 10800s +5$/),
      expect.stringMatching(/^\[2001:db8::100\]:53\/UDP +k8s-v6-12 +- +- +0 \(connections refused\)$/),
    ]);
    // The instance table above is unchanged, and a daemon without bindings prints no NAT table.
    expect(lines[3]).toMatch(/^k8s-v4-13 /);
    expect(statusTable({ instances: [{ ...instance, name: 'k8s-v4-13', vips: ['10.0.0.101/32'], services: [] }] })).not.toContain('NAT BINDING');
  });

  it("a Master that took over from a silent one says which endpoints it leaves out, below the bindings", () => {
    const natBindings = [{ vip: '10.0.0.100', protocol: 'TCP' as const, port: 80, endpoints: [{ address: '10.244.1.2', port: 8080, node: { address: '192.168.0.11', ready: true } }, { address: '10.244.2.2', port: 8080, node: { address: '192.168.0.12', ready: true } }] }];
    const leftOut = { node: '192.168.0.11', endpoints: ['10.0.0.100 TCP 80 -> 10.244.1.2:8080'] };
    const lines = statusTable({ instances: [{ ...instance, name: 'k8s-v4-11', vips: ['10.0.0.100/32'], services: ['web/front'], natBindings, natEndpointsLeftOut: leftOut }] }).split('\n');
    expect(lines.at(-1)).toBe('LEFT OUT by k8s-v4-11 (the node at 192.168.0.11 fell silent): 10.0.0.100 TCP 80 -> 10.244.1.2:8080');
    expect(statusTable({ instances: [{ ...instance, name: 'k8s-v4-11', vips: ['10.0.0.100/32'], services: ['web/front'], natBindings }] })).not.toContain('LEFT OUT');
  });
});

describe('keepvip run: the flags of --kubernetes, checked before anything starts', () => {
  const cli = fileURLToPath(new URL('../dist/main.js', import.meta.url));
  const run = (args: string[], env: Record<string, string> = {}) => {
    const r = spawnSync(process.execPath, [cli, 'run', ...args], { encoding: 'utf8', env: { ...process.env, NODE_NAME: '', ...env } });
    return { code: r.status, stderr: r.stderr };
  };
  const dir = mkdtempSync(join(tmpdir(), 'keepvip-run-flags-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    [[], 'keepvip run: --config is required (optional only with --kubernetes)\n'],
    [['--kubernetes'], 'keepvip run: --kubernetes needs the Node’s name: --node-name or NODE_NAME (the DaemonSet sets it from spec.nodeName)\n'],
    [['--kubernetes', '--node-name', 'a', '--vip-configmap', 'keepvip-vips'], 'keepvip run: --vip-configmap: "keepvip-vips" is not namespace/name\n'],
    [['--kubernetes', '--node-name', 'a', '--vrid-range', '200-100'], 'keepvip run: --vrid-range: "200-100" is not within 1-255 with FIRST <= LAST\n'],
    [['--kubernetes', '--node-name', 'a', '--advert-interval', '15ms'], expect.stringMatching(/^keepvip run: --advert-interval: .*10ms\.\.40950ms/)],
    [['--kubernetes', '--node-name', 'a', '--metrics-listen', '9650'], 'keepvip run: --metrics-listen: "9650" is not host:port\n'],
    [['--kubernetes', '--node-name', 'a', '--metrics-listen', '[fd00::1]:70000'], 'keepvip run: --metrics-listen: "[fd00::1]:70000" has port 70000, outside 1..65535\n'],
    [['--kubernetes', '--node-name', 'a', '--metrics-listen', 'local host:9650'], 'keepvip run: --metrics-listen: "local host:9650" has host "local host", which is neither an IP address nor a host name\n'],
  ])('%j is refused (exit 2) naming the flag', (args, message) => {
    expect(run(args)).toEqual({ code: 2, stderr: message });
  });

  it('a file with only `global` is valid (for --kubernetes) but alone is refused as having nothing to run', () => {
    const file = join(dir, 'global.yaml');
    writeFileSync(file, 'global:\n  log:\n    level: info\n');
    expect(run(['-c', file])).toEqual({ code: 2, stderr: `keepvip run: ${file} has no instances: nothing to run (add some, or run with --kubernetes)\n` });
  });
});

/**
 * An instance's NAT bindings (issue 12) on a fake data plane: installed only while it is
 * Master, before the announcement that draws traffic in; removed when the VIP leaves; changed
 * in place by apply; the node's table is the union of the Masters' bindings; a failure stays
 * with its instance; the table goes at exit.
 */
import { describe, expect, it } from '@jest/globals';
import { emitAdvert } from '@keepvip/vrrp';
import { InstanceSet, statusOf, validateConfig, type NatBinding, type ResolvedInstance } from '../src/index.js';
import { NAT_RETRY_MS } from '../src/instances/nat-table.js';
import { createMetricsRegistry } from '../src/observe/metrics.js';
import { captureLogger, FakeDataPlane, FakeNatBindings, ManualClock } from './fake-data-plane.js';

function binding(vip: string, port: number, ...pods: string[]): NatBinding {
  return { vip, protocol: 'TCP', port, endpoints: pods.map((address) => ({ address, port: 8080 })), source: `web/svc:${port}` };
}

function inst(name: string, vrid: number, vip: string, natBindings: NatBinding[]): ResolvedInstance {
  const r = validateConfig({ instances: [{ name, interface: 'eth0', vrid, priority: 150, advertInterval: '100ms', vips: [`${vip}/24`] }] });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return { ...(r.config.instances[0] as ResolvedInstance), natBindings };
}

function harness() {
  const dp = new FakeDataPlane();
  const nat = new FakeNatBindings(dp.calls);
  const clock = new ManualClock();
  const { logger, lines } = captureLogger();
  const set = new InstanceSet({ dataPlane: dp, clock, log: () => logger, natBindings: nat });
  const state = (name: string) => set.runners().find((r) => r.name === name)?.state;
  const settle = async () => {
    for (let i = 0; i < 8; i++) await new Promise((r) => setImmediate(r));
  };
  /** The calls from `from` on, without the socket and announcer bookkeeping. */
  const wire = (from = 0) => dp.calls.slice(from).filter((c) => /^(add|remove|announce|nat) /.test(c));
  const registry = createMetricsRegistry({
    instances: () => set.instanceSnapshots(),
    failures: () => set.failures(),
    failureTotals: () => set.failureTotals(),
    channels: () => set.channelSnapshots(),
    announceCounters: () => dp.announceCounters(),
    heldAddresses: (ifname) => dp.vips(ifname).list(),
    nat: () => set.natStats(),
  });
  /** The values of these series in a scrape (undefined: not exported). */
  const metrics = async (...series: string[]) => {
    const lines = (await registry.metrics()).split('\n');
    return series.map((name) => {
      const line = lines.find((l) => l.startsWith(`${name} `));
      return line === undefined ? undefined : Number(line.slice(name.length + 1));
    });
  };
  return { dp, nat, clock, set, lines, state, settle, wire, metrics };
}

const installed = (instance: string, vrid: number) => `keepvip_nat_bindings_installed{instance="${instance}",interface="eth0",vrid="${vrid}"}`;
const failures = (instance: string, vrid: number, reason: string) => `keepvip_nat_sync_failures_total{instance="${instance}",interface="eth0",vrid="${vrid}",reason="${reason}"}`;

/** A higher-priority advert for VRID `vrid`: this node's instance goes to Backup. */
function betterMaster(vrid: number, vip: string): Uint8Array {
  return emitAdvert({ version: 3, type: 1, vrid, priority: 200, advertIntervalCs: 10, addresses: [vip], authType: 0, authData: new Uint8Array(0) }, { family: 4, src: '10.0.0.9', dst: '224.0.0.18' });
}

const A = binding('10.0.0.100', 80, '10.1.0.1', '10.1.0.2');
const B = binding('10.0.0.101', 443, '10.1.0.3');

describe('NAT bindings follow Master', () => {
  it('a Backup installs nothing; on becoming Master the bindings are in before the announcement, which waits for them', async () => {
    const h = harness();
    let release: () => void = () => undefined;
    await h.set.apply('controller', { instances: [inst('a', 51, '10.0.0.100', [A])] });
    await h.settle();
    expect(h.state('a')).toBe('Backup');
    expect(h.nat.installed).toEqual([]);
    const from = h.dp.calls.length;
    h.nat.gate = new Promise((r) => (release = r));
    h.clock.advance(1_000);
    await h.settle();
    expect(h.state('a')).toBe('Master');
    // The VIP is added, and the announcement waits for the NAT transaction.
    expect(h.wire(from)).toEqual(['add eth0 10.0.0.100/24']);
    release();
    await h.settle();
    expect(h.wire(from)).toEqual(['add eth0 10.0.0.100/24', FakeNatBindings.describe([A]), 'announce eth0 10.0.0.100']);
    expect(h.nat.installed).toEqual([A]);
  });

  it('leaving Master removes them: to Backup on a better advert, to Fault on link down, and at stop', async () => {
    const h = harness();
    await h.set.apply('controller', { instances: [inst('a', 51, '10.0.0.100', [A])] });
    h.clock.advance(1_000);
    await h.settle();
    expect(h.nat.installed).toEqual([A]);
    let from = h.dp.calls.length;
    h.dp.deliver('eth0', 4, betterMaster(51, '10.0.0.100'));
    await h.settle();
    expect(h.state('a')).toBe('Backup');
    expect(h.wire(from)).toEqual(['remove eth0 10.0.0.100/24', 'nat -']);
    // Master again (the other router went quiet), then the link goes down.
    h.clock.advance(1_000);
    await h.settle();
    expect(h.nat.installed).toEqual([A]);
    from = h.dp.calls.length;
    h.dp.setUp('eth0', false);
    await h.settle();
    expect(h.state('a')).toBe('Fault');
    expect(h.wire(from)).toEqual(['remove eth0 10.0.0.100/24', 'nat -']);
    h.dp.setUp('eth0', true);
    h.clock.advance(1_000);
    await h.settle();
    expect(h.nat.installed).toEqual([A]);
    from = h.dp.calls.length;
    await h.set.apply('controller', { instances: [] });
    await h.settle();
    expect(h.wire(from)).toEqual(['remove eth0 10.0.0.100/24', 'nat -']);
  });

  it('an EndpointSlice change is applied in place: one transaction, no transition, no announcement', async () => {
    const h = harness();
    await h.set.apply('controller', { instances: [inst('a', 51, '10.0.0.100', [A])] });
    h.clock.advance(1_000);
    await h.settle();
    const transitions = h.set.runners()[0]?.counters.transitions;
    const from = h.dp.calls.length;
    const changed = binding('10.0.0.100', 80, '10.1.0.2', '10.1.0.9');
    const report = await h.set.apply('controller', { instances: [inst('a', 51, '10.0.0.100', [changed])] });
    expect(report.ok && report.instances).toEqual([{ name: 'a', source: 'controller', outcome: 'changed', fields: ['natBindings'] }]);
    // The report comes once the kernel has the new set.
    expect(h.wire(from)).toEqual([FakeNatBindings.describe([changed])]);
    await h.settle();
    expect(h.wire(from)).toEqual([FakeNatBindings.describe([changed])]);
    expect(h.set.runners()[0]?.counters.transitions).toBe(transitions);
    expect(h.state('a')).toBe('Master');
  });

  it('the status shows an instance\'s bindings as they are now, and none for an instance without', async () => {
    const h = harness();
    await h.set.apply('controller', { instances: [inst('a', 51, '10.0.0.100', [A]), inst('b', 52, '10.0.0.101', [])] });
    const status = (name: string) => {
      const runner = h.set.runners().find((r) => r.name === name);
      return runner === undefined ? undefined : statusOf(runner);
    };
    expect(status('a')?.natBindings).toEqual([A]);
    expect(status('b')).not.toHaveProperty('natBindings');
    const changed = binding('10.0.0.100', 80, '10.1.0.9');
    await h.set.apply('controller', { instances: [inst('a', 51, '10.0.0.100', [changed]), inst('b', 52, '10.0.0.101', [])] });
    expect(status('a')?.natBindings).toEqual([changed]);
  });

  it("a Backup's binding change touches nothing; it is installed when the instance becomes Master", async () => {
    const h = harness();
    await h.set.apply('controller', { instances: [inst('a', 51, '10.0.0.100', [A])] });
    const from = h.dp.calls.length;
    const changed = binding('10.0.0.100', 80, '10.1.0.7');
    await h.set.apply('controller', { instances: [inst('a', 51, '10.0.0.100', [changed])] });
    await h.settle();
    expect(h.wire(from)).toEqual([]);
    h.clock.advance(1_000);
    await h.settle();
    expect(h.nat.installed).toEqual([changed]);
  });

  it("the node's table is the union of the Masters' bindings", async () => {
    const h = harness();
    await h.set.apply('controller', { instances: [inst('a', 51, '10.0.0.100', [A]), inst('b', 52, '10.0.0.101', [B])] });
    h.clock.advance(1_000);
    await h.settle();
    expect(h.nat.installed).toEqual([A, B]);
    h.dp.deliver('eth0', 4, betterMaster(51, '10.0.0.100'));
    await h.settle();
    expect(h.state('a')).toBe('Backup');
    expect(h.nat.installed).toEqual([B]);
  });

  it("bindings the port refuses stay with their instance: it still holds and announces its VIP, the others' bindings are in", async () => {
    const h = harness();
    const bad = binding('10.0.0.101', 0, '10.1.0.3');
    await h.set.apply('controller', { instances: [inst('a', 51, '10.0.0.100', [A]), inst('b', 52, '10.0.0.101', [bad])] });
    h.clock.advance(1_000);
    await h.settle();
    expect([h.state('a'), h.state('b')]).toEqual(['Master', 'Master']);
    expect(h.nat.installed).toEqual([A]);
    expect(h.wire()).toContain('announce eth0 10.0.0.101');
    const refused = h.lines.filter((l) => String(l.message).startsWith('NAT bindings refused'));
    // Logged once for its instance (not on every sync), with the problem.
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ level: 'error', instance: 'b', vrid: 52, state: 'Master', problems: ['bindings[0].port: 0 is not a port (1-65535)'] });
  });

  it("a sync checks only bindings it has not seen: an unchanged instance's list is not checked again", async () => {
    const h = harness();
    const c = inst('c', 53, '10.0.0.102', [binding('10.0.0.102', 8443, '10.1.0.4')]);
    await h.set.apply('controller', { instances: [inst('a', 51, '10.0.0.100', [A]), inst('b', 52, '10.0.0.101', [B]), c] });
    h.clock.advance(1_000);
    await h.settle();
    expect(h.nat.installed).toHaveLength(3);
    const checked = h.nat.checked;
    // One instance's bindings change in place (an EndpointSlice change): only its new list is checked.
    const B2 = binding('10.0.0.101', 443, '10.1.0.5');
    await h.set.apply('controller', { instances: [inst('a', 51, '10.0.0.100', [A]), inst('b', 52, '10.0.0.101', [B2]), c] });
    await h.settle();
    expect(h.nat.installed).toContainEqual(B2);
    expect(h.nat.checked - checked).toBe(1);
  });

  it('a failed transaction is logged and tried again until the kernel takes the set', async () => {
    const h = harness();
    h.nat.fail = 'nft: Operation not permitted';
    await h.set.apply('controller', { instances: [inst('a', 51, '10.0.0.100', [A])] });
    h.clock.advance(1_000);
    await h.settle();
    expect(h.state('a')).toBe('Master');
    expect(h.nat.installed).toEqual([]);
    expect(h.lines.some((l) => l.level === 'error' && String(l.message).includes('nft: Operation not permitted'))).toBe(true);
    h.nat.fail = undefined;
    h.clock.advance(NAT_RETRY_MS);
    await h.settle();
    expect(h.nat.installed).toEqual([A]);
  });

  it('a failing NAT port counts a failed sync for the instance on every try, logs it with instance, VRID and state, and the gauge shows what the kernel holds', async () => {
    const h = harness();
    h.nat.fail = 'nft: Operation not permitted';
    await h.set.apply('controller', { instances: [inst('a', 51, '10.0.0.100', [A, binding('10.0.0.100', 443, '10.1.0.1')]), inst('b', 52, '10.0.0.101', [B])] });
    await h.settle();
    const aFailed = failures('a', 51, 'transaction_failed');
    // Backups: nothing to install, nothing failed.
    expect(await h.metrics(installed('a', 51), aFailed, failures('a', 51, 'refused'))).toEqual([0, 0, 0]);
    // b hears a better Master all along: it stays Backup, its bindings out of every transaction.
    const heard = new Map([[52, '10.0.0.101']]);
    const advance = async (ms: number) => {
      for (let t = 0; t < ms; t += 100) {
        for (const [vrid, vip] of heard) h.dp.deliver('eth0', 4, betterMaster(vrid, vip));
        h.clock.advance(100);
        await h.settle();
      }
    };
    await advance(1_000);
    expect([h.state('a'), h.state('b')]).toEqual(['Master', 'Backup']);
    // The takeover's sync failed (and the reconcile after the transition may have tried again).
    const [first = 0] = await h.metrics(aFailed);
    expect(first).toBeGreaterThanOrEqual(1);
    expect(await h.metrics(installed('a', 51), failures('b', 52, 'transaction_failed'))).toEqual([0, 0]);
    // (The Backups' forced check of the empty table failed too: the node's, no instance's.)
    expect(h.lines.some((l) => String(l.message).startsWith('NAT bindings not applied') && l.instance === undefined && l.level === 'error')).toBe(true);
    const failed = () => h.lines.filter((l) => String(l.message).startsWith('NAT bindings not applied') && l.instance !== undefined);
    expect(failed()[0]).toMatchObject({ level: 'error', instance: 'a', vrid: 51, state: 'Master', failures: 1, message: expect.stringContaining('nft: Operation not permitted') });
    // Each retry that fails counts again; the same message is not logged as an error again.
    await advance(NAT_RETRY_MS);
    await advance(NAT_RETRY_MS);
    expect(await h.metrics(aFailed)).toEqual([first + 2]);
    expect(failed().map((l) => [l.instance, l.level])).toEqual([['a', 'error'], ...Array<string[]>(first + 1).fill(['a', 'debug'])]);
    h.nat.fail = undefined;
    await advance(NAT_RETRY_MS);
    expect(await h.metrics(installed('a', 51), aFailed, installed('b', 52))).toEqual([2, first + 2, 0]);
    expect(h.lines.at(-1)).toMatchObject({ level: 'info', instance: 'a', vrid: 51, state: 'Master', message: `NAT bindings applied after ${first + 2} failed transaction(s)` });
    // Leaving Master with the port failing: the removal fails too, and the kernel still holds them.
    h.nat.fail = 'nft: Device or resource busy';
    heard.set(51, '10.0.0.100');
    await advance(100);
    expect(h.state('a')).toBe('Backup');
    const [installedNow, failedNow = 0] = await h.metrics(installed('a', 51), aFailed);
    expect([installedNow, failedNow > first + 2]).toEqual([2, true]);
    expect(failed().filter((l) => l.level === 'error').at(-1)).toMatchObject({ instance: 'a', vrid: 51, state: 'Backup', message: expect.stringContaining('Device or resource busy') });
    h.nat.fail = undefined;
    await advance(NAT_RETRY_MS);
    expect(await h.metrics(installed('a', 51))).toEqual([0]);
  });

  it('refused bindings count once per new set of problems, as refused', async () => {
    const h = harness();
    await h.set.apply('controller', { instances: [inst('b', 52, '10.0.0.101', [binding('10.0.0.101', 0, '10.1.0.3')])] });
    h.clock.advance(1_000);
    await h.settle();
    h.clock.advance(5_000);
    await h.settle();
    expect(await h.metrics(failures('b', 52, 'refused'), failures('b', 52, 'transaction_failed'), installed('b', 52))).toEqual([1, 0, 0]);
    await h.set.apply('controller', { instances: [inst('b', 52, '10.0.0.101', [binding('10.0.0.101', 70_000, '10.1.0.3')])] });
    await h.settle();
    expect(await h.metrics(failures('b', 52, 'refused'))).toEqual([2]);
  });

  it('close removes the table after every instance has left Master', async () => {
    const h = harness();
    await h.set.apply('controller', { instances: [inst('a', 51, '10.0.0.100', [A])] });
    h.clock.advance(1_000);
    await h.settle();
    await h.set.close();
    expect(h.wire().slice(-3)).toEqual(['remove eth0 10.0.0.100/24', 'nat -', 'nat remove']);
    expect(h.nat.installed).toEqual([]);
  });
});

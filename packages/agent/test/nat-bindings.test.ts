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
  it('a Backup installs nothing; on becoming Master the bindings are in before the VIP is added and announced, which wait for them', async () => {
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
    // The VIP and its announcement wait for the NAT transaction: no moment with the VIP up and no rule.
    expect(h.wire(from)).toEqual([]);
    release();
    await h.settle();
    expect(h.wire(from)).toEqual([FakeNatBindings.describe([A]), 'add eth0 10.0.0.100/24', 'announce eth0 10.0.0.100']);
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

  it('the periodic reconcile checks the table is there without validating or applying the bindings again; a failed check applies them again', async () => {
    const h = harness();
    await h.set.apply('controller', { instances: [inst('a', 51, '10.0.0.100', [A]), inst('b', 52, '10.0.0.101', [B])] });
    h.clock.advance(1_000);
    await h.settle();
    expect(h.nat.installed).toEqual([A, B]);
    const { checked, applies, checks } = h.nat;
    await h.set.reconcile();
    expect({ checked: h.nat.checked, applies: h.nat.applies, checks: h.nat.checks }).toEqual({ checked, applies, checks: checks + 1 });
    // The check fails (the kernel's table unknown): the whole set goes in again on the retry timer.
    h.nat.checkFail = 'nft: No such file or directory';
    await h.set.reconcile();
    h.nat.checkFail = undefined;
    h.nat.installed = [];
    h.clock.advance(NAT_RETRY_MS);
    await h.settle();
    expect(h.nat.installed).toEqual([A, B]);
    expect(h.nat.applies).toBe(applies + 1);
    expect(h.lines.some((l) => l.level === 'error' && String(l.message).includes('could not be checked'))).toBe(true);
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

  it('UDP conntrack entries not deleted when a VIP leaves: logged and counted by the instance whose binding it was, nothing retried', async () => {
    const h = harness();
    const dns: NatBinding = { vip: '2001:DB8::100', protocol: 'UDP', port: 53, endpoints: [{ address: '2001:db8:1::5', port: 5353 }] };
    await h.set.apply('controller', { instances: [inst('a', 51, '10.0.0.100', [A]), { ...inst('b', 52, '10.0.0.101', [B]), natBindings: [B, dns] }] });
    h.clock.advance(1_000);
    await h.settle();
    // b leaves Master: its bindings go, and the port could not delete its UDP flows' entries.
    h.nat.conntrackFailures = [{ vip: '2001:db8::100', protocol: 'UDP', port: 53, message: 'deleted 0 of 3 UDP conntrack entries (EPERM)' }];
    const from = h.dp.calls.length;
    h.dp.deliver('eth0', 4, betterMaster(52, '10.0.0.101'));
    await h.settle();
    expect(h.state('b')).toBe('Backup');
    expect(h.nat.installed).toEqual([A]);
    const failed = h.lines.filter((l) => String(l.message).includes('conntrack entries were not deleted'));
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ level: 'error', instance: 'b', vrid: 52, state: 'Backup', vip: '2001:db8::100', port: 53 });
    expect(String(failed[0]?.message)).toContain('EPERM');
    expect(await h.metrics(failures('a', 51, 'conntrack_flush_failed'), failures('b', 52, 'conntrack_flush_failed'), failures('b', 52, 'transaction_failed'))).toEqual([0, 1, 0]);
    // The rules are in: no retry of the transaction (the better Master keeps b in Backup meanwhile).
    h.nat.conntrackFailures = [];
    for (let t = 0; t <= NAT_RETRY_MS; t += 200) {
      h.clock.advance(200);
      h.dp.deliver('eth0', 4, betterMaster(52, '10.0.0.101'));
      await h.settle();
    }
    expect(h.state('b')).toBe('Backup');
    expect(h.wire(from).filter((c) => c.startsWith('nat '))).toEqual([FakeNatBindings.describe([A])]);
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

/** An endpoint on the node at `node` (its InternalIP, the source of its adverts). */
const on = (node: string, address: string, ready = true) => ({ address, port: 8080, node: { address: node, ready } });
const DEAD = '10.0.0.9';
const OTHER = '10.0.0.8';

/** An advert from `src` for VRID 51 at `priority` (100 ms interval). */
function advertFrom(src: string, priority: number): Uint8Array {
  return emitAdvert({ version: 3, type: 1, vrid: 51, priority, advertIntervalCs: 10, addresses: ['10.0.0.100'], authType: 0, authData: new Uint8Array(0) }, { family: 4, src, dst: '224.0.0.18' });
}

describe("a takeover from a silent Master leaves its node's endpoints out (issue 12)", () => {
  const web: NatBinding = { vip: '10.0.0.100', protocol: 'TCP', port: 80, endpoints: [on(DEAD, '10.1.0.1'), on(OTHER, '10.1.0.2')], source: 'web/front:http' };
  const tls: NatBinding = { ...web, port: 443, endpoints: [on(DEAD, '10.1.0.1'), on(OTHER, '10.1.0.2'), on(OTHER, '10.1.0.3')], source: 'web/front:https' };
  const only: NatBinding = { ...web, port: 8443, endpoints: [on(DEAD, '10.1.0.1')], source: 'web/front:alt' };
  const without = (b: NatBinding, node: string): NatBinding => ({ ...b, endpoints: b.endpoints.filter((e) => e.node?.address !== node) });

  /** Instance `a` (priority 150) follows the Master at DEAD; then `event` happens and Master_Down_Timer may run out. */
  async function followed(bindings: NatBinding[], event: (h: ReturnType<typeof harness>) => void) {
    const h = harness();
    await h.set.apply('controller', { instances: [inst('a', 51, '10.0.0.100', bindings)] });
    h.dp.deliver('eth0', 4, advertFrom(DEAD, 200), DEAD);
    await h.settle();
    expect(h.state('a')).toBe('Backup');
    const from = h.dp.calls.length;
    event(h);
    h.clock.advance(1_000);
    await h.settle();
    expect(h.state('a')).toBe('Master');
    return { h, from };
  }

  it('Master_Down_Timer on the followed Master: its node\'s endpoints are out of the table before the announcement, logged and counted', async () => {
    const { h, from } = await followed([web, tls], () => undefined);
    expect(h.wire(from)).toEqual([FakeNatBindings.describe([without(web, DEAD), without(tls, DEAD)]), 'add eth0 10.0.0.100/24', 'announce eth0 10.0.0.100']);
    const line = h.lines.find((l) => String(l.message).startsWith('NAT bindings: 2 endpoint(s) on the node at 10.0.0.9 left out'));
    expect(line).toMatchObject({ level: 'warn', instance: 'a', vrid: 51, state: 'Master', silentMaster: DEAD, reason: 'master_down_timer', leftOut: ['10.0.0.100 TCP 80 -> 10.1.0.1:8080', '10.0.0.100 TCP 443 -> 10.1.0.1:8080'] });
    expect(h.set.runners()[0]?.counters.natEndpointsLeftOut).toBe(2);
    expect(h.set.instanceSnapshots()[0]?.natEndpointsLeftOut).toBe(2);
    expect(h.set.natLeftOut('a')).toEqual({ node: DEAD, endpoints: ['10.0.0.100 TCP 80 -> 10.1.0.1:8080', '10.0.0.100 TCP 443 -> 10.1.0.1:8080'] });
    // Later syncs (a reconcile) keep it, and neither log nor count it again.
    await h.set.reconcile();
    expect(h.nat.installed).toEqual([without(web, DEAD), without(tls, DEAD)]);
    expect(h.lines.filter((l) => String(l.message).includes('left out'))).toHaveLength(1);
    expect(h.set.runners()[0]?.counters.natEndpointsLeftOut).toBe(2);
  });

  it('a plan that changes something else (the priority) with the same bindings, as new objects, keeps them out', async () => {
    const { h } = await followed([web, tls], () => undefined);
    const replanned = { ...inst('a', 51, '10.0.0.100', structuredClone([web, tls])), priority: 140 };
    const report = await h.set.apply('controller', { instances: [replanned] });
    expect(report.ok && report.instances[0]?.fields).toEqual(['priority']);
    await h.set.reconcile();
    expect(h.nat.installed).toEqual([without(web, DEAD), without(tls, DEAD)]);
  });

  it('a binding is never emptied: when the silent node holds all its endpoints, it keeps them', async () => {
    const { h } = await followed([web, only], () => undefined);
    expect(h.nat.installed).toEqual([without(web, DEAD), only]);
    expect(h.set.runners()[0]?.counters.natEndpointsLeftOut).toBe(1);
  });

  it('a priority-0 handover leaves nothing out (the old Master is alive and leaving)', async () => {
    const { h } = await followed([web, tls], (x) => x.dp.deliver('eth0', 4, advertFrom(DEAD, 0), DEAD));
    expect(h.nat.installed).toEqual([web, tls]);
    expect(h.set.runners()[0]?.counters.natEndpointsLeftOut).toBe(0);
  });

  it('a start with no Master heard leaves nothing out', async () => {
    const h = harness();
    await h.set.apply('controller', { instances: [inst('a', 51, '10.0.0.100', [web])] });
    h.clock.advance(1_000);
    await h.settle();
    expect(h.state('a')).toBe('Master');
    expect(h.nat.installed).toEqual([web]);
  });

  it('the silent node heard again: its endpoints are back at once, logged', async () => {
    const { h } = await followed([web, tls], () => undefined);
    const from = h.dp.calls.length;
    // A lower priority than ours: it is alive (back as a Master on its side, or a split brain healing).
    h.dp.deliver('eth0', 4, advertFrom(DEAD, 100), DEAD);
    await h.settle();
    expect(h.state('a')).toBe('Master');
    // (and, by default, it is answered: an advert and an ARP burst, as to any lower-priority Master)
    expect(h.wire(from).filter((c) => c.startsWith('nat '))).toEqual([FakeNatBindings.describe([web, tls])]);
    expect(h.lines.find((l) => String(l.message).startsWith('NAT bindings: the endpoints on the node at 10.0.0.9 are back'))).toMatchObject({ instance: 'a', vrid: 51, state: 'Master', reason: 'heard_again' });
    expect(h.set.instanceSnapshots()[0]?.natEndpointsLeftOut).toBe(0);
    expect(h.set.natLeftOut('a')).toBeUndefined();
  });

  it('another node heard does not bring them back', async () => {
    const { h } = await followed([web], () => undefined);
    h.dp.deliver('eth0', 4, advertFrom(OTHER, 100), OTHER);
    await h.settle();
    expect(h.nat.installed).toEqual([without(web, DEAD)]);
  });

  it('the API server speaks again: a binding whose endpoints or their node\'s Ready condition change is taken as planned, but the silent node\'s endpoints stay out while it is reported not Ready; the others stay filtered', async () => {
    const { h } = await followed([web, tls], () => undefined);
    // web's endpoints change (another pod on the silent node, say): as planned from now on.
    const web2: NatBinding = { ...web, endpoints: [...web.endpoints, on(DEAD, '10.1.0.4')] };
    await h.set.apply('controller', { instances: [inst('a', 51, '10.0.0.100', [web2, tls])] });
    await h.settle();
    expect(h.nat.installed).toEqual([web2, without(tls, DEAD)]);
    expect(h.lines.find((l) => String(l.message).startsWith('NAT bindings: 1 endpoint(s) on the node at 10.0.0.9 left out'))).toBeDefined();
    // The API server reports the silent node not Ready (its pods still listed ready, as between
    // the node's lease lapsing and the EndpointSlice update): tls is as planned, and its
    // endpoints there stay out.
    const tls2: NatBinding = { ...tls, endpoints: tls.endpoints.map((e) => (e.node?.address === DEAD ? on(DEAD, e.address, false) : e)) };
    await h.set.apply('controller', { instances: [inst('a', 51, '10.0.0.100', [web2, tls2])] });
    await h.settle();
    expect(h.nat.installed).toEqual([web2, without(tls2, DEAD)]);
    // The node Ready again: they are back.
    const tls3: NatBinding = { ...tls2, endpoints: tls2.endpoints.map((e) => (e.node?.address === DEAD ? on(DEAD, e.address, true) : e)) };
    await h.set.apply('controller', { instances: [inst('a', 51, '10.0.0.100', [web2, tls3])] });
    await h.settle();
    expect(h.nat.installed).toEqual([web2, tls3]);
    expect(h.lines.find((l) => String(l.message).startsWith('NAT bindings: the endpoints on the node at 10.0.0.9 are back'))).toMatchObject({ reason: 'plan_changed' });
    // Changed back as it was: still as planned (the API server has spoken).
    await h.set.apply('controller', { instances: [inst('a', 51, '10.0.0.100', [web, tls])] });
    await h.settle();
    expect(h.nat.installed).toEqual([web, tls]);
  });

  it('leaving Master forgets it: the next takeover, from nobody silent, installs everything', async () => {
    const { h } = await followed([web], () => undefined);
    h.dp.setUp('eth0', false);
    await h.settle();
    expect(h.state('a')).toBe('Fault');
    h.dp.setUp('eth0', true);
    h.clock.advance(1_000);
    await h.settle();
    expect(h.state('a')).toBe('Master');
    expect(h.nat.installed).toEqual([web]);
  });
});

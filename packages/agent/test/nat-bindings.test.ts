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
  return { dp, nat, clock, set, lines, state, settle, wire };
}

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

/**
 * AddressManager against a real kernel, inside a network namespace: only tagged addresses
 * are listed, reconciled and purged; an address added by `ip addr` is never touched.
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { Lab } from './helpers/lab.js';
import { requireLabPrerequisites } from './helpers/prerequisites.js';

jest.setTimeout(30_000);

type Step = { op: 'add' | 'remove' | 'list' | 'reconcile' | 'purge' | 'concurrent'; vip?: string; desired?: string[]; vips?: string[] };

describe('AddressManager end to end', () => {
  const lab = new Lab();

  beforeAll(async () => {
    requireLabPrerequisites();
    await lab.addNamespace('n');
    await lab.addNamespace('peer');
    await lab.link({ ns: 'n', ifname: 'eth0', cidr: '10.212.0.1/24' }, { ns: 'peer', ifname: 'eth0' });
    // An operator's address, untagged, in the VIP subnet: must survive everything below.
    await lab.exec('n', ['ip', 'addr', 'add', '10.212.0.50/24', 'dev', 'eth0']);
  });
  afterAll(() => lab.destroy());

  async function steps(ops: Step[]): Promise<Array<Record<string, unknown>>> {
    const child = lab.child('n', 'address-node.mjs', { ifname: 'eth0', ops });
    await child.exited;
    const errors = child.events('error');
    if (errors.length > 0) throw new Error(JSON.stringify(errors));
    return child.events('result');
  }

  async function kernelAddresses(): Promise<string> {
    return lab.exec('n', ['ip', '-o', 'addr', 'show', 'dev', 'eth0']);
  }

  test('add tags the address (IPv4 label eth0:kv), IPv6 gets nodad, and adding twice succeeds', async () => {
    const r = await steps([
      { op: 'add', vip: '10.212.0.100/24' },
      { op: 'add', vip: '10.212.0.100/24' },
      { op: 'add', vip: '2001:db8:212::100/64' },
      { op: 'list' },
    ]);
    expect(r[3]?.['result']).toEqual(['10.212.0.100/24', '2001:db8:212::100/64']);
    const ip = await kernelAddresses();
    expect(ip).toMatch(/inet 10\.212\.0\.100\/24 .*eth0:kv/);
    expect(ip).toMatch(/inet6 2001:db8:212::100\/64 scope global nodad/);
    expect(ip).not.toMatch(/tentative/);
  });

  test('many concurrent adds and removes through one manager all succeed (one netlink dump at a time)', async () => {
    const vips = Array.from({ length: 60 }, (_, i) => `10.213.${i}.1/32`);
    const before = await steps([{ op: 'list' }]);
    const [r] = await steps([{ op: 'concurrent', vips }]);
    expect((r?.['result'] as { added: string[] }).added).toEqual(expect.arrayContaining(vips));
    expect((r?.['result'] as { after: string[] }).after).toEqual(before[0]?.['result']);
  });

  test('reconcile adds missing, removes extra tagged, and leaves the untagged address alone', async () => {
    const [r] = await steps([{ op: 'reconcile', desired: ['10.212.0.101', '2001:db8:212::100/64', '10.212.0.50/24'] }]);
    expect(r?.['result']).toEqual({ added: ['10.212.0.101/32'], present: ['10.212.0.50/24'], removed: ['10.212.0.100/24'] });
    const ip = await kernelAddresses();
    expect(ip).toContain('10.212.0.101/32');
    expect(ip).not.toContain('10.212.0.100/24');
    expect(ip).toContain('10.212.0.50/24');
  });

  test('remove of an untagged address is a no-op; of a missing one succeeds', async () => {
    await steps([
      { op: 'remove', vip: '10.212.0.50/24' },
      { op: 'remove', vip: '10.212.0.199/32' },
    ]);
    expect(await kernelAddresses()).toContain('10.212.0.50/24');
  });

  test('purgeStale, run by a new process, removes what an earlier one left (as after SIGKILL)', async () => {
    const [purged] = await steps([{ op: 'purge' }]);
    expect(purged?.['result']).toEqual(['10.212.0.101/32', '2001:db8:212::100/64']);
    const ip = await kernelAddresses();
    expect(ip).not.toContain('10.212.0.101');
    expect(ip).not.toContain('2001:db8:212::100');
    expect(ip).toContain('10.212.0.1/24');
    expect(ip).toContain('10.212.0.50/24');
    const [list] = await steps([{ op: 'list' }]);
    expect(list?.['result']).toEqual([]);
  });

  test('an unknown interface fails with a named error and code ENODEV', async () => {
    const child = lab.child('n', 'address-node.mjs', { ifname: 'nope0', ops: [{ op: 'list' }] });
    await child.exited;
    expect(child.events('error')[0]).toMatchObject({ name: 'InterfaceNotFoundError', code: 'ENODEV' });
  });
});

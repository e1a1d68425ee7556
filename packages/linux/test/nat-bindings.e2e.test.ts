/**
 * NatBindings against real nftables in a network namespace: changes made one binding at a
 * time leave exactly the table a full rewrite makes (seeded random sequences); affinity sets of
 * staying endpoints keep their clients; a table changed behind our back is rebuilt; calls made
 * while one runs are merged; bad input runs nothing; `check` heals a flushed table cheaply.
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import fc from 'fast-check';
import { InvalidArgumentError } from '../src/errors.js';
import { NatBindings } from '../src/nft/nat-bindings.js';
import type { NatBinding } from '../src/nft/nat-binding.js';
import { Lab } from './helpers/lab.js';
import { nftInNamespace, setElements, tableShape, web } from './helpers/nft.js';

jest.setTimeout(120_000);


/** Bindings over small pools, so that sequences add, change and remove the same ones. */
const bindingsArbitrary = fc.uniqueArray(
  fc.record({
    family: fc.constantFrom(4, 6),
    vip: fc.integer({ min: 1, max: 3 }),
    protocol: fc.constantFrom('TCP' as const, 'UDP' as const),
    port: fc.constantFrom(80, 443),
    endpoints: fc.uniqueArray(fc.record({ host: fc.integer({ min: 1, max: 4 }), port: fc.constantFrom(8080, 8443) }), {
      maxLength: 4,
      selector: (e) => `${e.host} ${e.port}`,
    }),
    affinity: fc.constantFrom(undefined, 30, 10_800),
  }),
  { maxLength: 4, selector: (b) => `${b.family} ${b.vip} ${b.protocol} ${b.port}` },
);

type Generated = typeof bindingsArbitrary extends fc.Arbitrary<Array<infer G>> ? G : never;

function toBindings(generated: readonly Generated[]): NatBinding[] {
  return generated.map((g) => ({
    vip: g.family === 4 ? `10.0.0.${g.vip}` : `2001:db8::${g.vip}`,
    protocol: g.protocol,
    port: g.port,
    endpoints: g.endpoints.map((e) => ({ address: g.family === 4 ? `10.1.0.${e.host}` : `2001:db8:1::${e.host}`, port: e.port })),
    clientIpAffinity: g.affinity === undefined ? undefined : { timeoutSeconds: g.affinity },
  }));
}

describe('NatBindings against nftables', () => {
  const lab = new Lab();
  let nft: Awaited<ReturnType<typeof nftInNamespace>>;

  beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error('end-to-end tests need root (network namespaces)');
    await lab.addNamespace('n');
    nft = await nftInNamespace(lab, 'n');
  });
  afterAll(async () => {
    await nft?.dispose();
    await lab.destroy();
  });

  test('seeded sequences: every change leaves the same table as a full rewrite of the same bindings', async () => {
    const sequence = fc.sample(bindingsArbitrary, { seed: 1212, numRuns: 24 }).map(toBindings);
    sequence.push([]); // and everything goes at the end
    const incremental = new NatBindings({ nft: nft.nft });
    for (const [i, desired] of sequence.entries()) {
      await incremental.apply(desired);
      // A new object knows nothing, so it lists its table and rewrites it whole.
      await new NatBindings({ nft: nft.nft, table: 'reference' }).apply(desired);
      const [got, want] = await Promise.all([tableShape(lab, 'n', 'keepvip_nat'), tableShape(lab, 'n', 'reference')]);
      expect({ step: i, table: got }).toEqual({ step: i, table: want });
    }
    expect(await tableShape(lab, 'n', 'keepvip_nat')).toBeUndefined();
  });

  test('clients in the affinity set of an endpoint that stays are kept; the set of an endpoint that goes is deleted', async () => {
    const nat = new NatBindings({ nft: nft.nft });
    await nat.apply([web(['10.1.0.2', '10.1.0.3'], 10_800)]);
    // What the kernel's update statement would have recorded for two clients.
    await lab.exec('n', ['nft', 'add', 'element', 'inet', 'keepvip_nat', 'aff_10.0.0.100_tcp_80_10.1.0.2_8080', '{ 192.0.2.1 timeout 1h }']);
    await lab.exec('n', ['nft', 'add', 'element', 'inet', 'keepvip_nat', 'aff_10.0.0.100_tcp_80_10.1.0.3_8080', '{ 192.0.2.2 timeout 1h }']);
    await nat.apply([web(['10.1.0.2', '10.1.0.4'], 10_800)]);
    expect(await setElements(lab, 'n', 'keepvip_nat', 'aff_10.0.0.100_tcp_80_10.1.0.2_8080')).toEqual(['192.0.2.1']);
    expect((await nat.installed()).sets).not.toContain('aff_10.0.0.100_tcp_80_10.1.0.3_8080');
    // A new timeout applies to later updates; the clients recorded stay.
    await nat.apply([web(['10.1.0.2', '10.1.0.4'], 60)]);
    expect(await setElements(lab, 'n', 'keepvip_nat', 'aff_10.0.0.100_tcp_80_10.1.0.2_8080')).toEqual(['192.0.2.1']);
    // So does a full rewrite by a new process (the daemon restarted without removing its table).
    await new NatBindings({ nft: nft.nft }).apply([web(['10.1.0.2'], 60)]);
    expect(await setElements(lab, 'n', 'keepvip_nat', 'aff_10.0.0.100_tcp_80_10.1.0.2_8080')).toEqual(['192.0.2.1']);
    await nat.remove();
    expect(await nat.installed()).toEqual({ chains: [], sets: [] });
  });

  test('a table changed behind our back is rebuilt from what the kernel holds', async () => {
    const nat = new NatBindings({ nft: nft.nft });
    await nat.apply([web(['10.1.0.2', '10.1.0.3'])]);
    await lab.exec('n', ['nft', 'delete', 'table', 'inet', 'keepvip_nat']);
    // The change script refers to chains that are gone: it fails whole, then the full rewrite runs.
    await nat.apply([web(['10.1.0.2'])]);
    await new NatBindings({ nft: nft.nft, table: 'reference' }).apply([web(['10.1.0.2'])]);
    expect(await tableShape(lab, 'n', 'keepvip_nat')).toEqual(await tableShape(lab, 'n', 'reference'));
    await nat.remove();
    await new NatBindings({ nft: nft.nft, table: 'reference' }).remove();
  });

  test('after `nft flush ruleset` (a firewall reload), the same set again, or a set with one binding more, puts everything back', async () => {
    const nat = new NatBindings({ nft: nft.nft });
    const other = { ...web(['10.1.0.7']), vip: '10.0.0.101' };
    for (const next of [[web(['10.1.0.2'], 60)], [web(['10.1.0.2'], 60), other]]) {
      await nat.apply([web(['10.1.0.2'], 60)]);
      await lab.exec('n', ['nft', 'flush', 'ruleset']);
      await nat.apply(next);
      // A new object writes its table whole.
      await new NatBindings({ nft: nft.nft, table: 'reference' }).apply(next);
      expect(await tableShape(lab, 'n', 'keepvip_nat')).toEqual(await tableShape(lab, 'n', 'reference'));
    }
    await nat.remove();
    await new NatBindings({ nft: nft.nft, table: 'reference' }).remove();
  });

  test('check() lists the table names alone while the table is there, and after a flush puts back the set as validated at apply', async () => {
    const nat = new NatBindings({ nft: nft.nft });
    let before = (await nft.calls()).length;
    await nat.check(); // nothing applied yet: nothing to check
    expect((await nft.calls()).slice(before)).toEqual([]);
    const desired = [web(['10.1.0.2', '10.1.0.3'], 60)];
    await nat.apply(desired);
    before = (await nft.calls()).length;
    await nat.check();
    expect((await nft.calls()).slice(before)).toEqual(['-j list tables inet']);
    // The caller's objects are not read again: made invalid now, they would fail a validation.
    (desired[0] as { port: number }).port = 0;
    await lab.exec('n', ['nft', 'flush', 'ruleset']);
    await nat.check();
    await new NatBindings({ nft: nft.nft, table: 'reference' }).apply([web(['10.1.0.2', '10.1.0.3'], 60)]);
    expect(await tableShape(lab, 'n', 'keepvip_nat')).toEqual(await tableShape(lab, 'n', 'reference'));
    await nat.remove();
    await new NatBindings({ nft: nft.nft, table: 'reference' }).remove();
  });

  test('calls made while one runs are merged into one transaction with the newest set; each resolves', async () => {
    const nat = new NatBindings({ nft: nft.nft });
    await nat.apply([web(['10.1.0.2'])]);
    const before = (await nft.calls()).length;
    const sets = Array.from({ length: 10 }, (_, i) => [web([`10.1.0.${i + 3}`])]);
    await Promise.all(sets.map((s) => nat.apply(s)));
    const transactions = (await nft.calls()).slice(before).filter((c) => c === '-f -');
    // The first starts at once; the nine made while it ran become one.
    expect(transactions).toHaveLength(2);
    expect(await tableShape(lab, 'n', 'keepvip_nat')).toMatchObject({ chains: { 'ep_10.0.0.100_tcp_80_10.1.0.12_8080': {} } });
    expect(Object.keys((await tableShape(lab, 'n', 'keepvip_nat'))?.['chains'] as object).filter((c) => c.startsWith('ep_'))).toHaveLength(1);
    // The same set again changes nothing, and runs nothing.
    await nat.apply(sets[9] ?? []);
    expect((await nft.calls()).slice(before).filter((c) => c === '-f -')).toHaveLength(2);
    await nat.remove();
  });

  test('bad input is refused before nft runs, and the kernel keeps what it had', async () => {
    const nat = new NatBindings({ nft: nft.nft });
    await nat.apply([web(['10.1.0.2'])]);
    const shape = await tableShape(lab, 'n', 'keepvip_nat');
    const before = (await nft.calls()).length;
    await expect(nat.apply([web(['10.1.0.2']), { ...web(['fe80::1']), port: 81 }])).rejects.toThrow(InvalidArgumentError);
    // Bindings accepted before are not checked again, but a VIP:port bound twice is checked
    // across the whole set: the binding applied, and an equal one beside it.
    await expect(nat.apply([web(['10.1.0.2']), web(['10.1.0.3'])])).rejects.toThrow('bindings[1]: TCP 10.0.0.100 port 80 is already bound by bindings[0]');
    expect((await nft.calls()).length).toBe(before);
    expect(await tableShape(lab, 'n', 'keepvip_nat')).toEqual(shape);
    await nat.remove();
  });

  test('an nft that cannot run is a named error', async () => {
    await expect(new NatBindings({ nft: '/nonexistent/nft' }).apply([web(['10.1.0.2'])])).rejects.toThrow(/cannot run \/nonexistent\/nft.*\(ENFT\)/);
  });
});

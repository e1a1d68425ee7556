/**
 * revalidateBindings: checking only the bindings that are new or changed since the last set
 * accepted gives exactly what a full validation gives (accepted or refused, the same problems,
 * the same rules written), and checks one binding when one of 1,000 changed.
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { InvalidArgumentError } from '../src/errors.js';
import { revalidateBindings, validateBinding, validateBindings, type NatBinding, type ValidationMemo, type ValidBinding } from '../src/nft/nat-binding.js';
import { renderNatScript } from '../src/nft/nat-render.js';

/** What a validation gave: the bindings, or the refusal's message. */
function outcome(run: () => ValidBinding[]): { valid: ValidBinding[] } | { refused: string } {
  try {
    return { valid: run() };
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    return { refused: error.message };
  }
}

// Mostly good values, some bad ones, and one IPv6 VIP written two ways (bound twice once normalised).
const endpointArb = fc.record({
  address: fc.constantFrom('10.1.0.1', '10.1.0.2', '10.1.0.3', '2001:db8::9', 'pod'),
  port: fc.constantFrom(8080, 8443, 70_000),
});
const bindingArb: fc.Arbitrary<NatBinding> = fc.record(
  {
    vip: fc.constantFrom('10.0.0.1', '10.0.0.2', '2001:db8::1', '2001:DB8:0::1', 'vip'),
    protocol: fc.constantFrom('TCP', 'TCP', 'UDP', 'HTTP') as fc.Arbitrary<NatBinding['protocol']>,
    port: fc.constantFrom(80, 443, 0),
    endpoints: fc.array(endpointArb, { maxLength: 3 }),
    clientIpAffinity: fc.option(fc.record({ timeoutSeconds: fc.constantFrom(10, 10_800, 0) }), { nil: undefined }),
    source: fc.option(fc.constantFrom('ingress/nginx:http', 'web/app:https'), { nil: undefined }),
  },
  { requiredKeys: ['vip', 'protocol', 'port', 'endpoints'] },
);
// A set: bindings of a pool, each the pool's object itself (same identity), a deep copy (same
// value) or a copy with one endpoint swapped (same VIP:port, another value).
const setArb = fc.array(fc.record({ at: fc.nat(), as: fc.constantFrom('same', 'copy', 'changed') }), { maxLength: 6 });

describe('revalidateBindings', () => {
  test('over random sequences of sets, accepts and refuses what a full validation does, and the rules written are the same', () => {
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(fc.array(bindingArb, { minLength: 1, maxLength: 8 }), fc.array(setArb, { minLength: 1, maxLength: 8 }), (pool, steps) => {
        let memo: ValidationMemo | undefined;
        let committedFull: ValidBinding[] = [];
        let committedShort: ValidBinding[] = [];
        for (const step of steps) {
          const set = step.map(({ at, as }) => {
            const b = pool[at % pool.length] as NatBinding;
            if (as === 'same') return b;
            if (as === 'copy') return structuredClone(b);
            return { ...b, endpoints: [...b.endpoints.slice(1), { address: '10.1.0.4', port: 8080 }] };
          });
          const full = outcome(() => validateBindings(set));
          const short = outcome(() => {
            const r = revalidateBindings(set, memo);
            memo = r.memo;
            return r.valid;
          });
          expect(short).toEqual(full);
          if ('valid' in full && 'valid' in short) {
            accepted++;
            expect(renderNatScript(short.valid, { bindings: committedShort })).toBe(renderNatScript(full.valid, { bindings: committedFull }));
            committedFull = full.valid;
            committedShort = short.valid;
          } else refused++;
        }
      }),
      { seed: 5798, numRuns: 300 },
    );
    // Both sides of the property were exercised.
    expect(accepted).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(100);
  });

  const many = (n: number, changed = -1): NatBinding[] =>
    Array.from({ length: n }, (_, i) => ({
      vip: `10.200.${i >> 8}.${i & 255}`,
      protocol: 'TCP' as const,
      port: 80,
      endpoints: [1, 2, i === changed ? 9 : 3].map((j) => ({ address: `10.201.${i & 255}.${j}`, port: 8080 })),
      clientIpAffinity: { timeoutSeconds: 10_800 },
    }));

  /** A per-binding check that counts its calls. */
  function counting(): { check: typeof validateBinding; count: () => number } {
    let n = 0;
    return {
      check: (b, at) => {
        n++;
        return validateBinding(b, at);
      },
      count: () => n,
    };
  }

  test('a 1,000-binding set with one binding changed (new objects, equal values) checks that one binding', () => {
    const first = revalidateBindings(many(1000), undefined);
    const c = counting();
    const next = revalidateBindings(many(1000, 7), first.memo, c.check);
    expect(c.count()).toBe(1);
    expect(next.valid).toEqual(validateBindings(many(1000, 7)));
    // The unchanged bindings are the objects validated before (the transaction's diff compares them by identity).
    expect(next.valid.filter((v, i) => v === first.valid[i])).toHaveLength(999);
  });

  test('a binding bad in a changed set refuses the whole set, naming it; the memo of the last accepted set still holds', () => {
    const first = revalidateBindings(many(1000), undefined);
    const bad = many(1000);
    bad[500] = { ...(bad[500] as NatBinding), port: 0 };
    bad[999] = { ...(bad[0] as NatBinding) };
    expect(() => revalidateBindings(bad, first.memo)).toThrow(
      'invalid NAT bindings, nothing applied:\n  bindings[500].port: 0 is not a port (1-65535)\n  bindings[999]: TCP 10.200.0.0 port 80 is already bound by bindings[0]',
    );
    const c = counting();
    revalidateBindings(many(1000), first.memo, c.check);
    expect(c.count()).toBe(0);
  });

  test('a VIP:port bound twice is refused across the set even when both bindings were accepted before, apart', () => {
    const a: NatBinding = { vip: '2001:db8::1', protocol: 'TCP', port: 443, endpoints: [{ address: '2001:db8::9', port: 8443 }] };
    const b: NatBinding = { ...a, vip: '2001:DB8:0::1' };
    const { memo } = revalidateBindings([a], revalidateBindings([b], undefined).memo);
    const c = counting();
    expect(() => revalidateBindings([a, b], memo, c.check)).toThrow('bindings[1]: TCP 2001:db8::1 port 443 is already bound by bindings[0]');
    // a came from the memo, b (not in the last set accepted) was checked.
    expect(c.count()).toBe(1);
  });
});

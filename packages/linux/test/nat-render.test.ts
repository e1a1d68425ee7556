/**
 * NAT bindings -> nft script, pure: validation names every problem and its place; the script
 * for a first apply, a full rewrite over a table of unknown content, and each kind of change,
 * as golden text.
 */
import { describe, expect, test } from '@jest/globals';
import { InvalidArgumentError } from '../src/errors.js';
import { validateBindings, type NatBinding } from '../src/nft/nat-binding.js';
import { desiredContents, renderNatScript } from '../src/nft/nat-render.js';
import { web } from './helpers/nft.js';

const T = 'inet keepvip_nat';

/** The commands every script starts with: the table and its fixed sets and hook chains. */
const PRELUDE = `add table ${T}
add map ${T} services4 { type ipv4_addr . inet_proto . inet_service : verdict; }
add set ${T} bound4 { type ipv4_addr . inet_proto . inet_service; }
add set ${T} noendpoints4 { type ipv4_addr . inet_proto . inet_service; }
add map ${T} services6 { type ipv6_addr . inet_proto . inet_service : verdict; }
add set ${T} bound6 { type ipv6_addr . inet_proto . inet_service; }
add set ${T} noendpoints6 { type ipv6_addr . inet_proto . inet_service; }
add chain ${T} prerouting { type nat hook prerouting priority dstnat - 10; policy accept; }
add chain ${T} output { type nat hook output priority -110; policy accept; }
add chain ${T} postrouting { type nat hook postrouting priority srcnat - 10; policy accept; }
add chain ${T} input { type filter hook input priority filter - 10; policy accept; }`;

const FLUSH_HOOKS = `flush chain ${T} prerouting
flush chain ${T} output
flush chain ${T} postrouting
flush chain ${T} input`;

const HOOKS_TCP4 = `add rule ${T} prerouting ip daddr . meta l4proto . th dport vmap @services4
add rule ${T} output ip daddr . meta l4proto . th dport vmap @services4
add rule ${T} postrouting meta l4proto tcp ct status dnat ct original ip daddr . ct protocol . ct original proto-dst @bound4 masquerade`;


const render = (to: NatBinding[], from?: NatBinding[]): string =>
  renderNatScript(validateBindings(to), from === undefined ? { installed: { chains: [], sets: [] } } : { bindings: validateBindings(from) });

describe('validateBindings', () => {
  test('every problem is named with its place, in one error', () => {
    const bad = [
      { vip: '10.0.0.300', protocol: 'TCP', port: 80, endpoints: [] },
      { vip: '10.0.0.1', protocol: 'ICMP', port: 0, endpoints: [{ address: '2001:db8::1', port: 8080 }, { address: 'pod', port: 70_000 }] },
      { vip: '10.0.0.2', protocol: 'UDP', port: 53, endpoints: [], clientIpAffinity: { timeoutSeconds: 86_401 } },
      { vip: '10.0.0.3', protocol: 'TCP', port: 443, endpoints: [] },
      { vip: '10.0.0.3', protocol: 'TCP', port: 443, endpoints: [] },
      { vip: '10.0.0.4', protocol: 'TCP', port: 443, endpoints: 'pods', source: 7 },
    ] as unknown as NatBinding[];
    let error: unknown;
    try {
      validateBindings(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toBe(`invalid NAT bindings, nothing applied:
  bindings[0].vip: "10.0.0.300" is not an IP address
  bindings[1].protocol: "ICMP" is not one of TCP, UDP, SCTP
  bindings[1].port: 0 is not a port (1-65535)
  bindings[1].endpoints[0].address: 2001:db8::1 is IPv6, the VIP 10.0.0.1 is IPv4
  bindings[1].endpoints[1].address: "pod" is not an IP address
  bindings[1].endpoints[1].port: 70000 is not a port (1-65535)
  bindings[2].clientIpAffinity.timeoutSeconds: 86401 is not a whole number of seconds from 1 to 86400
  bindings[4]: TCP 10.0.0.3 port 443 is already bound by bindings[3]
  bindings[5].source: 7 is not text
  bindings[5].endpoints: not a list (EINVAL)`);
  });

  test('canonical form: ports and protocols sort numerically and by name, IPv6 by value', () => {
    const valid = validateBindings([
      { vip: '10.0.0.1', protocol: 'UDP', port: 53, endpoints: [] },
      { vip: '10.0.0.1', protocol: 'TCP', port: 10, endpoints: [] },
      { vip: '10.0.0.1', protocol: 'TCP', port: 9, endpoints: [{ address: '10.1.0.9', port: 10 }, { address: '10.1.0.9', port: 9 }, { address: '10.1.0.8', port: 100 }] },
      { vip: 'fd00::a', protocol: 'TCP', port: 80, endpoints: [{ address: 'fd10::1:0', port: 80 }, { address: 'fd10::ff', port: 80 }] },
      { vip: 'fd00::9', protocol: 'TCP', port: 80, endpoints: [] },
    ]);
    expect(valid.map((b) => `${b.vip} ${b.protocol} ${b.port}: ${b.endpoints.map((e) => `${e.address}:${e.port}`).join(' ')}`)).toEqual([
      '10.0.0.1 TCP 9: 10.1.0.8:100 10.1.0.9:9 10.1.0.9:10',
      '10.0.0.1 TCP 10: ',
      '10.0.0.1 UDP 53: ',
      'fd00::9 TCP 80: ',
      'fd00::a TCP 80: fd10::ff:80 fd10::1:0:80',
    ]);
  });

  test('canonical form: addresses normalised, endpoints numerically sorted and unique, bindings sorted', () => {
    const valid = validateBindings([
      { vip: '2001:DB8::0:100', protocol: 'TCP', port: 80, endpoints: [{ address: '2001:db8:1:0::2', port: 80 }] },
      web(['10.1.0.10', '10.1.0.9', '10.1.0.10']),
      { vip: '10.0.0.9', protocol: 'UDP', port: 53, endpoints: [] },
    ]);
    expect(valid.map((b) => [b.vip, b.endpoints.map((e) => e.address)])).toEqual([
      ['10.0.0.9', []],
      ['10.0.0.100', ['10.1.0.9', '10.1.0.10']],
      ['2001:db8::100', ['2001:db8:1::2']],
    ]);
  });
});

describe('renderNatScript', () => {
  test('no bindings: the table is deleted, whether or not it exists', () => {
    expect(render([], [web(['10.1.0.2'])])).toBe(`add table ${T}\ndelete table ${T}\n`);
  });

  test('first apply: spread over the endpoints, masquerade, a refused Service port, IPv6, affinity', () => {
    const script = render([
      web(['10.1.0.2', '10.1.0.3'], 10_800),
      { vip: '10.0.0.101', protocol: 'TCP', port: 443, endpoints: [] },
      { vip: '2001:db8::100', protocol: 'UDP', port: 53, endpoints: [{ address: '2001:db8:1::2', port: 5353 }] },
    ]);
    expect(script).toBe(`${PRELUDE}
flush table ${T}
flush map ${T} services4
flush set ${T} bound4
flush set ${T} noendpoints4
flush map ${T} services6
flush set ${T} bound6
flush set ${T} noendpoints6
${HOOKS_TCP4}
add rule ${T} input ip daddr . meta l4proto . th dport @noendpoints4 reject
add rule ${T} prerouting ip6 daddr . meta l4proto . th dport vmap @services6
add rule ${T} output ip6 daddr . meta l4proto . th dport vmap @services6
add rule ${T} postrouting meta l4proto udp ct status dnat ct original ip6 daddr . ct protocol . ct original proto-dst @bound6 masquerade
add chain ${T} svc_10.0.0.100_tcp_80
add chain ${T} ep_10.0.0.100_tcp_80_10.1.0.2_8080
add set ${T} aff_10.0.0.100_tcp_80_10.1.0.2_8080 { type ipv4_addr; flags dynamic,timeout; size 262144; }
add chain ${T} ep_10.0.0.100_tcp_80_10.1.0.3_8080
add set ${T} aff_10.0.0.100_tcp_80_10.1.0.3_8080 { type ipv4_addr; flags dynamic,timeout; size 262144; }
add chain ${T} svc_2001-db8--100_udp_53
add chain ${T} ep_2001-db8--100_udp_53_2001-db8-1--2_5353
add rule ${T} ep_10.0.0.100_tcp_80_10.1.0.2_8080 update @aff_10.0.0.100_tcp_80_10.1.0.2_8080 { ip saddr timeout 10800s }
add rule ${T} ep_10.0.0.100_tcp_80_10.1.0.2_8080 meta l4proto tcp dnat ip to 10.1.0.2:8080
add rule ${T} ep_10.0.0.100_tcp_80_10.1.0.3_8080 update @aff_10.0.0.100_tcp_80_10.1.0.3_8080 { ip saddr timeout 10800s }
add rule ${T} ep_10.0.0.100_tcp_80_10.1.0.3_8080 meta l4proto tcp dnat ip to 10.1.0.3:8080
add rule ${T} svc_10.0.0.100_tcp_80 ip saddr @aff_10.0.0.100_tcp_80_10.1.0.2_8080 goto ep_10.0.0.100_tcp_80_10.1.0.2_8080
add rule ${T} svc_10.0.0.100_tcp_80 ip saddr @aff_10.0.0.100_tcp_80_10.1.0.3_8080 goto ep_10.0.0.100_tcp_80_10.1.0.3_8080
add rule ${T} svc_10.0.0.100_tcp_80 numgen random mod 2 vmap { 0 : goto ep_10.0.0.100_tcp_80_10.1.0.2_8080, 1 : goto ep_10.0.0.100_tcp_80_10.1.0.3_8080 } comment "ingress/nginx:http"
add rule ${T} ep_2001-db8--100_udp_53_2001-db8-1--2_5353 meta l4proto udp dnat ip6 to [2001:db8:1::2]:5353
add rule ${T} svc_2001-db8--100_udp_53 numgen random mod 1 vmap { 0 : goto ep_2001-db8--100_udp_53_2001-db8-1--2_5353 }
add element ${T} services4 { 10.0.0.100 . tcp . 80 : goto svc_10.0.0.100_tcp_80 }
add element ${T} bound4 { 10.0.0.100 . tcp . 80 }
add element ${T} noendpoints4 { 10.0.0.101 . tcp . 443 }
add element ${T} services6 { 2001:db8::100 . udp . 53 : goto svc_2001-db8--100_udp_53 }
add element ${T} bound6 { 2001:db8::100 . udp . 53 }
`);
  });

  test('a full rewrite deletes the names no binding wants and keeps the affinity sets it still wants', () => {
    const script = renderNatScript(validateBindings([web(['10.1.0.2'], 60)]), {
      installed: {
        chains: ['prerouting', 'output', 'postrouting', 'input', 'svc_10.0.0.100_tcp_80', 'ep_10.0.0.100_tcp_80_10.1.0.2_8080', 'ep_10.0.0.100_tcp_80_10.1.0.3_8080'],
        sets: ['services4', 'bound4', 'aff_10.0.0.100_tcp_80_10.1.0.2_8080', 'aff_10.0.0.100_tcp_80_10.1.0.3_8080'],
      },
    });
    const deletes = script.split('\n').filter((l) => l.startsWith('delete'));
    expect(deletes).toEqual([`delete chain ${T} ep_10.0.0.100_tcp_80_10.1.0.3_8080`, `delete set ${T} aff_10.0.0.100_tcp_80_10.1.0.3_8080`]);
    // The kept set is declared with `add` (which leaves an existing set and its clients alone), never flushed.
    expect(script).toContain(`add set ${T} aff_10.0.0.100_tcp_80_10.1.0.2_8080 {`);
    expect(script).not.toMatch(/flush set \S+ aff_/);
    // Deletions come after `flush table` (nothing refers to them) and before any rule is added.
    const lines = script.split('\n');
    expect(lines.indexOf(`flush table ${T}`)).toBeLessThan(lines.indexOf(deletes[0] ?? ''));
    expect(lines.findIndex((l) => l.startsWith('add rule'))).toBeGreaterThan(lines.indexOf(deletes[1] ?? ''));
  });

  test('an endpoint change touches only that binding: the staying endpoint and its clients are left alone, the one going is released', () => {
    const other = { vip: '10.0.0.200', protocol: 'TCP' as const, port: 80, endpoints: [{ address: '10.2.0.2', port: 80 }] };
    const script = render([web(['10.1.0.2', '10.1.0.4'], 10_800), other], [web(['10.1.0.2', '10.1.0.3'], 10_800), other]);
    expect(script).toBe(`${FLUSH_HOOKS}
${PRELUDE}
${HOOKS_TCP4}
flush chain ${T} svc_10.0.0.100_tcp_80
delete chain ${T} ep_10.0.0.100_tcp_80_10.1.0.3_8080
delete set ${T} aff_10.0.0.100_tcp_80_10.1.0.3_8080
add chain ${T} ep_10.0.0.100_tcp_80_10.1.0.4_8080
add set ${T} aff_10.0.0.100_tcp_80_10.1.0.4_8080 { type ipv4_addr; flags dynamic,timeout; size 262144; }
add rule ${T} ep_10.0.0.100_tcp_80_10.1.0.4_8080 update @aff_10.0.0.100_tcp_80_10.1.0.4_8080 { ip saddr timeout 10800s }
add rule ${T} ep_10.0.0.100_tcp_80_10.1.0.4_8080 meta l4proto tcp dnat ip to 10.1.0.4:8080
add rule ${T} svc_10.0.0.100_tcp_80 ip saddr @aff_10.0.0.100_tcp_80_10.1.0.2_8080 goto ep_10.0.0.100_tcp_80_10.1.0.2_8080
add rule ${T} svc_10.0.0.100_tcp_80 ip saddr @aff_10.0.0.100_tcp_80_10.1.0.4_8080 goto ep_10.0.0.100_tcp_80_10.1.0.4_8080
add rule ${T} svc_10.0.0.100_tcp_80 numgen random mod 2 vmap { 0 : goto ep_10.0.0.100_tcp_80_10.1.0.2_8080, 1 : goto ep_10.0.0.100_tcp_80_10.1.0.4_8080 } comment "ingress/nginx:http"
`);
  });

  test('the last endpoint goes: the port is refused, its chains and sets are deleted after the map stops naming them', () => {
    const script = render([web([], 30)], [web(['10.1.0.2'], 30)]);
    expect(script).toBe(`${FLUSH_HOOKS}
${PRELUDE}
add rule ${T} input ip daddr . meta l4proto . th dport @noendpoints4 reject
delete element ${T} services4 { 10.0.0.100 . tcp . 80 }
delete element ${T} bound4 { 10.0.0.100 . tcp . 80 }
flush chain ${T} svc_10.0.0.100_tcp_80
delete chain ${T} ep_10.0.0.100_tcp_80_10.1.0.2_8080
delete set ${T} aff_10.0.0.100_tcp_80_10.1.0.2_8080
delete chain ${T} svc_10.0.0.100_tcp_80
add element ${T} noendpoints4 { 10.0.0.100 . tcp . 80 }
`);
  });

  test('affinity turned off: the endpoint chains are rewritten and the sets deleted; a new timeout rewrites the update rule and keeps the set', () => {
    const off = render([web(['10.1.0.2'])], [web(['10.1.0.2'], 30)]);
    expect(off).toContain(`flush chain ${T} ep_10.0.0.100_tcp_80_10.1.0.2_8080\n`);
    expect(off).toContain(`delete set ${T} aff_10.0.0.100_tcp_80_10.1.0.2_8080\n`);
    expect(off).not.toContain('update @');
    const longer = render([web(['10.1.0.2'], 60)], [web(['10.1.0.2'], 30)]);
    expect(longer).toContain(`update @aff_10.0.0.100_tcp_80_10.1.0.2_8080 { ip saddr timeout 60s }`);
    expect(longer).not.toMatch(/(add|delete) set \S+ aff_/);
  });

  test('a change from bindings of ours first flushes the hooks, so a table gone since fails the transaction; from nothing it does not', () => {
    const fromNothing = renderNatScript(validateBindings([web(['10.1.0.2'])]), { bindings: [] });
    expect(fromNothing.startsWith(`${PRELUDE}\n${FLUSH_HOOKS}\n`)).toBe(true);
  });

  test('nothing changed: only the hooks are rewritten; a binding removed goes entirely', () => {
    const same = render([web(['10.1.0.2'])], [web(['10.1.0.2'])]);
    expect(same).toBe(`${FLUSH_HOOKS}\n${PRELUDE}\n${HOOKS_TCP4}\n`);
    const gone = render([{ vip: '10.0.0.9', protocol: 'UDP', port: 53, endpoints: [] }], [web(['10.1.0.2'], 5), { vip: '10.0.0.9', protocol: 'UDP', port: 53, endpoints: [] }]);
    expect(gone.split('\n').filter((l) => !PRELUDE.includes(l) && !FLUSH_HOOKS.includes(l))).toEqual([
      `add rule ${T} input ip daddr . meta l4proto . th dport @noendpoints4 reject`,
      `delete element ${T} services4 { 10.0.0.100 . tcp . 80 }`,
      `delete element ${T} bound4 { 10.0.0.100 . tcp . 80 }`,
      `flush chain ${T} svc_10.0.0.100_tcp_80`,
      `delete chain ${T} ep_10.0.0.100_tcp_80_10.1.0.2_8080`,
      `delete set ${T} aff_10.0.0.100_tcp_80_10.1.0.2_8080`,
      `delete chain ${T} svc_10.0.0.100_tcp_80`,
    ]);
  });

  test('comments keep to what nft accepts', () => {
    const script = render([{ ...web(['10.1.0.2']), source: `ns/"evil"\\\n${'x'.repeat(200)}` }]);
    expect(script).toMatch(/comment "ns\/_evil___x{89}"\n/);
  });

  test('desiredContents names the base objects and every binding chain and affinity set', () => {
    expect(desiredContents(validateBindings([web(['10.1.0.2'], 5), { vip: '10.0.0.9', protocol: 'UDP', port: 53, endpoints: [] }]))).toEqual({
      chains: ['prerouting', 'output', 'postrouting', 'input', 'svc_10.0.0.100_tcp_80', 'ep_10.0.0.100_tcp_80_10.1.0.2_8080'],
      sets: ['services4', 'bound4', 'noendpoints4', 'services6', 'bound6', 'noendpoints6', 'aff_10.0.0.100_tcp_80_10.1.0.2_8080'],
    });
  });
});

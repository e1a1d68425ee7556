import { describe, expect, it } from '@jest/globals';
import { parsePools, parseVipConfigMap, parseVipEntry, type VipEntry } from '../../src/index.js';
import { configMap } from './fixtures.js';

type Row = [string, string, string, Partial<VipEntry> | RegExp];

describe('parseVipEntry', () => {
  const rows: Row[] = [
    // kube-keepalived-vip's short form
    ['short form', '10.0.0.100', 'ingress/controller', { address: '10.0.0.100', prefixLength: 32, family: 4, service: { namespace: 'ingress', name: 'controller' } }],
    [':NAT suffix is the default', '10.0.0.101', 'ingress/controller:NAT', { address: '10.0.0.101', service: { namespace: 'ingress', name: 'controller' } }],
    ['lower-case nat', '10.0.0.101', 'ingress/controller:nat', { service: { namespace: 'ingress', name: 'controller' } }],
    ['empty value holds the VIP only', '10.0.0.102', '', { address: '10.0.0.102', service: undefined }],
    ['blank value holds the VIP only', '10.0.0.102', '   ', { service: undefined }],
    [':DR is rejected', '10.0.0.103', 'ingress/controller:DR', /DR \(direct routing\) is not supported/],
    [':PROXY is rejected', '10.0.0.104', 'ingress/controller:PROXY', /PROXY .* is not supported/],
    ['unknown mode', '10.0.0.104', 'ingress/controller:TUN', /"TUN" is not a forwarding mode/],
    ['key not an address', 'web', 'ingress/controller', /key "web" is not an IPv4 address/],
    ['key with a prefix', '10.0.0.1.24', 'ingress/controller', /is not an IPv4 address/],
    ['no namespace', '10.0.0.105', 'controller', /"controller" is not namespace\/service/],
    ['bad namespace', '10.0.0.105', 'Ingress/controller', /"Ingress" is not a namespace name/],
    ['bad service name', '10.0.0.105', 'ingress/con_troller', /"con_troller" is not a Service name/],
    ['three parts', '10.0.0.105', 'a/b/c', /not namespace\/service/],
    // the extended form
    ['extended JSON, IPv6', 'web-v6', '{"vip": "2001:db8::10", "service": "web/gateway"}', { address: '2001:db8::10', prefixLength: 128, family: 6, service: { namespace: 'web', name: 'gateway' } }],
    ['extended IPv6 is canonical', 'web-v6', '{"vip": "2001:DB8:0:0::10"}', { address: '2001:db8::10' }],
    [
      'extended YAML, every field',
      'edge',
      'vip: 10.0.0.110/24\nservice: web/gateway\nbind: NAT\ninterface: eth1\nvrid: 60\npreferredNodes: [node-a, node-b]\nports: [443, https]',
      { address: '10.0.0.110', prefixLength: 24, family: 4, interface: 'eth1', vrid: 60, preferredNodes: ['node-a', 'node-b'], ports: [443, 'https'] },
    ],
    ['extended YAML flow mapping', 'edge', '{ vip: 10.0.0.111 }', { address: '10.0.0.111', service: undefined }],
    ['extended without vip', 'edge', '{ service: web/gateway }', /"vip" is required/],
    ['extended bad vip', 'edge', '{ vip: 10.0.0.300 }', /vip: "10.0.0.300" is not an IPv4 or IPv6 address/],
    ['extended unknown field', 'edge', '{ vip: 10.0.0.1, priority: 200 }', /unknown field "priority"/],
    ['extended bind DR', 'edge', '{ vip: 10.0.0.1, service: a/b, bind: DR }', /DR \(direct routing\) is not supported/],
    ['extended vrid 0', 'edge', '{ vip: 10.0.0.1, vrid: 0 }', /vrid: 0 is not a whole number in 1..255/],
    ['extended vrid 256', 'edge', '{ vip: 10.0.0.1, vrid: 256 }', /vrid: 256/],
    ['extended vrid text', 'edge', '{ vip: 10.0.0.1, vrid: "7" }', /vrid: "7"/],
    ['extended interface too long', 'edge', '{ vip: 10.0.0.1, interface: abcdefghijklmnop }', /interface: .* is not an interface name/],
    ['extended preferredNodes not a list', 'edge', '{ vip: 10.0.0.1, preferredNodes: node-a }', /preferredNodes is not a list/],
    ['extended bad node name', 'edge', '{ vip: 10.0.0.1, preferredNodes: [Node_A] }', /preferredNodes: "Node_A" is not valid/],
    ['extended port out of range', 'edge', '{ vip: 10.0.0.1, service: a/b, ports: [70000] }', /ports: 70000 is not a port number or name/],
    ['extended ports without a service', 'edge', '{ vip: 10.0.0.1, ports: [80] }', /ports needs a service/],
    ['a long value is quoted short', '10.0.0.1', `${'x'.repeat(5000)}/svc`, /^"x{59}…" \(5000 characters\) is not a namespace name$/],
    ['a long vip is quoted short', 'edge', `{ vip: "${'1'.repeat(300)}" }`, /^vip: "1{59}…" \(300 characters\) is not an IPv4 or IPv6 address$/],
    ['extended service not a string', 'edge', '{ vip: 10.0.0.1, service: 5 }', /service is not a "namespace\/name" string/],
  ];
  it.each(rows)('%s: %s = %j', (_, key, value, expected) => {
    const parsed = parseVipEntry(key, value);
    if (expected instanceof RegExp) {
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.reason).toMatch(expected);
    } else {
      expect(parsed.ok).toBe(true);
      if (parsed.ok) {
        expect(parsed.value).toMatchObject({ key, ...Object.fromEntries(Object.entries(expected).filter(([, v]) => v !== undefined)) });
        for (const [field, v] of Object.entries(expected)) if (v === undefined) expect(parsed.value).not.toHaveProperty(field);
      }
    }
  });

  it('gives DR and PROXY their own code', () => {
    const parsed = parseVipEntry('10.0.0.1', 'a/b:DR');
    expect(parsed.ok === false && parsed.code).toBe('UnsupportedMode');
  });
});

describe('parseVipConfigMap', () => {
  it('rejects every bad entry alone and keeps the rest', () => {
    const parsed = parseVipConfigMap(
      configMap({
        '10.0.0.1': 'ingress/controller',
        '10.0.0.2': 'ingress/controller:DR',
        'web-v6': '{ vip: "2001:db8::1", service: web/gateway }',
        junk: 'not/an/entry',
        '10.0.0.3': '',
      }),
    );
    expect(parsed.entries.map((e) => e.key)).toEqual(['10.0.0.1', '10.0.0.3', 'web-v6']);
    expect(parsed.rejected.map((r) => [r.key, r.code])).toEqual([
      ['10.0.0.2', 'UnsupportedMode'],
      ['junk', 'InvalidEntry'],
    ]);
    expect(parsed.rejected[0]?.object).toEqual({ kind: 'ConfigMap', namespace: 'keepvip-system', name: 'keepvip-vips' });
  });

  it('rejects the later key (by name) that repeats a VIP', () => {
    const parsed = parseVipConfigMap(configMap({ '10.0.0.1': 'a/b', 'b-extended': '{ vip: 10.0.0.1 }', 'a-extended': '{ vip: "10.0.0.1" }' }));
    expect(parsed.entries.map((e) => e.key)).toEqual(['10.0.0.1']);
    expect(parsed.rejected.map((r) => [r.key, r.code, r.reason])).toEqual([
      ['a-extended', 'VipConflict', 'VIP 10.0.0.1 is already given by key "10.0.0.1"'],
      ['b-extended', 'VipConflict', 'VIP 10.0.0.1 is already given by key "10.0.0.1"'],
    ]);
  });

  it('reads _pools and reserves other keys beginning with _', () => {
    const parsed = parseVipConfigMap(configMap({ _pools: 'default: [10.0.0.200-10.0.0.202]', _other: 'x' }));
    expect(parsed.pools.map((p) => p.name)).toEqual(['default']);
    expect(parsed.rejected.map((r) => [r.key, r.code])).toEqual([['_other', 'ReservedKey']]);
  });

  it('parses one ConfigMap object once (an EndpointSlice change does not reparse it)', () => {
    const cm = configMap({ '10.0.0.1': 'a/b' });
    const first = parseVipConfigMap(cm);
    expect(parseVipConfigMap(cm)).toBe(first);
    const changed = { ...cm, data: { '10.0.0.1': 'a/c' } };
    expect(parseVipConfigMap(changed).entries[0]?.service).toEqual({ namespace: 'a', name: 'c' });
  });

  it('reads no ConfigMap as nothing', () => {
    expect(parseVipConfigMap(undefined)).toEqual({ entries: [], pools: [], rejected: [] });
  });
});

describe('parsePools', () => {
  const rows: [string, string, { pools: [string, [string, string, string][]][]; errors: RegExp[] }][] = [
    ['a range', 'default: [10.0.0.200-10.0.0.210]', { pools: [['default', [['4', '10.0.0.200', '10.0.0.210']]]], errors: [] }],
    ['a /29 leaves out network and broadcast', 'p: [10.0.0.8/29]', { pools: [['p', [['4', '10.0.0.9', '10.0.0.14']]]], errors: [] }],
    ['a /31 keeps both', 'p: [10.0.0.8/31]', { pools: [['p', [['4', '10.0.0.8', '10.0.0.9']]]], errors: [] }],
    ['a single address', 'p: [10.0.0.8]', { pools: [['p', [['4', '10.0.0.8', '10.0.0.8']]]], errors: [] }],
    ['IPv6 CIDR keeps every address', 'p: ["fd00::100/126"]', { pools: [['p', [['6', 'fd00::100', 'fd00::103']]]], errors: [] }],
    ['a bad item is left out alone', 'p: [10.0.0.8, nope, 10.0.0.9-10.0.0.1]', { pools: [['p', [['4', '10.0.0.8', '10.0.0.8']]]], errors: [/pool "p" \[1\]: "nope" is not an IPv4 or IPv6 address/, /pool "p" \[2\]: .* ends before it starts/] }],
    ['mixed families in a range', 'p: ["10.0.0.1-fd00::1"]', { pools: [['p', []]], errors: [/mixes IPv4 and IPv6/] }],
    ['not a list', 'p: 10.0.0.1', { pools: [], errors: [/pool "p": is not a list/] }],
    ['bad pool name', 'P_1: [10.0.0.1]', { pools: [], errors: [/pool "P_1": the name is not a DNS label/] }],
    ['not a mapping', '[10.0.0.1]', { pools: [], errors: [/is not a mapping/] }],
    ['not YAML', 'p: [10.0.0.1', { pools: [], errors: [/not YAML or JSON/] }],
    ['the unspecified address', 'p: [0.0.0.0/0]', { pools: [['p', []]], errors: [/"0.0.0.0\/0" is the unspecified address/] }],
    ['an alias bomb', 'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]', { pools: [], errors: [/not YAML or JSON: Excessive alias count/] }],
  ];
  it.each(rows)('%s', (_, text, expected) => {
    const parsed = parsePools(text);
    const show = (n: bigint, family: 4 | 6) => (family === 4 ? [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join('.') : `fd00::${(n & 0xffffn).toString(16)}`);
    expect(parsed.pools.map((p) => [p.name, p.ranges.map((r) => [String(r.family), show(r.first, r.family), show(r.last, r.family)])])).toEqual(expected.pools);
    expect(parsed.errors).toHaveLength(expected.errors.length);
    expected.errors.forEach((re, i) => expect(parsed.errors[i]).toMatch(re));
  });
});

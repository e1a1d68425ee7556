import { describe, expect, it } from '@jest/globals';
import { formatIssue, parseConfigText, parseDurationMs, validateConfig } from '../src/index.js';

const minimal = `
instances:
  - name: vi_1
    interface: eth0
    vrid: 51
    priority: 150
    advertInterval: 100ms
    vips: [10.99.0.100/24]
`;

function errorsOf(text: string): string[] {
  const result = parseConfigText(text);
  if (result.ok) throw new Error('expected errors');
  return result.errors.map(formatIssue);
}

describe('configuration', () => {
  it('fills keepalived-like defaults and resolves the family', () => {
    const result = parseConfigText(minimal);
    if (!result.ok) throw new Error(result.errors.map(formatIssue).join('\n'));
    const inst = result.config.instances[0];
    expect(inst).toMatchObject({ version: 3, preempt: true, advertInterval: 100, downTimerAdverts: 3, family: 4 });
    expect(inst?.vips[0]).toEqual({ cidr: '10.99.0.100/24', address: '10.99.0.100', prefixLength: 24, family: 4 });
    expect(inst?.announce).toEqual({ repeat: 5, interval: 0, delay: 5000, refresh: 0 });
    expect(result.config.global.statusSocket).toBe('/run/keepvip/keepvip.sock');
  });

  it('names the path and the problem of every error, all at once', () => {
    const errors = errorsOf(`
instances:
  - name: a
    interface: eth0
    vrid: 300
    vips: [10.0.0.1/24]
  - name: b
    interface: eth0
    vrid: 1
    priority: 0
    advertInterval: soon
    vips: [10.0.0.2/33]
    colour: blue
`);
    expect(errors).toEqual(
      expect.arrayContaining([
        'instances[0].vrid: 300 is out of range 1..255',
        'instances[1].priority: 0 is out of range 1..255',
        'instances[1].advertInterval: "soon" is not a duration like "1s" or "100ms"',
        'instances[1].vips[0]: "10.0.0.2/33" has prefix length 33 outside 0..32',
        'instances[1]: unknown field "colour"',
      ]),
    );
    expect(errors).toHaveLength(5);
  });

  it('checks across fields: families, VRID per interface and family, v2 limits, sync groups', () => {
    const errors = errorsOf(`
instances:
  - { name: a, interface: eth0, vrid: 7, vips: [10.0.0.1/24, "2001:db8::1/64"] }
  - { name: b, interface: eth0, vrid: 7, vips: [10.0.0.2/24] }
  - { name: b, interface: eth1, vrid: 7, version: 2, advertInterval: 1500ms, vips: ["2001:db8::2/64"] }
  - { name: d, interface: eth1, vrid: 8, auth: { type: password, password: x }, vips: [10.0.0.3] }
syncGroups:
  - { name: g, instances: [a, nope] }
`);
    expect(errors).toEqual([
      'instances[0].vips[1]: "2001:db8::1/64" is IPv6, but vips[0] makes this an IPv4 instance',
      'instances[1].vrid: 7 is already used on eth0 (IPv4) by instances[0]',
      'instances[2].version: VRRPv2 is IPv4 only; use version 3 for IPv6',
      'instances[2].advertInterval: 1500 ms: VRRPv2 carries whole seconds, 1s..255s',
      'instances[2].name: "b" is also the name of instances[1]',
      'instances[3].auth: VRRPv3 has no authentication (RFC 5798 §9); remove it or use version 2',
      'syncGroups[0].instances[1]: no instance is named "nope"',
    ]);
  });

  it('the same VRID on two families of one interface is allowed (separate VRRP domains)', () => {
    const result = validateConfig({
      instances: [
        { name: 'v4', interface: 'eth0', vrid: 9, vips: ['10.0.0.1/24'] },
        { name: 'v6', interface: 'eth0', vrid: 9, vips: ['2001:db8::1/64'] },
      ],
    });
    expect(result.ok).toBe(true);
  });

  it('the checksum-without-pseudo-header interop option is for VRRPv3 over IPv4 only', () => {
    const errors = errorsOf(`
instances:
  - { name: a, interface: eth0, vrid: 1, version: 2, v3ChecksumWithoutPseudoHeader: true, vips: [10.0.0.1] }
  - { name: b, interface: eth0, vrid: 2, v3ChecksumWithoutPseudoHeader: true, vips: ["2001:db8::1"] }
  - { name: c, interface: eth0, vrid: 3, v3ChecksumWithoutPseudoHeader: true, vips: [10.0.0.3] }
`);
    expect(errors).toEqual([
      'instances[0].v3ChecksumWithoutPseudoHeader: applies to VRRPv3 only',
      'instances[1].v3ChecksumWithoutPseudoHeader: applies to IPv4 only: over IPv6 the pseudo-header is always part of the checksum',
    ]);
  });

  it('warns that a v2 password is not security', () => {
    const result = validateConfig({ instances: [{ name: 'a', interface: 'eth0', vrid: 1, version: 2, auth: { type: 'password', password: 'secret' }, vips: ['10.0.0.1'] }] });
    expect(result.ok && result.warnings.map(formatIssue)).toEqual([
      'instances[0].auth: VRRPv2 simple password travels in clear text: it prevents accidents, not attacks',
    ]);
  });

  it('reports YAML syntax errors with their line', () => {
    expect(errorsOf('instances:\n  - name: [unclosed\n')[0]).toMatch(/^YAML syntax: line \d+, column \d+/);
  });

  it('a key given twice and a second document are YAML errors too', () => {
    expect(errorsOf('instances: []\ninstances: []\n')).toEqual(['YAML syntax: line 2, column 1: duplicated mapping key']);
    expect(errorsOf('instances: []\n---\ninstances: []\n')).toEqual(['YAML syntax: expected a single document in the stream, but found more']);
  });

  it('reports missing required fields', () => {
    expect(errorsOf('instances:\n  - name: a\n    vips: [10.0.0.1]\n')).toEqual(['instances[0].interface: is required', 'instances[0].vrid: is required']);
  });

  it('names a value of the wrong type; a left-out or empty one is required', () => {
    expect(errorsOf(`
instances:
  - { name: a, interface: eth0, vrid: abc, priority: 1.5, preempt: yes, vips: 10.0.0.1, announce: [], auth: { password: x } }
  - { name: b, interface: eth0, vrid: 2, vips: [10.0.0.2], notify: }
`)).toEqual([
      'instances[0].vrid: "abc" is not a number',
      'instances[0].priority: 1.5 is not a whole number',
      'instances[0].preempt: "yes" is not true or false',
      'instances[0].vips: "10.0.0.1" is not a list',
      'instances[0].auth.type: is required',
      'instances[0].announce: [] is not a mapping',
      'instances[1].notify: is required',
    ]);
  });

  it('reports field, cross-instance and protocol errors of a file in one run, each with its path', () => {
    const errors = errorsOf(`
global:
  metrics: { listen: "0.0.0.0:99999" }
instances:
  - { name: a, interface: eth0, vrid: 300, vips: [10.0.0.1/24] }
  - { name: a, interface: eth0, vrid: 7, priority: 0, vips: [10.0.0.2/33] }
  - { name: c, interface: eth0, vrid: 8, priority: 300, advertInterval: 5ms, vips: [10.0.0.3] }
  - { name: d, interface: eth0, vrid: 8, vips: [10.0.0.4, 10.0.0.3] }
  - { name: e, interface: "eth0/1", vrid: 9, version: 2, vips: ["2001:db8::1"] }
  - 42
syncGroups:
  - { name: g, instances: [c, d] }
  - { name: g, instances: [a, nope, d] }
`);
    expect(errors).toEqual([
      'global.metrics.listen: "0.0.0.0:99999" has port 99999, outside 1..65535',
      'instances[0].vrid: 300 is out of range 1..255',
      'instances[1].priority: 0 is out of range 1..255',
      'instances[1].vips[0]: "10.0.0.2/33" has prefix length 33 outside 0..32',
      'instances[1].name: "a" is also the name of instances[0]',
      'instances[2].priority: 300 is out of range 1..255',
      'instances[2].advertInterval: 5 ms: VRRPv3 carries centiseconds, 10ms..40950ms in steps of 10ms',
      'instances[3].vrid: 8 is already used on eth0 (IPv4) by instances[2]',
      'instances[3].vips[1]: 10.0.0.3 is also a VIP of instances[2]',
      'instances[4].interface: "eth0/1" contains "/", which a Linux interface name cannot',
      'instances[4].version: VRRPv2 is IPv4 only; use version 3 for IPv6',
      'instances[5]: 42 is not a mapping',
      'syncGroups[1].name: "g" is also the name of syncGroups[0]',
      'syncGroups[1].instances[2]: "d" is already in syncGroups[0]',
    ]);
  });

  it('names a sync group member that does not exist once every instance has a valid name', () => {
    expect(errorsOf(`
instances:
  - { name: a, interface: eth0, vrid: 1, vips: [10.0.0.1] }
  - { name: b, interface: eth0, vrid: 2, vips: [10.0.0.2] }
syncGroups:
  - { name: g, instances: [a, nope] }
`)).toEqual(['syncGroups[0].instances[1]: no instance is named "nope"']);
  });

  it('parses durations', () => {
    expect(parseDurationMs('1s')).toBe(1000);
    expect(parseDurationMs('100ms')).toBe(100);
    expect(parseDurationMs('1.5s')).toBe(1500);
    expect(parseDurationMs('2m')).toBe(120_000);
    expect(parseDurationMs('1 hour')).toBeUndefined();
  });
});

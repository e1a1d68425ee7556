import { describe, expect, it } from '@jest/globals';
import { allocateLoadBalancerIPs, isKeepvipLoadBalancer, parsePools, type Service } from '../../src/index.js';
import { lb, service } from './fixtures.js';

const pools = parsePools('default: [10.0.0.200-10.0.0.202, "fd00::200-fd00::201"]\nother: [10.9.0.1]').pools;

interface Row {
  services: Service[];
  reserved?: [string, string | null][];
  defaultClass?: boolean;
  allocated: Record<string, [string[], string]>;
  rejected?: Record<string, RegExp>;
}

const at = (minute: number) => `2026-01-01T00:${String(minute).padStart(2, '0')}:00Z`;

const rows: [string, Row][] = [
  ['the annotation wins', { services: [lb('a/web', { annotations: { 'keepvip.io/loadBalancerIPs': '10.1.0.1' }, loadBalancerIP: '10.1.0.2', statusIps: ['10.0.0.200'] })], allocated: { 'a/web': [['10.1.0.1'], 'annotation'] } }],
  ['dual stack from the annotation, IPv4 first', { services: [lb('a/web', { annotations: { 'keepvip.io/loadBalancerIPs': 'fd00::9, 10.1.0.1' } })], allocated: { 'a/web': [['10.1.0.1', 'fd00::9'], 'annotation'] } }],
  ['spec.loadBalancerIP next', { services: [lb('a/web', { loadBalancerIP: '10.1.0.2', statusIps: ['10.0.0.200'] })], allocated: { 'a/web': [['10.1.0.2'], 'loadBalancerIP'] } }],
  ['the status IP is kept', { services: [lb('a/web', { statusIps: ['10.0.0.202'] })], allocated: { 'a/web': [['10.0.0.202'], 'status'] } }],
  ['a status IP outside every pool is given up', { services: [lb('a/web', { statusIps: ['10.5.5.5'] })], allocated: { 'a/web': [['10.0.0.200'], 'pool'] } }],
  ['the first free pool address', { services: [lb('a/one', { created: at(1) }), lb('a/two', { created: at(2) })], allocated: { 'a/one': [['10.0.0.200'], 'pool'], 'a/two': [['10.0.0.201'], 'pool'] } }],
  ['status IPs are skipped by new allocations', { services: [lb('a/new', { created: at(1) }), lb('a/old', { created: at(2), statusIps: ['10.0.0.200'] })], allocated: { 'a/new': [['10.0.0.201'], 'pool'], 'a/old': [['10.0.0.200'], 'status'] } }],
  ['ConfigMap VIPs are skipped', { services: [lb('a/web')], reserved: [['10.0.0.200', null]], allocated: { 'a/web': [['10.0.0.201'], 'pool'] } }],
  ['dual stack from the pools', { services: [lb('a/web', { ipFamilies: ['IPv6', 'IPv4'], ipFamilyPolicy: 'RequireDualStack' })], allocated: { 'a/web': [['10.0.0.200', 'fd00::200'], 'pool'] } }],
  ['PreferDualStack takes what the pools have', { services: [lb('a/web', { ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'PreferDualStack', annotations: { 'keepvip.io/address-pool': 'other' } })], allocated: { 'a/web': [['10.9.0.1'], 'pool'] } }],
  ['RequireDualStack without an IPv6 address is rejected', { services: [lb('a/web', { ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack', annotations: { 'keepvip.io/address-pool': 'other' } })], allocated: {}, rejected: { 'a/web': /no free IPv6 address in pool other/ } }],
  ['the named pool', { services: [lb('a/web', { annotations: { 'keepvip.io/address-pool': 'other' } })], allocated: { 'a/web': [['10.9.0.1'], 'pool'] } }],
  ['an unknown pool', { services: [lb('a/web', { annotations: { 'keepvip.io/address-pool': 'nope' } })], allocated: {}, rejected: { 'a/web': /no pool is named "nope"/ } }],
  [
    'pools run dry: the newest is rejected, the others keep theirs',
    {
      services: [lb('a/one', { created: at(1), annotations: { 'keepvip.io/address-pool': 'other' } }), lb('a/two', { created: at(2), annotations: { 'keepvip.io/address-pool': 'other' } })],
      allocated: { 'a/one': [['10.9.0.1'], 'pool'] },
      rejected: { 'a/two': /no free IPv4 address in pool other/ },
    },
  ],
  [
    'two Services request one IP: the later is rejected',
    {
      services: [lb('b/late', { created: at(2), loadBalancerIP: '10.1.0.1' }), lb('z/early', { created: at(1), annotations: { 'keepvip.io/loadBalancerIPs': '10.1.0.1' } })],
      allocated: { 'z/early': [['10.1.0.1'], 'annotation'] },
      rejected: { 'b/late': /10.1.0.1 is already the IP of Service z\/early \(older\)/ },
    },
  ],
  [
    'same age: namespace/name decides',
    {
      services: [lb('b/web', { loadBalancerIP: '10.1.0.1' }), lb('a/web', { loadBalancerIP: '10.1.0.1' })],
      allocated: { 'a/web': [['10.1.0.1'], 'loadBalancerIP'] },
      rejected: { 'b/web': /already the IP of Service a\/web/ },
    },
  ],
  [
    'a newer request cannot take an older status IP',
    {
      services: [lb('a/old', { created: at(1), statusIps: ['10.0.0.200'] }), lb('a/new', { created: at(2), loadBalancerIP: '10.0.0.200' })],
      allocated: { 'a/old': [['10.0.0.200'], 'status'] },
      rejected: { 'a/new': /10.0.0.200 is already the IP of Service a\/old/ },
    },
  ],
  [
    'an older request takes a newer status IP, which is reallocated',
    {
      services: [lb('a/old', { created: at(1), loadBalancerIP: '10.0.0.200' }), lb('a/new', { created: at(2), statusIps: ['10.0.0.200'] })],
      allocated: { 'a/old': [['10.0.0.200'], 'loadBalancerIP'], 'a/new': [['10.0.0.201'], 'pool'] },
    },
  ],
  ['a request for a ConfigMap VIP of another Service', { services: [lb('a/web', { loadBalancerIP: '10.1.0.1' })], reserved: [['10.1.0.1', 'b/other']], allocated: {}, rejected: { 'a/web': /10.1.0.1 is a VIP of the ConfigMap for Service b\/other/ } }],
  ['a request for its own ConfigMap VIP is fine', { services: [lb('a/web', { loadBalancerIP: '10.1.0.1' })], reserved: [['10.1.0.1', 'a/web']], allocated: { 'a/web': [['10.1.0.1'], 'loadBalancerIP'] } }],
  ['not an address', { services: [lb('a/web', { annotations: { 'keepvip.io/loadBalancerIPs': '10.1.0.1,nope' } })], allocated: {}, rejected: { 'a/web': /"nope" is not an IP address/ } }],
  ['two of one family', { services: [lb('a/web', { annotations: { 'keepvip.io/loadBalancerIPs': '10.1.0.1,10.1.0.2' } })], allocated: {}, rejected: { 'a/web': /more than one IPv4 address/ } }],
  ['a family the Service does not have', { services: [lb('a/web', { ipFamilies: ['IPv4'], annotations: { 'keepvip.io/loadBalancerIPs': 'fd00::1' } })], allocated: {}, rejected: { 'a/web': /fd00::1 is IPv6, but the Service's ipFamilies are \[IPv4\]/ } }],
  ['another class is left alone', { services: [lb('a/web', { loadBalancerClass: 'metallb.io/metallb' })], allocated: {} }],
  ['no class: left alone', { services: [service('a/web', { type: 'LoadBalancer' })], allocated: {} }],
  ['no class with defaultClass', { services: [service('a/web', { type: 'LoadBalancer' })], defaultClass: true, allocated: { 'a/web': [['10.0.0.200'], 'pool'] } }],
  ['ClusterIP Services are left alone', { services: [service('a/web', { loadBalancerClass: 'keepvip.io/vrrp' })], allocated: {} }],
];

describe('allocateLoadBalancerIPs', () => {
  it.each(rows)('%s', (_, row) => {
    const result = allocateLoadBalancerIPs({ services: row.services, pools, reserved: new Map(row.reserved ?? []), ...(row.defaultClass === undefined ? {} : { defaultClass: row.defaultClass }) });
    expect(Object.fromEntries(result.allocations.map((a) => [a.key, [a.ips, a.source]]))).toEqual(row.allocated);
    const rejected = Object.fromEntries(result.rejected.map((r) => [r.key, r.reason]));
    expect(Object.keys(rejected).sort()).toEqual(Object.keys(row.rejected ?? {}).sort());
    for (const [key, re] of Object.entries(row.rejected ?? {})) expect(rejected[key]).toMatch(re);
    for (const r of result.rejected) expect(r.object.kind).toBe('Service');
  });

  it('is stable: the result written to status and read back allocates the same', () => {
    const services = [lb('a/one', { created: at(1) }), lb('a/two', { created: at(2) }), lb('a/three', { created: at(3) })];
    const first = allocateLoadBalancerIPs({ services, pools });
    const written = services.map((s) => lb(`${s.metadata.namespace}/${s.metadata.name}`, { created: s.metadata.creationTimestamp as string, statusIps: [...(first.allocations.find((a) => a.service === s)?.ips ?? [])] }));
    // a/one goes away: the others keep their IPs, and a new Service takes the freed one.
    const next = allocateLoadBalancerIPs({ services: [...written.slice(1), lb('a/four', { created: at(4) })], pools });
    expect(Object.fromEntries(next.allocations.map((a) => [a.key, a.ips]))).toEqual({ 'a/two': ['10.0.0.201'], 'a/three': ['10.0.0.202'], 'a/four': ['10.0.0.200'] });
  });

  it('knows its class', () => {
    expect(isKeepvipLoadBalancer(lb('a/b'))).toBe(true);
    expect(isKeepvipLoadBalancer(service('a/b', { type: 'LoadBalancer' }), true)).toBe(true);
    expect(isKeepvipLoadBalancer(service('a/b', { type: 'NodePort', loadBalancerClass: 'keepvip.io/vrrp' }), true)).toBe(false);
  });
});

import { describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { formatIssue, parseConfigText } from '../../src/index.js';
import { FindingKind, finishImport, formatFinding, importKeepalived } from '../../src/import/index.js';
import { converted, fixtures } from './helpers.js';

// The sample is read through a relative-looking path so findings name files as an operator would.
const sample = join(fixtures, 'keepalived.conf');
const shown = (text: string) => text.replaceAll(fixtures, '');

describe('import-keepalived: the sample configuration', () => {
  const conversion = converted(importKeepalived(sample));

  it('converts instances, tracking, notify hooks, peers, auth and the sync group', () => {
    expect(conversion.config).toEqual({
      instances: [
        {
          name: 'VI_API',
          interface: 'eth0',
          vrid: 51,
          version: 2,
          priority: 150,
          advertInterval: '1s',
          preempt: true,
          acceptMode: true,
          vips: ['10.0.0.100/24', '10.0.0.102/32'],
          unicastPeers: ['10.0.0.12', '10.0.0.13'],
          auth: { type: 'password', password: 'k8s api' },
          announce: { refresh: '60s' },
          track: {
            interfaces: [{ name: 'eth1', weight: -20 }, { name: 'bond0' }],
            scripts: [
              { name: 'chk_apiserver', command: '/usr/bin/curl -sfk https://localhost:6443/healthz', interval: '2s', timeout: '3s', rise: 2, fall: 3, weight: -50 },
            ],
          },
          notify: { master: '/etc/keepalived/notify.sh master', backup: '/etc/keepalived/notify.sh', any: '/etc/keepalived/any.sh' },
        },
        {
          name: 'ingress_public',
          interface: 'eth0',
          vrid: 52,
          version: 2,
          priority: 100,
          advertInterval: '2s',
          preempt: false,
          acceptMode: true,
          vips: ['10.0.0.200/24'],
          announce: { repeat: 3, delay: '1s', refresh: '60s' },
          track: {
            scripts: [{ name: 'chk_haproxy', command: '/usr/bin/killall -0 haproxy', interval: '1s', timeout: '1s', rise: 1, fall: 1, weight: 5 }],
          },
        },
      ],
      syncGroups: [{ name: 'K8S', instances: ['VI_API', 'ingress_public'], notify: { master: '/etc/keepalived/group.sh MASTER' } }],
    });
  });

  it('reports every directive left out, with its file and line', () => {
    const skipped = conversion.findings.filter((f) => f.kind === FindingKind.NotCarriedOver).map((f) => shown(formatFinding(f)));
    expect(skipped).toEqual([
      'keepalived.conf:3: router_id node-a is not used by keepvip',
      'keepalived.conf:4: notification_email (e-mail alerts) is not supported; use a notify script',
      'keepalived.conf:7: script_user root is not supported: keepvip runs scripts as its own user',
      'keepalived.conf:8: enable_script_security is not supported: keepvip runs scripts as its own user',
      'keepalived.conf:24: unicast_src_ip 10.0.0.11 is not supported: adverts leave from the interface primary address',
      'keepalived.conf:30: virtual_ipaddress 10.0.0.100/24 label eth0:api is not carried over: keepvip labels its addresses itself',
      'keepalived.conf:32: virtual_ipaddress 10.0.0.101/24 dev eth1 is not supported: keepvip puts every VIP on the instance interface eth0',
      'keepalived.conf:41: use_vmac (virtual MAC) is not supported',
      'keepalived.conf:61: virtual_routes is not supported: keepvip moves addresses, not routes',
      'keepalived.conf:73: smtp_alert (e-mail alerts) is not supported; use a notify script',
      'keepalived.conf:76: virtual_server 10.0.0.100 (LVS) is not carried over: keepvip does VRRP only',
      'conf.d/scripts.conf:14: user keepalived_script is not supported: keepvip runs scripts as its own user',
    ]);
  });

  it('notes what changed on the way: the ignored state and a renamed instance', () => {
    const notes = conversion.findings.filter((f) => f.kind === FindingKind.Note).map((f) => shown(formatFinding(f)));
    expect(notes).toEqual([
      expect.stringMatching(/^keepalived\.conf:15: state MASTER is ignored: keepvip starts as Backup/),
      'keepalived.conf:47: vrrp_instance ingress/public is named "ingress_public": keepvip names are 1..64 of A-Z a-z 0-9 _ - . and unique',
    ]);
  });

  it('renders YAML that keepvip itself accepts, with a header naming the source', () => {
    const { yaml, problems } = finishImport(conversion, 'keepalived.conf');
    expect(problems).toEqual([]);
    expect(yaml.startsWith('# Converted from keepalived.conf by `keepvip import-keepalived`.')).toBe(true);
    expect(yaml).toContain('keepalived.conf:41: use_vmac (virtual MAC) is not supported');
    expect(load(yaml)).toEqual(conversion.config);
    const result = parseConfigText(yaml);
    if (!result.ok) throw new Error(result.errors.map(formatIssue).join('\n'));
    expect(result.config.instances.map((i) => [i.name, i.family, i.advertInterval])).toEqual([
      ['VI_API', 4, 1000],
      ['ingress_public', 4, 2000],
    ]);
  });
});

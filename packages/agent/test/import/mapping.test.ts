import { describe, expect, it } from '@jest/globals';
import { finishImport } from '../../src/import/index.js';
import { convertText, instance } from './helpers.js';

const only = (text: string) => {
  const { conversion, findings } = convertText(text);
  const first = conversion.config.instances[0];
  if (first === undefined) throw new Error('no instance');
  return { inst: first, findings, conversion };
};

describe('import-keepalived: keepalived defaults and resolution rules', () => {
  it('state MASTER without a priority is the address owner (255); nopreempt is dropped with it', () => {
    const { inst, findings } = only(instance('  state MASTER\n  nopreempt'));
    expect(inst).toMatchObject({ priority: 255, preempt: true, acceptMode: true, version: 2 });
    expect(findings).toEqual([
      'keepalived.conf:7: state MASTER is not needed: priority 255 (address owner) makes keepvip start as Master (RFC 5798 §6.4.1)',
      'keepalived.conf:8: nopreempt is dropped, as keepalived drops it with priority 255',
    ]);
  });

  it('VRRPv3 keeps centiseconds, VRRPv2 rounds to whole seconds with a note', () => {
    expect(only(`global_defs {\n  vrrp_version 3\n}\n${instance('  advert_int 0.1')}`).inst.advertInterval).toBe('100ms');
    const v2 = only(instance('  advert_int 1.4'));
    expect(v2.inst.advertInterval).toBe('1s');
    expect(v2.findings).toEqual(['keepalived.conf:7: advert_int 1.4 becomes 1s: VRRPv2 carries whole seconds (keepalived rounds the same way)']);
  });

  it('IPv6 VIPs make VRRPv3; authentication is then ignored, as keepalived ignores it', () => {
    const text = instance('  authentication {\n    auth_type PASS\n    auth_pass secret\n  }').replace('10.0.0.1/24', '2001:db8::10/64');
    const { inst, findings } = only(text);
    expect(inst).toMatchObject({ version: 3, vips: ['2001:db8::10/64'] });
    expect(inst.auth).toBeUndefined();
    expect(findings).toEqual(['keepalived.conf:7: authentication is ignored with VRRPv3, by keepalived too (RFC 5798 has no authentication)']);
  });

  it('a VIP without a prefix is a host address, and other families are left out', () => {
    const { inst, findings } = only(instance('').replace('    10.0.0.1/24\n', '    10.0.0.1\n    2001:db8::1\n'));
    expect(inst.vips).toEqual(['10.0.0.1/32']);
    expect(findings).toEqual([expect.stringMatching(/^keepalived\.conf:6: virtual_ipaddress 2001:db8::1 is IPv6 in an IPv4 instance/)]);
  });

  it('vrrp_strict turns accept mode off and drops preempt_delay; explicit accept wins otherwise', () => {
    const strict = only(`global_defs {\n  vrrp_strict\n}\n${instance('  preempt_delay 30')}`);
    expect(strict.inst).toMatchObject({ acceptMode: false, preempt: true });
    expect(strict.inst.preemptDelay).toBeUndefined();
    expect(only(instance('  no_accept\n  preempt_delay 2.5')).inst).toMatchObject({ acceptMode: false, preemptDelay: '2500ms' });
  });

  it('auth_pass is cut to 8 bytes, whole characters only, and AH is not carried over', () => {
    const auth = (pass: string) => only(instance(`  authentication {\n    auth_type PASS\n    auth_pass ${pass}\n  }`));
    expect(auth('0123456789').inst.auth).toEqual({ type: 'password', password: '01234567' });
    expect(auth('ééééé').inst.auth).toEqual({ type: 'password', password: 'éééé' });
    const split = auth('aééééé');
    expect(split.inst.auth).toEqual({ type: 'password', password: 'aééé' });
    expect(split.findings).toContain('keepalived.conf:9: auth_pass is cut to "aééé": keepalived cuts at 8 bytes, inside a character, and will not match');
    const ah = only(instance('  authentication {\n    auth_type AH\n    auth_pass x\n  }'));
    expect(ah.inst.auth).toBeUndefined();
    expect(ah.findings).toEqual(['keepalived.conf:7: authentication auth_type AH (IPsec AH) is not supported']);
  });

  it('garp settings come from global_defs, garp_group and the instance, the most specific winning', () => {
    const text = `global_defs {\n  vrrp_garp_master_delay 10\n  vrrp_garp_interval 0.001\n  vrrp_min_garp\n}\ngarp_group {\n  garp_interval 0.02\n  interface eth0\n}\n${instance('  garp_master_repeat 2\n  down_timer_adverts 5')}`;
    expect(only(text).inst).toMatchObject({ announce: { repeat: 2, delay: '0s', interval: '20ms' }, downTimerAdverts: 5 });
  });

  it('weights: 0 means Fault, reverse is not carried over, track_file resolves its block', () => {
    const text = `vrrp_script chk {\n  script "pidof haproxy"\n  weight 0\n}\nvrrp_track_file f {\n  file /run/prio\n  weight 2\n}\n${instance('  track_script {\n    chk\n    chk weight 10 reverse\n  }\n  track_interface {\n    eth1 weight 0\n  }\n  track_file {\n    f\n  }')}`;
    const { inst, findings } = only(text);
    expect(inst.track).toEqual({
      scripts: [{ name: 'chk', command: 'pidof haproxy', interval: '1s', timeout: '1s', rise: 1, fall: 1 }],
      interfaces: [{ name: 'eth1' }],
      files: [{ path: '/run/prio', weight: 2 }],
    });
    expect(findings).toEqual(['keepalived.conf:17: chk weight 10 reverse is not supported (keepvip has no reverse weights): the script is not tracked']);
  });

  it('sync group members lose their tracking weights, as in keepalived', () => {
    const a = instance('  track_script {\n    chk\n  }\n  track_interface {\n    eth1 weight -10\n  }', 'A');
    const b = instance('', 'B').replace('51', '52');
    const text = `vrrp_script chk {\n  script true\n  weight -30\n}\n${a}${b}vrrp_sync_group G {\n  group {\n    A B\n  }\n}\n`;
    const { conversion, findings } = convertText(text);
    expect(conversion.config.instances[0]?.track).toEqual({ interfaces: [{ name: 'eth1' }] });
    expect(findings).toEqual([
      'keepalived.conf:12: track_script chk weight -30 is dropped: keepalived ignores tracking weights of sync group members',
      'keepalived.conf:15: track_interface eth1 weight -10 loses its weight (down means Fault): keepalived ignores tracking weights of sync group members',
    ]);
  });

  it('sanitizes instance names, keeps them unique, and follows the renames in sync groups', () => {
    const text = `${instance('', 'web/1')}${instance('', 'web_1').replace('51', '52')}vrrp_sync_group G {\n  group { web/1 web_1 missing }\n}\n`;
    const { conversion, findings } = convertText(text);
    expect(conversion.config.instances.map((i) => i.name)).toEqual(['web_1', 'web_1-2']);
    expect(conversion.config.syncGroups).toEqual([{ name: 'G', instances: ['web_1', 'web_1-2'] }]);
    expect(findings).toEqual([
      'keepalived.conf:1: vrrp_instance web/1 is named "web_1": keepvip names are 1..64 of A-Z a-z 0-9 _ - . and unique',
      'keepalived.conf:9: vrrp_instance web_1 is named "web_1-2": keepvip names are 1..64 of A-Z a-z 0-9 _ - . and unique',
      'keepalived.conf:18: group member missing names no vrrp_instance',
    ]);
  });

  it('a missing interface fails validation, and the error names the keepalived instance', () => {
    const { conversion } = convertText('vrrp_instance VI_9 {\n  virtual_router_id 9\n  virtual_ipaddress {\n    10.0.0.9\n  }\n}\n');
    const { problems, yaml } = finishImport(conversion, 'keepalived.conf');
    expect(problems).toEqual([expect.stringMatching(/^instances\[0\]\.interface: is required \(vrrp_instance VI_9 at .*keepalived\.conf:1\)$/)]);
    expect(yaml).toContain('# THIS CONFIGURATION DOES NOT VALIDATE:');
  });
});

/**
 * RFC 5798 §7.1: an advert whose address list differs from the VIPs configured for the VRID
 * is reported (a misconfiguration) and still processed.
 */
import { describe, expect, it } from '@jest/globals';
import { step } from '../../src/index.js';
import { asMaster, config, kinds, rx, started } from './helpers.js';

const mismatch = (src: string, addresses: string[]) => ({ kind: 'AdvertMismatch', reason: 'address_list_mismatch', src, addresses });

describe('address list check (RFC 5798 §7.1)', () => {
  it('the same addresses, prefix lengths aside, in any order: nothing reported', () => {
    const backup = started(config({ vips: ['10.0.0.100/24', '10.0.0.101/32'] }));
    const { actions } = step(backup, rx({ addresses: ['10.0.0.101', '10.0.0.100'] }), 100);
    expect(kinds(actions)).toEqual(['ArmTimer']);
  });

  it('a Backup reports another list, and still takes the advert (its timer restarts, the Master is learnt)', () => {
    const backup = started(config());
    const { instance, actions } = step(backup, rx({ addresses: ['10.0.0.200'] }, '10.0.0.9'), 100);
    expect(actions[0]).toEqual(mismatch('10.0.0.9', ['10.0.0.200']));
    expect(kinds(actions)).toEqual(['AdvertMismatch', 'ArmTimer']);
    expect(instance.masterAddress).toBe('10.0.0.9');
  });

  it.each([
    ['one more', ['10.0.0.10/24'], ['10.0.0.10', '10.0.0.11']],
    ['one fewer', ['10.0.0.10/24', '10.0.0.11/24'], ['10.0.0.10']],
    ['ours as a text prefix', ['10.0.0.10/24'], ['10.0.0.1']],
    ['ours a text prefix of theirs', ['10.0.0.10/24'], ['10.0.0.100']],
    ['the same count, one twice', ['10.0.0.10/24', '10.0.0.11/24'], ['10.0.0.10', '10.0.0.10']],
  ])('%s is another list', (_, vips, addresses) => {
    expect(kinds(step(started(config({ vips })), rx({ addresses }), 100).actions)).toContain('AdvertMismatch');
  });

  it('a Master reports it and still yields to a higher priority', () => {
    const { instance, actions } = step(asMaster(config()), rx({ priority: 200, addresses: ['10.0.0.200'] }), 5000);
    expect(actions[0]).toEqual(mismatch('10.0.0.9', ['10.0.0.200']));
    expect(instance.state).toBe('Backup');
  });

  it('IPv6: canonical text on both sides', () => {
    const backup = started(config({ family: 6, primaryAddress: 'fe80::2', vips: ['2001:db8::100/64'] }));
    expect(kinds(step(backup, rx({ addresses: ['2001:db8::100'] }, 'fe80::9'), 100).actions)).toEqual(['ArmTimer']);
    expect(kinds(step(backup, rx({ addresses: ['2001:db8::1:100'] }, 'fe80::9'), 100).actions)).toEqual(['AdvertMismatch', 'ArmTimer']);
  });

  it('a dropped advert is not also reported', () => {
    const { actions } = step(started(config()), rx({ vrid: 52, addresses: ['10.0.0.200'] }), 100);
    expect(kinds(actions)).toEqual(['AdvertDropped']);
  });
});

/** LinkWatcher and lookupInterface against real link changes in a namespace. */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { Lab, type Child } from './helpers/lab.js';
import { requireLabPrerequisites } from './helpers/prerequisites.js';

jest.setTimeout(30_000);

describe('LinkWatcher end to end', () => {
  const lab = new Lab();
  let watcher: Child;

  beforeAll(async () => {
    requireLabPrerequisites();
    await lab.addNamespace('w');
    await lab.addNamespace('peer');
    await lab.link({ ns: 'w', ifname: 'eth0', cidr: '10.214.0.1/24', mac: '02:21:40:00:00:01' }, { ns: 'peer', ifname: 'eth0' });
    await lab.exec('w', ['ip', 'addr', 'add', '10.214.0.9/24', 'dev', 'eth0']); // secondary: not primary
    watcher = lab.child('w', 'link-node.mjs', { ifname: 'eth0' });
    await watcher.waitFor((l) => l['event'] === 'ready');
  });
  afterAll(() => lab.destroy());

  const carrierEvents = (): boolean[] => watcher.events('carrier').map((e) => e['carrier'] as boolean);

  test('initial state and interface facts come from netlink', async () => {
    const ready = watcher.events('ready')[0] ?? {};
    const ifindex = Number((await lab.exec('w', ['cat', '/sys/class/net/eth0/ifindex'])).trim());
    const ll = /inet6 (fe80::[0-9a-f:]+)\//.exec(await lab.exec('w', ['ip', '-6', 'addr', 'show', 'dev', 'eth0']))?.[1];
    expect(ready['initial']).toEqual({ ifname: 'eth0', ifindex, carrier: true });
    expect(ready['info']).toMatchObject({
      ifindex,
      mac: '02:21:40:00:00:01',
      carrier: true,
      adminUp: true,
      primaryIpv4: '10.214.0.1',
      ipv6LinkLocal: ll,
    });
  });

  test('ip link set down / up of the interface is seen as carrier down / up', async () => {
    await lab.exec('w', ['ip', 'link', 'set', 'eth0', 'down']);
    await watcher.waitFor(() => carrierEvents().length >= 1);
    await lab.exec('w', ['ip', 'link', 'set', 'eth0', 'up']);
    await watcher.waitFor(() => carrierEvents().length >= 2);
    expect(carrierEvents()).toEqual([false, true]);
  });

  test('the veth peer going down drops our carrier (no cable), and back', async () => {
    await lab.exec('peer', ['ip', 'link', 'set', 'eth0', 'down']);
    await watcher.waitFor(() => carrierEvents().length >= 3);
    await lab.exec('peer', ['ip', 'link', 'set', 'eth0', 'up']);
    await watcher.waitFor(() => carrierEvents().length >= 4);
    expect(carrierEvents()).toEqual([false, true, false, true]);
    expect(watcher.events('watchError')).toEqual([]);
  });

  test('deleting the interface reports carrier down with ifindex 0', async () => {
    await lab.exec('w', ['ip', 'link', 'del', 'eth0']);
    const gone = await watcher.waitFor((l) => l['event'] === 'carrier' && l['ifindex'] === 0);
    expect(gone).toMatchObject({ carrier: false });
  });
});

/**
 * Interop: real keepalived (Debian's) in one namespace, our AdvertSocket in another. Its
 * adverts must arrive with TTL/hop limit 255, its source and the VRRP group, and the
 * payload must be its VRRP message (version nibble 2 or 3, type 1, our VRID).
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from './helpers/lab.js';
import { requireLabPrerequisites } from './helpers/prerequisites.js';

jest.setTimeout(60_000);

const KEEPALIVED = '/usr/sbin/keepalived';
const K_V4 = '10.215.0.1';

describe('keepalived interop', () => {
  const lab = new Lab();
  const dir = mkdtempSync(join(tmpdir(), 'kvl-keepalived-'));

  beforeAll(async () => {
    requireLabPrerequisites();
    if (!existsSync(KEEPALIVED)) throw new Error(`${KEEPALIVED} is not installed (scripts/ci/install-system-packages)`);
    await lab.addNamespace('k');
    await lab.addNamespace('us');
    await lab.link({ ns: 'k', ifname: 'eth0', cidr: `${K_V4}/24` }, { ns: 'us', ifname: 'eth0', cidr: '10.215.0.2/24' });
  });
  afterAll(async () => {
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts keepalived with unique pid files; the lab SIGTERMs it (by PID) at the end. */
  async function startKeepalived(name: string, config: string): Promise<{ stop: () => Promise<void> }> {
    const conf = join(dir, `${name}.conf`);
    writeFileSync(conf, config);
    const pid = join(dir, `${name}.pid`);
    const vrrpPid = join(dir, `${name}-vrrp.pid`);
    const k = lab.spawn('k', [KEEPALIVED, '-n', '-l', '-D', '--vrrp', '-f', conf, '-p', pid, '-r', vrrpPid]);
    return {
      stop: async () => {
        await k.stop();
        // The VRRP child exits with its parent; make sure, by its own PID.
        if (existsSync(vrrpPid)) {
          const child = Number(readFileSync(vrrpPid, 'utf8').trim());
          try {
            if (child > 0) process.kill(child, 'SIGTERM');
          } catch {
            // already gone
          }
        }
      },
    };
  }

  const cases = [
    {
      name: 'VRRPv2 over IPv4',
      family: 4 as const,
      versionType: 0x21,
      vrid: 61,
      conf: `vrrp_instance VI_2 {\n interface eth0\n state MASTER\n virtual_router_id 61\n priority 150\n advert_int 1\n virtual_ipaddress {\n  10.215.0.100/24\n }\n}\n`,
    },
    {
      name: 'VRRPv3 over IPv4',
      family: 4 as const,
      versionType: 0x31,
      vrid: 62,
      conf: `global_defs {\n vrrp_version 3\n}\nvrrp_instance VI_3 {\n interface eth0\n state MASTER\n virtual_router_id 62\n priority 150\n advert_int 0.1\n virtual_ipaddress {\n  10.215.0.101/24\n }\n}\n`,
    },
    {
      name: 'VRRPv3 over IPv6',
      family: 6 as const,
      versionType: 0x31,
      vrid: 63,
      conf: `global_defs {\n vrrp_version 3\n}\nvrrp_instance VI_6 {\n interface eth0\n state MASTER\n virtual_router_id 63\n priority 150\n advert_int 0.1\n virtual_ipaddress {\n  2001:db8:215::100/64\n }\n}\n`,
    },
  ];

  test.each(cases)('$name adverts from keepalived are received by AdvertSocket', async ({ name, family, versionType, vrid, conf }) => {
    const rx = lab.child('us', 'advert-node.mjs', { ifname: 'eth0', family, listenMs: 20_000 });
    await rx.waitFor((l) => l['event'] === 'ready');
    const k = await startKeepalived(name.replace(/\W+/g, '-'), conf);
    try {
      // keepalived starts as Backup and becomes Master after its master-down interval.
      const advert = await rx.waitFor((l) => l['event'] === 'advert', 15_000);
      const expectedSrc =
        family === 4 ? K_V4 : /inet6 (fe80::[0-9a-f:]+)\//.exec(await lab.exec('k', ['ip', '-6', 'addr', 'show', 'dev', 'eth0']))?.[1];
      expect(advert).toMatchObject({ family, src: expectedSrc, dst: family === 4 ? '224.0.0.18' : 'ff02::12', ttlOrHopLimit: 255 });
      const payload = Buffer.from(advert['payload'] as string, 'hex');
      expect(payload[0]).toBe(versionType);
      expect(payload[1]).toBe(vrid);
      expect(payload[2]).toBe(150);
    } finally {
      await k.stop();
      await rx.stop();
    }
    expect(rx.events('drop')).toEqual([]);
  });
});

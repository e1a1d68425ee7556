/**
 * Our rtnetlink against a real kernel, inside a network namespace: 300 VIPs added at once
 * (300 requests in flight), dumped back in a multi-part dump with their tags, and purged.
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { Lab } from './helpers/lab.js';
import { requireLabPrerequisites } from './helpers/prerequisites.js';

jest.setTimeout(60_000);

const VIPS = Array.from({ length: 300 }, (_, i) => `10.216.${1 + (i >> 8)}.${i & 0xff}/32`);

interface Dumped {
  readonly address: string;
  readonly prefixLength: number;
  readonly ifindex: number;
  readonly proto: number | undefined;
  readonly label: string | undefined;
}

describe('rtnetlink end to end', () => {
  const lab = new Lab();

  beforeAll(async () => {
    requireLabPrerequisites();
    await lab.addNamespace('d');
    await lab.addNamespace('peer');
    await lab.link({ ns: 'd', ifname: 'eth0', cidr: '10.216.0.1/16' }, { ns: 'peer', ifname: 'eth0' });
  });
  afterAll(() => lab.destroy());

  async function run(config: object): Promise<Array<Record<string, unknown>>> {
    const child = lab.child('d', 'dump-node.mjs', { ifname: 'eth0', ...config });
    await child.exited;
    const errors = child.events('error');
    if (errors.length > 0 || child.stderr.length > 0) throw new Error(JSON.stringify({ errors, stderr: child.stderr }));
    return child.lines;
  }

  const countLines = (text: string, pattern: RegExp): number => text.split('\n').filter((l) => pattern.test(l)).length;

  test('300 /32s added at once all come back from a dump, each tagged (IFA_PROTO 0x6b, label eth0:kv)', async () => {
    const lines = await run({ add: VIPS });
    expect(lines.find((l) => l['event'] === 'added')?.['outcomes']).toBe(300);
    const dump = lines.find((l) => l['event'] === 'dump') ?? {};
    const addresses = dump['addresses'] as Dumped[];
    const ours = addresses.filter((a) => a.address.startsWith('10.216.') && a.address !== '10.216.0.1');
    expect(ours.map((a) => `${a.address}/${a.prefixLength}`).sort()).toEqual([...VIPS].sort());
    for (const a of ours) expect(a).toMatchObject({ ifindex: dump['ifindex'], proto: 0x6b, label: 'eth0:kv' });
    // The operator's address and the link-local are there too, untagged.
    const operators = addresses.find((a) => a.address === '10.216.0.1');
    expect(operators?.label).toBe('eth0');
    expect(operators?.proto ?? 0).not.toBe(0x6b);
    expect(addresses.some((a) => a.address.startsWith('fe80:'))).toBe(true);
    expect(dump['listed']).toBe(300);

    // The kernel agrees, through its own tool; and the unfiltered dump has every interface's.
    const ip = await lab.exec('d', ['ip', '-o', 'addr', 'show']);
    expect(countLines(ip, /inet 10\.216\.\d+\.\d+\/32 .*eth0:kv/)).toBe(300);
    expect(dump['all']).toBe(countLines(ip, /\binet6? /));
  });

  test('purging removes all 300 and nothing else', async () => {
    const lines = await run({ purge: true });
    expect(lines.find((l) => l['event'] === 'purged')?.['removed']).toEqual([...VIPS].sort());
    const dump = lines.find((l) => l['event'] === 'dump') ?? {};
    expect((dump['addresses'] as Dumped[]).map((a) => a.address).filter((a) => a.startsWith('10.216.'))).toEqual(['10.216.0.1']);
    expect(dump['listed']).toBe(0);
    expect(countLines(await lab.exec('d', ['ip', '-o', 'addr', 'show', 'dev', 'eth0']), /eth0:kv/)).toBe(0);
  });
});

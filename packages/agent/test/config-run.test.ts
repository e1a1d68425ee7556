/**
 * `validate` runs every check `run` runs: each input below passed validation once and then made
 * `run` (or a reload) fail, or a timer spin; and whatever validates, the runner can encode.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseVip as kernelVip } from '@keepvip/linux';
import { ConfigError, createLogger, formatIssue, InstanceRunner, loadConfigFile, MAX_CONFIG_BYTES, validateConfig, type ResolvedInstance } from '../src/index.js';

const base = { name: 'a', interface: 'eth0', vrid: 1, vips: ['10.0.0.1/24'] };
const v4 = (n: number, net = 1) => Array.from({ length: n }, (_, i) => `10.${net}.${i >> 8}.${i & 255}/16`);
const v6 = (n: number, net = 1) => Array.from({ length: n }, (_, i) => `2001:db8:${net}::${(i + 1).toString(16)}/64`);

function errorsOf(document: unknown): string[] {
  const result = validateConfig(document);
  return result.ok ? [] : result.errors.map(formatIssue);
}

const inInstance = (fields: Record<string, unknown>) => ({ instances: [{ ...base, ...fields }] });

const refused: ReadonlyArray<readonly [string, unknown, string]> = [
  ['256 VIPs in one instance', inInstance({ vips: v4(256) }), 'instances[0].vips: 256 addresses; an advert carries at most 255 (RFC 5798 §5.2.5): split them over several instances'],
  ['300 VIPs in one instance', inInstance({ vips: v4(300) }), 'instances[0].vips: 300 addresses; an advert carries at most 255 (RFC 5798 §5.2.5): split them over several instances'],
  [
    '78 IPv6 VIPs (a 1,296-byte advert)',
    inInstance({ vips: v6(78) }),
    'instances[0].vips: 78 IPv6 addresses make a 1296-byte advert; at most 77 fit in 1280 bytes, the smallest IPv6 MTU (RFC 8200 §5): split them over several instances',
  ],
  ['a VIP with a zone index', inInstance({ vips: ['fe80::1%eth0/64'] }), `instances[0].vips[0]: "fe80::1%eth0/64" has a zone index; write the bare address (the interface is the instance's)`],
  ['a unicast peer with a zone index', inInstance({ vips: ['fe80::1/64'], unicastPeers: ['fe80::2%eth0'] }), `instances[0].unicastPeers[0]: "fe80::2%eth0" has a zone index; write the bare address (the interface is the instance's)`],
  ['a multicast VIP', inInstance({ vips: ['224.0.0.18/32'] }), 'instances[0].vips[0]: "224.0.0.18/32" is a multicast address'],
  ['an IPv6 multicast peer', inInstance({ vips: ['2001:db8::1/64'], unicastPeers: ['ff02::12'] }), 'instances[0].unicastPeers[0]: "ff02::12" is a multicast address'],
  ['the unspecified address as VIP', inInstance({ vips: ['0.0.0.0/0'] }), 'instances[0].vips[0]: "0.0.0.0/0" is the unspecified address'],
  ['the broadcast address as peer', inInstance({ unicastPeers: ['255.255.255.255'] }), 'instances[0].unicastPeers[0]: "255.255.255.255" is the broadcast address'],
  ['one VIP twice', inInstance({ vips: ['10.0.0.1/24', '10.0.0.1/32'] }), 'instances[0].vips[1]: 10.0.0.1 is already vips[0]'],
  [
    'one VIP in two instances',
    { instances: [base, { ...base, name: 'b', vrid: 2 }] },
    'instances[1].vips[0]: 10.0.0.1 is also a VIP of instances[0]',
  ],
  ['a tracked interface of 16 bytes', inInstance({ track: { interfaces: [{ name: 'abcdefghijklmnop' }] } }), 'instances[0].track.interfaces[0].name: "abcdefghijklmnop" is 16 bytes long; a Linux interface name has at most 15'],
  ['a tracked interface of 8 characters in 16 bytes', inInstance({ track: { interfaces: [{ name: 'éééééééé' }] } }), 'instances[0].track.interfaces[0].name: "éééééééé" is 16 bytes long; a Linux interface name has at most 15'],
  ['a tracked interface with "/"', inInstance({ track: { interfaces: [{ name: 'eth0/1' }] } }), 'instances[0].track.interfaces[0].name: "eth0/1" contains "/", which a Linux interface name cannot'],
  ['a tracked interface with a space', inInstance({ track: { interfaces: [{ name: 'eth 0' }] } }), 'instances[0].track.interfaces[0].name: "eth 0" contains " ", which a Linux interface name cannot'],
  ['a tracked interface with ":"', inInstance({ track: { interfaces: [{ name: 'eth0:1' }] } }), 'instances[0].track.interfaces[0].name: "eth0:1" contains ":", which a Linux interface name cannot'],
  ['a tracked interface "."', inInstance({ track: { interfaces: [{ name: '.' }] } }), 'instances[0].track.interfaces[0].name: "." is not an interface name'],
  ['a tracked interface ".."', inInstance({ track: { interfaces: [{ name: '..' }] } }), 'instances[0].track.interfaces[0].name: ".." is not an interface name'],
  ['a tracked interface with a NUL', inInstance({ track: { interfaces: [{ name: 'eth\u00000' }] } }), 'instances[0].track.interfaces[0].name: contains a NUL byte (\\0), which no path or command can hold'],
  ['a tracked interface with a tab', inInstance({ track: { interfaces: [{ name: 'eth\t0' }] } }), 'instances[0].track.interfaces[0].name: "eth\\t0" contains "\\t", which a Linux interface name cannot'],
  ['a notify command with a NUL byte', inInstance({ notify: { master: '/bin/true\u0000x' } }), 'instances[0].notify.master: contains a NUL byte (\\0), which no path or command can hold'],
  ['a track script command with a NUL byte', inInstance({ track: { scripts: [{ command: 'true\u0000' }] } }), 'instances[0].track.scripts[0].command: contains a NUL byte (\\0), which no path or command can hold'],
  ['a tracked file path with a NUL byte', inInstance({ track: { files: [{ path: '/run/x\u0000' }] } }), 'instances[0].track.files[0].path: contains a NUL byte (\\0), which no path or command can hold'],
  ['a status socket path with a NUL byte', { global: { statusSocket: '/run/k\u0000.sock' }, ...inInstance({}) }, 'global.statusSocket: contains a NUL byte (\\0), which no path or command can hold'],
  ['an instance interface of 16 bytes', inInstance({ interface: 'abcdefghijklmnop' }), 'instances[0].interface: "abcdefghijklmnop" is 16 bytes long; a Linux interface name has at most 15'],
  [
    'a VRRPv2 password of 5 characters in 10 bytes',
    inInstance({ version: 2, auth: { type: 'password', password: 'ééééé' } }),
    'instances[0].auth.password: is 10 bytes long; VRRPv2 carries at most 8',
  ],
  ['a v2 interval of 1.5 s', inInstance({ version: 2, advertInterval: '1500ms' }), 'instances[0].advertInterval: 1500 ms: VRRPv2 carries whole seconds, 1s..255s'],
  ['a v3 interval below 10 ms', inInstance({ advertInterval: '5ms' }), 'instances[0].advertInterval: 5 ms: VRRPv3 carries centiseconds, 10ms..40950ms in steps of 10ms'],
  ['auth on VRRPv3', inInstance({ auth: { type: 'password', password: 'x' } }), 'instances[0].auth: VRRPv3 has no authentication (RFC 5798 §9); remove it or use version 2'],
  ['an IPv6 peer for IPv4 VIPs', inInstance({ unicastPeers: ['2001:db8::9'] }), 'instances[0].unicastPeers[0]: "2001:db8::9" is not an IPv4 address like the vips'],
  ['a preempt delay past the timer limit', inInstance({ preemptDelay: '40000m' }), 'instances[0].preemptDelay: "40000m" is too long: at most 2147483647 ms (about 24.8 days)'],
  ['a track script every 0 s', inInstance({ track: { scripts: [{ command: 'true', interval: '0s' }] } }), 'instances[0].track.scripts[0].interval: 0s is too short: at least 10ms'],
  ['a reconcile every 0 s', { global: { reconcileInterval: 0 }, ...inInstance({}) }, 'global.reconcileInterval: 0s is too short: at least 100ms'],
  ['a metrics port above 65535', { global: { metrics: { listen: '127.0.0.1:99999' } }, ...inInstance({}) }, 'global.metrics.listen: "127.0.0.1:99999" has port 99999, outside 1..65535'],
  ['a metrics host with a space', { global: { metrics: { listen: 'local host:9650' } }, ...inInstance({}) }, 'global.metrics.listen: "local host:9650" has host "local host", which is neither an IP address nor a host name'],
  [
    'a status socket path of 108 bytes',
    { global: { statusSocket: `/${'s'.repeat(107)}` }, ...inInstance({}) },
    'global.statusSocket: is 108 bytes long; a unix socket path has at most 107',
  ],
  [
    'two sync groups of one name',
    {
      instances: ['a', 'b', 'c', 'd'].map((name, i) => ({ ...base, name, vrid: i + 1, vips: [`10.0.0.${i + 1}`] })),
      syncGroups: [
        { name: 'g', instances: ['a', 'b'] },
        { name: 'g', instances: ['c', 'd'] },
      ],
    },
    'syncGroups[1].name: "g" is also the name of syncGroups[0]',
  ],
];

describe('validate refuses what run cannot run', () => {
  it.each(refused)('%s', (_what, document, expected) => {
    expect(errorsOf(document)).toEqual([expected]);
  });

  it('keeps the largest values that do run', () => {
    for (const document of [
      inInstance({ vips: v4(255) }),
      inInstance({ vips: v6(77) }),
      inInstance({ interface: 'abcdefghijklmno', track: { interfaces: [{ name: 'eth0.100' }, { name: 'ééééééé' }] } }),
      inInstance({ version: 2, auth: { type: 'password', password: 'éééé' } }),
      inInstance({ preemptDelay: '2147483647ms' }),
      { global: { reconcileInterval: '100ms', metrics: { listen: '[::1]:65535' }, statusSocket: `/${'s'.repeat(106)}` }, ...inInstance({}) },
    ]) {
      expect(errorsOf(document)).toEqual([]);
    }
  });

  it('warns that the address owner ignores acceptMode: false', () => {
    const result = validateConfig(inInstance({ priority: 255, acceptMode: false }));
    expect(result.ok && result.warnings.map(formatIssue)).toEqual([
      'instances[0].acceptMode: priority 255 (address owner) always accepts packets to the VIPs (RFC 5798 §6.4.3); false has no effect',
    ]);
  });
});

describe('the file run and reload read', () => {
  async function loadError(file: string): Promise<readonly string[]> {
    const error: unknown = await loadConfigFile(file).then(() => undefined, (e: unknown) => e);
    if (!(error instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(error)}`);
    return error.issues;
  }

  it('is refused, not waited on, when it is a FIFO (a reload would never end), and refused when a device or too large', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keepvip-config-file-'));
    try {
      execFileSync('mkfifo', [join(dir, 'pipe.yaml')]);
      expect(await loadError(join(dir, 'pipe.yaml'))).toEqual(['cannot read: refused: is a FIFO, not a regular file']);
      expect(await loadError('/dev/zero')).toEqual(['cannot read: refused: is a character device, not a regular file']);
      writeFileSync(join(dir, 'big.yaml'), `# ${'x'.repeat(MAX_CONFIG_BYTES)}\n`);
      expect(await loadError(join(dir, 'big.yaml'))).toEqual([`cannot read: refused: is ${MAX_CONFIG_BYTES + 3} bytes, more than the ${MAX_CONFIG_BYTES} read from one file`]);
      writeFileSync(join(dir, 'ok.yaml'), `instances:\n  - { name: a, interface: eth0, vrid: 1, vips: [${v4(255).join(', ')}] }\n`);
      expect((await loadConfigFile(join(dir, 'ok.yaml'))).config.instances[0]?.vips).toHaveLength(255);
      writeFileSync(join(dir, 'ok.yaml'), `instances:\n  - { name: a, interface: eth0, vrid: 1, vips: [${v4(256).join(', ')}] }\n`);
      expect(await loadError(join(dir, 'ok.yaml'))).toEqual(['instances[0].vips: 256 addresses; an advert carries at most 255 (RFC 5798 §5.2.5): split them over several instances']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** One runner on fake ports; the Master_Down_Timer's callback is kept to make it Master. */
function runnerFor(spec: ResolvedInstance) {
  const fire: Array<() => void> = [];
  let sent = 0;
  const runner = new InstanceRunner({
    spec,
    sender: { sourceAddress: spec.family === 4 ? '10.0.0.254' : 'fe80::254', send: () => (sent++, { ok: true }) },
    vips: { add: async () => undefined, remove: async () => undefined, list: async () => [], reconcile: async () => ({ added: [], removed: [] }) },
    acceptFilter: { block: async () => undefined, unblock: async () => undefined },
    announcer: { announce: () => undefined, cancel: () => undefined },
    reannouncer: { announce: () => undefined, cancel: () => undefined },
    clock: { now: () => 0, timer: (callback) => (fire.push(callback), { arm: () => undefined, cancel: () => undefined }) },
    log: createLogger({ format: 'json', level: 'error' }),
  });
  return { runner, becomeMaster: () => fire[1]?.(), sent: () => sent };
}

/** Mostly valid values with the edge cases mixed in, so the property sees both sides of every limit. */
const edgeAddress = fc.constantFrom('fe80::1%eth0/64', '224.0.0.18', '0.0.0.0', '::', 'ff02::1', '10.0.0.1/33');
const vipsOf = (family: 4 | 6, offset: number) =>
  fc.oneof(
    { weight: 16, arbitrary: fc.integer({ min: 1, max: family === 4 ? 300 : 90 }).map((n) => (family === 4 ? v4(n, 10 + offset) : v6(n, 10 + offset))) },
    { weight: 1, arbitrary: fc.tuple(fc.constant(family === 4 ? `10.2.0.${offset + 1}/24` : `2001:db8:2::${offset + 1}/64`), edgeAddress).map((pair) => [...pair]) },
    { weight: 1, arbitrary: fc.constant([family === 4 ? `10.3.0.${offset + 1}/24` : `fe80::${offset + 1}/64`, family === 4 ? '2001:db8:3::1/64' : '10.3.1.1/24']) },
  );
const peerOf = (family: 4 | 6) =>
  fc.oneof({ weight: 16, arbitrary: fc.constant(family === 4 ? '10.0.0.9' : 'fe80::9') }, { weight: 1, arbitrary: fc.constantFrom('fe80::9%eth0', '224.0.0.1', family === 4 ? '2001:db8::9' : '10.0.0.9') });

const instanceAt = (index: number) =>
  fc.constantFrom<4 | 6>(4, 6).chain((family) =>
    fc.record({
      name: fc.constant(`vi_${index}`),
      interface: fc.oneof({ weight: 16, arbitrary: fc.constantFrom('eth0', 'eth1', 'abcdefghijklmno') }, { weight: 1, arbitrary: fc.constantFrom('a/b', 'abcdefghijklmnop', '..') }),
      vrid: fc.integer({ min: 1, max: 255 }),
      version: fc.oneof({ weight: 16, arbitrary: fc.constant(family === 4 ? 2 : 3) }, { weight: 1, arbitrary: fc.constantFrom(2, 3) }),
      priority: fc.integer({ min: 1, max: 255 }),
      advertInterval: fc.oneof(
        { weight: 16, arbitrary: family === 4 ? fc.constantFrom('1s', '255s', '2') : fc.constantFrom('10ms', '100ms', '1500ms', '40950ms') },
        { weight: 1, arbitrary: fc.constantFrom('5ms', '1500ms', '256s', '40960ms') },
      ),
      vips: vipsOf(family, index),
      unicastPeers: fc.array(peerOf(family), { maxLength: 2 }),
      v3ChecksumWithoutPseudoHeader: fc.oneof({ weight: 16, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      auth: fc.oneof(
        { weight: 8, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.record({ type: fc.constant('password'), password: fc.constantFrom('x', 'secret12', 'éééé', 'ééééé') }) },
      ),
      track: fc.record({
        interfaces: fc.array(
          fc.record({ name: fc.oneof({ weight: 16, arbitrary: fc.constantFrom('eth2', 'eth0.100', 'ééééééé') }, { weight: 1, arbitrary: fc.constantFrom('a/b', 'abcdefghijklmnop', '..') }) }),
          { maxLength: 1 },
        ),
      }),
    }),
  );
const instancesArb = fc.constantFrom(1, 1, 2, 3).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => instanceAt(i))));

describe('whatever validates, the runner runs', () => {
  it('builds, becomes Master, sends adverts and stops for every valid configuration (seeded)', async () => {
    let valid = 0;
    await fc.assert(
      fc.asyncProperty(instancesArb, async (drafts) => {
        const result = validateConfig({ instances: drafts.map(withoutUndefined) });
        if (!result.ok) return;
        valid++;
        for (const spec of result.config.instances) {
          for (const vip of spec.vips) kernelVip(vip.cidr); // the address manager's parse
          const { runner, becomeMaster, sent } = runnerFor(spec);
          runner.start();
          if (runner.state !== 'Master') becomeMaster();
          expect(runner.state).toBe('Master');
          await runner.stop(); // priority 0
          expect(sent()).toBe(2 * Math.max(1, spec.unicastPeers.length));
        }
      }),
      { seed: 9, numRuns: 400 },
    );
    // The generator must reach valid configurations often enough for the property to mean something.
    expect(valid).toBeGreaterThan(60);
  });
});

function withoutUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}

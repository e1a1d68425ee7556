/** `apply(desired) -> report` on a fake data plane: what the daemon does for each kind of change. */
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emitAdvert } from '@keepvip/vrrp';
import { InstanceSet, planApply, validateConfig, type ApplyReport, type InstanceApplyResult, type ResolvedInstance } from '../src/index.js';
import { captureLogger, FakeDataPlane, ManualClock } from './fake-data-plane.js';

/** A valid instance, VRRPv3 at 100 ms by default. */
function inst(name: string, fields: Record<string, unknown> = {}): ResolvedInstance {
  const r = validateConfig({ instances: [{ name, interface: 'eth0', vrid: 51, priority: 150, advertInterval: '100ms', vips: ['10.0.0.100/24'], ...fields }] });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config.instances[0] as ResolvedInstance;
}

function harness(interfaces?: ConstructorParameters<typeof FakeDataPlane>[0]) {
  const dp = new FakeDataPlane(interfaces);
  const clock = new ManualClock();
  const { logger, lines } = captureLogger();
  const set = new InstanceSet({ dataPlane: dp, clock, log: () => logger });
  const state = (name: string) => set.runners().find((r) => r.name === name)?.state;
  const transitions = (name: string) => set.runners().find((r) => r.name === name)?.counters.transitions;
  /** Lets the queued address operations and the pass run. */
  const settle = async () => {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  };
  return { dp, clock, set, lines, state, transitions, settle };
}

const outcomes = (report: ApplyReport): Array<[string, string]> => (report.ok ? report.instances.map((r) => [r.name, r.outcome]) : [['!', report.errors.join()]]);
const result = (report: ApplyReport, name: string, source?: string): InstanceApplyResult | undefined =>
  report.ok ? report.instances.find((r) => r.name === name && (source === undefined || r.source === source)) : undefined;

/** Starts `specs` and lets them elect themselves Master (no peer on the fake link). */
async function running(h: ReturnType<typeof harness>, specs: ResolvedInstance[], source = 'file') {
  await h.set.apply(source, { instances: specs });
  h.clock.advance(1_000);
  await h.settle();
}

describe('apply: add', () => {
  it('adds an instance: one socket, it starts, and becomes Master on a silent link', async () => {
    const h = harness();
    const report = await h.set.apply('file', { instances: [inst('a')] });
    expect(outcomes(report)).toEqual([['a', 'added']]);
    expect(h.dp.openChannels()).toEqual(['eth0/IPv4']);
    expect(h.state('a')).toBe('Backup');
    h.clock.advance(1_000);
    await h.settle();
    expect(h.state('a')).toBe('Master');
    expect([...(h.dp.held.get('eth0') ?? [])]).toEqual(['10.0.0.100/24']);
  });

  it('instances on one interface share one socket, released with the last of them', async () => {
    const h = harness();
    await running(h, [inst('a'), inst('b', { vrid: 52, vips: ['10.0.0.101/24'] })]);
    expect(h.dp.count('open eth0/IPv4')).toBe(1);
    await h.set.apply('file', { instances: [inst('b', { vrid: 52, vips: ['10.0.0.101/24'] })] });
    expect(h.dp.openChannels()).toEqual(['eth0/IPv4']);
    expect(h.dp.count('releaseVips eth0')).toBe(0);
    expect(h.state('b')).toBe('Master');
    await h.set.apply('file', { instances: [] });
    expect(h.dp.openChannels()).toEqual([]);
    expect(h.dp.count('releaseVips eth0')).toBe(1);
    expect(h.dp.count('closeAnnouncer')).toBe(h.dp.count('openAnnouncer'));
  });

  it('two sources applied at once still open one socket for their interface', async () => {
    const h = harness();
    let open: () => void = () => undefined;
    h.dp.gate = new Promise((r) => (open = r));
    const first = h.set.apply('file', { instances: [inst('a')] });
    const second = h.set.apply('controller', { instances: [inst('b', { vrid: 52, vips: ['10.0.0.101/24'] })] });
    open();
    expect(outcomes(await first)).toEqual([['a', 'added']]);
    expect(outcomes(await second)).toEqual([['a', 'unchanged'], ['b', 'added']]);
    expect(h.dp.count('open eth0/IPv4')).toBe(1);
  });
});

/** Each field that changes in place, and what must then be true on the wire and in the kernel. */
const inPlace: Array<[string, Record<string, unknown>]> = [
  ['vips', { vips: ['10.0.0.100/24', '10.0.0.101/24'] }],
  ['priority', { priority: 200 }],
  ['advertInterval', { advertInterval: '200ms' }],
  ['preempt', { preempt: false }],
  ['preemptDelay', { preemptDelay: '5s' }],
  ['acceptMode', { acceptMode: false }],
  ['downTimerAdverts', { downTimerAdverts: 5 }],
  ['reassertOnLowerPriority', { reassertOnLowerPriority: false }],
  ['unicastPeers', { unicastPeers: ['10.0.0.3'] }],
  ['announce', { announce: { repeat: 2 } }],
  ['track', { track: { interfaces: [{ name: 'eth0', weight: -10 }] } }],
  ['notify', { notify: { master: 'true' } }],
];

describe('apply: changes in place (no transition, no priority-0 advert, same socket)', () => {
  it.each(inPlace)('%s', async (field, change) => {
    const h = harness();
    await running(h, [inst('a')]);
    const advertsBefore = h.dp.adverts.length;
    const report = await h.set.apply('file', { instances: [inst('a', change)] });
    await h.settle();
    expect(result(report, 'a')).toEqual({ name: 'a', source: 'file', outcome: 'changed', fields: [field] });
    expect(h.state('a')).toBe('Master');
    expect(h.transitions('a')).toBe(2); // Initialize -> Backup -> Master, and nothing since
    expect(h.dp.adverts.slice(advertsBefore).filter((a) => a.priority === 0)).toEqual([]);
    expect(h.dp.count('open eth0/IPv4')).toBe(1);
    expect(h.dp.count('close eth0/IPv4')).toBe(0);
    h.clock.advance(1_000);
    await h.settle();
    const last = h.dp.adverts.at(-1);
    if (field === 'vips') {
      expect(last?.addresses).toEqual(['10.0.0.100', '10.0.0.101']);
      expect([...(h.dp.held.get('eth0') ?? [])].sort()).toEqual(['10.0.0.100/24', '10.0.0.101/24']);
      // Announced: the new address only.
      expect(h.dp.calls.filter((c) => c.startsWith('announce')).slice(-1)).toEqual(['announce eth0 10.0.0.101']);
    }
    if (field === 'priority') expect(last?.priority).toBe(200);
    if (field === 'advertInterval') expect(last?.intervalCs).toBe(20);
    if (field === 'unicastPeers') expect(last?.dst).toBe('10.0.0.3');
    if (field === 'acceptMode') expect([...h.dp.blocked]).toEqual(['10.0.0.100/24']);
    if (field === 'track') expect(h.set.runners()[0]?.instance.effectivePriority).toBe(150);
  });

  it('a removed VIP leaves the kernel, the others stay', async () => {
    const h = harness();
    await running(h, [inst('a', { vips: ['10.0.0.100/24', '10.0.0.101/24'] })]);
    await h.set.apply('file', { instances: [inst('a', { vips: ['10.0.0.101/24'] })] });
    await h.settle();
    expect([...(h.dp.held.get('eth0') ?? [])]).toEqual(['10.0.0.101/24']);
    expect(h.state('a')).toBe('Master');
  });

  it('the same desired set again touches nothing', async () => {
    const h = harness();
    await running(h, [inst('a')]);
    const calls = h.dp.calls.length;
    expect(outcomes(await h.set.apply('file', { instances: [inst('a')] }))).toEqual([['a', 'unchanged']]);
    expect(h.dp.calls.length).toBe(calls);
  });

  it('an instance given again as the object running is unchanged without its fields being compared', () => {
    // A controller hands back the objects of the instances its plan did not change (200 on a big node).
    const read = new Set<string | symbol>();
    const spec = new Proxy(inst('a'), {
      get: (target, key, receiver) => (read.add(key), Reflect.get(target, key, receiver)),
      ownKeys: (target) => (read.add('(keys)'), Reflect.ownKeys(target)),
    });
    expect(planApply(new Map([['a', spec]]), [spec]).map((s) => s.kind)).toEqual(['unchanged']);
    expect([...read]).toEqual(['name']);
  });
});

describe('apply: identity changes restart gracefully', () => {
  it.each([
    ['vrid', { vrid: 52 }, 'eth0'],
    ['interface', { interface: 'eth1' }, 'eth1'],
    ['version', { version: 2, advertInterval: '1s' }, 'eth0'],
  ])('%s: priority 0 from the old router first, then the new one starts', async (field, change, ifname) => {
    const h = harness({ eth0: {}, eth1: {} });
    await running(h, [inst('a')]);
    const before = h.dp.adverts.length;
    const report = await h.set.apply('file', { instances: [inst('a', change)] });
    expect(result(report, 'a')).toMatchObject({ outcome: 'restarted', fields: expect.arrayContaining([field]) });
    const sent = h.dp.adverts.slice(before);
    expect(sent[0]).toMatchObject({ ifname: 'eth0', vrid: 51, priority: 0 });
    expect(h.state('a')).toBe('Backup');
    expect(h.dp.openChannels()).toEqual([`${ifname}/IPv4`]);
  });
});

describe('apply: failures stay with their instance', () => {
  const failing: Array<[string, ResolvedInstance, Record<string, Partial<{ v4: undefined; failOpen: string }>>, string, RegExp]> = [
    ['missing interface', inst('bad', { interface: 'nope', vrid: 60, vips: ['10.0.0.160/24'] }), {}, 'ENODEV', /no interface named "nope"/],
    ['no address of its family', inst('bad', { interface: 'eth1', vrid: 60, vips: ['10.0.0.160/24'] }), { eth1: { v4: undefined } }, 'EADDRNOTAVAIL', /eth1 has no primary IPv4 address/],
    ['socket error', inst('bad', { interface: 'eth1', vrid: 60, vips: ['10.0.0.160/24'] }), { eth1: { failOpen: 'EPERM' } }, 'EPERM', /cannot open a VRRP socket on eth1/],
  ];

  it.each(failing)('%s: reported, logged once, counted; the others untouched', async (_what, bad, extra, code, reason) => {
    const h = harness({ eth0: {}, ...extra });
    await running(h, [inst('a')]);
    const calls = h.dp.calls.length;
    const report = await h.set.apply('file', { instances: [inst('a'), bad] });
    expect(result(report, 'a')?.outcome).toBe('unchanged');
    expect(result(report, 'bad')).toMatchObject({ outcome: 'failed', code, reason: expect.stringMatching(reason) });
    expect(h.dp.calls.slice(calls).filter((c) => !c.startsWith('open ') && !c.startsWith('openAnnouncer'))).toEqual([]);
    expect(h.state('a')).toBe('Master');
    // Applied again (a reload, a retry): still failed, but not logged or counted again.
    await h.set.apply('file', { instances: [inst('a'), bad] });
    const logged = h.lines.filter((l) => l['level'] === 'error' && String(l['message']).includes('bad could not start'));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ instance: 'bad', code });
    expect(h.set.failureTotals().get('bad')).toBe(1);
    expect(h.set.failures()).toEqual([expect.objectContaining({ name: 'bad', code })]);
    expect(h.dp.openChannels()).toEqual(['eth0/IPv4']);
  });

  it('a missing interface is retried when it appears, without another apply', async () => {
    const h = harness();
    await running(h, [inst('a')]);
    await h.set.apply('file', { instances: [inst('a'), inst('bad', { interface: 'eth1', vrid: 60 })] });
    expect(h.set.failures()).toHaveLength(1);
    h.dp.createInterface('eth1');
    await h.settle();
    expect(h.set.failures()).toEqual([]);
    expect(h.set.runners().map((r) => r.name).sort()).toEqual(['a', 'bad']);
    expect(h.dp.openChannels().sort()).toEqual(['eth0/IPv4', 'eth1/IPv4']);
  });

  it('a failed instance no longer desired is forgotten (not retried)', async () => {
    const h = harness();
    await h.set.apply('file', { instances: [inst('bad', { interface: 'eth1' })] });
    await h.set.apply('file', { instances: [] });
    expect(h.set.failures()).toEqual([]);
    const opens = h.dp.count('open eth1');
    h.dp.createInterface('eth1');
    await h.settle();
    expect(h.dp.count('open eth1')).toBe(opens);
  });
});

describe('apply: the desired set is the whole truth', () => {
  it('an empty set stops everything gracefully: priority 0, VIPs removed, sockets closed', async () => {
    const h = harness();
    await running(h, [inst('a'), inst('b', { vrid: 52, vips: ['10.0.0.101/24'] })]);
    const before = h.dp.adverts.length;
    const report = await h.set.apply('file', { instances: [] });
    await h.settle();
    expect(outcomes(report).sort()).toEqual([
      ['a', 'removed'],
      ['b', 'removed'],
    ]);
    expect(h.dp.adverts.slice(before).map((a) => [a.vrid, a.priority]).sort()).toEqual([
      [51, 0],
      [52, 0],
    ]);
    expect([...(h.dp.held.get('eth0') ?? [])]).toEqual([]);
    expect(h.dp.openChannels()).toEqual([]);
  });

  it.each([
    ['removed from the desired set', (h: ReturnType<typeof harness>) => h.set.apply('file', { instances: [] })],
    ['stopped with the daemon', (h: ReturnType<typeof harness>) => h.set.close()],
  ])('an instance %s runs its stop and any hooks (STOP)', async (_how, stop) => {
    const dir = mkdtempSync(join(tmpdir(), 'keepvip-apply-notify-'));
    try {
      const log = join(dir, 'hooks');
      const h = harness();
      await running(h, [inst('a', { notify: { stop: `sh -c 'echo stop >> ${log}'`, any: `sh -c 'echo "$*" >> ${log}' any` } })]);
      await stop(h);
      expect(readFileSync(log, 'utf8').split('\n').filter(Boolean).sort()).toEqual(['INSTANCE a BACKUP 150', 'INSTANCE a MASTER 150', 'INSTANCE a STOP 150', 'stop']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sources combine: the controller’s set adds to the file’s, and its empty set removes only its own', async () => {
    const h = harness();
    await running(h, [inst('a')], 'file');
    await h.set.apply('controller', { instances: [inst('k', { vrid: 70, vips: ['10.0.0.170/24'] })] });
    expect(h.set.runners().map((r) => r.name).sort()).toEqual(['a', 'k']);
    const report = await h.set.apply('controller', { instances: [] });
    expect(outcomes(report)).toEqual([
      ['k', 'removed'],
      ['a', 'unchanged'],
    ]);
  });

  it('a name or VRID claimed by two sources fails in the later one, naming the other', async () => {
    const h = harness();
    await running(h, [inst('a')], 'file');
    const report = await h.set.apply('controller', { instances: [inst('a', { vrid: 80 }), inst('k', { vrid: 51 })] });
    expect(result(report, 'a', 'file')?.outcome).toBe('unchanged');
    expect(result(report, 'a', 'controller')).toMatchObject({ outcome: 'failed', code: 'conflict', reason: 'the name "a" is also an instance of source "file"' });
    expect(result(report, 'k')).toMatchObject({ outcome: 'failed', code: 'conflict', reason: 'eth0/IPv4/VRID 51 is also instance a of source "file"' });
    expect(h.set.runners().map((r) => r.spec.vrid)).toEqual([51]);
  });

  it('a burst of ten desired sets: every caller answered, the newest applied, not all ten', async () => {
    const h = harness();
    await running(h, [inst('a')]);
    const passes = () => h.lines.filter((l) => String(l['message']).startsWith('applied:')).length;
    const before = passes();
    const reports = await Promise.all(Array.from({ length: 10 }, (_, i) => h.set.apply('file', { instances: [inst('a', { vips: [`10.0.1.${i + 1}/24`] })] })));
    await h.settle();
    expect(reports.every((r) => r.ok)).toBe(true);
    expect(passes() - before).toBeLessThanOrEqual(2);
    expect(h.set.runners()[0]?.spec.vips.map((v) => v.cidr)).toEqual(['10.0.1.10/24']);
    expect([...(h.dp.held.get('eth0') ?? [])]).toEqual(['10.0.1.10/24']);
  });

  it('shutdown during an apply waits for it, then stops everything; nothing is applied after', async () => {
    const h = harness();
    let open: () => void = () => undefined;
    h.dp.gate = new Promise((r) => (open = r));
    const applying = h.set.apply('file', { instances: [inst('a', { priority: 255 })] });
    await h.settle();
    const closing = h.set.close();
    const late = await h.set.apply('file', { instances: [inst('b', { vrid: 52 })] });
    expect(late).toEqual({ ok: false, errors: ['the daemon is stopping: nothing more is applied'] });
    open();
    expect(outcomes(await applying)).toEqual([['a', 'added']]);
    await closing;
    expect(h.dp.adverts.map((a) => a.priority)).toEqual([255, 0]);
    expect(h.set.runners()).toEqual([]);
    expect(h.dp.openChannels()).toEqual([]);
    expect(h.dp.count('open eth0/IPv4')).toBe(1);
  });

  it('an interface created again with a new index: its instances restart on new sockets', async () => {
    const h = harness();
    await running(h, [inst('a')]);
    h.dp.deleteInterface('eth0');
    h.dp.createInterface('eth0');
    await h.settle();
    expect(h.dp.count('open eth0/IPv4')).toBe(2);
    expect(h.dp.count('close eth0/IPv4')).toBe(1);
    expect(h.set.runners().map((r) => r.name)).toEqual(['a']);
  });
});

describe('adverts no instance takes are counted by reason', () => {
  it('VRID 0 and a VRID with no instance on the socket', async () => {
    const h = harness();
    await running(h, [inst('a')]);
    const advert = (vrid: number) => emitAdvert({ version: 3, type: 1, vrid, priority: 100, advertIntervalCs: 10, addresses: ['10.0.0.200'], authType: 0, authData: new Uint8Array(0) }, { family: 4, src: '10.0.0.9', dst: '224.0.0.18' });
    h.dp.deliver('eth0', 4, advert(52));
    h.dp.deliver('eth0', 4, advert(52));
    const zero = advert(1);
    zero[1] = 0; // the VRID byte: the encoder refuses VRID 0
    h.dp.deliver('eth0', 4, zero);
    h.dp.deliver('eth0', 4, advert(51));
    expect(h.set.channelSnapshots()).toEqual([{ interface: 'eth0', family: 4, dropped: { unknown_vrid: 2, vrid_zero: 1 } }]);
    expect(h.set.runners()[0]?.counters.advertsReceived).toBe(1);
    // Logged, rate-limited: one line per reason.
    expect(h.lines.filter((l) => String(l['message']).startsWith('advert dropped on eth0')).map((l) => l['reason'])).toEqual(['unknown_vrid', 'vrid_zero']);
  });
});

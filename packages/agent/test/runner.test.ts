/** The runner's ordering of data-plane work, with fake ports (narrow unit tests). */
import { describe, expect, it } from '@jest/globals';
import { advertFor, emitAdvert, parseAdvert } from '@keepvip/vrrp';
import { createLogger, InstanceRunner, validateConfig, type ResolvedInstance } from '../src/index.js';
import { captureLogger } from './fake-data-plane.js';

function spec(priority: number, more: Record<string, unknown> = {}): ResolvedInstance {
  const r = validateConfig({ instances: [{ name: 'vi_1', interface: 'eth0', vrid: 51, priority, vips: ['10.0.0.100/24'], ...more }] });
  if (!r.ok) throw new Error('bad spec');
  return r.config.instances[0] as ResolvedInstance;
}

function harness(priority: number, nowMs = 0, clock = { nowMs }, log = createLogger({ format: 'json', level: 'error' })) {
  clock.nowMs = nowMs;
  const events: string[] = [];
  const timers: number[] = [];
  let finishAdd: () => void = () => undefined;
  const runner = new InstanceRunner({
    spec: spec(priority),
    sender: {
      sourceAddress: '10.0.0.2',
      send: () => {
        events.push('advert');
        return { ok: true };
      },
    },
    vips: {
      add: () => new Promise<void>((resolve) => (finishAdd = () => (events.push('address added'), resolve()))),
      remove: async () => void events.push('address removed'),
      list: async () => [],
      reconcile: async () => ({ added: [], removed: [] }),
    },
    acceptFilter: { block: async () => undefined, unblock: async () => undefined },
    announcer: { announce: () => void events.push('announce'), cancel: () => void events.push('cancel') },
    reannouncer: { announce: () => void events.push('reannounce'), cancel: () => undefined },
    clock: { now: () => clock.nowMs, timer: () => ({ arm: (atMs) => void timers.push(atMs), cancel: () => undefined }) },
    log,
  });
  return { runner, events, timers, clock, finishAdd: () => finishAdd() };
}

/** An advert for the harness's instance from another router, as the socket hands it over. */
function advertFrom(runner: InstanceRunner, priority: number, vips = runner.instance.config.vips) {
  const src = '10.0.0.66';
  const config = { ...runner.instance.config, vips };
  const payload = emitAdvert(advertFor(config, priority, config.advertIntervalCs), { family: 4, src, dst: '224.0.0.18' });
  return { src, dst: '224.0.0.18', payload };
}

describe('InstanceRunner', () => {
  it('announces a takeover only once the VIP is on the interface', async () => {
    const h = harness(255); // the address owner becomes Master at once
    h.runner.start();
    await new Promise((r) => setImmediate(r));
    expect(h.events).toEqual(['advert']);
    h.finishAdd();
    await h.runner.settled();
    expect(h.events).toEqual(['advert', 'address added', 'announce']);
  });

  it('cancels pending announcements before removing the VIP, in the order asked', async () => {
    const h = harness(255);
    h.runner.start();
    h.runner.setLink(false); // Master -> Fault: RemoveVips
    await new Promise((r) => setImmediate(r)); // the queued add has started
    h.finishAdd();
    await h.runner.settled();
    expect(h.events.filter((e) => e !== 'advert')).toEqual(['address added', 'announce', 'cancel', 'address removed']);
  });

  it('puts the adverts of instances started at different times on one grid of the interval', () => {
    const early = harness(255, 37);
    const late = harness(255, 480);
    early.runner.start();
    late.runner.start();
    // 1 s interval: both next adverts at t = 1000 ms, not at 1037 and 1480.
    expect(early.timers).toEqual([1000]);
    expect(late.timers).toEqual([1000]);
    // Never sooner than half an interval after now: one advert moves by at most that, once.
    const edge = harness(255, 620);
    edge.runner.start();
    expect(edge.timers).toEqual([2000]);
  });

  it('reconfigured in place: only the new VIP is added and announced, adverts carry the new list', async () => {
    const sent: Uint8Array[] = [];
    const calls: string[] = [];
    const port = (name: string) => ({ announce: (set: string, a: readonly string[]) => void calls.push(`${name} ${set}: ${a.join(' ')}`), cancel: () => undefined });
    const announcers = { announcer: port('announce'), reannouncer: port('reannounce') };
    const runner = new InstanceRunner({
      spec: spec(255),
      sender: { sourceAddress: '10.0.0.2', send: (payload) => (sent.push(payload.slice()), { ok: true }) },
      vips: {
        add: async (cidrs) => void calls.push(`add ${cidrs.join(' ')}`),
        remove: async (cidrs) => void calls.push(`remove ${cidrs.join(' ')}`),
        list: async () => [],
        reconcile: async () => ({ added: [], removed: [] }),
      },
      acceptFilter: { block: async () => undefined, unblock: async () => undefined },
      ...announcers,
      clock: { now: () => 0, timer: () => ({ arm: () => undefined, cancel: () => undefined }) },
      log: createLogger({ format: 'json', level: 'error' }),
    });
    runner.start();
    await runner.settled();
    calls.length = 0;
    const before = sent.length;
    runner.reconfigure(spec(255, { vips: ['10.0.0.100/24', '10.0.0.101/24'] }), announcers, 255);
    await runner.settled();
    expect(calls).toEqual(['add 10.0.0.101/24', 'announce vi_1 10.0.0.101/24: 10.0.0.101']);
    expect(runner.state).toBe('Master');
    const adverts = sent.slice(before).map((bytes) => parseAdvert(bytes, { family: 4, src: '10.0.0.2', dst: '224.0.0.18' }));
    expect(adverts.map((a) => (a.ok ? [a.value.priority, a.value.addresses] : a.error.code))).toEqual([[255, ['10.0.0.100', '10.0.0.101']]]);
  });

  it('answers a flood of lower-priority adverts once per interval with one burst, and counts the rest', async () => {
    const h = harness(255, 10_000);
    h.runner.start();
    await new Promise((r) => setImmediate(r)); // the queued add has started
    h.finishAdd();
    await h.runner.settled();
    h.events.length = 0;
    const forged = advertFrom(h.runner, 50);
    for (let i = 0; i < 1000; i++) h.runner.receive(forged);
    h.clock.nowMs += 1000; // one interval later: one more answer, and the burst may go again
    for (let i = 0; i < 1000; i++) h.runner.receive(forged);
    await h.runner.settled();
    expect(h.events).toEqual(['advert', 'advert', 'reannounce', 'reannounce']);
    expect(h.runner.counters.advertsReceived).toBe(2000);
    expect(h.runner.counters.reassertsSuppressed).toEqual({ advert: 1998, announcement: 0 });
    expect(h.runner.state).toBe('Master');
  });

  it('an advert listing other VIPs is taken, counted, and logged at most once per 10 s with the instance, VRID and state', () => {
    const { logger, lines } = captureLogger();
    const h = harness(100, 0, undefined, logger.child({ instance: 'vi_1', vrid: 51 }));
    h.runner.start();
    const other = advertFrom(h.runner, 150, ['10.0.0.200/24']);
    for (const t of [1000, 2000, 11_000, 12_000]) {
      h.clock.nowMs = t;
      h.runner.receive(other);
    }
    expect(h.runner.state).toBe('Backup');
    expect(h.runner.instance.masterAddress).toBe('10.0.0.66');
    expect(h.runner.counters.advertsMismatched).toEqual(new Map([['address_list_mismatch', 4]]));
    expect(h.runner.counters.advertsDropped.size).toBe(0);
    const logged = lines.filter((l) => l['reason'] === 'address_list_mismatch');
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatchObject({ level: 'warn', instance: 'vi_1', vrid: 51, state: 'Backup', src: '10.0.0.66', addresses: ['10.0.0.200'], suppressed: 0 });
    expect(String(logged[0]?.['message'])).toContain('lists 10.0.0.200, but this instance has 10.0.0.100/24');
    expect(logged[1]).toMatchObject({ suppressed: 1 });
  });
});

/** The runner's ordering of data-plane work, with fake ports (narrow unit tests). */
import { describe, expect, it } from '@jest/globals';
import { createLogger, InstanceRunner, validateConfig, type ResolvedInstance } from '../src/index.js';

function spec(priority: number): ResolvedInstance {
  const r = validateConfig({ instances: [{ name: 'vi_1', interface: 'eth0', vrid: 51, priority, vips: ['10.0.0.100/24'] }] });
  if (!r.ok) throw new Error('bad spec');
  return r.config.instances[0] as ResolvedInstance;
}

function harness(priority: number, nowMs = 0) {
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
    clock: { now: () => nowMs, timer: () => ({ arm: (atMs) => void timers.push(atMs), cancel: () => undefined }) },
    log: createLogger({ format: 'json', level: 'error' }),
  });
  return { runner, events, timers, finishAdd: () => finishAdd() };
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
});


/**
 * LeaderElector with an in-memory Lease and a manual clock (narrow unit test; the real Lease
 * API is exercised in kube-adapter.test.ts): when a follower may take over, when a leader
 * must step down, and optimistic concurrency.
 */
import { describe, expect, it } from '@jest/globals';
import winston from 'winston';
import { LeaderElector, type ElectionClock, type LeaseRecord, type LeaseSpec, type LeaseStore } from '../src/leader-election.js';

const logger = winston.createLogger({ silent: true });

class ManualClock implements ElectionClock {
  private t = 0;
  private timers: { at: number; fire: () => void; live: boolean }[] = [];
  now(): number {
    return this.t;
  }
  wallTime(): Date {
    return new Date(1_800_000_000_000 + this.t);
  }
  setTimeout(fire: () => void, ms: number): { cancel(): void } {
    const timer = { at: this.t + ms, fire, live: true };
    this.timers.push(timer);
    return { cancel: () => (timer.live = false) };
  }
  /** Advances time, firing due timers in order and letting their promises settle. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await settle();
    for (;;) {
      const due = this.timers.filter((x) => x.live && x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.t = due.at;
      due.live = false;
      due.fire();
      await settle();
    }
    this.t = end;
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

class MemoryLease implements LeaseStore {
  record: LeaseRecord | undefined;
  private rv = 0;
  down = false;
  writes = 0;
  async get(): Promise<LeaseRecord | undefined> {
    if (this.down) throw Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' });
    return this.record;
  }
  async create(spec: LeaseSpec): Promise<LeaseRecord> {
    if (this.down) throw new Error('connection refused');
    if (this.record) throw Object.assign(new Error('AlreadyExists'), { code: 409 });
    this.writes++;
    return (this.record = { ...spec, resourceVersion: String(++this.rv) });
  }
  async update(current: LeaseRecord, spec: LeaseSpec): Promise<LeaseRecord> {
    if (this.down) throw new Error('connection refused');
    if (current.resourceVersion !== this.record?.resourceVersion) throw Object.assign(new Error('Conflict'), { code: 409 });
    this.writes++;
    return (this.record = { ...spec, resourceVersion: String(++this.rv) });
  }
  /** Another node renews the Lease, as it would every retry period. */
  renewBy(holder: string): void {
    this.record = { holderIdentity: holder, leaseDurationSeconds: 15, acquireTime: undefined, renewTime: undefined, leaseTransitions: 0, resourceVersion: String(++this.rv) };
  }
}

function elector(identity: string, store: LeaseStore, clock: ManualClock, apiErrors: string[] = []) {
  return new LeaderElector({ identity, store, clock, logger, onApiError: (w) => apiErrors.push(w) });
}

describe('LeaderElector (15 s lease, 10 s renew deadline, 2 s retry)', () => {
  it('creates the Lease when there is none and renews it every retry period', async () => {
    const clock = new ManualClock();
    const store = new MemoryLease();
    const a = elector('node-a', store, clock);
    a.start();
    await clock.advance(0);
    expect(a.isLeader).toBe(true);
    expect(store.record).toMatchObject({ holderIdentity: 'node-a', leaseDurationSeconds: 15, leaseTransitions: 0 });
    await clock.advance(10_000);
    expect(store.writes).toBe(6); // the create, then one renewal per 2 s
    await a.stop();
  });

  it('a follower takes over only after seeing the Lease unchanged for a whole lease duration', async () => {
    const clock = new ManualClock();
    const store = new MemoryLease();
    store.renewBy('node-a');
    const b = elector('node-b', store, clock);
    b.start();
    // node-a keeps renewing for 20 s: node-b never leads.
    for (let t = 0; t < 20_000; t += 2_000) {
      store.renewBy('node-a');
      await clock.advance(2_000);
      expect(b.isLeader).toBe(false);
    }
    // node-a dies (the record stops changing): node-b waits out 15 s of its own clock.
    const diedAt = clock.now();
    let tookOverAt = 0;
    b.onChange((leader) => leader && (tookOverAt = clock.now()));
    await clock.advance(20_000);
    expect(b.isLeader).toBe(true);
    expect(tookOverAt - diedAt).toBeGreaterThanOrEqual(15_000);
    expect(tookOverAt - diedAt).toBeLessThanOrEqual(15_000 + 2_000 + 2_000);
    expect(store.record).toMatchObject({ holderIdentity: 'node-b', leaseTransitions: 1 });
    await b.stop();
  });

  it('a leader that cannot renew steps down after the renew deadline, before anyone may take over', async () => {
    const clock = new ManualClock();
    const store = new MemoryLease();
    const errors: string[] = [];
    const a = elector('node-a', store, clock, errors);
    a.start();
    await clock.advance(0);
    expect(a.isLeader).toBe(true);
    store.down = true;
    const lostAt = clock.now();
    let steppedDownAt = 0;
    a.onChange((leader) => !leader && (steppedDownAt = clock.now()));
    await clock.advance(14_000);
    expect(a.isLeader).toBe(false);
    // After its last renewal: more than 10 s, and before the 15 s another node waits.
    expect(steppedDownAt - lostAt).toBeGreaterThan(10_000);
    expect(steppedDownAt - lostAt).toBeLessThan(15_000);
    expect(errors.filter((e) => e === 'leases:get').length).toBeGreaterThanOrEqual(5);
    // Reachable again, and nobody else took it: it leads again.
    store.down = false;
    await clock.advance(2_000);
    expect(a.isLeader).toBe(true);
    await a.stop();
  });

  it('of two nodes racing for a free Lease, exactly one wins (409 Conflict for the other)', async () => {
    const clock = new ManualClock();
    const store = new MemoryLease();
    store.record = { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: undefined, renewTime: undefined, leaseTransitions: 3, resourceVersion: '0' };
    const errors: string[] = [];
    const a = elector('node-a', store, clock, errors);
    const b = elector('node-b', store, clock, errors);
    a.start();
    b.start();
    await clock.advance(0);
    expect([a.isLeader, b.isLeader].filter(Boolean)).toHaveLength(1);
    expect(errors).toEqual(['leases:update']);
    await clock.advance(30_000);
    expect([a.isLeader, b.isLeader].filter(Boolean)).toHaveLength(1);
    await Promise.all([a.stop(), b.stop()]);
  });

  it('stop() hands the Lease back so a follower takes over at once', async () => {
    const clock = new ManualClock();
    const store = new MemoryLease();
    const a = elector('node-a', store, clock);
    a.start();
    await clock.advance(0);
    const b = elector('node-b', store, clock);
    b.start();
    await clock.advance(4_000);
    expect(b.isLeader).toBe(false);
    await a.stop();
    expect(store.record).toMatchObject({ holderIdentity: '' });
    await clock.advance(2_000);
    expect(b.isLeader).toBe(true);
    await b.stop();
  });

  it('refuses timings where a leader could outlive its lease', () => {
    expect(() => new LeaderElector({ identity: 'x', store: new MemoryLease(), logger, leaseDurationMs: 5_000, renewDeadlineMs: 5_000 })).toThrow(/renewDeadlineMs must be below leaseDurationMs/);
  });
});

describe('LeaderElector with a request that never returns', () => {
  it('gives the hung attempt up after the renew deadline and tries again', async () => {
    const clock = new ManualClock();
    const store = new MemoryLease();
    let hang = true;
    const hanging: LeaseStore = {
      get: () => (hang ? new Promise<never>(() => undefined) : store.get()),
      create: (spec) => store.create(spec),
      update: (current, spec) => store.update(current, spec),
    };
    const a = elector('node-a', hanging, clock);
    a.start();
    await clock.advance(4_000);
    expect(a.isLeader).toBe(false);
    hang = false; // the connection is back; the first request is still hung
    await clock.advance(10_000 + 2_000);
    expect(a.isLeader).toBe(true);
    await a.stop();
  });
});

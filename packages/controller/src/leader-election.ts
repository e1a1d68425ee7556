/**
 * One allocator at a time, elected through a coordination.k8s.io Lease (the algorithm of
 * client-go's leaderelection): the holder renews every retry period; another node takes the
 * Lease over only after it has seen the same record unchanged for a whole lease duration,
 * timed on its own monotonic clock, so wall clocks that disagree cannot elect two leaders.
 * Renewals are the only writes in steady state. VRRP never waits for any of this.
 */
import type winston from 'winston';
import type { Leadership } from './cluster.js';

/** The fields of a Lease the election reads and writes. */
export interface LeaseRecord {
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  readonly acquireTime: Date | undefined;
  readonly renewTime: Date | undefined;
  readonly leaseTransitions: number;
  /** For optimistic concurrency: an update of a stale record fails with 409 Conflict. */
  readonly resourceVersion: string;
}

export type LeaseSpec = Omit<LeaseRecord, 'resourceVersion'>;

/** One named Lease. Rejections carry the HTTP status in `code` (404, 409, ...). */
export interface LeaseStore {
  /** undefined when the Lease does not exist. */
  get(): Promise<LeaseRecord | undefined>;
  create(spec: LeaseSpec): Promise<LeaseRecord>;
  /** Replaces the Lease the record was read as (fails with 409 if it changed since). */
  update(current: LeaseRecord, spec: LeaseSpec): Promise<LeaseRecord>;
}

export interface ElectionClock {
  /** Monotonic milliseconds. */
  now(): number;
  /** Wall-clock time, written into the Lease for people and other tools to read. */
  wallTime(): Date;
  setTimeout(fire: () => void, ms: number): { cancel(): void };
}

export const systemElectionClock: ElectionClock = {
  now: () => performance.now(),
  wallTime: () => new Date(),
  setTimeout(fire, ms) {
    const t = setTimeout(fire, ms);
    return { cancel: () => clearTimeout(t) };
  },
};

export interface LeaderElectorOptions {
  readonly identity: string;
  readonly store: LeaseStore;
  /** How long a silent holder keeps the Lease (default 15 s, client-go's). */
  readonly leaseDurationMs?: number;
  /** A leader that has not renewed for this long steps down (default 10 s). */
  readonly renewDeadlineMs?: number;
  /** Between attempts to acquire or renew (default 2 s). */
  readonly retryPeriodMs?: number;
  readonly clock?: ElectionClock;
  readonly logger: winston.Logger;
  /** Called with `lease:<verb>` on every failed request. */
  readonly onApiError?: (what: string) => void;
}

export class LeaderElector implements Leadership {
  private leader = false;
  private readonly listeners = new Set<(isLeader: boolean) => void>();
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly clock: ElectionClock;
  /** The last record seen and when it was first seen so (our clock). */
  private observed: { record: LeaseRecord; at: number } | undefined;
  private lastRenewAt = 0;
  private inFlight: Promise<void> | undefined;
  private timer: { cancel(): void } | undefined;
  private running = false;

  constructor(private readonly options: LeaderElectorOptions) {
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    this.clock = options.clock ?? systemElectionClock;
    if (!(this.renewDeadlineMs < this.leaseDurationMs)) throw new Error('leader election: renewDeadlineMs must be below leaseDurationMs');
  }

  get isLeader(): boolean {
    return this.leader;
  }

  onChange(listener: (isLeader: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.tick();
  }

  /** Stops trying; a leader hands the Lease back (holder cleared) so another takes over at once. */
  async stop(): Promise<void> {
    this.running = false;
    this.timer?.cancel();
    await this.inFlight;
    if (!this.leader) return;
    this.setLeader(false, 'stopping');
    const current = this.observed?.record;
    if (current === undefined) return;
    try {
      await this.options.store.update(current, { ...current, holderIdentity: '', leaseDurationSeconds: 1, renewTime: this.clock.wallTime() });
    } catch (err) {
      this.options.onApiError?.('leases:update');
      this.options.logger.warn('could not release the allocator Lease; it expires on its own', { error: String(err) });
    }
  }

  /** One attempt per retry period; a hung request never delays the renew-deadline check. */
  private tick(): void {
    if (!this.running) return;
    if (this.leader && this.clock.now() - this.lastRenewAt > this.renewDeadlineMs) {
      this.setLeader(false, `no renewal for ${this.renewDeadlineMs} ms`);
    }
    if (this.inFlight === undefined) {
      // A request hung on a dead connection is given up after the renew deadline, so that
      // the next attempt goes out as soon as the server is back (one that ends later is
      // harmless: an update over a stale resourceVersion fails with 409).
      let giveUp: { cancel(): void } | undefined;
      const attempt = this.tryAcquireOrRenew().catch((err: unknown) => {
        this.options.logger.debug('Lease attempt failed', { error: String(err) });
      });
      const abandoned = new Promise<void>((resolve) => (giveUp = this.clock.setTimeout(resolve, this.renewDeadlineMs)));
      this.inFlight = Promise.race([attempt, abandoned]).finally(() => {
        giveUp?.cancel();
        this.inFlight = undefined;
      });
    }
    this.timer = this.clock.setTimeout(() => this.tick(), this.retryPeriodMs);
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const { store, identity } = this.options;
    const current = await this.call('get', () => store.get());
    const now = this.clock.now();
    const durationSeconds = Math.ceil(this.leaseDurationMs / 1000);
    if (current === undefined) {
      const created = await this.call('create', () =>
        store.create({ holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: this.clock.wallTime(), renewTime: this.clock.wallTime(), leaseTransitions: 0 }),
      );
      this.renewed(created, now);
      return;
    }
    if (this.observed === undefined || !sameRecord(this.observed.record, current)) this.observed = { record: current, at: now };
    const heldByOther = current.holderIdentity !== '' && current.holderIdentity !== identity;
    // The holder's own duration counts: it may run with other settings than ours.
    if (heldByOther && now - this.observed.at < current.leaseDurationSeconds * 1000) {
      if (this.leader) this.setLeader(false, `Lease held by ${current.holderIdentity}`);
      return;
    }
    const mine = current.holderIdentity === identity;
    const updated = await this.call('update', () =>
      store.update(current, {
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: mine ? current.acquireTime : this.clock.wallTime(),
        renewTime: this.clock.wallTime(),
        leaseTransitions: mine ? current.leaseTransitions : current.leaseTransitions + 1,
      }),
    );
    this.renewed(updated, now);
  }

  private renewed(record: LeaseRecord, at: number): void {
    this.observed = { record, at };
    this.lastRenewAt = at;
    if (!this.running) return; // stop() raced this renewal: it releases what we just renewed
    if (!this.leader) this.setLeader(true, 'acquired the Lease');
  }

  private async call<T>(verb: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (err) {
      this.options.onApiError?.(`leases:${verb}`);
      throw err;
    }
  }

  private setLeader(leader: boolean, why: string): void {
    if (this.leader === leader) return;
    this.leader = leader;
    this.options.logger.info(leader ? 'became the allocator' : 'no longer the allocator', { identity: this.options.identity, reason: why });
    for (const l of [...this.listeners]) l(leader);
  }
}

function sameRecord(a: LeaseRecord, b: LeaseRecord): boolean {
  return a.resourceVersion === b.resourceVersion && a.holderIdentity === b.holderIdentity && a.renewTime?.getTime() === b.renewTime?.getTime();
}

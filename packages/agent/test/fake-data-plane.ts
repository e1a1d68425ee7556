/**
 * A data plane that records what the daemon does to it, for table tests of `apply`: sockets
 * opened and closed, adverts sent (decoded), VIPs held, announcements, and interfaces that
 * the test creates, deletes, takes down or breaks. Time is a manual clock.
 */
import { Writable } from 'node:stream';
import winston from 'winston';
import { parseAdvert } from '@keepvip/vrrp';
import type { AdvertChannel, AnnouncePolicy, Clock, DataPlane, LinkState, NatApplyReport, NatBinding, NatBindingsPort, NatFlushFailure, OpenAnnouncer, ReceivedPacket, VipPort } from '../src/index.js';
import { TimerQueue, type Timer } from '../src/timer-queue.js';

export interface FakeInterface {
  ifindex: number;
  up: boolean;
  /** Primary IPv4 / link-local IPv6 address; undefined: the interface has none. */
  v4?: string | undefined;
  v6?: string | undefined;
  /** An errno the next socket opens fail with (a socket error). */
  failOpen?: string | undefined;
}

export interface SentAdvert {
  readonly ifname: string;
  readonly vrid: number;
  readonly priority: number;
  readonly intervalCs: number;
  readonly addresses: readonly string[];
  readonly dst: string;
}

class FakeError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${message} (${code})`);
  }
}

/** Timers on a clock that moves only when the test says so. */
export class ManualClock implements Clock {
  private t = 0;
  private scheduled: { at: number; fire: () => void } | undefined;
  private readonly queue = new TimerQueue({
    now: () => this.t,
    schedule: (delayMs, fire) => {
      const s = { at: this.t + delayMs, fire };
      this.scheduled = s;
      return () => {
        if (this.scheduled === s) this.scheduled = undefined;
      };
    },
  });

  now(): number {
    return this.t;
  }

  timer(fire: () => void): Timer {
    return this.queue.timer(fire);
  }

  /** Moves time on, firing every timer that comes due on the way. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (let s = this.scheduled; s !== undefined && s.at <= end; s = this.scheduled) {
      this.scheduled = undefined;
      this.t = Math.max(this.t, s.at);
      s.fire();
    }
    this.t = end;
  }
}

export class FakeDataPlane implements DataPlane {
  /** Every call in order, as short text: "open eth0/IPv4", "add eth0 10.0.0.100/24", ... */
  readonly calls: string[] = [];
  readonly adverts: SentAdvert[] = [];
  readonly interfaces = new Map<string, FakeInterface>();
  /** VIPs each interface holds now. */
  readonly held = new Map<string, Set<string>>();
  readonly blocked = new Set<string>();
  private readonly receivers = new Map<string, (p: ReceivedPacket) => void>();
  private readonly watchers = new Map<string, Set<(s: LinkState) => void>>();
  private nextIndex = 10;
  /** Resolved by the test to let socket opens proceed (undefined: at once). */
  gate: Promise<void> | undefined;

  constructor(interfaces: Record<string, Partial<FakeInterface>> = { eth0: {} }) {
    for (const [name, i] of Object.entries(interfaces)) this.createInterface(name, i);
  }

  createInterface(name: string, i: Partial<FakeInterface> = {}): void {
    this.interfaces.set(name, { ifindex: this.nextIndex++, up: true, v4: '10.0.0.2', v6: 'fe80::2', ...i });
    this.notify(name);
  }

  deleteInterface(name: string): void {
    this.interfaces.delete(name);
    this.notify(name);
  }

  setUp(name: string, up: boolean): void {
    const i = this.interfaces.get(name);
    if (i !== undefined) i.up = up;
    this.notify(name);
  }

  /** Sockets open now, as "eth0/IPv4". */
  openChannels(): string[] {
    return [...this.receivers.keys()];
  }

  /** Hands a VRRP payload to the socket of that interface and family. */
  deliver(ifname: string, family: 4 | 6, payload: Uint8Array, src = '10.0.0.9'): void {
    this.receivers.get(`${ifname}/IPv${family}`)?.({ src, dst: family === 4 ? '224.0.0.18' : 'ff02::12', payload });
  }

  count(prefix: string): number {
    return this.calls.filter((c) => c.startsWith(prefix)).length;
  }

  async openChannel(options: { ifname: string; family: 4 | 6; onPacket: (p: ReceivedPacket) => void; onError: (m: string) => void }): Promise<AdvertChannel> {
    const { ifname, family } = options;
    const key = `${ifname}/IPv${family}`;
    this.calls.push(`open ${key}`);
    await this.gate;
    const i = this.interfaces.get(ifname);
    if (i === undefined) throw new FakeError('ENODEV', `no interface named "${ifname}"`);
    if (i.failOpen !== undefined) throw new FakeError(i.failOpen, `cannot open a VRRP socket on ${ifname}`);
    const source = family === 4 ? i.v4 : i.v6;
    if (source === undefined) throw new FakeError('EADDRNOTAVAIL', `${ifname} has no ${family === 4 ? 'primary IPv4' : 'usable IPv6 link-local'} address`);
    if (this.receivers.has(key)) throw new Error(`a second socket for ${key}`);
    this.receivers.set(key, options.onPacket);
    return {
      sourceAddress: source,
      send: (payload, dst) => {
        const parsed = parseAdvert(payload, { family, src: source, dst });
        if (!parsed.ok) throw new Error(`sent an advert that does not parse: ${parsed.error.code}`);
        const a = parsed.value;
        this.adverts.push({ ifname, vrid: a.vrid, priority: a.priority, intervalCs: a.advertIntervalCs, addresses: a.addresses, dst });
        return { ok: true };
      },
      dropped: () => ({}),
      close: () => {
        this.calls.push(`close ${key}`);
        this.receivers.delete(key);
      },
    };
  }

  vips(ifname: string): VipPort {
    const held = (): Set<string> => {
      let set = this.held.get(ifname);
      if (set === undefined) this.held.set(ifname, (set = new Set()));
      return set;
    };
    return {
      add: async (cidrs) => {
        this.calls.push(`add ${ifname} ${cidrs.join(' ')}`);
        for (const c of cidrs) held().add(c);
      },
      remove: async (cidrs) => {
        this.calls.push(`remove ${ifname} ${cidrs.join(' ')}`);
        for (const c of cidrs) held().delete(c);
      },
      list: async () => [...held()],
      reconcile: async (desired) => {
        const set = held();
        const added = desired.filter((d) => !set.has(d));
        const removed = [...set].filter((h) => !desired.includes(h));
        for (const a of added) set.add(a);
        for (const r of removed) set.delete(r);
        return { added, removed };
      },
    };
  }

  releaseVips(ifname: string): void {
    this.calls.push(`releaseVips ${ifname}`);
  }

  async openAnnouncer(ifname: string, policy: AnnouncePolicy): Promise<OpenAnnouncer> {
    if (!this.interfaces.has(ifname)) throw new FakeError('ENODEV', `no interface named "${ifname}"`);
    const label = `${ifname} repeat=${policy.repeat} delay=${policy.delayMs}`;
    this.calls.push(`openAnnouncer ${label}`);
    return {
      announce: (set, addresses) => void this.calls.push(`announce ${ifname} ${addresses.join(' ')}`),
      cancel: () => undefined,
      close: () => void this.calls.push(`closeAnnouncer ${label}`),
    };
  }

  async watchLink(ifname: string, onChange: (s: LinkState) => void): Promise<() => void> {
    const set = this.watchers.get(ifname) ?? new Set();
    this.watchers.set(ifname, set);
    set.add(onChange);
    onChange(this.linkState(ifname));
    return () => set.delete(onChange);
  }

  readonly acceptFilter = {
    block: async (cidrs: readonly string[]) => void cidrs.forEach((c) => this.blocked.add(c)),
    unblock: async (cidrs: readonly string[]) => void cidrs.forEach((c) => this.blocked.delete(c)),
    reset: async () => this.blocked.clear(),
    remove: async () => this.blocked.clear(),
  };

  announceCounters() {
    return [];
  }

  releaseFreeMemory(): void {}

  async close(): Promise<void> {
    this.calls.push('close data plane');
  }

  private linkState(ifname: string): LinkState {
    const i = this.interfaces.get(ifname);
    return { up: i?.up ?? false, ifindex: i?.ifindex ?? 0 };
  }

  private notify(ifname: string): void {
    for (const w of this.watchers.get(ifname) ?? []) w(this.linkState(ifname));
  }
}

/**
 * NAT bindings that record each set the "kernel" took, into the data plane's call list, as
 * "nat 10.0.0.100 TCP 80 -> 10.1.0.1:8080 10.1.0.2:8080" (one binding per line part, "nat -"
 * for the empty set) once it is in. A port outside 1-65535 is a problem, as the real one says.
 */
export class FakeNatBindings implements NatBindingsPort {
  /** What the kernel holds now. */
  installed: readonly NatBinding[] = [];
  /** Every apply waits for this (undefined: at once). */
  gate: Promise<void> | undefined;
  /** While set, every apply rejects with this message (nft failing). */
  fail: string | undefined;

  constructor(private readonly calls: string[]) {}

  static describe(bindings: readonly NatBinding[]): string {
    if (bindings.length === 0) return 'nat -';
    return `nat ${bindings.map((b) => `${b.vip} ${b.protocol} ${b.port} -> ${b.endpoints.map((e) => `${e.address}:${e.port}`).join(' ')}`).join(', ')}`;
  }

  /** What the next applies report as conntrack deletions that failed (as the real port would, after committing). */
  conntrackFailures: NatFlushFailure[] = [];

  /** Sets the "kernel" took. */
  applies = 0;
  /** `check` calls, and while `checkFail` is set each rejects with it. */
  checks = 0;
  checkFail: string | undefined;

  async apply(desired: readonly NatBinding[]): Promise<NatApplyReport> {
    await this.gate;
    if (this.fail !== undefined) throw new Error(this.fail);
    this.installed = [...desired];
    this.applies++;
    this.calls.push(FakeNatBindings.describe(desired));
    return { conntrackDeleted: 0, conntrackFailures: this.conntrackFailures };
  }

  async check(): Promise<NatApplyReport> {
    this.checks++;
    if (this.checkFail !== undefined) throw new Error(this.checkFail);
    return { conntrackDeleted: 0, conntrackFailures: [] };
  }

  async remove(): Promise<void> {
    this.installed = [];
    this.calls.push('nat remove');
  }

  /** How many bindings `problems` has checked. */
  checked = 0;

  problems(desired: readonly NatBinding[]): string[] {
    this.checked += desired.length;
    return desired.flatMap((b, i) => (Number.isInteger(b.port) && b.port >= 1 && b.port <= 65_535 ? [] : [`bindings[${i}].port: ${b.port} is not a port (1-65535)`]));
  }
}

/** A logger whose lines the test reads (JSON objects). */
export function captureLogger(): { logger: winston.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const logger = winston.createLogger({ level: 'debug', format: winston.format.json(), transports: [new winston.transports.Stream({ stream })] });
  return { logger, lines };
}

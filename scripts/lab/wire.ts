/**
 * VRRP adverts and gratuitous ARPs for a VIP as tcpdump sees them on one interface of the lab
 * (the switch's br0, or a node's eth0), with kernel timestamps: what the wire says, apart
 * from what the daemons log.
 */
import type { ChildProcess } from 'node:child_process';
import type { Lab } from './lab.ts';

export interface Frame {
  /** Kernel capture time, ms since the epoch. */
  readonly t: number;
  readonly srcMac: string;
  readonly kind: 'advert' | 'garp';
  /** Adverts only. */
  readonly priority: number | undefined;
  /** Adverts only. */
  readonly vrid?: number;
}

export interface WireOptions {
  readonly ns: string;
  readonly iface: string;
  readonly vip: string;
  /** A tcpdump filter; by default every VRRP packet and ARP frame. */
  readonly filter?: string;
}

/** Calls `onLine` with each complete line a child writes on a stream. */
export function eachLine(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  let partial = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  });
}

export class Wire {
  readonly frames: Frame[] = [];
  private readonly child: ChildProcess;
  private readonly garp: RegExp;
  private readonly exited: Promise<void>;
  private waiters: Array<(f: Frame) => void> = [];
  private listening: Promise<void>;

  constructor(lab: Lab, options: WireOptions) {
    const vip = options.vip.replaceAll('.', '\\.');
    // A gratuitous ARP request (target MAC shown when not zero) or reply.
    this.garp = new RegExp(`Request who-has ${vip} (\\([0-9a-f:]+\\) )?tell ${vip},|Reply ${vip} is-at`);
    const filter = options.filter ?? 'ip proto 112 or arp';
    this.child = lab.spawn(options.ns, ['tcpdump', '--immediate-mode', '-l', '-n', '-e', '-tt', '-i', options.iface, filter]);
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.listening = new Promise((resolve, reject) => {
      eachLine(this.child.stderr, (line) => {
        if (line.includes('listening on')) resolve();
      });
      void this.exited.then(() => reject(new Error(`tcpdump on ${options.iface} in ${options.ns} exited`)));
    });
    eachLine(this.child.stdout, (line) => {
      const frame = this.parse(line);
      if (frame === undefined) return;
      this.frames.push(frame);
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w(frame);
    });
  }

  /** Resolves once tcpdump captures. */
  ready(): Promise<void> {
    return this.listening;
  }

  private parse(line: string): Frame | undefined {
    const head = /^(\d+\.\d+) ([0-9a-f:]{17}) > /.exec(line);
    if (head === null) return undefined;
    const t = Number(head[1]) * 1000;
    const srcMac = head[2] ?? '';
    const advert = /VRRPv\d, Advertisement, vrid (\d+), prio (\d+)/.exec(line);
    if (advert !== null) return { t, srcMac, kind: 'advert', priority: Number(advert[2]), vrid: Number(advert[1]) };
    if (this.garp.test(line)) return { t, srcMac, kind: 'garp', priority: undefined };
    return undefined;
  }

  /** The next advert from `mac` captured from now on. */
  nextAdvert(mac: string, timeoutMs: number): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no advert from ${mac} within ${timeoutMs} ms`)), timeoutMs);
      const wait = (f: Frame): void => {
        if (f.kind === 'advert' && f.srcMac === mac) {
          clearTimeout(timer);
          resolve(f);
        } else this.waiters.push(wait);
      };
      this.waiters.push(wait);
    });
  }

  /** The last advert from `mac` at or before `t`. */
  lastAdvert(mac: string, t: number): Frame | undefined {
    return this.frames.filter((f) => f.kind === 'advert' && f.srcMac === mac && f.t <= t).at(-1);
  }

  /** The first frame of a kind from `mac` after `t`. */
  first(kind: Frame['kind'], mac: string, t: number): Frame | undefined {
    return this.frames.find((f) => f.kind === kind && f.srcMac === mac && f.t > t);
  }

  /** Frames of a kind from `mac` captured in [from, to]. */
  count(kind: Frame['kind'], mac: string, from: number, to: number): number {
    return this.frames.filter((f) => f.kind === kind && f.srcMac === mac && f.t >= from && f.t <= to).length;
  }

  /** Stops tcpdump after it has written what it captured (SIGTERM flushes it). */
  async stop(): Promise<void> {
    if (this.child.pid !== undefined && this.child.exitCode === null) process.kill(this.child.pid, 'SIGTERM');
    await this.exited;
  }
}

/**
 * TCP segments on one interface of the lab as tcpdump sees them (kernel timestamps, MACs):
 * what a dead Master's connection's packets meet after the failover (a reset, or nothing).
 */
import type { ChildProcess } from 'node:child_process';
import type { Lab } from './lab.ts';
import { eachLine } from './wire.ts';

export interface Segment {
  /** Kernel capture time, ms since the epoch. */
  readonly t: number;
  readonly srcMac: string;
  readonly dstMac: string;
  readonly src: string;
  readonly sport: number;
  readonly dst: string;
  readonly dport: number;
  /** tcpdump's flags: `S`, `S.`, `.`, `P.`, `F.`, `R`, `R.`. */
  readonly flags: string;
}

const LINE = /^(\d+\.\d+) ([0-9a-f:]{17}) > ([0-9a-f:]{17}), .*?: (\d+\.\d+\.\d+\.\d+)\.(\d+) > (\d+\.\d+\.\d+\.\d+)\.(\d+): Flags \[([^\]]*)\]/;

export function parseSegment(line: string): Segment | undefined {
  const m = LINE.exec(line);
  if (m === null) return undefined;
  return { t: Number(m[1]) * 1000, srcMac: m[2] as string, dstMac: m[3] as string, src: m[4] as string, sport: Number(m[5]), dst: m[6] as string, dport: Number(m[7]), flags: m[8] as string };
}

export class TcpWire {
  readonly segments: Segment[] = [];
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  private readonly listening: Promise<void>;

  constructor(lab: Lab, options: { readonly ns: string; readonly iface: string; readonly filter: string }) {
    this.child = lab.spawn(options.ns, ['tcpdump', '--immediate-mode', '-l', '-n', '-e', '-tt', '-i', options.iface, options.filter]);
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.listening = new Promise((resolve, reject) => {
      eachLine(this.child.stderr, (line) => line.includes('listening on') && resolve());
      void this.exited.then(() => reject(new Error(`tcpdump on ${options.iface} in ${options.ns} exited`)));
    });
    eachLine(this.child.stdout, (line) => {
      const s = parseSegment(line);
      if (s !== undefined) this.segments.push(s);
    });
  }

  ready(): Promise<void> {
    return this.listening;
  }

  /** The segments of one connection (either direction), by the client's address and port. */
  connection(client: string, port: number): Segment[] {
    return this.segments.filter((s) => (s.src === client && s.sport === port) || (s.dst === client && s.dport === port));
  }

  async stop(): Promise<void> {
    if (this.child.pid !== undefined && this.child.exitCode === null) process.kill(this.child.pid, 'SIGTERM');
    await this.exited;
  }
}

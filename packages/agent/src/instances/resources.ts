/**
 * What the instances of one interface share: the VRRP socket of each family (adverts handed
 * to the instance of their VRID), an announcer per GARP policy, and the address socket. Opened on first use,
 * shared, closed when the last instance using it is released; a second acquire while the
 * first is still opening waits for it, so one interface never gets two sockets.
 */
import type { ResolvedInstance } from '../config/validate.js';
import { announcePolicy, reassertPolicy, type InstanceAnnouncers, type InstanceRunner } from '../instance/runner.js';
import { RateLimitedLog, type Logger } from '../logging.js';
import type { ChannelSnapshot } from '../observe/snapshot.js';
import type { AdvertChannel, AnnouncePolicy, Clock, DataPlane, OpenAnnouncer, VipPort } from '../ports.js';

/** Why the dispatcher dropped an advert no instance saw (metric labels). */
export const DispatchDropReason = {
  /** RFC 5798 §5.2.3: VRID 0 is not a valid virtual router. */
  vridZero: 'vrid_zero',
  /** No instance of ours on this interface and family has the VRID (another group's router). */
  unknownVrid: 'unknown_vrid',
} as const;
export type DispatchDropReason = (typeof DispatchDropReason)[keyof typeof DispatchDropReason];

export interface ChannelEntry {
  readonly ifname: string;
  readonly family: 4 | 6;
  readonly channel: AdvertChannel;
  /** The instances on this interface and family, by VRID. */
  readonly byVrid: Map<number, InstanceRunner>;
  readonly dispatchDropped: Map<DispatchDropReason, number>;
}

interface Shared<T> {
  readonly opening: Promise<T>;
  refs: number;
}

export interface ResourcesDeps {
  readonly dataPlane: DataPlane;
  readonly clock: Clock;
  readonly log: () => Logger;
}

const channelKey = (ifname: string, family: 4 | 6): string => `${ifname}/IPv${family}`;
const announcerKey = (ifname: string, policy: AnnouncePolicy): string => `${ifname} ${policy.repeat}/${policy.intervalMs}/${policy.delayMs}/${policy.refreshMs}`;

export class InterfaceResources {
  private readonly channels = new Map<string, Shared<ChannelEntry>>();
  private readonly announcers = new Map<string, Shared<OpenAnnouncer>>();
  /** Instances using each interface's address socket. */
  private readonly vipUsers = new Map<string, number>();
  /** The channels open now, for snapshots. */
  private readonly open = new Map<string, ChannelEntry>();
  /** Adverts dropped by the dispatcher, kept when their socket closes: the counters never go back. */
  private readonly closedDrops = new Map<string, Map<DispatchDropReason, number>>();
  private readonly dropLog = new RateLimitedLog(60_000);

  constructor(private readonly deps: ResourcesDeps) {}

  acquireChannel(ifname: string, family: 4 | 6): Promise<ChannelEntry> {
    return acquire(this.channels, channelKey(ifname, family), () => this.openChannel(ifname, family));
  }

  releaseChannel(ifname: string, family: 4 | 6): void {
    const key = channelKey(ifname, family);
    release(this.channels, key, (entry) => {
      this.closedDrops.set(key, new Map(entry.dispatchDropped));
      this.open.delete(key);
      entry.channel.close();
    });
  }

  /** The interface's VIPs (its address socket, shared and counted like the others). */
  acquireVips(ifname: string): VipPort {
    this.vipUsers.set(ifname, (this.vipUsers.get(ifname) ?? 0) + 1);
    return this.deps.dataPlane.vips(ifname);
  }

  releaseVips(ifname: string): void {
    const users = (this.vipUsers.get(ifname) ?? 0) - 1;
    if (users > 0) {
      this.vipUsers.set(ifname, users);
      return;
    }
    this.vipUsers.delete(ifname);
    this.deps.dataPlane.releaseVips(ifname);
  }

  /** The takeover announcer and the re-assertion one for this instance's GARP policy. */
  async acquireAnnouncers(spec: ResolvedInstance): Promise<InstanceAnnouncers> {
    const open = (policy: AnnouncePolicy) => acquire(this.announcers, announcerKey(spec.interface, policy), () => this.deps.dataPlane.openAnnouncer(spec.interface, policy));
    const announcer = await open(announcePolicy(spec));
    try {
      return { announcer, reannouncer: await open(reassertPolicy(spec)) };
    } catch (error) {
      release(this.announcers, announcerKey(spec.interface, announcePolicy(spec)), (a) => a.close());
      throw error;
    }
  }

  releaseAnnouncers(spec: ResolvedInstance): void {
    for (const policy of [announcePolicy(spec), reassertPolicy(spec)]) release(this.announcers, announcerKey(spec.interface, policy), (a) => a.close());
  }

  /** Open channels with their socket's and the dispatcher's drops, and closed ones' dispatcher drops. */
  channelSnapshots(): ChannelSnapshot[] {
    const out = new Map<string, ChannelSnapshot>();
    for (const [key, drops] of this.closedDrops) {
      const [ifname = key, family] = key.split('/IPv');
      out.set(key, { interface: ifname, family: family === '6' ? 6 : 4, dropped: Object.fromEntries(drops) });
    }
    for (const [key, entry] of this.open) {
      const dropped: Record<string, number> = { ...entry.channel.dropped() };
      for (const [reason, n] of entry.dispatchDropped) dropped[reason] = n;
      out.set(key, { interface: entry.ifname, family: entry.family, dropped });
    }
    return [...out.values()];
  }

  /** Everything still open (the daemon is stopping: its instances are gone). */
  async closeAll(): Promise<void> {
    for (const shared of this.channels.values()) (await shared.opening.catch(() => undefined))?.channel.close();
    for (const shared of this.announcers.values()) (await shared.opening.catch(() => undefined))?.close();
    for (const ifname of this.vipUsers.keys()) this.deps.dataPlane.releaseVips(ifname);
    this.channels.clear();
    this.announcers.clear();
    this.open.clear();
    this.vipUsers.clear();
  }

  private async openChannel(ifname: string, family: 4 | 6): Promise<ChannelEntry> {
    const key = channelKey(ifname, family);
    const byVrid = new Map<number, InstanceRunner>();
    // A socket opened again (the interface came back) counts on from where the last one stopped.
    const dispatchDropped = new Map(this.closedDrops.get(key) ?? []);
    this.closedDrops.delete(key);
    const channel = await this.deps.dataPlane.openChannel({
      ifname,
      family,
      onPacket: (packet) => {
        // Byte 1 of every VRRP message is the VRID; the instance parses the rest.
        const vrid = packet.payload[1] ?? 0;
        const runner = vrid === 0 ? undefined : byVrid.get(vrid);
        if (runner !== undefined) {
          runner.receive(packet);
          return;
        }
        const reason = vrid === 0 ? DispatchDropReason.vridZero : DispatchDropReason.unknownVrid;
        dispatchDropped.set(reason, (dispatchDropped.get(reason) ?? 0) + 1);
        const suppressed = this.dropLog.shouldLog(`${key} ${reason}`, this.deps.clock.now());
        if (suppressed !== undefined) {
          this.deps.log().info(`advert dropped on ${ifname} (IPv${family}): ${reason}`, { iface: ifname, family: `IPv${family}`, vrid, src: packet.src, reason, suppressed });
        }
      },
      onError: (message) => this.deps.log().error(`VRRP socket on ${ifname} (IPv${family}): ${message}`, { iface: ifname, family: `IPv${family}` }),
    });
    const entry = { ifname, family, channel, byVrid, dispatchDropped };
    this.open.set(key, entry);
    return entry;
  }
}

async function acquire<T>(map: Map<string, Shared<T>>, key: string, open: () => Promise<T>): Promise<T> {
  let shared = map.get(key);
  if (shared === undefined) {
    const opening = open();
    const fresh: Shared<T> = { opening, refs: 0 };
    shared = fresh;
    map.set(key, fresh);
    // A failed open is forgotten, so the next acquire tries again.
    opening.catch(() => {
      if (map.get(key) === fresh) map.delete(key);
    });
  }
  shared.refs++;
  try {
    return await shared.opening;
  } catch (error) {
    shared.refs--;
    throw error;
  }
}

function release<T>(map: Map<string, Shared<T>>, key: string, close: (value: T) => void): void {
  const shared = map.get(key);
  if (shared === undefined) return;
  shared.refs--;
  if (shared.refs > 0) return;
  map.delete(key);
  void shared.opening.then(close, () => undefined);
}

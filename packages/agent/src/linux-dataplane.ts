/**
 * The real data plane: the agent's ports over @keepvip/linux. The only file of the agent
 * that imports it.
 */
import { AcceptFilter, AddressManager, AdvertSocket, InvalidArgumentError, LinkWatcher, NatBindings, NeighborAnnouncer, releaseFreeMemory, validateBindings, vipKey } from '@keepvip/linux';
import { messageOf } from './instances/failures.js';
import type { AnnouncePolicy, DataPlane, NatBindingsPort, OpenAnnouncer, VipPort } from './ports.js';

interface Sent {
  arpSent: number;
  naSent: number;
  sendErrors: number;
}

export function createLinuxDataPlane(): DataPlane {
  const managers = new Map<string, AddressManager>();
  /** Open announcers by interface, for their counters. */
  const opened = new Map<string, Set<NeighborAnnouncer>>();
  /** What announcers closed since sent, by interface: the counters never go back. */
  const closedSent = new Map<string, Sent>();
  const watchers = new Set<LinkWatcher>();

  const manager = (ifname: string): AddressManager => {
    let m = managers.get(ifname);
    if (m === undefined) {
      m = new AddressManager({ ifname });
      managers.set(ifname, m);
    }
    return m;
  };

  return {
    acceptFilter: new AcceptFilter(),

    async openChannel({ ifname, family, onPacket, onError }) {
      const socket = await AdvertSocket.open({ ifname, family });
      // The packet as it is (no copy per advert); its payload is valid during this call only.
      socket.on('advert', onPacket);
      socket.on('receiveError', (e) => onError(e.message));
      return {
        sourceAddress: socket.source,
        send: (payload, dst) => socket.send(payload, dst),
        dropped: () => {
          const c = socket.counters();
          // Lost before we could read them: the kernel's count for the socket, as a reason of its own.
          return { ...c.dropped, receive_buffer_overflow: c.receiveOverflows };
        },
        close: () => socket.close(),
      };
    },

    vips(ifname): VipPort {
      const m = manager(ifname);
      return {
        async add(cidrs) {
          for (const cidr of cidrs) await m.add(cidr);
        },
        async remove(cidrs) {
          for (const cidr of cidrs) await m.remove(cidr);
        },
        async list() {
          return (await m.list()).map(vipKey);
        },
        async reconcile(desired) {
          const r = await m.reconcile(desired);
          return { added: r.added.map(vipKey), removed: r.removed.map(vipKey) };
        },
      };
    },

    async openAnnouncer(ifname, policy: AnnouncePolicy): Promise<OpenAnnouncer> {
      const announcer = await NeighborAnnouncer.open({
        ifname,
        policy: { repeat: policy.repeat, intervalMs: policy.intervalMs, delayMs: policy.delayMs, refreshMs: policy.refreshMs },
      });
      const set = opened.get(ifname) ?? new Set<NeighborAnnouncer>();
      set.add(announcer);
      opened.set(ifname, set);
      return {
        announce: (setId, addresses) => announcer.announce(setId, addresses),
        cancel: (setId) => announcer.cancel(setId),
        close: () => {
          if (!set.delete(announcer)) return;
          const c = announcer.counters();
          const sum = closedSent.get(ifname) ?? { arpSent: 0, naSent: 0, sendErrors: 0 };
          closedSent.set(ifname, { arpSent: sum.arpSent + c.arpSent, naSent: sum.naSent + c.naSent, sendErrors: sum.sendErrors + c.sendErrors });
          announcer.close();
        },
      };
    },

    async watchLink(ifname, onChange) {
      const watcher = new LinkWatcher({ ifname });
      watcher.on('carrier', (state) => onChange({ up: state.carrier, ifindex: state.ifindex }));
      watchers.add(watcher);
      const initial = await watcher.start();
      onChange({ up: initial.carrier, ifindex: initial.ifindex });
      return () => {
        watcher.stop();
        watchers.delete(watcher);
      };
    },

    releaseVips(ifname) {
      managers.get(ifname)?.close();
      managers.delete(ifname);
    },

    announceCounters() {
      const ifnames = new Set([...opened.keys(), ...closedSent.keys()]);
      return [...ifnames].map((ifname) => {
        const set = opened.get(ifname) ?? new Set<NeighborAnnouncer>();
        const sum = { ifname, arpSent: 0, naSent: 0, sendErrors: 0, ...closedSent.get(ifname) };
        for (const a of set) {
          const c = a.counters();
          sum.arpSent += c.arpSent;
          sum.naSent += c.naSent;
          sum.sendErrors += c.sendErrors;
        }
        return sum;
      });
    },

    releaseFreeMemory() {
      releaseFreeMemory();
    },

    async close() {
      for (const w of watchers) w.stop();
      watchers.clear();
      for (const set of opened.values()) for (const a of set) a.close();
      opened.clear();
      for (const m of managers.values()) m.close();
      managers.clear();
    },
  };
}

/** The host's NAT bindings: nftables table `inet keepvip_nat` (see @keepvip/linux NatBindings). */
export function createLinuxNatBindings(): NatBindingsPort {
  const nat = new NatBindings();
  const reported = (report: Awaited<ReturnType<NatBindings['apply']>>) => ({
    conntrackDeleted: report.conntrackDeleted,
    conntrackFailures: report.conntrackFailures.map((f) => ({ vip: f.vip, protocol: f.protocol, port: f.port, message: messageOf(f.error) })),
  });
  return {
    apply: async (desired) => reported(await nat.apply(desired)),
    check: async () => reported(await nat.check()),
    remove: async () => {
      await nat.remove();
    },
    problems: (desired) => {
      try {
        validateBindings(desired);
        return [];
      } catch (error) {
        if (!(error instanceof InvalidArgumentError)) throw error;
        // The first line says nothing was applied; the rest are the problems.
        return error.message.split('\n').slice(1).map((line) => line.trim());
      }
    },
  };
}

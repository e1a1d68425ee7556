/**
 * The keepvip daemon: runs the configured instances on the data plane, answers the control
 * socket, reloads without disturbing unchanged instances, and shuts down gracefully.
 */
import { readFile } from 'node:fs/promises';
import { formatIssue, parseConfigText, type ResolvedConfig, type ResolvedInstance } from './config/validate.js';
import { ControlServer } from './control/server.js';
import type { InstanceStatus, ReloadReport, StatusReport } from './control/protocol.js';
import { announcePolicy, InstanceRunner, reassertPolicy } from './instance/runner.js';
import { LinkRegistry } from './link-registry.js';
import { createLogger, type Logger } from './logging.js';
import { Notifier } from './notify/notifier.js';
import { monotonicClock, type AdvertChannel, type Clock, type DataPlane } from './ports.js';
import { InstanceTracker } from './track/instance-tracker.js';
import type { ObservabilityServer } from './observe/http-server.js';
import type { DaemonSnapshot, InstanceSnapshot } from './observe/snapshot.js';
import { SyncGroups } from './sync-groups.js';

export class ConfigError extends Error {
  readonly code = 'invalid_config';
  constructor(
    readonly file: string,
    readonly issues: readonly string[],
  ) {
    super(`${file} is not a valid keepvip configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

export async function loadConfigFile(file: string): Promise<{ config: ResolvedConfig; warnings: string[] }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [`cannot read: ${error instanceof Error ? error.message : String(error)}`]);
  }
  const result = parseConfigText(text);
  if (!result.ok) throw new ConfigError(file, result.errors.map(formatIssue));
  return { config: result.config, warnings: result.warnings.map(formatIssue) };
}

export interface DaemonOptions {
  readonly configFile: string;
  readonly dataPlane: DataPlane;
  /** Overrides the config's global.statusSocket. */
  readonly statusSocket?: string;
  readonly clock?: Clock;
  /** Overrides the config's log settings (tests, CLI flags). */
  readonly logger?: Logger;
}

interface ChannelEntry {
  readonly channel: AdvertChannel;
  readonly family: 4 | 6;
  /** Instances on this interface and family, by VRID. */
  readonly byVrid: Map<number, InstanceRunner>;
}

const channelKey = (ifname: string, family: 4 | 6): string => `${ifname}/IPv${family}`;

export class Daemon {
  private config: ResolvedConfig | undefined;
  private log: Logger;
  private readonly clock: Clock;
  private readonly runners = new Map<string, InstanceRunner>();
  private readonly extras = new Map<
    string,
    { tracker: InstanceTracker; notifier: Notifier; unsubscribeLink: () => void; scriptResults: Map<string, Map<string, number>> }
  >();
  private observability: ObservabilityServer | undefined;
  private readonly channels = new Map<string, ChannelEntry>();
  private readonly links: LinkRegistry;
  private syncGroups = new SyncGroups([], () => undefined, () => undefined);
  private control: ControlServer | undefined;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private reloading: Promise<ReloadReport> | undefined;

  constructor(private readonly options: DaemonOptions) {
    this.clock = options.clock ?? monotonicClock;
    this.log = options.logger ?? createLogger({ format: 'json', level: 'info' });
    this.links = new LinkRegistry(options.dataPlane, (ifname, up) => this.log.info(`link ${ifname} ${up ? 'up' : 'down'}`, { iface: ifname }));
  }

  /** Loads the config (throws ConfigError, holding nothing), purges stale VIPs, starts everything. */
  async start(): Promise<void> {
    const { config, warnings } = await loadConfigFile(this.options.configFile);
    if (this.options.logger === undefined) this.log = createLogger(config.global.log);
    for (const warning of warnings) this.log.warn(warning);
    this.config = config;
    const ifnames = [...new Set(config.instances.map((i) => i.interface))];
    // keepalived leaves VIPs behind when SIGKILLed; another node may own them by now.
    const purged: string[] = [];
    for (const ifname of ifnames) purged.push(...(await this.options.dataPlane.vips(ifname).reconcile([])).removed);
    if (purged.length > 0) this.log.warn(`removed stale VIPs left by an earlier run: ${purged.join(', ')}`, { purged });
    // Accept_Mode: start from an empty filter (a killed daemon may have left addresses blocked).
    await this.options.dataPlane.acceptFilter.reset();
    this.syncGroups = this.makeSyncGroups(config);
    for (const spec of config.instances) await this.addInstance(spec);
    this.control = new ControlServer(this.options.statusSocket ?? config.global.statusSocket, {
      status: () => this.status(),
      reload: () => this.reload(),
    });
    await this.control.start();
    const listen = config.global.metrics?.listen;
    if (listen !== undefined) {
      // prom-client and node:http (which pulls in undici), ~19 MiB together, are loaded only
      // when metrics are asked for; most nodes never pay for them.
      const [{ createMetricsRegistry }, { ObservabilityServer }] = await Promise.all([import('./observe/metrics.js'), import('./observe/http-server.js')]);
      const snapshot = this.snapshot();
      this.observability = new ObservabilityServer(snapshot, createMetricsRegistry(snapshot));
      const bound = await this.observability.start(listen);
      this.log.info(`metrics and health on http://${listen} (/metrics, /healthz)`, bound);
    }
    // The timer also hands back what bursts (start-up, takeovers, reloads) left in the C
    // allocator: the daemon's steady footprint stays its steady need.
    this.reconcileTimer = setInterval(() => void this.reconcile().then(() => this.options.dataPlane.releaseFreeMemory()), config.global.reconcileInterval);
    this.reconcileTimer.unref();
    this.log.info(`keepvip running ${config.instances.length} instance(s)`, { instances: config.instances.map((i) => i.name) });
  }

  status(): StatusReport {
    return { instances: [...this.runners.values()].map((r) => statusOf(r)) };
  }

  /** Re-reads the file; an invalid one changes nothing. Unchanged instances are not touched. */
  reload(): Promise<ReloadReport> {
    this.reloading ??= this.doReload().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  private async doReload(): Promise<ReloadReport> {
    let next: ResolvedConfig;
    try {
      const loaded = await loadConfigFile(this.options.configFile);
      next = loaded.config;
      for (const warning of loaded.warnings) this.log.warn(warning);
    } catch (error) {
      const issues = error instanceof ConfigError ? error.issues : [String(error)];
      this.log.error('reload rejected: the running configuration stays', { errors: issues });
      return { ok: false, errors: issues };
    }
    const before = new Map((this.config?.instances ?? []).map((i) => [i.name, i]));
    const after = new Map(next.instances.map((i) => [i.name, i]));
    const changed: string[] = [];
    for (const [name, spec] of before) {
      const replacement = after.get(name);
      if (replacement !== undefined && sameSpec(spec, replacement)) continue;
      changed.push(name);
      await this.removeInstance(name);
    }
    this.config = next;
    this.syncGroups = this.makeSyncGroups(next);
    for (const [name, spec] of after) {
      if (this.runners.has(name)) continue;
      if (!changed.includes(name)) changed.push(name);
      await this.addInstance(spec);
    }
    this.closeUnusedChannels();
    this.syncGroups.refresh();
    this.log.info(`configuration reloaded: ${changed.length === 0 ? 'nothing changed' : `changed ${changed.join(', ')}`}`, { changed });
    return { ok: true, changed };
  }

  /** Graceful stop: priority-0 adverts from every Master, VIPs removed, sockets closed. */
  async shutdown(): Promise<void> {
    if (this.reconcileTimer !== undefined) clearInterval(this.reconcileTimer);
    await Promise.all([...this.runners.keys()].map((name) => this.removeInstance(name)));
    await this.links.stopAll();
    for (const entry of this.channels.values()) entry.channel.close();
    this.channels.clear();
    await this.control?.stop();
    await this.observability?.stop();
    await this.options.dataPlane.acceptFilter.remove().catch((error: unknown) => this.log.warn(`could not remove the Accept_Mode filter: ${String(error)}`));
    await this.options.dataPlane.close();
    this.log.info('keepvip stopped');
  }

  private async addInstance(spec: ResolvedInstance): Promise<void> {
    const entry = await this.channelFor(spec.interface, spec.family);
    const log = this.log.child({ instance: spec.name, iface: spec.interface, vrid: spec.vrid, family: `IPv${spec.family}` });
    const dataPlane = this.options.dataPlane;
    const notifier = new Notifier(spec.notify, 'INSTANCE', spec.name, log);
    const runner = new InstanceRunner({
      spec,
      sender: entry.channel,
      vips: dataPlane.vips(spec.interface),
      acceptFilter: dataPlane.acceptFilter,
      announcer: await dataPlane.announcer(spec.interface, announcePolicy(spec)),
      reannouncer: await dataPlane.announcer(spec.interface, reassertPolicy(spec)),
      clock: this.clock,
      log,
      onTransition: (r, record) => {
        notifier.notify(record.to, r.instance.effectivePriority);
        this.syncGroups.transitioned(r.name);
        this.control?.notifyWatchers();
        void this.reconcileSoon();
      },
    });
    const scriptResults = new Map<string, Map<string, number>>();
    const tracker = new InstanceTracker({
      spec,
      onScriptResult: (script, outcome) => {
        const result = outcome.kind === 'exited' && outcome.code === 0 ? 'ok' : outcome.kind === 'timed_out' ? 'timed_out' : 'failed';
        const byResult = scriptResults.get(script) ?? new Map<string, number>();
        byResult.set(result, (byResult.get(result) ?? 0) + 1);
        scriptResults.set(script, byResult);
      },
      subscribeLink: (ifname, listener) => this.links.subscribe(ifname, listener),
      log,
      onChange: (result) => {
        runner.setEffectivePriority(result.effectivePriority);
        runner.setFault('track', result.faults);
        this.syncGroups.faultsChanged(spec.name);
      },
    });
    entry.byVrid.set(spec.vrid, runner);
    this.runners.set(spec.name, runner);
    const unsubscribeLink = await this.links.subscribe(spec.interface, (up) => {
      runner.setLink(up);
      this.syncGroups.faultsChanged(spec.name);
    });
    this.extras.set(spec.name, { tracker, notifier, unsubscribeLink, scriptResults });
    await tracker.start();
    this.syncGroups.refresh();
    runner.start();
  }

  private async removeInstance(name: string): Promise<void> {
    const runner = this.runners.get(name);
    if (runner === undefined) return;
    const extras = this.extras.get(name);
    extras?.tracker.stop();
    extras?.unsubscribeLink();
    this.runners.delete(name);
    this.extras.delete(name);
    this.channels.get(channelKey(runner.spec.interface, runner.spec.family))?.byVrid.delete(runner.spec.vrid);
    await runner.stop();
    await extras?.notifier.settled();
  }

  /** The daemon as metrics and health checks read it. */
  snapshot(): DaemonSnapshot {
    return {
      instances: () =>
        [...this.runners.values()].map((r): InstanceSnapshot => {
          const extras = this.extras.get(r.name);
          return {
            name: r.name,
            interface: r.spec.interface,
            vrid: r.spec.vrid,
            family: r.spec.family,
            state: r.state,
            effectivePriority: r.instance.effectivePriority,
            vips: r.spec.vips.map((v) => v.cidr),
            counters: r.counters,
            notifyRuns: extras?.notifier.runs ?? 0,
            notifyFailures: extras?.notifier.failures ?? 0,
            scriptResults: extras?.scriptResults ?? new Map(),
          };
        }),
      channels: () => [...this.channels.entries()].map(([key, e]) => ({ interface: key.split('/')[0] ?? key, family: e.family, dropped: e.channel.dropped() })),
      announceCounters: () => this.options.dataPlane.announceCounters(),
      heldAddresses: (ifname) => this.options.dataPlane.vips(ifname).list(),
    };
  }

  private makeSyncGroups(config: ResolvedConfig): SyncGroups {
    return new SyncGroups(
      config.syncGroups.map((g) => ({ name: g.name, members: g.instances, notifier: new Notifier(g.notify, 'GROUP', g.name, this.log.child({ syncGroup: g.name })) })),
      (name) => this.runners.get(name),
      (group, state) => this.log.info(`sync group ${group} is ${state}`, { syncGroup: group, state }),
    );
  }

  private async channelFor(ifname: string, family: 4 | 6): Promise<ChannelEntry> {
    const key = channelKey(ifname, family);
    const existing = this.channels.get(key);
    if (existing !== undefined) return existing;
    const byVrid = new Map<number, InstanceRunner>();
    const channel = await this.options.dataPlane.openChannel({
      ifname,
      family,
      onPacket: (packet) => {
        // Byte 1 of every VRRP message is the VRID; the instance parses the rest.
        const vrid = packet.payload[1];
        const runner = vrid === undefined ? undefined : byVrid.get(vrid);
        runner?.receive(packet);
      },
      onError: (message) => this.log.error(`VRRP socket on ${ifname} (IPv${family}): ${message}`, { iface: ifname }),
    });
    const entry = { channel, family, byVrid };
    this.channels.set(key, entry);
    return entry;
  }

  private closeUnusedChannels(): void {
    for (const [key, entry] of this.channels) {
      if (entry.byVrid.size > 0) continue;
      entry.channel.close();
      this.channels.delete(key);
    }
  }

  private reconcileQueued = false;

  /** After a transition settles, make the kernel agree with the states (catches lost races). */
  private async reconcileSoon(): Promise<void> {
    if (this.reconcileQueued) return;
    this.reconcileQueued = true;
    await Promise.all([...this.runners.values()].map((r) => r.settled()));
    this.reconcileQueued = false;
    await this.reconcile();
  }

  /** Desired VIPs are those of instances in Master; anything else tagged ours goes. */
  private async reconcile(): Promise<void> {
    const byInterface = new Map<string, Set<string>>();
    for (const runner of this.runners.values()) {
      const set = byInterface.get(runner.spec.interface) ?? new Set<string>();
      byInterface.set(runner.spec.interface, set);
      if (runner.state === 'Master') for (const vip of runner.spec.vips) set.add(vip.cidr);
    }
    for (const [ifname, desired] of byInterface) {
      try {
        const { added, removed } = await this.options.dataPlane.vips(ifname).reconcile([...desired]);
        if (added.length + removed.length > 0) this.log.warn(`reconciled VIPs on ${ifname}`, { iface: ifname, added, removed });
      } catch (error) {
        this.log.error(`reconcile of ${ifname} failed: ${error instanceof Error ? error.message : String(error)}`, { iface: ifname });
      }
    }
  }
}

function sameSpec(a: ResolvedInstance, b: ResolvedInstance): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function statusOf(r: InstanceRunner): InstanceStatus {
  const i = r.instance;
  return {
    name: r.name,
    interface: r.spec.interface,
    vrid: r.spec.vrid,
    version: r.spec.version,
    family: r.spec.family,
    state: i.state,
    priority: i.effectivePriority,
    configuredPriority: i.config.configuredPriority,
    master: i.masterAddress,
    vips: r.spec.vips.map((v) => v.cidr),
    transitions: r.counters.transitions,
    lastTransition: r.lastTransition,
    faults: r.faultReasons(),
  };
}

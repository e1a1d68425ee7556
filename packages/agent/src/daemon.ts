/**
 * The keepvip daemon's process shell: the config file, the control socket, the metrics
 * listener, the reconcile timer and the graceful stop. The instances themselves, and the one
 * door that changes them (`apply`), are the InstanceSet's (instances/instance-set.ts).
 *
 * Two sources feed the desired instances: the config file (source "file", applied at start
 * and on every reload) and the runtime API (`apply`, source "controller" by default). The
 * daemon runs their union; each source's set replaces only that source's instances.
 */
import { readConfigFile } from './config/file.js';
import { emptyConfig, formatIssue, type ResolvedConfig, type ResolvedInstance } from './config/validate.js';
import { ControlServer } from './control/server.js';
import type { GlobalChange, InstanceStatus, ReloadReport, StatusReport } from './control/protocol.js';
import type { InstanceRunner } from './instance/runner.js';
import { messageOf } from './instances/failures.js';
import { InstanceSet } from './instances/instance-set.js';
import type { ApplyReport, TransitionEvent } from './instances/report.js';
import { createLogger, reconfigureLogger, type LogFormat, type Logger } from './logging.js';
import type { ObservabilityServer } from './observe/http-server.js';
import type { ControllerMetricsSource } from './observe/metrics.js';
import type { DaemonSnapshot } from './observe/snapshot.js';
import { monotonicClock, type Clock, type DataPlane, type NatBindingsPort } from './ports.js';

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
  // The same read and validation as `keepvip validate` (config/file.ts).
  const result = await readConfigFile(file);
  if (!result.readable) throw new ConfigError(file, [`cannot read: ${result.reason}`]);
  if (!result.ok) throw new ConfigError(file, result.errors.map(formatIssue));
  return { config: result.config, warnings: result.warnings.map(formatIssue) };
}

/** The config file's instances are this source's. */
export const FILE_SOURCE = 'file';
/** `apply` without a source: the Kubernetes controller's. */
export const API_SOURCE = 'controller';

export interface DaemonOptions {
  /** Without one, the defaults of an empty file: no instances but the runtime API's (`keepvip run --kubernetes`). */
  readonly configFile?: string;
  readonly dataPlane: DataPlane;
  /** Overrides the config's global.statusSocket. */
  readonly statusSocket?: string;
  /** Overrides the config's global.metrics.listen (`--metrics-listen`): the file's is then ignored, at start and on reload. */
  readonly metricsListen?: string;
  /** The control socket's limit for a client that sends no whole request line. */
  readonly controlIdleTimeoutMs?: number;
  readonly clock?: Clock;
  /** Overrides the config's log settings entirely (tests). */
  readonly logger?: Logger;
  /** Log settings from the command line: they win over the file's, at start and on reload. */
  readonly logFlags?: { readonly format?: LogFormat | undefined; readonly level?: string | undefined };
  /** The Kubernetes controller's counters, exported on the metrics listener when it runs. */
  readonly controllerMetrics?: ControllerMetricsSource;
  /** The node's NAT bindings (`keepvip run --kubernetes`): installed for instances in Master, removed at start and exit. */
  readonly natBindings?: NatBindingsPort;
}

type Global = ResolvedConfig['global'];

export class Daemon {
  private config: ResolvedConfig | undefined;
  private log: Logger;
  private readonly clock: Clock;
  private readonly instances: InstanceSet;
  private observability: ObservabilityServer | undefined;
  private control: ControlServer | undefined;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private reloading: Promise<ReloadReport> | undefined;
  private reloadAgain: Promise<ReloadReport> | undefined;
  private starting: Promise<ApplyReport> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: DaemonOptions) {
    this.clock = options.clock ?? monotonicClock;
    this.log = options.logger ?? createLogger({ format: options.logFlags?.format ?? 'json', level: options.logFlags?.level ?? 'info' });
    this.instances = new InstanceSet({ dataPlane: options.dataPlane, clock: this.clock, log: () => this.log, ...(options.natBindings === undefined ? {} : { natBindings: options.natBindings }) });
  }

  /**
   * Loads the config (throws ConfigError, holding nothing), purges stale VIPs, starts the
   * file's instances (one that fails is reported and retried; the daemon starts anyway), the
   * control socket and the metrics listener.
   */
  start(): Promise<ApplyReport> {
    this.starting ??= this.doStart();
    return this.starting;
  }

  private async doStart(): Promise<ApplyReport> {
    const { config, warnings } = await this.loadConfig();
    if (this.options.logger === undefined) reconfigureLogger(this.log, this.logSettings(config.global));
    for (const warning of warnings) this.log.warn(warning);
    const fileListen = config.global.metrics?.listen;
    if (this.options.metricsListen !== undefined && fileListen !== undefined && fileListen !== this.options.metricsListen) {
      this.log.warn(`global.metrics.listen "${fileListen}" is not used: the command line's "${this.options.metricsListen}" wins`);
    }
    this.config = config;
    // keepalived leaves VIPs behind when SIGKILLed; another node may own them by now.
    const purged: string[] = [];
    for (const ifname of new Set(config.instances.map((i) => i.interface))) {
      try {
        purged.push(...(await this.options.dataPlane.vips(ifname).reconcile([])).removed);
      } catch (error) {
        this.log.warn(`could not look for stale VIPs on ${ifname}: ${messageOf(error)}`, { iface: ifname });
      }
      // Opened again by the instances on it, and closed with the last of them.
      this.options.dataPlane.releaseVips(ifname);
    }
    if (purged.length > 0) this.log.warn(`removed stale VIPs left by an earlier run: ${purged.join(', ')}`, { purged });
    // Accept_Mode: start from an empty filter (a killed daemon may have left addresses blocked).
    await this.options.dataPlane.acceptFilter.reset();
    // Likewise its NAT bindings: this node is Master for nothing yet.
    await this.instances.resetNat();
    const report = await this.instances.apply(FILE_SOURCE, { instances: config.instances, syncGroups: config.syncGroups });
    this.control = new ControlServer(this.options.statusSocket ?? config.global.statusSocket, {
      status: () => this.status(),
      reload: () => this.reload(),
    }, { idleTimeoutMs: this.options.controlIdleTimeoutMs });
    await this.control.start();
    this.instances.onTransition(() => this.control?.notifyWatchers());
    await this.startMetrics(this.metricsListen(config.global));
    this.startReconcileTimer(config.global.reconcileInterval);
    this.log.info(`keepvip running ${this.instances.runners().length} instance(s)`, { instances: this.instances.runners().map((r) => r.name) });
    return report;
  }

  private async loadConfig(): Promise<{ config: ResolvedConfig; warnings: string[] }> {
    if (this.options.configFile !== undefined) return loadConfigFile(this.options.configFile);
    return { config: emptyConfig(), warnings: [] };
  }

  /**
   * The runtime API: `desired` is the complete set of `source`'s instances (empty: none).
   * Serialised with reloads and the stop; never rejects.
   */
  apply(desired: readonly ResolvedInstance[], source: string = API_SOURCE): Promise<ApplyReport> {
    if (source === FILE_SOURCE) return Promise.resolve({ ok: false, errors: [`source "${FILE_SOURCE}" is the config file's: reload it instead`] });
    return this.instances.apply(source, { instances: desired });
  }

  /** Calls `listener` on every transition of every instance; returns an unsubscribe. */
  onTransition(listener: (event: TransitionEvent) => void): () => void {
    return this.instances.onTransition(listener);
  }

  status(): StatusReport {
    return { instances: this.instances.runners().map((r) => statusOf(r, this.instances.natLeftOut(r.name))), failed: this.instances.failures() };
  }

  /**
   * Re-reads the file: an invalid one, or a global change that needs a restart, changes
   * nothing. A reload asked while one runs runs once more after it (the file may have
   * changed again), however many are asked.
   */
  reload(): Promise<ReloadReport> {
    if (this.reloading === undefined) {
      this.reloading = this.doReload().finally(() => {
        this.reloading = undefined;
      });
      return this.reloading;
    }
    this.reloadAgain ??= this.reloading.then(() => {
      this.reloadAgain = undefined;
      return this.reload();
    });
    return this.reloadAgain;
  }

  private async doReload(): Promise<ReloadReport> {
    if (this.stopping !== undefined) return { ok: false, errors: ['the daemon is stopping'] };
    let next: ResolvedConfig;
    try {
      const loaded = await this.loadConfig();
      next = loaded.config;
      for (const warning of loaded.warnings) this.log.warn(warning);
    } catch (error) {
      const issues = error instanceof ConfigError ? error.issues : [messageOf(error)];
      this.log.error('reload rejected: the running configuration stays', { errors: issues });
      return { ok: false, errors: issues };
    }
    const previous = this.config?.global;
    const refused = previous === undefined ? [] : this.refusedGlobalChanges(previous, next.global);
    if (refused.length > 0) {
      this.log.error('reload rejected: the running configuration stays', { errors: refused });
      return { ok: false, errors: refused };
    }
    this.config = next;
    const global = previous === undefined ? [] : await this.applyGlobal(previous, next.global);
    const report = await this.instances.apply(FILE_SOURCE, { instances: next.instances, syncGroups: next.syncGroups });
    if (!report.ok) return report;
    return { ok: true, instances: report.instances, global };
  }

  /** Global fields a running daemon cannot take: the reload is refused, naming them. */
  private refusedGlobalChanges(before: Global, after: Global): string[] {
    if (this.options.statusSocket !== undefined || before.statusSocket === after.statusSocket) return [];
    return [`global.statusSocket: "${before.statusSocket}" -> "${after.statusSocket}" takes a restart (this daemon answers on "${before.statusSocket}")`];
  }

  /** Applies the global fields that changed; each is reported by name. */
  private async applyGlobal(before: Global, after: Global): Promise<GlobalChange[]> {
    const changes: GlobalChange[] = [];
    if (JSON.stringify(before.log) !== JSON.stringify(after.log)) {
      if (this.options.logger !== undefined) changes.push({ field: 'global.log', outcome: 'failed', reason: 'the logger was given by the program running the daemon' });
      else {
        reconfigureLogger(this.log, this.logSettings(after));
        changes.push({ field: 'global.log', outcome: 'applied' });
      }
    }
    if (before.reconcileInterval !== after.reconcileInterval) {
      this.startReconcileTimer(after.reconcileInterval);
      changes.push({ field: 'global.reconcileInterval', outcome: 'applied' });
    }
    if (this.metricsListen(before) !== this.metricsListen(after)) {
      await this.observability?.stop().catch((error: unknown) => this.log.warn(`the old metrics listener did not close cleanly: ${messageOf(error)}`));
      this.observability = undefined;
      try {
        await this.startMetrics(this.metricsListen(after));
        changes.push({ field: 'global.metrics.listen', outcome: 'applied' });
      } catch (error) {
        this.log.error(`global.metrics.listen: ${messageOf(error)}; metrics are off until the next reload`);
        changes.push({ field: 'global.metrics.listen', outcome: 'failed', reason: messageOf(error) });
      }
    }
    for (const c of changes) if (c.outcome === 'applied') this.log.info(`${c.field} changed`, { field: c.field });
    return changes;
  }

  /** Graceful stop: waits for an apply in flight, then priority 0 from every Master, VIPs removed, sockets closed. */
  shutdown(): Promise<void> {
    this.stopping ??= this.doShutdown();
    return this.stopping;
  }

  private async doShutdown(): Promise<void> {
    // A start under way finishes first (its instances, socket and listener are then stopped
    // like the others); one that failed left nothing to wait for.
    await this.starting?.catch(() => undefined);
    if (this.reconcileTimer !== undefined) clearInterval(this.reconcileTimer);
    await this.instances.close();
    await this.control?.stop().catch((error: unknown) => this.log.warn(`could not remove the control socket: ${messageOf(error)}`));
    await this.observability?.stop().catch(() => undefined);
    await this.options.dataPlane.acceptFilter.remove().catch((error: unknown) => this.log.warn(`could not remove the Accept_Mode filter: ${messageOf(error)}`));
    await this.options.dataPlane.close();
    this.log.info('keepvip stopped');
  }

  /** The daemon as metrics and health checks read it. */
  snapshot(): DaemonSnapshot {
    return {
      instances: () => this.instances.instanceSnapshots(),
      failures: () => this.instances.failures(),
      failureTotals: () => this.instances.failureTotals(),
      channels: () => this.instances.channelSnapshots(),
      nat: () => this.instances.natStats(),
      announceCounters: () => this.options.dataPlane.announceCounters(),
      heldAddresses: (ifname) => this.options.dataPlane.vips(ifname).list(),
    };
  }

  private logSettings(global: Global): { format: LogFormat; level: string } {
    return { format: this.options.logFlags?.format ?? global.log.format, level: this.options.logFlags?.level ?? global.log.level };
  }

  /** Where metrics are served: the command line's address wins over the file's. */
  private metricsListen(global: Global): string | undefined {
    return this.options.metricsListen ?? global.metrics?.listen;
  }

  private async startMetrics(listen: string | undefined): Promise<void> {
    if (listen === undefined) return;
    // prom-client and node:http (which pulls in undici), ~19 MiB together, are loaded only
    // when metrics are asked for; most nodes never pay for them.
    const [{ createMetricsRegistry }, { ObservabilityServer }] = await Promise.all([import('./observe/metrics.js'), import('./observe/http-server.js')]);
    const snapshot = this.snapshot();
    const server = new ObservabilityServer(snapshot, createMetricsRegistry(snapshot, this.options.controllerMetrics));
    const bound = await server.start(listen);
    this.observability = server;
    this.log.info(`metrics and health on http://${listen} (/metrics, /healthz)`, bound);
  }

  private startReconcileTimer(intervalMs: number): void {
    if (this.reconcileTimer !== undefined) clearInterval(this.reconcileTimer);
    // The timer also retries failed instances, and hands back what bursts (start-up,
    // takeovers, reloads) left in the C allocator: the steady footprint stays the steady need.
    this.reconcileTimer = setInterval(() => {
      this.instances.retryFailed();
      void this.instances.reconcile().then(() => this.options.dataPlane.releaseFreeMemory());
    }, intervalMs);
    this.reconcileTimer.unref();
  }
}

/** `natLeftOut`: the NAT endpoints the instance leaves out now (a silent node's), if any. */
export function statusOf(r: InstanceRunner, natLeftOut?: InstanceStatus['natEndpointsLeftOut']): InstanceStatus {
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
    ...(r.spec.services === undefined ? {} : { services: r.spec.services }),
    ...(r.spec.natBindings === undefined || r.spec.natBindings.length === 0 ? {} : { natBindings: r.spec.natBindings }),
    ...(natLeftOut === undefined ? {} : { natEndpointsLeftOut: natLeftOut }),
    transitions: r.counters.transitions,
    lastTransition: r.lastTransition,
    faults: r.faultReasons(),
  };
}

/**
 * Prometheus metrics, computed when scraped from the counters the daemon already keeps:
 * nothing is added to the advert path. Names follow FRR's VRRP counters.
 */
import client from 'prom-client';
import { NAT_FAILURE_REASONS } from '../instances/nat-table.js';
import type { DaemonSnapshot } from './snapshot.js';

const STATES = ['Initialize', 'Backup', 'Master', 'Fault'] as const;

/**
 * The Kubernetes controller's counters, read at scrape time. The same shape as
 * @keepvip/controller's ControllerCounters, which the agent does not depend on.
 */
export interface ControllerMetricsSource {
  readonly reconciles: number;
  readonly reconcileErrors: number;
  readonly applies: number;
  readonly planSecondsSum: number;
  readonly rejectedEntries: number;
  /** By `resource:verb`. */
  readonly apiErrors: ReadonlyMap<string, number>;
  /** By resource. */
  readonly watchEvents: ReadonlyMap<string, number>;
  readonly relists: ReadonlyMap<string, number>;
}

export function createMetricsRegistry(daemon: DaemonSnapshot, controller?: ControllerMetricsSource): client.Registry {
  const registry = new client.Registry();
  if (controller !== undefined) registerControllerMetrics(registry, controller);
  client.collectDefaultMetrics({ register: registry, prefix: 'keepvip_' });
  const labels = ['instance', 'interface', 'vrid'] as const;
  const base = (i: { name: string; interface: string; vrid: number }) => ({ instance: i.name, interface: i.interface, vrid: String(i.vrid) });

  /** A counter whose values are copied from the daemon at scrape time. */
  const mirrored = (name: string, help: string, extra: readonly string[], fill: (set: (l: Record<string, string>, v: number) => void) => void) =>
    new client.Counter({
      name,
      help,
      labelNames: [...labels, ...extra],
      registers: [registry],
      collect() {
        this.reset();
        fill((l, v) => this.inc(l, v));
      },
    });

  new client.Gauge({
    name: 'keepvip_instance_state',
    help: 'VRRP state of the instance: 1 for the current state, 0 for the others',
    labelNames: [...labels, 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const i of daemon.instances()) for (const s of STATES) this.set({ ...base(i), state: s }, i.state === s ? 1 : 0);
    },
  });
  new client.Gauge({
    name: 'keepvip_instance_effective_priority',
    help: 'Priority after tracking weights',
    labelNames: labels,
    registers: [registry],
    collect() {
      this.reset();
      for (const i of daemon.instances()) this.set(base(i), i.effectivePriority);
    },
  });
  mirrored('keepvip_transitions_total', 'State transitions', [], (set) => {
    for (const i of daemon.instances()) set(base(i), i.counters.transitions);
  });
  mirrored('keepvip_adverts_sent_total', 'Advertisements sent', [], (set) => {
    for (const i of daemon.instances()) set(base(i), i.counters.advertsSent);
  });
  mirrored('keepvip_adverts_received_total', 'Advertisements received and decoded for this instance', [], (set) => {
    for (const i of daemon.instances()) set(base(i), i.counters.advertsReceived);
  });
  mirrored('keepvip_advert_send_errors_total', 'Advertisements the kernel refused to send', [], (set) => {
    for (const i of daemon.instances()) set(base(i), i.counters.sendErrors);
  });
  mirrored('keepvip_adverts_dropped_total', 'Advertisements dropped, by reason (decode errors and configuration checks)', ['reason'], (set) => {
    for (const i of daemon.instances()) for (const [reason, n] of i.counters.advertsDropped) set({ ...base(i), reason }, n);
  });
  mirrored('keepvip_adverts_mismatched_total', 'Adverts processed although they show a misconfiguration (RFC 5798 §7.1), by reason', ['reason'], (set) => {
    for (const i of daemon.instances()) for (const [reason, n] of i.counters.advertsMismatched) set({ ...base(i), reason }, n);
  });
  mirrored('keepvip_reasserts_suppressed_total', 'Lower-priority adverts whose reassert advert or ARP/NA burst the rate limit held back, by part', ['part'], (set) => {
    for (const i of daemon.instances()) for (const [part, n] of Object.entries(i.counters.reassertsSuppressed)) set({ ...base(i), part }, n);
  });
  mirrored('keepvip_master_down_timer_expiries_total', 'Master_Down_Timer expiries', [], (set) => {
    for (const i of daemon.instances()) set(base(i), i.counters.masterDownTimerExpiries);
  });
  mirrored('keepvip_nat_endpoints_left_out_total', 'NAT binding endpoints a new Master left out because their node\'s adverts stopped (each once per takeover)', [], (set) => {
    for (const i of daemon.instances()) set(base(i), i.counters.natEndpointsLeftOut);
  });
  new client.Gauge({
    name: 'keepvip_nat_endpoints_left_out',
    help: 'NAT binding endpoints left out now, on the node whose adverts stopped, until the API server changes them or the node is heard again',
    labelNames: labels,
    registers: [registry],
    collect() {
      this.reset();
      for (const i of daemon.instances()) if (i.natEndpointsLeftOut > 0) this.set(base(i), i.natEndpointsLeftOut);
    },
  });
  mirrored('keepvip_notify_runs_total', 'Notify hooks started', [], (set) => {
    for (const i of daemon.instances()) set(base(i), i.notifyRuns);
  });
  mirrored('keepvip_notify_failures_total', 'Notify hooks that failed or timed out', [], (set) => {
    for (const i of daemon.instances()) set(base(i), i.notifyFailures);
  });
  mirrored('keepvip_track_script_results_total', 'Track script runs, by result', ['script', 'result'], (set) => {
    for (const i of daemon.instances()) for (const [script, results] of i.scriptResults) for (const [result, n] of results) set({ ...base(i), script, result }, n);
  });
  new client.Gauge({
    name: 'keepvip_nat_bindings_installed',
    help: "The instance's NAT bindings (Service ports bound to its VIPs) in this node's nftables now: all of them while Master, none otherwise",
    labelNames: labels,
    registers: [registry],
    collect() {
      this.reset();
      for (const n of daemon.nat()) this.set(base({ name: n.instance, interface: n.interface, vrid: n.vrid }), n.installed);
    },
  });
  mirrored('keepvip_nat_sync_failures_total', 'NAT syncs that failed the instance, by reason: refused (invalid bindings, left out until they change), transaction_failed (nft or the kernel refused the transaction; retried every second) or conntrack_flush_failed (UDP flows to endpoints a change removed kept their conntrack entries)', ['reason'], (set) => {
    for (const n of daemon.nat()) for (const reason of NAT_FAILURE_REASONS) set({ ...base({ name: n.instance, interface: n.interface, vrid: n.vrid }), reason }, n.failures[reason]);
  });
  new client.Gauge({
    name: 'keepvip_instance_failed',
    help: 'A desired instance that could not start (1), by reason code; retried when its interface changes',
    labelNames: [...labels, 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const f of daemon.failures()) this.set({ instance: f.name, interface: f.interface, vrid: String(f.vrid), reason: f.code }, 1);
    },
  });
  new client.Counter({
    name: 'keepvip_instance_failures_total',
    help: 'Times an instance failed to start or change (a new failure or a new reason; retries with the same reason are not counted)',
    labelNames: ['instance'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [instance, n] of daemon.failureTotals()) this.inc({ instance }, n);
    },
  });
  new client.Counter({
    name: 'keepvip_socket_adverts_dropped_total',
    help: 'Packets dropped before any instance saw them, by reason (TTL, own packet, VRID 0, no instance with that VRID, ...)',
    labelNames: ['interface', 'family', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of daemon.channels()) for (const [reason, n] of Object.entries(c.dropped)) this.inc({ interface: c.interface, family: `IPv${c.family}`, reason }, n);
    },
  });
  new client.Counter({
    name: 'keepvip_announcements_sent_total',
    help: 'Gratuitous ARPs and unsolicited neighbour advertisements sent',
    labelNames: ['interface', 'kind'],
    registers: [registry],
    collect() {
      this.reset();
      for (const a of daemon.announceCounters()) {
        this.inc({ interface: a.ifname, kind: 'arp' }, a.arpSent);
        this.inc({ interface: a.ifname, kind: 'na' }, a.naSent);
      }
    },
  });
  return registry;
}

/** keepvip_controller_*: reconciles, time spent planning, rejected entries, API errors, watch traffic. */
export function registerControllerMetrics(registry: client.Registry, c: ControllerMetricsSource): void {
  const scalar = (name: string, help: string, read: () => number, kind: 'counter' | 'gauge' = 'counter') => {
    const Metric = kind === 'counter' ? client.Counter : client.Gauge;
    new Metric({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        if (this instanceof client.Counter) this.inc(read());
        else this.set(read());
      },
    });
  };
  scalar('keepvip_controller_reconciles_total', 'Plans made from a synced snapshot of the cluster', () => c.reconciles);
  scalar('keepvip_controller_reconcile_errors_total', 'Reconciles whose plan or apply failed', () => c.reconcileErrors);
  scalar('keepvip_controller_applies_total', 'Plans applied (they differed from the last one applied)', () => c.applies);
  scalar('keepvip_controller_plan_seconds_total', 'Time spent planning; divided by reconciles, the mean plan duration', () => c.planSecondsSum);
  scalar('keepvip_controller_rejected_entries', 'Entries the last plan rejected (each has an Event)', () => c.rejectedEntries, 'gauge');
  const byLabel = (name: string, help: string, labelNames: readonly string[], read: () => ReadonlyMap<string, number>, split: (key: string) => Record<string, string>) =>
    new client.Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const [key, n] of read()) this.inc(split(key), n);
      },
    });
  const resourceVerb = (key: string) => {
    const colon = key.lastIndexOf(':');
    return { resource: key.slice(0, colon), verb: key.slice(colon + 1) };
  };
  byLabel('keepvip_controller_api_errors_total', 'Failed requests to the Kubernetes API server', ['resource', 'verb'], () => c.apiErrors, resourceVerb);
  byLabel('keepvip_controller_watch_events_total', 'Watch events received from the API server', ['resource'], () => c.watchEvents, (resource) => ({ resource }));
  byLabel('keepvip_controller_relists_total', 'Full lists after the first (410 Gone, or a watch restarted after an error)', ['resource'], () => c.relists, (resource) => ({ resource }));
}

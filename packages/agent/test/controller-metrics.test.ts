/** The Kubernetes controller's counters on the metrics listener, read at each scrape. */
import { expect, it } from '@jest/globals';
import client from 'prom-client';
import { registerControllerMetrics, type ControllerMetricsSource } from '../src/observe/metrics.js';

it('exports the controller counters as keepvip_controller_* and follows them between scrapes', async () => {
  const counters = {
    reconciles: 3,
    reconcileErrors: 1,
    applies: 2,
    planSecondsSum: 0.25,
    rejectedEntries: 2,
    apiErrors: new Map([['services/status:patch', 4]]),
    watchEvents: new Map([['endpointslices', 7]]),
    relists: new Map([['configmaps', 1]]),
  } satisfies ControllerMetricsSource;
  const registry = new client.Registry();
  registerControllerMetrics(registry, counters);
  const text = await registry.metrics();
  for (const line of [
    'keepvip_controller_reconciles_total 3',
    'keepvip_controller_reconcile_errors_total 1',
    'keepvip_controller_applies_total 2',
    'keepvip_controller_plan_seconds_total 0.25',
    'keepvip_controller_rejected_entries 2',
    'keepvip_controller_api_errors_total{resource="services/status",verb="patch"} 4',
    'keepvip_controller_watch_events_total{resource="endpointslices"} 7',
    'keepvip_controller_relists_total{resource="configmaps"} 1',
  ]) {
    expect(text.split('\n')).toContain(line);
  }
  expect(text).toContain('# TYPE keepvip_controller_rejected_entries gauge');

  counters.reconciles = 5;
  counters.rejectedEntries = 0;
  counters.apiErrors.set('leases:update', 1);
  const again = (await registry.metrics()).split('\n');
  expect(again).toContain('keepvip_controller_reconciles_total 5');
  expect(again).toContain('keepvip_controller_rejected_entries 0');
  expect(again).toContain('keepvip_controller_api_errors_total{resource="leases",verb="update"} 1');
});

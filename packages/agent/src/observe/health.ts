/**
 * kube-keepalived-vip's health rule: healthy when every Master holds its VIPs on its
 * interface and no Backup or Fault instance holds any of its own.
 */
import type { DaemonSnapshot } from './snapshot.js';

export interface HealthReport {
  readonly healthy: boolean;
  readonly problems: readonly string[];
}

export async function checkHealth(daemon: DaemonSnapshot): Promise<HealthReport> {
  const problems: string[] = [];
  const instances = daemon.instances();
  const held = new Map<string, ReadonlySet<string>>();
  for (const ifname of new Set(instances.map((i) => i.interface))) {
    try {
      held.set(ifname, new Set(await daemon.heldAddresses(ifname)));
    } catch (error) {
      problems.push(`cannot read the addresses of ${ifname}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  for (const i of instances) {
    const onLink = held.get(i.interface);
    if (onLink === undefined) continue;
    const present = i.vips.filter((v) => onLink.has(v));
    if (i.state === 'Master' && present.length < i.vips.length) {
      problems.push(`${i.name} is Master but ${i.interface} lacks ${i.vips.filter((v) => !onLink.has(v)).join(', ')}`);
    }
    if ((i.state === 'Backup' || i.state === 'Fault') && present.length > 0) {
      problems.push(`${i.name} is ${i.state} but ${i.interface} still holds ${present.join(', ')}`);
    }
  }
  return { healthy: problems.length === 0, problems };
}

/** The readable form of `keepvip status`. */
import type { InstanceStatus, NatBinding, StatusReport } from '@keepvip/agent';
import { failureText } from './reload-report.js';

/** A binding with at most this many endpoints lists them; a larger one shows the count alone (`--json` has them all). */
export const LISTED_ENDPOINTS = 4;

export function statusTable(report: StatusReport): string {
  // Only a daemon running the controller's instances has Services to show.
  const withServices = report.instances.some((i) => i.services !== undefined);
  const header = ['INSTANCE', 'INTERFACE', 'VRID', 'VER', 'STATE', 'PRIO', 'MASTER', 'VIPS', ...(withServices ? ['SERVICES'] : []), 'TRANSITIONS', 'LAST TRANSITION'];
  const rows = report.instances.map((i) => [
    i.name,
    i.interface,
    String(i.vrid),
    `v${i.version}`,
    i.state,
    i.priority === i.configuredPriority ? String(i.priority) : `${i.priority} (${i.configuredPriority})`,
    i.master ?? '-',
    i.vips.join(','),
    ...(withServices ? [i.services === undefined || i.services.length === 0 ? '-' : i.services.join(',')] : []),
    String(i.transitions),
    i.lastTransition === null ? '-' : `${i.lastTransition.from} -> ${i.lastTransition.to} (${i.lastTransition.cause}) ${i.lastTransition.at}`,
  ]);
  // Desired instances that could not start: the daemon retries them.
  const failed = (report.failed ?? []).map((f) => `FAILED ${f.name} (${f.interface}, VRID ${f.vrid}): ${failureText(f.reason, f.code)}`);
  return [...table(header, rows), ...failed, ...natTable(report.instances)].join('\n');
}

/** The NAT bindings (issue 12), one line per Service port bound to a VIP; nothing when no instance has any. */
function natTable(instances: readonly InstanceStatus[]): string[] {
  const rows = instances.flatMap((i) =>
    (i.natBindings ?? []).map((b) => [
      `${hostPort(b.vip, b.port)}/${b.protocol}`,
      i.name,
      b.source ?? '-',
      b.clientIpAffinity === undefined ? '-' : `ClientIP ${b.clientIpAffinity.timeoutSeconds}s`,
      endpointsText(b),
    ]),
  );
  if (rows.length === 0) return [];
  // A Master that took over from a silent one leaves that node's endpoints out (docs/kubernetes.md).
  const leftOut = instances.flatMap((i) => (i.natEndpointsLeftOut === undefined ? [] : [`LEFT OUT by ${i.name} (the node at ${i.natEndpointsLeftOut.node} fell silent): ${i.natEndpointsLeftOut.endpoints.join(', ')}`]));
  // Only a Master's bindings are in the kernel: the state says which are live on this node.
  return ['', ...table(['NAT BINDING', 'INSTANCE', 'SERVICE PORT', 'AFFINITY', 'ENDPOINTS'], rows), ...leftOut];
}

/** "3: a:p, b:p, c:p" when few, the count alone when many; none refuses connections. */
function endpointsText(b: NatBinding): string {
  const n = b.endpoints.length;
  if (n === 0) return '0 (connections refused)';
  if (n > LISTED_ENDPOINTS) return String(n);
  return `${n}: ${b.endpoints.map((e) => hostPort(e.address, e.port)).join(', ')}`;
}

const hostPort = (address: string, port: number) => (address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`);

function table(header: readonly string[], rows: readonly string[][]): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

/** The readable form of `keepvip status`. */
import type { StatusReport } from '@keepvip/agent';
import { failureText } from './reload-report.js';

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
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ').trimEnd();
  // Desired instances that could not start: the daemon retries them.
  const failed = (report.failed ?? []).map((f) => `FAILED ${f.name} (${f.interface}, VRID ${f.vrid}): ${failureText(f.reason, f.code)}`);
  return [line(header), ...rows.map(line), ...failed].join('\n');
}

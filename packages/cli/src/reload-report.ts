/** `keepvip reload`'s answer, one line per instance and per global field changed. */
import type { InstanceApplyResult, ReloadReport } from '@keepvip/agent';

/** A failure's reason with its code, unless the reason already ends with it ("... (ENODEV)"). */
export function failureText(reason: string | undefined, code: string | undefined): string {
  const text = reason ?? 'unknown';
  return code === undefined || text.endsWith(`(${code})`) ? text : `${text} [${code}]`;
}

function line(r: InstanceApplyResult): string {
  switch (r.outcome) {
    case 'changed':
      return `${r.name}: changed in place (${(r.fields ?? []).join(', ')})`;
    case 'restarted':
      return `${r.name}: restarted (${(r.fields ?? []).join(', ') || 'its interface was created again'})`;
    case 'failed':
      return `${r.name}: failed: ${failureText(r.reason, r.code)}`;
    default:
      return `${r.name}: ${r.outcome}`;
  }
}

/** The text for stdout, and whether something failed (the command then exits 1). */
export function formatReloadReport(report: Extract<ReloadReport, { ok: true }>): { text: string; failed: boolean } {
  const lines = [
    ...report.instances.map(line),
    ...report.global.map((g) => `${g.field}: ${g.outcome === 'applied' ? 'applied' : `failed: ${g.reason ?? 'unknown'}`}`),
  ];
  const failed = report.instances.some((r) => r.outcome === 'failed') || report.global.some((g) => g.outcome === 'failed');
  return { text: lines.length === 0 ? 'reloaded: no instances\n' : `${lines.join('\n')}\n`, failed };
}

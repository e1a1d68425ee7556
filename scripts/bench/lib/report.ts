/**
 * Command-line flags and the markdown tables the benchmarks print: one row per figure, keepvip
 * and keepalived side by side, their ratio, the target and whether keepvip meets it.
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';

/** `--name value` or `--name=value` flags; `--flag` alone is "true". */
export function flags(argv: readonly string[] = process.argv.slice(2)): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const eq = arg.indexOf('=');
    if (eq > 0) out.set(arg.slice(2, eq), arg.slice(eq + 1));
    else if (i + 1 < argv.length && !(argv[i + 1] ?? '').startsWith('--')) out.set(arg.slice(2), argv[++i] ?? '');
    else out.set(arg.slice(2), 'true');
  }
  return out;
}

export function numberFlag(all: Map<string, string>, name: string, fallback: number): number {
  const text = all.get(name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} wants a positive number, not ${text}`);
  return value;
}

export interface Row {
  readonly figure: string;
  readonly keepvip: number | undefined;
  readonly keepalived: number | undefined;
  readonly unit: string;
  /** Text of the target, e.g. "< 5 %". */
  readonly target?: string;
  /** Whether keepvip meets the target; undefined: no target. */
  readonly met?: boolean;
  /** Digits after the point (default 0). */
  readonly digits?: number;
  /** What to print instead of an undefined keepalived figure. */
  readonly keepalivedMissing?: string;
  readonly keepvipMissing?: string;
}

function show(value: number | undefined, unit: string, digits: number, missing: string): string {
  if (value === undefined) return missing;
  const text = value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return unit === '' ? text : `${text} ${unit}`;
}

export function table(rows: readonly Row[]): string {
  const lines = ['| figure | keepvip | keepalived | keepvip / keepalived | target | keepvip meets it |', '|---|---:|---:|---:|---|---|'];
  for (const r of rows) {
    const d = r.digits ?? 0;
    const ratio = r.keepvip !== undefined && r.keepalived !== undefined && r.keepalived !== 0 ? `${(r.keepvip / r.keepalived).toFixed(2)}×` : '–';
    const met = r.met === undefined ? '' : r.met ? 'yes' : '**no**';
    lines.push(
      `| ${r.figure} | ${show(r.keepvip, r.unit, d, r.keepvipMissing ?? '–')} | ${show(r.keepalived, r.unit, d, r.keepalivedMissing ?? '–')} | ${ratio} | ${r.target ?? ''} | ${met} |`,
    );
  }
  return lines.join('\n');
}

/** One line about the machine and its load, printed under each table. */
export function machineLine(): string {
  const model = cpus()[0]?.model ?? 'unknown CPU';
  const [one, five] = loadavg();
  let kernel = '';
  try {
    kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    // Not Linux.
  }
  return (
    `Machine: ${cpus().length} cores (${model}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${kernel}, Node ${process.version}; ` +
    `load average ${one?.toFixed(2)} / ${five?.toFixed(2)} (1 / 5 min) at the end.`
  );
}

export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

/** mulberry32: a small seeded generator, so a run's phases can be replayed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function median(values: readonly number[]): number | undefined {
  return percentile([...values].sort((a, b) => a - b), 50);
}

export const say = (text: string): void => {
  process.stdout.write(`${text}\n`);
};
/** Progress on stderr, so stdout holds only the report. */
export const note = (text: string): void => {
  process.stderr.write(`[${new Date().toISOString().slice(11, 23)}] ${text}\n`);
};

/** A hostile host in the lab: forged VRRP adverts from a node's namespace (see forge-adverts.ts). */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lab, LabNode } from './lab.ts';
import { eachLine } from './wire.ts';

const FORGE = join(dirname(fileURLToPath(import.meta.url)), 'forge-adverts.ts');

export interface Forgery {
  readonly vrid: number;
  readonly priority: number;
  readonly vip: string;
  readonly version?: 2 | 3;
  readonly advertIntervalCs?: number;
  readonly count: number;
  /** Adverts per second. */
  readonly rate: number;
}

export interface ForgeryReport {
  readonly sent: number;
  readonly errors: number;
  /** First and last send, ms since the epoch. */
  readonly firstMs: number;
  readonly lastMs: number;
}

/** Sends the forged adverts from `node` and resolves when the last has left. */
export function forgeAdverts(lab: Lab, node: LabNode, f: Forgery): Promise<ForgeryReport> {
  const child = lab.spawn(node.ns, [
    process.execPath, FORGE, '--vrid', String(f.vrid), '--priority', String(f.priority), '--vip', f.vip,
    '--version', String(f.version ?? 3), '--interval-cs', String(f.advertIntervalCs ?? 100),
    '--count', String(f.count), '--rate', String(f.rate),
  ]);
  let report: ForgeryReport | undefined;
  let stderr = '';
  eachLine(child.stdout, (line) => {
    if (line.startsWith('{')) report = JSON.parse(line) as ForgeryReport;
  });
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      if (code === 0 && report !== undefined) resolve(report);
      else reject(new Error(`forge-adverts exited ${code}: ${stderr.trim()}`));
    });
  });
}

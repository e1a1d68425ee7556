import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import type { ClusterFile, NodePlan } from '@keepvip/controller';
import { parseKubeFlags, plannerOptions } from '../kube-options.js';

interface PlanOptions {
  node: string;
  interface?: string;
  json?: boolean;
  unicast?: boolean;
  defaultClass?: boolean;
  vridRange: string;
  vipConfigmap: string;
}

export function planTable(result: NodePlan): string {
  const header = ['INSTANCE', 'INTERFACE', 'VRID', 'FAMILY', 'PRIO', 'VIPS', 'PEERS', 'SERVICES'];
  const rows = result.instances.map((i) => [i.name, i.interface, String(i.vrid), `IPv${i.family}`, String(i.priority), i.vips.join(','), i.peers.join(',') || '-', i.services.join(',') || '-']);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ').trimEnd();
  const out = [`node ${result.node}: ${result.instances.length} instance(s), ${result.rejected.length} rejected`, line(header), ...rows.map(line)];
  if (result.rejected.length > 0) out.push('REJECTED', ...result.rejected.map((r) => `  ${r.key}: ${r.reason} [${r.code}]`));
  return out.join('\n');
}

/**
 * Exit 0 with the plan; 1 when a file cannot be read or parsed (the plan of the rest is still
 * printed) or the node is not among the Nodes read; 2 on bad options.
 */
export function registerPlan(program: Command): void {
  const command = program
    .command('plan')
    .description('show offline what a node would run: the controller’s plan from cluster objects (YAML, JSON, kubectl get -o yaml)')
    .argument('<files...>', 'files of ConfigMaps, Services, EndpointSlices and Nodes')
    .requiredOption('--node <name>', 'the Node to plan for')
    .option('--json', 'machine-readable output');
  plannerOptions(command).action(async (paths: string[], opts: PlanOptions) => {
      const flags = parseKubeFlags(opts);
      if (!flags.ok) {
        process.stderr.write(`${flags.error}\n`);
        process.exitCode = 2;
        return;
      }
      const range = flags.vridRange;
      const { namespace, name } = flags.vipConfigMap;
      const files: ClusterFile[] = [];
      let failed = false;
      for (const path of paths) {
        try {
          files.push({ name: path, text: await readFile(path, 'utf8') });
        } catch (error) {
          process.stderr.write(`${path}: cannot read: ${error instanceof Error ? error.message : String(error)}\n`);
          failed = true;
        }
      }
      // Loaded here: the controller brings @kubernetes/client-node, which the other commands never need.
      const { localInterfaceOf, localInterfaceTable, plan, readClusterDocuments } = await import('@keepvip/controller');
      const { state, errors } = readClusterDocuments(files, { namespace, name });
      for (const error of errors) process.stderr.write(`${error}\n`);
      if (!state.nodes.some((n) => n.metadata.name === opts.node)) {
        const known = state.nodes.map((n) => n.metadata.name).join(', ');
        process.stderr.write(`--node: no Node named "${opts.node}" in the files (${known === '' ? 'none read' : known})\n`);
        process.exitCode = 1;
        return;
      }
      const table = localInterfaceTable();
      let result: NodePlan;
      try {
        result = plan(state, {
          node: opts.node,
          vridRange: range,
          ...(opts.interface === undefined ? { interfaceOf: (_node, _family, address) => localInterfaceOf(address, table) ?? `<holding ${address}>` } : { interface: opts.interface }),
          ...(opts.unicast === true ? { unicast: true } : {}),
          ...(opts.defaultClass === true ? { defaultClass: true } : {}),
        });
      } catch (error) {
        process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = 2;
        return;
      }
      if (opts.json === true) {
        const json = {
          node: result.node,
          instances: result.instances.map(({ name, interface: iface, vrid, family, priority, vips, peers, services }) => ({ name, interface: iface, vrid, family, priority, vips, peers, services })),
          rejected: result.rejected.map(({ key, reason }) => ({ key, reason })),
        };
        process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
      } else process.stdout.write(`${planTable(result)}\n`);
      if (failed || errors.length > 0) process.exitCode = 1;
    });
}

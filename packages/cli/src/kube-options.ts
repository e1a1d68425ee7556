/** Flags shared by `keepvip plan` and `keepvip run --kubernetes`. */
import type { Command } from 'commander';

export const DEFAULT_VIP_CONFIGMAP = 'keepvip-system/keepvip-vips';
export const DEFAULT_VRID_RANGE = '1-255';

export interface KubeFlags {
  vridRange: string;
  vipConfigmap: string;
}

export type ParsedKubeFlags = { ok: true; vridRange: { first: number; last: number }; vipConfigMap: { namespace: string; name: string } } | { ok: false; error: string };

/**
 * `--vrid-range FIRST-LAST` (the planner checks the bounds) and `--vip-configmap
 * namespace/name`; the error names the flag and what was given.
 */
export function parseKubeFlags(opts: KubeFlags): ParsedKubeFlags {
  const match = /^(\d{1,3})-(\d{1,3})$/.exec(opts.vridRange.trim());
  if (match === null) return { ok: false, error: `--vrid-range: "${opts.vridRange}" is not FIRST-LAST` };
  const [namespace, name, extra] = opts.vipConfigmap.split('/');
  if (namespace === undefined || namespace === '' || name === undefined || name === '' || extra !== undefined) return { ok: false, error: `--vip-configmap: "${opts.vipConfigmap}" is not namespace/name` };
  return { ok: true, vridRange: { first: Number(match[1]), last: Number(match[2]) }, vipConfigMap: { namespace, name } };
}

/** Declares the planner's flags on `command`; `scope` prefixes their help ('with --kubernetes: '). */
export function plannerOptions(command: Command, scope = ''): Command {
  return command
    .option('--interface <name>', `${scope}interface of every instance whose entry names none (default: the one holding the node’s InternalIP)`)
    .option('--unicast', `${scope}unicast adverts to the other nodes’ InternalIPs (default multicast)`)
    .option('--default-class', `${scope}serve LoadBalancer Services without a loadBalancerClass too`)
    .option('--vrid-range <first-last>', `${scope}VRIDs to allocate from`, DEFAULT_VRID_RANGE)
    .option('--vip-configmap <namespace/name>', `${scope}the VIP ConfigMap`, DEFAULT_VIP_CONFIGMAP);
}

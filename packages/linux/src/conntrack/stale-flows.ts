/**
 * Which UDP flows a NAT change leaves stale: for each UDP binding, the endpoints that were in it
 * before and are not after (the binding removed, e.g. its VIP left this node, counts as every
 * endpoint removed). Pure; see conntrack.ts for why only UDP.
 */
import type { ValidBinding } from '../nft/nat-binding.js';
import type { UdpFlowsToEndpoints } from './conntrack.js';

const bindingKey = (b: ValidBinding): string => `${b.vip} ${b.port}`;
const endpointKey = (e: { readonly address: string; readonly port: number }): string => `${e.address} ${e.port}`;

/** The flows to delete after `before` became `after` (both canonical: validateBindings'). */
export function staleUdpFlows(before: readonly ValidBinding[], after: readonly ValidBinding[]): UdpFlowsToEndpoints[] {
  const now = new Map(after.filter((b) => b.protocol === 'UDP').map((b) => [bindingKey(b), new Set(b.endpoints.map(endpointKey))]));
  const stale: UdpFlowsToEndpoints[] = [];
  for (const b of before) {
    if (b.protocol !== 'UDP') continue;
    const staying = now.get(bindingKey(b));
    const endpoints = b.endpoints.filter((e) => staying?.has(endpointKey(e)) !== true);
    if (endpoints.length > 0) stale.push({ family: b.family, vip: b.vip, port: b.port, endpoints });
  }
  return stale;
}

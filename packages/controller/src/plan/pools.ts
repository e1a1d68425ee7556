/**
 * Address pools for LoadBalancer Services, declared under the ConfigMap key `_pools` as a YAML
 * or JSON mapping from pool name to a list of CIDRs, ranges or single addresses:
 *
 *     _pools: |
 *       default: [10.0.0.200/29, 10.0.0.240-10.0.0.250, "fd00:10::100/124"]
 *       internal: [192.168.50.10-192.168.50.19]
 *
 * An IPv4 CIDR of /30 or shorter leaves out its network and broadcast addresses. A bad item
 * is reported and left out; the rest of its pool still serves.
 */
import { parse as parseYaml } from 'yaml';
import { parseVip } from '@keepvip/agent';
import { bigIntToIp, canonicalIp, familyOf, ipToBigInt, type Family } from './address.js';
import { quote, quoteValue } from './text.js';

export interface AddressRange {
  readonly family: Family;
  readonly first: bigint;
  readonly last: bigint;
}

export interface AddressPool {
  readonly name: string;
  readonly ranges: readonly AddressRange[];
}

const POOL_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function parseRange(item: string): AddressRange | string {
  const text = item.trim();
  const dash = text.indexOf('-');
  if (dash >= 0 && !text.includes('/')) {
    const first = canonicalIp(text.slice(0, dash).trim());
    const last = canonicalIp(text.slice(dash + 1).trim());
    if (first === undefined || last === undefined) return `${quote(item)} is not a range of two addresses`;
    const family = familyOf(first) as Family;
    if (familyOf(last) !== family) return `${quote(item)} mixes IPv4 and IPv6`;
    const range = { family, first: ipToBigInt(first), last: ipToBigInt(last) };
    return range.first <= range.last ? range : `${quote(item)} ends before it starts`;
  }
  const vip = parseVip(text);
  if (typeof vip === 'string') return text.length > 64 ? `${quote(item)} is not a CIDR, a range or an address` : vip;
  const bits = vip.family === 4 ? 32 : 128;
  const size = 1n << BigInt(bits - vip.prefixLength);
  const first = (ipToBigInt(vip.address) / size) * size;
  const last = first + size - 1n;
  // IPv4 subnets of 4 or more addresses: the network and broadcast addresses are no VIPs.
  if (vip.family === 4 && vip.prefixLength <= 30) return { family: 4, first: first + 1n, last: last - 1n };
  return { family: vip.family, first, last };
}

export function parsePools(text: string): { pools: AddressPool[]; errors: string[] } {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    return { pools: [], errors: [`not YAML or JSON: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`] };
  }
  if (document === null || document === undefined) return { pools: [], errors: [] };
  if (typeof document !== 'object' || Array.isArray(document)) return { pools: [], errors: ['is not a mapping of pool name to a list of addresses'] };
  const pools: AddressPool[] = [];
  const errors: string[] = [];
  for (const name of Object.keys(document).sort()) {
    const items: unknown = (document as Record<string, unknown>)[name];
    if (!POOL_NAME.test(name)) {
      errors.push(`pool ${quote(name)}: the name is not a DNS label`);
      continue;
    }
    if (!Array.isArray(items)) {
      errors.push(`pool "${name}": is not a list of CIDRs, ranges or addresses`);
      continue;
    }
    const ranges: AddressRange[] = [];
    (items as unknown[]).forEach((item, index) => {
      const range = typeof item === 'string' ? parseRange(item) : `${quoteValue(item)} is not a string`;
      if (typeof range === 'string') errors.push(`pool "${name}" [${index}]: ${range}`);
      else ranges.push(range);
    });
    pools.push({ name, ranges });
  }
  return { pools, errors };
}

/** The pool's addresses of one family, in order, skipping those `taken` holds. */
export function* freeAddresses(pool: AddressPool, family: Family, taken: ReadonlySet<string>): Generator<string> {
  for (const range of pool.ranges) {
    if (range.family !== family) continue;
    for (let value = range.first; value <= range.last; value++) {
      const address = bigIntToIp(value, family);
      if (!taken.has(address)) yield address;
    }
  }
}

export function poolContains(pool: AddressPool, address: string): boolean {
  const family = familyOf(address);
  if (family === undefined) return false;
  const value = ipToBigInt(address);
  return pool.ranges.some((r) => r.family === family && r.first <= value && value <= r.last);
}

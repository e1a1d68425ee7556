/**
 * NAT bindings -> one nft script, pure. The script is one transaction: the kernel applies all
 * of it or none, so traffic never meets half the rules.
 *
 * The table (`inet keepvip_nat`):
 * - `prerouting` (and `output`, for clients on this node) look VIP . protocol . port up in
 *   `services4`/`services6` and go to the binding's chain, before kube-proxy's DNAT (priority
 *   dstnat - 10: the first NAT decision for a connection is the one kept).
 * - `svc_<binding>` sends a client with affinity to its endpoint, and any other new
 *   connection to one endpoint picked by `numgen random`.
 * - `ep_<binding>_<endpoint>` records the client in the endpoint's affinity set (ClientIP),
 *   then DNATs to the endpoint.
 * - `postrouting` masquerades what we DNATed (matched by the connection's original
 *   destination), so replies come back through this node whatever the pods' routes.
 * - `input` refuses VIP:port of a binding with no endpoints (instead of reaching a host socket).
 *
 * Only the first packet of a connection meets NAT chains; conntrack carries the rest, so
 * replacing the rules leaves established connections alone. The rules are rewritten on
 * every change, but the affinity sets of endpoints that stay are kept (their names do not
 * change, and `add set` leaves an existing set as it is); the set of an endpoint that goes is
 * deleted in the same transaction, which releases its clients at once.
 */
import type { Family } from '../ip.js';
import type { NatEndpoint, ValidBinding } from './nat-binding.js';

export const DEFAULT_NAT_TABLE = 'keepvip_nat';

/** The chains and sets a table holds now (names), as listed from the kernel. */
export interface NatTableContents {
  readonly chains: readonly string[];
  readonly sets: readonly string[];
}

/** Dynamic sets need a bound; an update to a full set only loses that client's affinity. */
export const AFFINITY_SET_SIZE = 262_144;

const BASE_CHAINS: ReadonlyArray<readonly [name: string, spec: string]> = [
  ['prerouting', 'type nat hook prerouting priority dstnat - 10; policy accept;'],
  // nft names dstnat (-100) for prerouting only; output's NAT runs at the same -100.
  ['output', 'type nat hook output priority -110; policy accept;'],
  ['postrouting', 'type nat hook postrouting priority srcnat - 10; policy accept;'],
  ['input', 'type filter hook input priority filter - 10; policy accept;'],
];

interface FamilyWords {
  readonly addrType: string;
  readonly ip: string;
}

const WORDS: Record<Family, FamilyWords> = {
  4: { addrType: 'ipv4_addr', ip: 'ip' },
  6: { addrType: 'ipv6_addr', ip: 'ip6' },
};

const KEY = (f: Family): string => `${WORDS[f].addrType} . inet_proto . inet_service`;
const BASE_SETS: ReadonlyArray<readonly [name: string, spec: string]> = ([4, 6] as const).flatMap((f) => [
  [`services${f}`, `type ${KEY(f)} : verdict;`] as const,
  [`bound${f}`, `type ${KEY(f)};`] as const,
  [`noendpoints${f}`, `type ${KEY(f)};`] as const,
]);

/** A name nft accepts as an identifier: ':' (IPv6) is not allowed, '-' is. */
const token = (address: string): string => address.replaceAll(':', '-');

function bindingId(b: ValidBinding): string {
  return `${token(b.vip)}_${b.protocol.toLowerCase()}_${b.port}`;
}

export const svcChain = (b: ValidBinding): string => `svc_${bindingId(b)}`;
export const endpointChain = (b: ValidBinding, e: NatEndpoint): string => `ep_${bindingId(b)}_${token(e.address)}_${e.port}`;
export const affinitySet = (b: ValidBinding, e: NatEndpoint): string => `aff_${bindingId(b)}_${token(e.address)}_${e.port}`;


/** What the table holds once `bindings` are applied. */
export function desiredContents(bindings: readonly ValidBinding[]): NatTableContents {
  const chains = BASE_CHAINS.map(([name]) => name);
  const sets = BASE_SETS.map(([name]) => name);
  for (const b of bindings) {
    if (b.endpoints.length === 0) continue;
    chains.push(svcChain(b), ...b.endpoints.map((e) => endpointChain(b, e)));
    if (b.affinityTimeoutSeconds !== undefined) sets.push(...b.endpoints.map((e) => affinitySet(b, e)));
  }
  return { chains, sets };
}

/**
 * Where the change starts from: `bindings`, what our last transaction left (the script then
 * touches only what differs), or `installed`, the names a table of unknown content holds (the
 * script then rewrites every rule and element, and deletes the names no binding wants).
 */
export type NatStart = { readonly bindings: readonly ValidBinding[] } | { readonly installed: NatTableContents };

const bindingKey = (b: ValidBinding): string => `${b.family} ${elementKey(b)}`;
/** The element key of a binding: VIP . protocol . port. */
const elementKey = (b: ValidBinding): string => `${b.vip} . ${b.protocol.toLowerCase()} . ${b.port}`;
const endpointKey = (e: NatEndpoint): string => `${e.address} ${e.port}`;
const served = (b: ValidBinding | undefined): b is ValidBinding => b !== undefined && b.endpoints.length > 0;

/** nft's syntax for a destination: 10.1.0.2:8080, [2001:db8::2]:8080. */
const hostPort = (family: Family, e: NatEndpoint): string => (family === 4 ? `${e.address}:${e.port}` : `[${e.address}]:${e.port}`);

/** A comment nft accepts: printable ASCII without quotes or backslashes, at most 100 characters. */
const comment = (text: string | undefined): string =>
  text === undefined ? '' : ` comment "${text.replace(/[^\x20-\x7e]|["\\]/g, '_').slice(0, 100)}"`;

/** The script's commands by phase, so that nothing is deleted while something still refers to it. */
class Phases {
  readonly unlink: string[] = [];
  readonly remove: string[] = [];
  readonly create: string[] = [];
  readonly rules: string[] = [];
  readonly link: string[] = [];
  lines(): string[] {
    return [...this.unlink, ...this.remove, ...this.create, ...this.rules, ...this.link];
  }
}

/**
 * The transaction that turns the table from `start` into one holding exactly `bindings`.
 * No bindings: the table is deleted (nothing of ours left in the packet path).
 */
export function renderNatScript(bindings: readonly ValidBinding[], start: NatStart, table = DEFAULT_NAT_TABLE): string {
  const t = `inet ${table}`;
  // "add" then "delete" deletes whether or not the table exists (nft 1.0.6 has no "destroy").
  if (bindings.length === 0) return `add table ${t}\ndelete table ${t}\n`;

  const lines: string[] = [];
  // A change from bindings we put there starts by flushing the hooks' chains: if the table is
  // gone (`nft flush ruleset`, a firewall reload), that fails the whole transaction, and the
  // caller rewrites everything instead of adding one binding to an empty table.
  const changing = 'bindings' in start && start.bindings.length > 0;
  if (changing) lines.push(...BASE_CHAINS.map(([name]) => `flush chain ${t} ${name}`));
  lines.push(`add table ${t}`);
  for (const [name, spec] of BASE_SETS) lines.push(`add ${kindOf(name)} ${t} ${name} { ${spec} }`);
  for (const [name, spec] of BASE_CHAINS) lines.push(`add chain ${t} ${name} { ${spec} }`);
  let from: readonly ValidBinding[];
  if ('installed' in start) {
    // `flush table` empties every chain but no set: the base sets are emptied by name, the
    // affinity sets keep their clients.
    lines.push(`flush table ${t}`, ...BASE_SETS.map(([name]) => `flush ${kindOf(name)} ${t} ${name}`));
    const want = desiredContents(bindings);
    const chains = new Set(want.chains);
    const sets = new Set(want.sets);
    // Nothing refers to them any more: every rule was flushed.
    lines.push(...start.installed.chains.filter((c) => !chains.has(c)).map((c) => `delete chain ${t} ${c}`));
    lines.push(...start.installed.sets.filter((s) => !sets.has(s)).map((s) => `delete set ${t} ${s}`));
    from = [];
  } else {
    // The few rules of the hooks are rewritten every time (which families and protocols are served).
    if (!changing) lines.push(...BASE_CHAINS.map(([name]) => `flush chain ${t} ${name}`));
    from = start.bindings;
  }
  for (const family of [4, 6] as const) lines.push(...hookRules(t, family, bindings.filter((b) => b.family === family)));

  const phases = new Phases();
  const old = new Map(from.map((b) => [bindingKey(b), b]));
  const next = new Map(bindings.map((b) => [bindingKey(b), b]));
  for (const [key, b] of old) if (!next.has(key)) change(t, phases, b, undefined);
  for (const [key, b] of next) change(t, phases, old.get(key), b);
  return `${[...lines, ...phases.lines()].join('\n')}\n`;
}

const kindOf = (baseSet: string): 'map' | 'set' => (baseSet.startsWith('services') ? 'map' : 'set');

/** The hooks' rules for one family: look-up, masquerade, refusal. */
function hookRules(t: string, family: Family, bindings: readonly ValidBinding[]): string[] {
  const { ip } = WORDS[family];
  const lines: string[] = [];
  const protocols = [...new Set(bindings.filter(served).map((b) => b.protocol.toLowerCase()))];
  if (protocols.length > 0) {
    const lookup = `${ip} daddr . meta l4proto . th dport vmap @services${family}`;
    lines.push(`add rule ${t} prerouting ${lookup}`, `add rule ${t} output ${lookup}`);
  }
  // nft needs the protocol in the rule to read the original destination port from conntrack.
  for (const protocol of protocols) {
    lines.push(`add rule ${t} postrouting meta l4proto ${protocol} ct status dnat ct original ${ip} daddr . ct protocol . ct original proto-dst @bound${family} masquerade`);
  }
  if (bindings.some((b) => !served(b))) lines.push(`add rule ${t} input ${ip} daddr . meta l4proto . th dport @noendpoints${family} reject`);
  return lines;
}

/** The commands that turn binding `a` into `b` (either may be absent). Unchanged: none. */
function change(t: string, p: Phases, a: ValidBinding | undefined, b: ValidBinding | undefined): void {
  if (a !== undefined && b !== undefined && (a === b || JSON.stringify(a) === JSON.stringify(b))) return;
  const any = (b ?? a) as ValidBinding;
  const f = any.family;
  const key = elementKey(any);
  // Which sets hold the binding's key.
  if (a === undefined || b === undefined || served(a) !== served(b)) {
    if (served(a)) p.unlink.push(`delete element ${t} services${f} { ${key} }`, `delete element ${t} bound${f} { ${key} }`);
    else if (a !== undefined) p.unlink.push(`delete element ${t} noendpoints${f} { ${key} }`);
    if (served(b)) p.link.push(`add element ${t} services${f} { ${key} : goto ${svcChain(b)} }`, `add element ${t} bound${f} { ${key} }`);
    else if (b !== undefined) p.link.push(`add element ${t} noendpoints${f} { ${key} }`);
  }
  // The service chain is rewritten whole; it is the only thing referring to endpoint chains and sets.
  if (served(a)) p.unlink.push(`flush chain ${t} ${svcChain(a)}`);
  const before = new Map((served(a) ? a.endpoints : []).map((e) => [endpointKey(e), e]));
  const after = new Map((served(b) ? b.endpoints : []).map((e) => [endpointKey(e), e]));
  for (const [k, e] of before) {
    if (after.has(k)) continue;
    const gone = a as ValidBinding;
    p.remove.push(`delete chain ${t} ${endpointChain(gone, e)}`);
    // Its clients are released with it (kube-keepalived-vip#117 kept them for 30 minutes).
    if (gone.affinityTimeoutSeconds !== undefined) p.remove.push(`delete set ${t} ${affinitySet(gone, e)}`);
  }
  if (served(a) && !served(b)) p.remove.push(`delete chain ${t} ${svcChain(a)}`);
  if (!served(b)) return;
  if (!served(a)) p.create.push(`add chain ${t} ${svcChain(b)}`);
  const { ip } = WORDS[f];
  for (const [k, e] of after) {
    const ep = endpointChain(b, e);
    const aff = affinitySet(b, e);
    const had = before.has(k) ? (a as ValidBinding).affinityTimeoutSeconds : null;
    if (had === b.affinityTimeoutSeconds) continue;
    if (had === null) p.create.push(`add chain ${t} ${ep}`);
    else p.unlink.push(`flush chain ${t} ${ep}`);
    if (had !== null && had !== undefined && b.affinityTimeoutSeconds === undefined) p.remove.push(`delete set ${t} ${aff}`);
    if ((had === null || had === undefined) && b.affinityTimeoutSeconds !== undefined) {
      p.create.push(`add set ${t} ${aff} { type ${WORDS[f].addrType}; flags dynamic,timeout; size ${AFFINITY_SET_SIZE}; }`);
    }
    // Its own rule: a full set must not stop the DNAT below.
    if (b.affinityTimeoutSeconds !== undefined) p.rules.push(`add rule ${t} ${ep} update @${aff} { ${ip} saddr timeout ${b.affinityTimeoutSeconds}s }`);
    p.rules.push(`add rule ${t} ${ep} meta l4proto ${b.protocol.toLowerCase()} dnat ${ip} to ${hostPort(f, e)}`);
  }
  const svc = svcChain(b);
  if (b.affinityTimeoutSeconds !== undefined) {
    // A client seen within the timeout goes back to its endpoint.
    for (const e of b.endpoints) p.rules.push(`add rule ${t} ${svc} ${ip} saddr @${affinitySet(b, e)} goto ${endpointChain(b, e)}`);
  }
  const spread = b.endpoints.map((e, i) => `${i} : goto ${endpointChain(b, e)}`).join(', ');
  p.rules.push(`add rule ${t} ${svc} numgen random mod ${b.endpoints.length} vmap { ${spread} }${comment(b.source)}`);
}

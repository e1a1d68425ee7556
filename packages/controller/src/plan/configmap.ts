/**
 * The VIP ConfigMap. kube-keepalived-vip's format, unchanged:
 *
 *     10.0.0.100: ingress/controller        # VIP -> namespace/service (NAT, the default)
 *     10.0.0.101: ingress/controller:NAT
 *     10.0.0.102: ""                        # hold the VIP only
 *
 * `:DR` and `:PROXY` are rejected with a reason (keepvip holds the VIP; kube-proxy forwards).
 * The extended form: the value is a YAML or JSON mapping, and the key is free text (how IPv6
 * VIPs are written, since ConfigMap keys allow only [-._a-zA-Z0-9]):
 *
 *     web-v6: '{ vip: "2001:db8::10", service: web/gateway, interface: eth1, vrid: 60,
 *                preferredNodes: [node-a], ports: [443] }'
 *
 * The key `_pools` declares the address pools for LoadBalancer Services (pools.ts); every
 * other key beginning with "_" is reserved. Each bad entry is rejected alone with its key.
 */
import { parse as parseYaml } from 'yaml';
import { parseVip } from '@keepvip/agent';
import type { ConfigMap } from './cluster.js';
import type { Family } from './address.js';
import { parsePools, type AddressPool } from './pools.js';
import { RejectionCode, type RejectedObject, type Rejection } from './rejection.js';
import { quote, quoteValue } from './text.js';

/** The reserved ConfigMap key that declares address pools. */
export const POOLS_KEY = '_pools';

export interface ServiceRef {
  readonly namespace: string;
  readonly name: string;
}

export interface VipEntry {
  /** The ConfigMap key, or `namespace/name` for a LoadBalancer Service's VIP. */
  readonly key: string;
  /** Canonical address. */
  readonly address: string;
  readonly prefixLength: number;
  readonly family: Family;
  /** Absent: hold the VIP only, with no endpoint awareness. */
  readonly service?: ServiceRef;
  /** Names the interface on every node instead of the one holding its InternalIP. */
  readonly interface?: string;
  /** A pinned VRID. */
  readonly vrid?: number;
  /** Nodes ranked first among nodes that are otherwise equal. */
  readonly preferredNodes: readonly string[];
  /** Only endpoints serving these Service ports (number or name) count. Empty: all. */
  readonly ports: readonly (number | string)[];
}

export interface ParsedVipConfigMap {
  readonly entries: readonly VipEntry[];
  readonly pools: readonly AddressPool[];
  readonly rejected: readonly Rejection[];
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const INTERFACE = /^[^\s/]{1,15}$/;
const NODE_NAME = /^[a-z0-9]([-.a-z0-9]{0,251}[a-z0-9])?$/;
const EXTENDED_FIELDS = ['vip', 'service', 'bind', 'interface', 'vrid', 'preferredNodes', 'ports'] as const;

/** An entry, or the reason and code it is rejected with. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string; code: RejectionCode };
const fail = (reason: string, code: RejectionCode = RejectionCode.InvalidEntry): { ok: false; reason: string; code: RejectionCode } => ({ ok: false, reason, code });

/** `namespace/name`, both DNS labels. */
export function parseServiceRef(text: string): ServiceRef | string {
  const parts = text.split('/');
  if (parts.length !== 2) return `${quote(text)} is not namespace/service`;
  const [namespace = '', name = ''] = parts;
  if (!DNS_LABEL.test(namespace)) return `${quote(namespace)} is not a namespace name`;
  if (!DNS_LABEL.test(name)) return `${quote(name)} is not a Service name`;
  return { namespace, name };
}

/** kube-keepalived-vip's forwarding mode word: NAT is what keepvip does, the others are not. */
function checkMode(mode: string): Parsed<undefined> {
  switch (mode.toUpperCase()) {
    case 'NAT':
      return { ok: true, value: undefined };
    case 'DR':
      return fail('DR (direct routing) is not supported: keepvip holds the VIP and kube-proxy forwards to the endpoints (NAT); remove ":DR"', RejectionCode.UnsupportedMode);
    case 'PROXY':
      return fail("PROXY (kube-keepalived-vip's HAProxy) is not supported: kube-proxy forwards to the endpoints; remove \":PROXY\"", RejectionCode.UnsupportedMode);
    default:
      return fail(`${quote(mode)} is not a forwarding mode (NAT is the only one)`, RejectionCode.UnsupportedMode);
  }
}

function parseShort(key: string, value: string): Parsed<VipEntry> {
  const vip = parseVip(key);
  if (typeof vip === 'string' || vip.family !== 4 || key.includes('/')) {
    return fail(`key ${quote(key)} is not an IPv4 address; write IPv6 VIPs and other forms as a mapping with "vip" (the extended form)`);
  }
  const text = value.trim();
  if (text === '') return { ok: true, value: { key, address: vip.address, prefixLength: vip.prefixLength, family: 4, preferredNodes: [], ports: [] } };
  const colon = text.lastIndexOf(':');
  const target = colon < 0 ? text : text.slice(0, colon);
  if (colon >= 0) {
    const mode = checkMode(text.slice(colon + 1));
    if (!mode.ok) return mode;
  }
  const service = parseServiceRef(target);
  if (typeof service === 'string') return fail(service);
  return { ok: true, value: { key, address: vip.address, prefixLength: vip.prefixLength, family: 4, service, preferredNodes: [], ports: [] } };
}

function stringList(value: unknown, what: string, check: (item: string) => boolean): Parsed<string[]> {
  if (!Array.isArray(value)) return fail(`${what} is not a list`);
  const out: string[] = [];
  for (const item of value as unknown[]) {
    if (typeof item !== 'string' || !check(item)) return fail(`${what}: ${quoteValue(item)} is not valid`);
    out.push(item);
  }
  return { ok: true, value: out };
}

function parseExtended(key: string, object: Record<string, unknown>): Parsed<VipEntry> {
  const unknown = Object.keys(object).filter((field) => !(EXTENDED_FIELDS as readonly string[]).includes(field));
  if (unknown.length > 0) return fail(`unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map(quote).join(', ')} (known: ${EXTENDED_FIELDS.join(', ')})`);
  if (typeof object.vip !== 'string') return fail('"vip" is required: an IPv4 or IPv6 address');
  // The agent's reason repeats the text: only short text is worth repeating.
  const vip = object.vip.length > 64 ? `${quote(object.vip)} is not an IPv4 or IPv6 address` : parseVip(object.vip);
  if (typeof vip === 'string') return fail(`vip: ${vip}`);
  let service: ServiceRef | undefined;
  if (object.service !== undefined && object.service !== null && object.service !== '') {
    if (typeof object.service !== 'string') return fail('service is not a "namespace/name" string');
    const ref = parseServiceRef(object.service);
    if (typeof ref === 'string') return fail(`service: ${ref}`);
    service = ref;
  }
  if (object.bind !== undefined) {
    if (typeof object.bind !== 'string') return fail('bind is not a string (NAT)');
    const mode = checkMode(object.bind);
    if (!mode.ok) return mode;
  }
  if (object.interface !== undefined && (typeof object.interface !== 'string' || !INTERFACE.test(object.interface))) {
    return fail(`interface: ${quoteValue(object.interface)} is not an interface name (1..15 characters)`);
  }
  if (object.vrid !== undefined && (typeof object.vrid !== 'number' || !Number.isInteger(object.vrid) || object.vrid < 1 || object.vrid > 255)) {
    return fail(`vrid: ${quoteValue(object.vrid)} is not a whole number in 1..255`);
  }
  let preferredNodes: string[] = [];
  if (object.preferredNodes !== undefined) {
    const nodes = stringList(object.preferredNodes, 'preferredNodes', (n) => NODE_NAME.test(n));
    if (!nodes.ok) return nodes;
    preferredNodes = nodes.value;
  }
  const ports: (number | string)[] = [];
  if (object.ports !== undefined) {
    if (!Array.isArray(object.ports)) return fail('ports is not a list');
    for (const port of object.ports as unknown[]) {
      const valid = (typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535) || (typeof port === 'string' && DNS_LABEL.test(port));
      if (!valid) return fail(`ports: ${quoteValue(port)} is not a port number or name`);
      ports.push(port as number | string);
    }
    if (service === undefined && ports.length > 0) return fail('ports needs a service');
  }
  return {
    ok: true,
    value: {
      key,
      address: vip.address,
      prefixLength: vip.prefixLength,
      family: vip.family,
      ...(service === undefined ? {} : { service }),
      ...(typeof object.interface === 'string' ? { interface: object.interface } : {}),
      ...(typeof object.vrid === 'number' ? { vrid: object.vrid } : {}),
      preferredNodes,
      ports,
    },
  };
}

/** A value that parses as a YAML or JSON mapping is the extended form; anything else the short one. */
function asMapping(value: string): Record<string, unknown> | undefined {
  const text = value.trim();
  // A mapping opens with "{" or has a key ending in ":" before a space or a line end; the short
  // form ("ns/svc:NAT") has neither, and skipping the YAML parser for it is most of the time saved.
  if (!text.startsWith('{') && !/:(\s|$)/m.test(text)) return undefined;
  try {
    const parsed: unknown = parseYaml(text);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    // A value that is not YAML at all ("ns/svc: x: y") is left to the short form to reject.
    return undefined;
  }
}

export function parseVipEntry(key: string, value: string): Parsed<VipEntry> {
  const mapping = asMapping(value);
  return mapping === undefined ? parseShort(key, value) : parseExtended(key, mapping);
}

/**
 * Reads every key of the ConfigMap. Keys are read in sorted order, so when two keys name the
 * same VIP the later key (by name) is the one rejected, on every node alike.
 */
export function parseVipConfigMap(configMap: ConfigMap | undefined): ParsedVipConfigMap {
  if (configMap === undefined) return { entries: [], pools: [], rejected: [] };
  // Objects from the informers are immutable snapshots: one parse per ConfigMap object.
  const known = parsedConfigMaps.get(configMap);
  if (known !== undefined) return known;
  const parsed = parseUncached(configMap);
  parsedConfigMaps.set(configMap, parsed);
  return parsed;
}

const parsedConfigMaps = new WeakMap<ConfigMap, ParsedVipConfigMap>();

function parseUncached(configMap: ConfigMap): ParsedVipConfigMap {
  const object: RejectedObject = { kind: 'ConfigMap', namespace: configMap.metadata.namespace ?? 'default', name: configMap.metadata.name };
  const entries: VipEntry[] = [];
  const rejected: Rejection[] = [];
  let pools: readonly AddressPool[] = [];
  const owners = new Map<string, string>();
  const data = configMap.data ?? {};
  for (const key of Object.keys(data).sort()) {
    const value = data[key] ?? '';
    if (key === POOLS_KEY) {
      const parsed = parsePools(value);
      pools = parsed.pools;
      rejected.push(...parsed.errors.map((reason) => ({ key, reason, code: RejectionCode.InvalidPools, object })));
      continue;
    }
    if (key.startsWith('_')) {
      rejected.push({ key, reason: `keys beginning with "_" are reserved for keepvip (${POOLS_KEY} declares the pools)`, code: RejectionCode.ReservedKey, object });
      continue;
    }
    const parsed = parseVipEntry(key, value);
    if (!parsed.ok) {
      rejected.push({ key, reason: parsed.reason, code: parsed.code, object });
      continue;
    }
    const owner = owners.get(parsed.value.address);
    if (owner !== undefined) {
      rejected.push({ key, reason: `VIP ${parsed.value.address} is already given by key ${quote(owner)}`, code: RejectionCode.VipConflict, object });
      continue;
    }
    owners.set(parsed.value.address, key);
    entries.push(parsed.value);
  }
  return { entries, pools, rejected };
}

/**
 * The interface of this machine that holds an address: where an instance runs by default (the
 * one holding the node's InternalIP). Read once per plan, not once per instance.
 */
import { networkInterfaces } from 'node:os';
import { canonicalIp } from './plan/address.js';

/** This machine's addresses (canonical text) -> the interface holding each. */
export function localInterfaceTable(): Map<string, string> {
  const table = new Map<string, string>();
  for (const [name, addresses] of Object.entries(networkInterfaces())) {
    for (const a of addresses ?? []) table.set(canonicalIp(a.address.split('%')[0] ?? a.address) ?? a.address, name);
  }
  return table;
}

export function localInterfaceOf(address: string, table: ReadonlyMap<string, string> = localInterfaceTable()): string | undefined {
  return table.get(canonicalIp(address) ?? address);
}

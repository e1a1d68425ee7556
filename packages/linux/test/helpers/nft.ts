/** nftables inside a lab namespace, for the NAT tests: an nft that never touches the host's tables, and a table's shape. */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { NatBinding } from '../../src/nft/nat-binding.js';
import type { Lab } from './lab.js';

/**
 * A path to give NatBindings as its `nft`: a script that runs nft in namespace `name`, so the
 * code under test runs in the jest process while its rules land in the lab. `dispose` removes it.
 */
export async function nftInNamespace(lab: Lab, name: string): Promise<{ nft: string; calls: () => Promise<string[]>; dispose: () => Promise<void> }> {
  const dir = await mkdtemp(`${tmpdir()}/keepvip-nft-`);
  const nft = `${dir}/nft`;
  // Each call's arguments go to a log, so tests can count transactions.
  await writeFile(nft, `#!/bin/sh\necho "$*" >> ${dir}/calls\nexec ip netns exec ${lab.ns(name)} nft "$@"\n`);
  await chmod(nft, 0o755);
  return {
    nft,
    calls: async () => (await readFile(`${dir}/calls`, 'utf8').catch(() => '')).split('\n').filter((l) => l !== ''),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}

type Json = Record<string, unknown>;

/**
 * A table as comparable data: chains with their hook and rules in order, sets and maps with
 * their type, flags and sorted elements; no handles, no table name. Undefined: no such table.
 */
export async function tableShape(lab: Lab, name: string, table: string): Promise<Json | undefined> {
  let text: string;
  try {
    text = await lab.exec(name, ['nft', '-j', 'list', 'table', 'inet', table]);
  } catch {
    return undefined;
  }
  const items = (JSON.parse(text) as { nftables: Json[] }).nftables;
  const chains: Record<string, Json> = {};
  const sets: Record<string, Json> = {};
  for (const item of items) {
    const chain = item['chain'] as Json | undefined;
    const set = (item['set'] ?? item['map']) as Json | undefined;
    const rule = item['rule'] as Json | undefined;
    if (chain !== undefined) chains[chain['name'] as string] = { hook: chain['hook'], prio: chain['prio'], type: chain['type'], rules: [] };
    if (set !== undefined) {
      const elem = ((set['elem'] as unknown[] | undefined) ?? []).map((e) => JSON.stringify(e)).sort();
      sets[set['name'] as string] = { type: set['type'], map: set['map'], flags: set['flags'], size: set['size'], elem };
    }
    if (rule !== undefined) (chains[rule['chain'] as string]?.['rules'] as unknown[]).push({ expr: rule['expr'], comment: rule['comment'] });
  }
  return { chains, sets };
}

/** The client addresses in one set of a table (an affinity set). */
export async function setElements(lab: Lab, name: string, table: string, set: string): Promise<string[]> {
  const text = await lab.exec(name, ['nft', '-j', 'list', 'set', 'inet', table, set]);
  const items = (JSON.parse(text) as { nftables: Json[] }).nftables;
  const found = items.find((i) => i['set'] !== undefined)?.['set'] as Json | undefined;
  return ((found?.['elem'] as unknown[] | undefined) ?? []).map((e) => {
    const inner = (e as Json)['elem'] as Json | undefined;
    return String(inner === undefined ? e : inner['val']);
  });
}

/** The binding the NAT tests share: TCP 10.0.0.100:80 to these pods' port 8080. */
export const web = (addresses: string[], affinity?: number): NatBinding => ({
  vip: '10.0.0.100',
  protocol: 'TCP',
  port: 80,
  endpoints: addresses.map((address) => ({ address, port: 8080 })),
  clientIpAffinity: affinity === undefined ? undefined : { timeoutSeconds: affinity },
  source: 'ingress/nginx:http',
});

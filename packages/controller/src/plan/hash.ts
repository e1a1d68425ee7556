/**
 * A small, fixed, platform-independent hash, so that every node computes the same ranking
 * and VRIDs from the same names (FNV-1a 32-bit over the UTF-16 code units, which are the same
 * in every JavaScript engine, then the murmur3 finaliser to mix the low bits `% n` reads).
 */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Rendezvous (highest random weight) score of `node` for `key`; higher ranks first. */
export function rendezvousScore(key: string, node: string): number {
  return hash32(`${key}\u0000${node}`);
}

/** Orders `nodes` by their rendezvous score for `key`, highest first; ties by name. */
export function rendezvousOrder(key: string, nodes: readonly string[]): string[] {
  return nodes
    .map((node) => ({ node, score: rendezvousScore(key, node) }))
    .sort((a, b) => b.score - a.score || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0))
    .map((entry) => entry.node);
}

/**
 * A small, fixed, platform-independent hash, so that every node computes the same ranking
 * and VRIDs from the same names (FNV-1a 32-bit over the UTF-16 code units, which are the same
 * in every JavaScript engine, then the murmur3 finaliser to mix the low bits `% n` reads).
 */
const FNV_OFFSET = 0x811c9dc5;

function fnv(h: number, text: string): number {
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h;
}

function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function hash32(text: string): number {
  return finish(fnv(FNV_OFFSET, text));
}

/**
 * Rendezvous (highest random weight) scores for `key`: `hash32(key + "\0" + node)`, with the
 * key hashed once for all the nodes. Higher ranks first.
 */
export function rendezvousScorer(key: string): (node: string) => number {
  const prefix = fnv(FNV_OFFSET, `${key}\u0000`);
  return (node) => finish(fnv(prefix, node));
}

export function rendezvousScore(key: string, node: string): number {
  return rendezvousScorer(key)(node);
}

/** Orders `nodes` by their rendezvous score for `key`, highest first; ties by name. */
export function rendezvousOrder(key: string, nodes: readonly string[]): string[] {
  const score = rendezvousScorer(key);
  return nodes
    .map((node) => ({ node, score: score(node) }))
    .sort((a, b) => b.score - a.score || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0))
    .map((entry) => entry.node);
}

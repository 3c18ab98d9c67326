// Highest-random-weight (rendezvous) hashing: which node owns a key (a room, a service's
// shard) among the live nodes. Every node computes the same answer from the same list, with
// no coordination, and when a node leaves only the keys it owned move (each to its next in
// rank); when one joins, it takes about 1/n of the keys and nothing else moves. Cost: one
// hash of the key per node, which for a few nodes is cheaper than a ring to maintain.

/** The node with the highest weight for `key`; undefined when `nodes` is empty. */
export function ownerOf(key: string, nodes: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestWeight = -1;
  for (const node of nodes) {
    const w = weight(key, node);
    // Ties (one in 2^53) go to the smaller id, so that every node decides alike.
    if (w > bestWeight || (w === bestWeight && best !== undefined && node < best)) {
      best = node;
      bestWeight = w;
    }
  }
  return best;
}

/** Every node, the owner of `key` first, then who would own it next if the one before left. */
export function ranked(key: string, nodes: readonly string[]): string[] {
  return nodes
    .map((node) => ({ node, w: weight(key, node) }))
    .sort((a, b) => b.w - a.w || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0))
    .map((e) => e.node);
}

/**
 * A 53-bit weight of the pair (cyrb53: two 32-bit multiply-xorshift lanes, well spread for
 * strings that differ in one character, as node ids and room names do). Not cryptographic:
 * whoever chooses keys can pile them on one node, which costs them nothing they could not
 * do by creating rooms anyway.
 */
function weight(key: string, node: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  const mix = (c: number): void => {
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  };
  for (let i = 0; i < node.length; i++) mix(node.charCodeAt(i));
  mix(0); // separates node from key, so ("ab","c") and ("a","bc") differ
  for (let i = 0; i < key.length; i++) mix(key.charCodeAt(i));
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

// The routing arithmetic of docs/protocol.md §1: FNV-1a over UTF-8, slots, partitions, buckets. Pure
// functions, no I/O: the one source for the router and the store (servers) and the client (browsers, the
// ?slot= hint); any language reproduces them from the protocol's test vectors.

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const encoder = new TextEncoder();

/** FNV-1a, 32-bit, over the UTF-8 bytes of `s`; an unsigned integer. */
export function fnv1a32(s: string): number {
  let hash = FNV_OFFSET_BASIS;
  for (const byte of encoder.encode(s)) {
    hash ^= byte;
    hash = Math.imul(hash, FNV_PRIME);
  }
  return hash >>> 0;
}

/** `fnv1a32(userId) mod slots` (default S = 1024). */
export function slotOf(userId: string, slots = 1024): number {
  return fnv1a32(userId) % slots;
}

/** `slot mod partitions` (default P = 16). S must be a multiple of P so a slot never spans partitions. */
export function partitionOf(slot: number, partitions = 16): number {
  return slot % partitions;
}

/** Milliseconds in one bucket: 10 days. */
export const BUCKET_MS = 864_000_000;

/** Discord-style time bucket of a snowflake id: `floor((id >> 22) / 864000000)`. */
export function bucketOf(id: string | bigint): number {
  const n = typeof id === 'bigint' ? id : BigInt(id);
  return Number((n >> 22n) / BigInt(BUCKET_MS));
}

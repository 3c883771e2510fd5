// Snowflake arithmetic the client needs (docs/protocol.md §1): ordering, the time in an id, and the
// RESUME `since`. Everything goes through BigInt: ids exceed 2^53.

/** The chat epoch, 2024-01-01T00:00:00Z, in Unix milliseconds. */
export const CHAT_EPOCH_MS = 1_704_067_200_000;

const ID_RE = /^(0|[1-9][0-9]{0,19})$/;

/** A decimal string that fits in 64 unsigned bits. */
export function isSnowflake(value: unknown): value is string {
  return typeof value === 'string' && ID_RE.test(value) && BigInt(value) < 1n << 64n;
}

/** −1, 0 or 1 as `a` sorts before, with or after `b` (creation order). */
export function compareIds(a: string, b: string): -1 | 0 | 1 {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The larger of two ids; `null` counts as smaller than any id. */
export function maxId(a: string | null, b: string): string {
  return a === null || compareIds(b, a) > 0 ? b : a;
}

/** Unix milliseconds carried in an id (bits 63..22). */
export function timestampOfId(id: string): number {
  return Number(BigInt(id) >> 22n) + CHAT_EPOCH_MS;
}

/** The smallest id of the given Unix millisecond (worker 0, sequence 0); 0 before the epoch. */
export function firstIdAt(unixMs: number): string {
  const ms = Math.max(0, Math.floor(unixMs) - CHAT_EPOCH_MS);
  return (BigInt(ms) << 22n).toString();
}

/**
 * The `since` of a RESUME: the highest id seen minus `marginMs` of snowflake time, floored at 0.
 * Live deliveries are not in id order across channels (each channel's write took its own path
 * through the persister), so an event with a smaller id than the highest one seen may still be in
 * flight when the connection drops; resuming a little earlier and de-duplicating closes that gap.
 */
export function resumeSince(lastSeenId: string, marginMs: number): string {
  const since = BigInt(lastSeenId) - (BigInt(Math.max(0, Math.floor(marginMs))) << 22n);
  return (since > 0n ? since : 0n).toString();
}

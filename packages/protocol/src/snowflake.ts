// Snowflake ids (docs/protocol.md §1): 42 bits of milliseconds since the chat epoch, 10 bits of worker id,
// 12 bits of sequence. Decimal strings on the wire (no sign, no leading zeros, below 2^63), bigint in
// memory. ONE pattern for every package; it is exact, so a JSON Schema validator (and any other
// language) needs no extra check. The generator that issues them is @chat/router's SnowflakeGenerator.

/** The largest snowflake: 2^63 - 1. */
export const MAX_SNOWFLAKE = (1n << 63n) - 1n;

/** A regular expression source accepting exactly the decimal numbers 0..max, written without leading zeros. */
export function decimalUpTo(max: bigint): string {
  const digits = max.toString();
  const shorter = digits.length === 1 ? [] : [`[1-9][0-9]{0,${digits.length - 2}}`];
  const same: string[] = [];
  for (let i = 0; i < digits.length; i++) {
    const d = Number(digits[i]);
    const low = i === 0 ? 1 : 0;
    if (d > low) {
      const range = d - 1 === low ? `${low}` : `[${low}-${d - 1}]`;
      const rest = digits.length - i - 1;
      same.push(`${digits.slice(0, i)}${range}${rest > 0 ? `[0-9]{${rest}}` : ''}`);
    }
  }
  same.push(digits);
  return `^(0|${[...shorter, ...same].join('|')})$`;
}

/** The snowflake pattern: decimal, no leading zeros, 0..2^63-1. */
export const SNOWFLAKE_PATTERN = decimalUpTo(MAX_SNOWFLAKE);
const snowflakeRe = new RegExp(SNOWFLAKE_PATTERN);

/** The schema of a snowflake id. */
export const Snowflake = { type: 'string', pattern: SNOWFLAKE_PATTERN } as const;

/** True when `value` is a snowflake id as this system writes them. */
export function isSnowflake(value: unknown): value is string {
  return typeof value === 'string' && snowflakeRe.test(value);
}

/** 2024-01-01T00:00:00Z */
export const CHAT_EPOCH_MS = 1_704_067_200_000;

export interface SnowflakeParts {
  timestampMs: number;
  workerId: number;
  sequence: number;
}

/** Composes an id from its parts; `timestampMs` is Unix milliseconds. */
export function makeSnowflake(timestampMs: number, workerId: number, sequence: number): bigint {
  return (BigInt(timestampMs - CHAT_EPOCH_MS) << 22n) | (BigInt(workerId) << 12n) | BigInt(sequence);
}

/** Splits an id into Unix milliseconds, worker id and sequence. */
export function parseSnowflake(id: string | bigint): SnowflakeParts {
  const n = typeof id === 'bigint' ? id : BigInt(id);
  return {
    timestampMs: Number(n >> 22n) + CHAT_EPOCH_MS,
    workerId: Number((n >> 12n) & 0x3ffn),
    sequence: Number(n & 0xfffn),
  };
}

/** The smallest id that any producer could have issued at or after `timestampMs`; for range queries. */
export function snowflakeAt(timestampMs: number): bigint {
  return makeSnowflake(Math.max(timestampMs, CHAT_EPOCH_MS), 0, 0);
}

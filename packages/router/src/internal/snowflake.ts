// Snowflake ids of docs/protocol.md §1: 42 bits of milliseconds since the chat epoch, 10 bits of
// worker id, 12 bits of sequence. Decimal strings on the wire, bigint in memory.
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidArgumentError } from './errors.js';

/** 2024-01-01T00:00:00Z */
export const CHAT_EPOCH_MS = 1_704_067_200_000;
const MAX_WORKER_ID = 1023;
const MAX_SEQUENCE = 4095;

export interface SnowflakeOptions {
  /** Worker id, 0..1023, unique among live producers. Required. */
  workerId: number;
  /** Clock in milliseconds since the Unix epoch. Default `Date.now`; injectable for tests. */
  now?: () => number;
  /** How to wait when one millisecond's 4096 ids are used up. Default: a real timer. */
  sleep?: (ms: number) => Promise<unknown>;
}

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

/**
 * Issues strictly increasing ids for one worker.
 * If the clock goes backwards, keeps issuing from the last millisecond seen (never a smaller id);
 * if one millisecond's 4096 sequence numbers run out, `next()` waits for the next millisecond
 * and `nextSync()` borrows the next millisecond instead (still unique and increasing).
 */
export class SnowflakeGenerator {
  readonly workerId: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<unknown>;
  #lastMs = -1;
  #sequence = 0;

  constructor(options: SnowflakeOptions) {
    const { workerId } = options;
    if (!Number.isInteger(workerId) || workerId < 0 || workerId > MAX_WORKER_ID) {
      throw new InvalidArgumentError(`workerId must be an integer in 0..${MAX_WORKER_ID}, got ${workerId}`);
    }
    this.workerId = workerId;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? sleep;
  }

  /** Next id as a decimal string; waits (about a millisecond) when the current one is exhausted. */
  async next(): Promise<string> {
    for (;;) {
      const id = this.#tryNext(false);
      if (id !== undefined) return id.toString();
      await this.#sleep(1);
    }
  }

  /** Next id without waiting: on exhaustion it moves on to the following millisecond. */
  nextSync(): string {
    return this.#tryNext(true)!.toString();
  }

  #tryNext(borrow: boolean): bigint | undefined {
    const now = this.#now();
    if (now > this.#lastMs) {
      this.#lastMs = now;
      this.#sequence = 0;
    } else if (this.#sequence < MAX_SEQUENCE) {
      // Same millisecond, or the clock went backwards: stay on the last millisecond seen.
      this.#sequence += 1;
    } else if (borrow) {
      this.#lastMs += 1;
      this.#sequence = 0;
    } else {
      return undefined;
    }
    return makeSnowflake(this.#lastMs, this.workerId, this.#sequence);
  }
}

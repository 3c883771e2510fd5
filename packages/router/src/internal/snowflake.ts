// The snowflake generator: issues the ids of docs/protocol.md §1 (their layout, the epoch and the
// pattern are @chat/protocol's snowflake module) for one worker.
import { setTimeout as sleep } from 'node:timers/promises';
import { makeSnowflake } from '@chat/protocol';
import { InvalidArgumentError } from './errors.js';

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

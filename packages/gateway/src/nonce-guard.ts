// Nonce de-duplication of durable writes: a Redis record per (author, channel, nonce) for 24 h holding
// the write's identity — a short reference minted before its first attempt (for a message: its id and
// timestamp, at most NONCE_REF_MAX characters, never the body). Every attempt of one nonce writes under
// that identity, so a write whose outcome is unknown (the broker may have stored it: a lost confirm, a
// dropped connection) is repeated as the same write, which the persister stores by id at most once.
import type { Redis } from 'ioredis';
import { ApiError } from './errors.js';

/**
 * `pending`: an attempt is in flight. `failed`: the last attempt failed and may or may not have been
 * stored; the next one repeats it under the same ref. `done`: stored (confirmed) under ref.
 * Records written by older gateways may lack `ref` on `pending`.
 */
type NonceRecord = { state: 'pending' | 'failed' | 'done'; ref?: string };

/** The longest reference a nonce record may hold: the record's size is bounded whatever a write mints. */
export const NONCE_REF_MAX = 64;

/** One nonce-guarded write. */
export interface NonceWrite<T> {
  /** A fresh identity for the write (≤ NONCE_REF_MAX characters), e.g. a new message id and timestamp. */
  mint(): Promise<string>;
  /**
   * Performs the write under `ref`. It may be called again with the same ref (after a failure, or by a
   * second attempt while the first hangs), so it must be idempotent per ref: the persister storing by
   * message id makes a repeated publish harmless.
   */
  run(ref: string): Promise<T>;
  /** The result of a write already done under `ref` (a retry after the success was not seen). */
  fromRef(ref: string): Promise<T>;
}

/**
 * One atomic step: the record if there is one; else, unless the records were lost lately, a pending
 * record claimed. The epoch key `<since>:<lost>` says since when Redis has kept the records: written
 * when missing, with lost = 1 when a gateway had seen it lately (Redis restarted empty meanwhile). It
 * lives as long as a record plus the recovery time, renewed by every call: when it expires by itself,
 * nothing was written for longer than any record lives, so no record is missed (and no gateway has
 * seen it lately).
 * KEYS: epoch, record. ARGV: pending record, ttl ms, epoch to write if missing, now ms, recovery ms,
 * epoch ttl ms.
 */
const CLAIM = `
local rec = redis.call('GET', KEYS[2])
if rec then return {'record', rec} end
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  epoch = ARGV[3]
end
redis.call('SET', KEYS[1], epoch, 'PX', ARGV[6])
local since, lost = string.match(epoch, '^(%d+):(%d)$')
if lost == '1' and tonumber(ARGV[4]) - tonumber(since) < tonumber(ARGV[5]) then
  return {'wait', since}
end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return {'claimed'}
`;

type NonceRedis = Redis & {
  chatNonceClaim(epoch: string, key: string, ...args: string[]): Promise<[string, string?]>;
};

/**
 * De-duplicates message.create by (author, channel, nonce) for 24 h: every attempt of one key writes
 * under the identity minted for its first attempt, so the key stores at most one message whatever
 * happens to any attempt (a failed or unanswered attempt is repeated as the same write; a later call
 * after a success gets that result back). A call that finds another attempt in flight waits for it up
 * to `waitMs`, then repeats the write itself (the first may have died with its gateway). The write is
 * never run without a record: while Redis cannot be asked, the call is refused (`unavailable`,
 * retryable, nothing written). Redis keeps an epoch key besides the records; when it is found missing by
 * a gateway that had seen it (Redis restarted empty: every record is gone), calls whose key has no record
 * are refused `unavailable` for `recoveryMs` (default 30 s) from then, so that retries of writes first
 * sent before the loss find no gap to slip through — the SDK resends within its request timeout (10 s).
 * A retry later than that of a write first sent before Redis lost its data, or one that reaches a
 * gateway started after the loss before any gateway that saw the old epoch noticed it, is not recognised.
 */
export class NonceGuard {
  readonly #redis: NonceRedis;
  readonly #prefix: string;
  readonly #ttlMs: number;
  readonly #waitMs: number;
  readonly #recoveryMs: number;
  readonly #onError: (err: unknown) => void;
  /** When this guard last saw the epoch key (0: never): missing within its lifetime, Redis lost the records. */
  #seenAt = 0;

  constructor(
    redis: Redis,
    prefix: string,
    options: { ttlMs?: number; waitMs?: number; recoveryMs?: number; onError?: (err: unknown) => void } = {},
  ) {
    this.#redis = redis as NonceRedis;
    if (typeof this.#redis.chatNonceClaim !== 'function')
      redis.defineCommand('chatNonceClaim', { numberOfKeys: 2, lua: CLAIM });
    this.#prefix = prefix;
    this.#ttlMs = options.ttlMs ?? 86_400_000;
    this.#waitMs = options.waitMs ?? 15_000;
    this.#recoveryMs = options.recoveryMs ?? 30_000;
    this.#onError = options.onError ?? (() => {});
    // After every (re)connect: an epoch key missing then means the records were lost.
    redis.on('ready', () => void this.observe());
  }

  get #epochKey(): string {
    return `${this.#prefix}nonce:epoch`;
  }

  #newEpoch(now: number): string {
    return `${now}:${this.#seenAt > 0 && now - this.#seenAt < this.#epochTtlMs ? 1 : 0}`;
  }

  /** The epoch key's lifetime, renewed by every claim: a record's plus the recovery time. */
  get #epochTtlMs(): number {
    return this.#ttlMs + this.#recoveryMs;
  }

  /**
   * Writes the epoch key if it is missing (lost when this guard had seen it before). Called at start
   * and on every Redis reconnect; a failure is reported to onError and retried at the next reconnect.
   */
  async observe(): Promise<void> {
    try {
      const now = Date.now();
      const created = await this.#redis.set(this.#epochKey, this.#newEpoch(now), 'PX', this.#epochTtlMs, 'NX');
      if (created !== 'OK') await this.#redis.pexpire(this.#epochKey, this.#epochTtlMs);
      this.#seenAt = now;
    } catch (err) {
      this.#onError(err);
    }
  }

  /**
   * Runs `write` for this key at most as one write: under a fresh identity when the key is new, under the
   * recorded one when an earlier attempt failed or hangs, not at all when it is done (its result is read
   * back). Rejects with what the attempt rejected with, or `unavailable` when Redis cannot be asked.
   */
  async once<T>(author: string, channel: string, nonce: string, write: NonceWrite<T>): Promise<T> {
    const key = `${this.#prefix}nonce:${author}:${channel}:${nonce}`;
    const fresh = await write.mint();
    if (fresh.length > NONCE_REF_MAX) throw new Error(`a nonce reference is longer than ${NONCE_REF_MAX}`);
    const deadline = Date.now() + this.#waitMs;
    for (;;) {
      const now = Date.now();
      let step: [string, string?];
      try {
        if (this.#redis.status !== 'ready') throw new Error(`redis is ${this.#redis.status}`);
        step = await this.#redis.chatNonceClaim(
          this.#epochKey,
          key,
          JSON.stringify({ state: 'pending', ref: fresh } satisfies NonceRecord),
          String(this.#ttlMs),
          this.#newEpoch(now),
          String(now),
          String(this.#recoveryMs),
          String(this.#epochTtlMs),
        );
        this.#seenAt = now;
      } catch (err) {
        this.#onError(err);
        throw new ApiError('unavailable', 'the nonce cannot be checked (Redis is unreachable): not sent; retry', {
          retryAfterMs: 1000,
          cause: err,
        });
      }
      const [outcome, detail] = step;
      if (outcome === 'wait') {
        const retryAfterMs = Math.max(1, Number(detail) + this.#recoveryMs - now);
        throw new ApiError('unavailable', 'nonce records were lost (Redis restarted empty): not sent; retry later', {
          retryAfterMs,
        });
      }
      if (outcome === 'claimed') return this.#attempt(key, fresh, write);
      const record = JSON.parse(detail ?? 'null') as NonceRecord | null;
      const ref = typeof record?.ref === 'string' ? record.ref : null;
      if (record?.state === 'done' && ref) return write.fromRef(ref);
      if (record?.state === 'failed' && ref) return this.#attempt(key, ref, write);
      if (Date.now() > deadline) {
        // The attempt in flight is taking too long (its gateway may have died): repeat it ourselves.
        if (ref) return this.#attempt(key, ref, write);
        throw new Error('a request with the same nonce is still in progress');
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** One attempt under `ref`; its record says `done` after a success and `failed` (repeat it) after a failure. */
  async #attempt<T>(key: string, ref: string, write: NonceWrite<T>): Promise<T> {
    let value: T;
    try {
      value = await write.run(ref);
    } catch (err) {
      await this.#redis
        .set(key, JSON.stringify({ state: 'failed', ref } satisfies NonceRecord), 'PX', this.#ttlMs)
        .catch((e: unknown) => this.#onError(e));
      throw err;
    }
    await this.#redis
      .set(key, JSON.stringify({ state: 'done', ref } satisfies NonceRecord), 'PX', this.#ttlMs)
      .catch((err: unknown) => this.#onError(err));
    return value;
  }
}

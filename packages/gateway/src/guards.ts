// Rate limits and nonce de-duplication. Per connection: a local token bucket. Per user across
// connections and gateways: a fixed window counter in Redis. Nonces: a Redis record per
// (author, channel, nonce) for 24 h holding a short reference to the message it produced (its id
// and timestamp, at most NONCE_REF_MAX characters — never the body). When Redis is unreachable, limits
// fall back to local counting; a write with a nonce is refused `unavailable` instead (NonceGuard).
import type { Redis } from 'ioredis';
import { ApiError } from './errors.js';

/** A token bucket: `burst` tokens, refilled at `rate` tokens per `windowMs`. */
export class TokenBucket {
  #tokens: number;
  #last: number;
  readonly #burst: number;
  readonly #perMs: number;

  constructor(burst: number, rate: number, windowMs: number, now = Date.now()) {
    this.#burst = burst;
    this.#tokens = burst;
    this.#perMs = rate / windowMs;
    this.#last = now;
  }

  /** Takes a token; false when the bucket is empty. */
  take(now = Date.now()): boolean {
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#last) * this.#perMs);
    this.#last = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Milliseconds until a token is available. */
  retryAfterMs(): number {
    return this.#tokens >= 1 ? 0 : Math.ceil((1 - this.#tokens) / this.#perMs);
  }
}

export interface RateDecision {
  ok: boolean;
  retryAfterMs: number;
}

/** Fixed-window counters in Redis, keyed by an arbitrary scope (user id, IP). */
export class SharedRateLimiter {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #local = new Map<string, { window: number; count: number }>();

  constructor(redis: Redis, prefix: string, limit: number, windowMs: number) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#limit = limit;
    this.#windowMs = windowMs;
  }

  async hit(scope: string, now = Date.now()): Promise<RateDecision> {
    const window = Math.floor(now / this.#windowMs);
    const retryAfterMs = (window + 1) * this.#windowMs - now;
    let count: number;
    if (this.#redis.status === 'ready') {
      try {
        const key = `${this.#prefix}rate:${scope}:${window}`;
        // Two plain commands issued in one turn travel in one round trip (ioredis auto-pipelining):
        // the first creates the window's counter with its expiry, the second counts. No Lua: in w1 an
        // EVAL cost Redis ≈ 12 µs, these two ≈ 3 µs together (bench/results/profile-2026-12.md).
        const [, n] = await Promise.all([
          this.#redis.set(key, '0', 'PX', this.#windowMs * 2, 'NX'),
          this.#redis.incr(key),
        ]);
        count = n;
        return { ok: count <= this.#limit, retryAfterMs };
      } catch {
        // fall through to local counting
      }
    }
    const entry = this.#local.get(scope);
    if (!entry || entry.window !== window) {
      if (this.#local.size > 100_000) this.#local.clear();
      this.#local.set(scope, { window, count: 1 });
      count = 1;
    } else {
      count = ++entry.count;
    }
    return { ok: count <= this.#limit, retryAfterMs };
  }
}

type NonceRecord = { state: 'pending' | 'done'; ref?: string };

/** The longest reference a nonce record may hold: the record's size is bounded whatever `run` returns. */
export const NONCE_REF_MAX = 64;

/** How a nonce record refers to what `run` produced, and how a retry gets it back. */
export interface NonceRef<T> {
  /** A short reference to the result (≤ NONCE_REF_MAX characters), e.g. the message id. */
  toRef(value: T): string;
  /** The result again, from its reference. */
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
 * De-duplicates message.create by (author, channel, nonce) for 24 h: `run` is called at most once per
 * key while its record exists, and a concurrent or later call with the same key gets the first call's
 * result back through its reference. `run` is never called without a record: while Redis cannot be
 * asked, the call is refused (`unavailable`, retryable, nothing written). Redis keeps an epoch key
 * besides the records; when it is found missing by a gateway that had seen it (Redis restarted empty:
 * every record is gone), calls whose key has no record are refused `unavailable` for `recoveryMs`
 * (default 30 s) from then, so that retries of writes first sent before the loss find no gap to slip
 * through — the SDK resends within its request timeout (10 s). A retry later than that of a write first
 * sent before Redis lost its data, or one that reaches a gateway started after the loss before any
 * gateway that saw the old epoch noticed it, is not recognised.
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

  async once<T>(author: string, channel: string, nonce: string, run: () => Promise<T>, ref: NonceRef<T>): Promise<T> {
    const key = `${this.#prefix}nonce:${author}:${channel}:${nonce}`;
    const deadline = Date.now() + this.#waitMs;
    for (;;) {
      const now = Date.now();
      let step: [string, string?];
      try {
        if (this.#redis.status !== 'ready') throw new Error(`redis is ${this.#redis.status}`);
        step = await this.#redis.chatNonceClaim(
          this.#epochKey,
          key,
          JSON.stringify({ state: 'pending' } satisfies NonceRecord),
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
      if (outcome === 'claimed') {
        let value: T;
        try {
          value = await run();
        } catch (err) {
          await this.#redis.del(key).catch(() => {});
          throw err;
        }
        const stored = ref.toRef(value);
        if (stored.length > NONCE_REF_MAX) throw new Error(`a nonce reference is longer than ${NONCE_REF_MAX}`);
        await this.#redis
          .set(key, JSON.stringify({ state: 'done', ref: stored } satisfies NonceRecord), 'PX', this.#ttlMs)
          .catch((err: unknown) => this.#onError(err));
        return value;
      }
      const record = JSON.parse(detail ?? 'null') as NonceRecord | null;
      if (record?.state === 'done' && typeof record.ref === 'string') return ref.fromRef(record.ref);
      if (Date.now() > deadline) throw new Error('a request with the same nonce is still in progress');
      // Pending: another request is publishing it (or it failed and its record is being removed).
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

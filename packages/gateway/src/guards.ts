// Rate limits and nonce de-duplication. Per connection: a local token bucket. Per user across
// connections and gateways: a fixed window counter in Redis. Nonces: a Redis record per
// (author, channel, nonce) for 24 h holding a short reference to the message it produced (its id
// and timestamp, at most NONCE_REF_MAX characters — never the body). When Redis is unreachable, limits
// fall back to local counting and de-duplication is skipped (logged): nothing accepted is lost.
import type { Redis } from 'ioredis';

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
 * De-duplicates message.create by (author, channel, nonce) for 24 h. `run` is called at most once per
 * key while a record exists; a concurrent or later call with the same key gets the first call's
 * result back through its reference. Not while Redis fails: then `run` is called without a record
 * (availability first), so a retry during an outage, or after Redis restarted empty, may run twice.
 */
export class NonceGuard {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #ttlMs: number;
  readonly #waitMs: number;
  readonly #onError: (err: unknown) => void;

  constructor(
    redis: Redis,
    prefix: string,
    options: { ttlMs?: number; waitMs?: number; onError?: (err: unknown) => void } = {},
  ) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#ttlMs = options.ttlMs ?? 86_400_000;
    this.#waitMs = options.waitMs ?? 15_000;
    this.#onError = options.onError ?? (() => {});
  }

  async once<T>(author: string, channel: string, nonce: string, run: () => Promise<T>, ref: NonceRef<T>): Promise<T> {
    const key = `${this.#prefix}nonce:${author}:${channel}:${nonce}`;
    const deadline = Date.now() + this.#waitMs;
    for (;;) {
      let claimed: string | null;
      try {
        claimed = await this.#redis.set(key, JSON.stringify({ state: 'pending' }), 'PX', this.#ttlMs, 'NX');
      } catch (err) {
        this.#onError(err);
        return run();
      }
      if (claimed === 'OK') {
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
      let record: NonceRecord | null = null;
      try {
        const raw = await this.#redis.get(key);
        record = raw ? (JSON.parse(raw) as NonceRecord) : null;
      } catch (err) {
        this.#onError(err);
        return run();
      }
      if (record?.state === 'done' && typeof record.ref === 'string') return ref.fromRef(record.ref);
      if (Date.now() > deadline) throw new Error('a request with the same nonce is still in progress');
      // Pending (another request is publishing it) or just removed (it failed): look again shortly.
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

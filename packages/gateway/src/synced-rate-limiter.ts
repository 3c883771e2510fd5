// The per-user request budget (USER_RATE_REQUESTS per RATE_WINDOW_MS, WebSocket and HTTP together),
// shared by every gateway through Redis without a Redis round trip per request. Each request is
// decided at once from this gateway's count of the window: the user's shared count as Redis last
// reported it plus the hits counted here since. Every SYNC_MS the hits counted here go to Redis in
// one pipelined batch (SET NX with the window's expiry, then INCRBY, per user), and each reply is the
// user's count across every gateway. Why not one round trip per request, as SharedRateLimiter does:
// it was the only Redis command of a W1 DM and delayed every request by a round trip; without it
// Redis spent 80 % less CPU per DM and the gateways' request time halved at 1,000 DM/s
// (bench/results/linger-2026-12-03.md §1).
//
// Guarantee: the budget is never exceeded by requests to one gateway (unless more than MAX_SCOPES users
// are counted within one window: then the counts are dropped, see #evict), and a user whose requests are
// spread over several gateways gets at most what the other gateways let through since their last sync
// on top of it (each gateway learns the others' hits within about 2 × SYNC_MS). While Redis cannot be
// reached, hits are counted here only, as before. Keys are the same as SharedRateLimiter's
// (`<prefix>rate:<scope>:<window>`), so gateways of either kind share one budget during an upgrade.
import type { Redis } from 'ioredis';
import type { RateDecision, RateLimiter } from './guards.js';

/** How often this gateway's hits are added to the shared counts. */
export const SYNC_MS = 100;
/** Users counted per gateway at most (one window's worth); past it the counts of past windows are dropped, then all. */
export const MAX_SCOPES = 100_000;

interface WindowCount {
  window: number;
  /** The scope's count across gateways as Redis last reported it (this gateway's synced hits included). */
  shared: number;
  /** Hits counted here and not yet sent to Redis. */
  pending: number;
}

export class SyncedRateLimiter implements RateLimiter {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #syncMs: number;
  readonly #maxScopes: number;
  readonly #counts = new Map<string, WindowCount>();
  /** The counts with hits not yet sent: a sync visits these, not every count. */
  #unsent = new Map<string, WindowCount>();
  /** The window whose start last dropped the counts of earlier windows. */
  #sweptWindow = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;
  #syncing: Promise<void> | undefined;

  constructor(
    redis: Redis,
    prefix: string,
    limit: number,
    windowMs: number,
    options: { syncMs?: number; maxScopes?: number } = {},
  ) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#limit = limit;
    this.#windowMs = windowMs;
    this.#syncMs = options.syncMs ?? SYNC_MS;
    this.#maxScopes = options.maxScopes ?? MAX_SCOPES;
  }

  /** Users with a count held here. */
  get scopes(): number {
    return this.#counts.size;
  }

  /** Counts one request of `scope` and decides it from the counts known here (no Redis round trip). */
  hit(scope: string, now = Date.now()): Promise<RateDecision> {
    return Promise.resolve(this.take(scope, now));
  }

  /** hit() without the promise. */
  take(scope: string, now = Date.now()): RateDecision {
    const window = Math.floor(now / this.#windowMs);
    let count = this.#counts.get(scope);
    if (count === undefined || count.window !== window) {
      if (count === undefined && this.#counts.size >= this.#maxScopes) this.#evict(window);
      count = { window, shared: 0, pending: 0 };
      this.#counts.set(scope, count);
    }
    count.pending += 1;
    this.#unsent.set(scope, count);
    this.#schedule();
    return { ok: count.shared + count.pending <= this.#limit, retryAfterMs: (window + 1) * this.#windowMs - now };
  }

  /**
   * Sends the hits counted here to Redis and learns each user's shared count; runs every SYNC_MS by
   * itself while there are hits to send. Never rejects: when Redis fails, the hits stay counted here.
   */
  sync(now = Date.now()): Promise<void> {
    this.#syncing ??= this.#send(now).finally(() => {
      this.#syncing = undefined;
      if (this.#unsent.size > 0) this.#schedule();
    });
    return this.#syncing;
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#syncing !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.sync();
    }, this.#syncMs);
    this.#timer.unref();
  }

  async #send(now: number): Promise<void> {
    const current = Math.floor(now / this.#windowMs);
    if (current > this.#sweptWindow) {
      // Once per window: the counts of past windows decide nothing any more.
      this.#sweptWindow = current;
      for (const [scope, count] of this.#counts) if (count.window < current) this.#counts.delete(scope);
    }
    const unsent = this.#unsent;
    this.#unsent = new Map();
    const batch: Array<{ count: WindowCount; sent: number; key: string }> = [];
    for (const [scope, count] of unsent) {
      if (count.window < current || count.pending === 0) continue;
      batch.push({ count, sent: count.pending, key: `${this.#prefix}rate:${scope}:${count.window}` });
      count.pending = 0;
    }
    if (batch.length === 0) return;
    const keep = () => {
      for (const { count, sent } of batch) count.shared += sent;
    };
    if (this.#redis.status !== 'ready') return keep();
    try {
      // Issued in one turn: ioredis sends the whole batch in one write (auto-pipelining).
      const replies = await Promise.all(
        batch.map(({ key, sent }) =>
          Promise.all([this.#redis.set(key, '0', 'PX', this.#windowMs * 2, 'NX'), this.#redis.incrby(key, sent)]).then(
            ([, n]) => n,
          ),
        ),
      );
      batch.forEach(({ count, sent }, i) => {
        count.shared = Math.max(count.shared + sent, replies[i]!);
      });
    } catch {
      keep();
    }
  }

  /** Makes room for a new scope: past windows' counts go first, everything if that is not enough. */
  #evict(window: number): void {
    for (const [scope, count] of this.#counts) if (count.window < window) this.#counts.delete(scope);
    if (this.#counts.size >= this.#maxScopes) {
      this.#counts.clear();
      this.#unsent.clear();
    }
  }
}

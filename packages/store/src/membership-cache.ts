// Redis cache of each channel's member set and slot set, filled from MongoDB on a miss; a leave
// invalidates it, a join adds the member in place (`added`). Redis is an accelerator only: when it is slow or down
// every read falls back to MongoDB (coalesced, below) and nothing fails.
//
// Changes are race-free: a change bumps the channel's generation (a leave also drops the sets, a join
// adds the member to them when they are filled); a fill
// reads the generation first and writes the sets (in one Lua script) only if it is unchanged, so a
// fill that loaded MongoDB before a change can never put the old member list back.
//
// Fallbacks are coalesced (single flight): concurrent reads of one channel's sets, or of one
// (channel, user) membership, that miss or find Redis slow share ONE MongoDB query. Why: the guard
// trips mostly under overload, when the event loop itself is late (W1 at 4,000 msg/s: the gateways
// waited 140 % of the time for a core while Redis sat at 10 % CPU) — and the Redis reply is not
// cancelled, so every trip costs a MongoDB query on top of the Redis work, exactly when there is
// no capacity to spare. Failing such reads with `overloaded` instead was rejected: the persister
// reads membership for every delivery and must not fail (a failure is a redelivery, and after
// `x-delivery-limit` a dead letter). The gateway's admission control already bounds how many
// writes can be reading membership at once; coalescing removes the duplicates among them. The cost:
// a read that joins a query started just before a membership change on another gateway sees the
// state from before it — the same staleness as a read that started a moment earlier; a local
// change drops the flights of its channel, so this process never joins a pre-change query.
import type { Redis } from 'ioredis';

export interface MembershipCacheOptions {
  redis: Redis;
  /** Key prefix. Default `chat:`. */
  prefix?: string;
  /** Seconds a filled set lives (bounds the damage of anything missed). Default 300. */
  ttlSeconds?: number;
  /** Give up on Redis after this long and use MongoDB. Default 250 ms. */
  timeoutMs?: number;
  onError?: (err: unknown) => void;
}

const FILL_SCRIPT = `
local gen = redis.call('GET', KEYS[1])
if (gen or '') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[2], KEYS[3])
local n = tonumber(ARGV[2])
for i = 1, n do redis.call('SADD', KEYS[2], ARGV[3 + i]) end
for i = n + 1, #ARGV - 3 do redis.call('SADD', KEYS[3], ARGV[3 + i]) end
redis.call('SADD', KEYS[2], '')
redis.call('SADD', KEYS[3], '')
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('EXPIRE', KEYS[3], ARGV[3])
return 1
`;

// One round trip for a read: the generation and both sets (a MULTI cannot be auto-pipelined).
const READ_SCRIPT = `
return {redis.call('GET', KEYS[1]) or '', redis.call('SMEMBERS', KEYS[2]), redis.call('SMEMBERS', KEYS[3])}
`;

// A member joined: a new generation (fills that loaded MongoDB before the join are refused) and, when
// the channel's sets are filled, the member and its slot added to them — so a join does not make the
// next reader load the whole member list again (the default group: every sign-up is a join).
const ADD_SCRIPT = `
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('SADD', KEYS[2], ARGV[1])
  redis.call('SADD', KEYS[3], ARGV[2])
end
return 1
`;

/** The generation key lives this many set TTLs after the last change (default 300 s × 24 = 2 h). */
const GEN_TTL_FACTOR = 24;

class TimeoutError extends Error {}

export class MembershipCache {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #ttl: number;
  readonly #timeoutMs: number;
  readonly #onError: (err: unknown) => void;
  /** Invalidations Redis missed; replayed as soon as it is back. */
  readonly #missed = new Set<string>();
  /** MongoDB fallbacks in flight, by key: later callers share them. */
  readonly #flights = new Map<string, Promise<unknown>>();

  constructor(options: MembershipCacheOptions) {
    this.#redis = options.redis;
    this.#prefix = options.prefix ?? 'chat:';
    this.#ttl = options.ttlSeconds ?? 300;
    this.#timeoutMs = options.timeoutMs ?? 250;
    this.#onError = options.onError ?? (() => {});
    this.#redis.on('ready', () => {
      for (const channelId of [...this.#missed]) void this.invalidate(channelId);
    });
  }

  #keys(channelId: string) {
    const base = `${this.#prefix}ch:{${channelId}}:`;
    return { gen: `${base}gen`, members: `${base}members`, slots: `${base}slots` };
  }

  /** Runs `load` once for every caller that asks for `key` while it runs. */
  #coalesce<T>(key: string, load: () => Promise<T>): Promise<T> {
    const running = this.#flights.get(key);
    if (running) return running as Promise<T>;
    const flight = load().finally(() => {
      if (this.#flights.get(key) === flight) this.#flights.delete(key);
    });
    this.#flights.set(key, flight);
    return flight;
  }

  /** Fallback reads in flight (coalesced), for tests and metrics. */
  get fallbacksInFlight(): number {
    return this.#flights.size;
  }

  async #guard<T>(op: () => Promise<T>): Promise<T | undefined> {
    if (this.#redis.status !== 'ready') return undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        op(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new TimeoutError(`redis slower than ${this.#timeoutMs} ms`)),
            this.#timeoutMs,
          );
        }),
      ]);
    } catch (err) {
      this.#onError(err);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Members and slots of a channel: from Redis, or from `load` (MongoDB) on a miss or when Redis is
   * unavailable; a miss fills the cache unless the channel changed meanwhile.
   */
  async get(
    channelId: string,
    load: () => Promise<{ members: string[]; slots: number[] }>,
  ): Promise<{ members: string[]; slots: number[]; cached: boolean }> {
    const k = this.#keys(channelId);
    const hit = await this.#guard(async () => {
      const [gen, members, slots] = (await this.#redis.eval(READ_SCRIPT, 3, k.gen, k.members, k.slots)) as [
        string,
        string[],
        string[],
      ];
      return { gen, members, slots };
    });
    if (hit && hit.members.length > 0) {
      // The empty-string sentinel marks a filled set (a channel can have no members).
      return {
        members: hit.members.filter((m) => m !== ''),
        slots: hit.slots.filter((s) => s !== '').map(Number),
        cached: true,
      };
    }
    // One load — and one fill — for every caller that misses while it runs.
    const loaded = await this.#coalesce(`g\n${channelId}`, async () => {
      const fresh = await load();
      if (hit) {
        const args = [
          hit.gen,
          String(fresh.members.length),
          String(this.#ttl),
          ...fresh.members,
          ...fresh.slots.map(String),
        ];
        await this.#guard(() => this.#redis.eval(FILL_SCRIPT, 3, k.gen, k.members, k.slots, ...args));
      }
      return fresh;
    });
    return { ...loaded, cached: false };
  }

  /**
   * Whether a user is a member: from the cached set when the channel's set is filled, otherwise
   * from `load` (one indexed MongoDB lookup, no fill: big channels are not loaded for one check).
   */
  async has(channelId: string, userId: string, load: () => Promise<boolean>): Promise<boolean> {
    const k = this.#keys(channelId);
    // The empty-string sentinel is in every filled set: one command says "filled" and "member".
    const res = await this.#guard(() => this.#redis.smismember(k.members, '', userId));
    if (res && res[0] === 1) return res[1] === 1;
    return this.#coalesce(`h\n${channelId}\n${userId}`, load);
  }

  /**
   * A user joined the channel (call after the MongoDB write succeeded): the cached sets, when filled,
   * gain the member instead of being dropped. Falls back to `invalidate` when Redis misses it.
   */
  async added(channelId: string, userId: string, slot: number): Promise<void> {
    this.#dropFlights(channelId);
    const k = this.#keys(channelId);
    const done = await this.#guard(() =>
      this.#redis.eval(
        ADD_SCRIPT,
        3,
        k.gen,
        k.members,
        k.slots,
        userId,
        String(slot),
        String(this.#ttl * GEN_TTL_FACTOR),
      ),
    );
    if (done === undefined) await this.invalidate(channelId);
  }

  /** Reads that start from now on must not join a query that began before a change. */
  #dropFlights(channelId: string): void {
    for (const key of this.#flights.keys())
      if (key === `g\n${channelId}` || key.startsWith(`h\n${channelId}\n`)) this.#flights.delete(key);
  }

  /** Marks a channel's membership as changed. Call after the MongoDB write succeeded. */
  async invalidate(channelId: string): Promise<void> {
    this.#dropFlights(channelId);
    const k = this.#keys(channelId);
    // The generation expires too (every key has a TTL), long after any fill that read it has ended;
    // a generation that expired reads as '' again, which only a fill started after that matches.
    const done = await this.#guard(() =>
      this.#redis
        .multi()
        .incr(k.gen)
        .expire(k.gen, this.#ttl * GEN_TTL_FACTOR)
        .del(k.members, k.slots)
        .exec(),
    );
    if (done === undefined) {
      // Redis missed the change: replay it when Redis is ready again; the TTL bounds the rest.
      this.#missed.add(channelId);
      this.#onError(new Error(`membership cache invalidation for channel ${channelId} did not reach Redis`));
    } else {
      this.#missed.delete(channelId);
    }
  }
}

// Bounded member counts of channels, remembered for a short while by this process. Presence asks, on
// every IDENTIFY and RESUME, whether each of the user's groups is small enough to hear it, and the
// default group is in every user's list: without this, an IDENTIFY storm is one MongoDB count per
// user per group (w3 with the default group on: identifying 10,000 sockets took 140 s with a count per
// IDENTIFY, against 53 s before presence). A count may be up to `ttlMs` old: a group that crosses the
// presence limit starts or stops hearing presence that much later — nothing else depends on it.
// Bounded: at most `maxEntries` counts (the oldest is forgotten first: lru-cache read with peek(), not a
// Map evicting its first key, which at the bound walks every slot deleted since the Map's last rehash);
// concurrent asks share one count.
import { LRUCache } from 'lru-cache';

export class GroupSizes {
  readonly #count: (channelId: string, upTo: number) => Promise<number>;
  readonly #ttlMs: number;
  readonly #known: LRUCache<string, { count: Promise<number>; until: number }>;

  constructor(count: (channelId: string, upTo: number) => Promise<number>, ttlMs = 30_000, maxEntries = 10_000) {
    this.#count = count;
    this.#ttlMs = ttlMs;
    this.#known = new LRUCache({ max: maxEntries });
  }

  /** Members of the channel, counted no further than `upTo`; from memory when counted less than `ttlMs` ago. */
  memberCount(channelId: string, upTo: number, now = Date.now()): Promise<number> {
    const key = `${channelId}\n${upTo}`;
    const known = this.#known.peek(key);
    if (known && known.until > now) return known.count;
    if (known) this.#known.delete(key);
    const count = this.#count(channelId, upTo);
    this.#known.set(key, { count, until: now + this.#ttlMs });
    // A failed count is not remembered: the next ask counts again.
    count.catch(() => {
      if (this.#known.peek(key)?.count === count) this.#known.delete(key);
    });
    return count;
  }

  /** Counts remembered (tests). */
  get size(): number {
    return this.#known.size;
  }
}

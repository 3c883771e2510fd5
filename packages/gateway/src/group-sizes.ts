// Bounded member counts of channels, remembered for a short while by this process. Presence asks, on
// every IDENTIFY and RESUME, whether each of the user's groups is small enough to hear it, and the
// default group is in every user's list: without this, an IDENTIFY storm is one MongoDB count per
// user per group (w3 with the default group on: identifying 10,000 sockets took 140 s with a count per
// IDENTIFY, against 53 s before presence). A count may be up to `ttlMs` old: a group that crosses the
// presence limit starts or stops hearing presence that much later — nothing else depends on it.
// Bounded: at most `maxEntries` counts (the oldest is forgotten first); concurrent asks share one count.

export class GroupSizes {
  readonly #count: (channelId: string, upTo: number) => Promise<number>;
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #known = new Map<string, { count: Promise<number>; until: number }>();

  constructor(count: (channelId: string, upTo: number) => Promise<number>, ttlMs = 30_000, maxEntries = 10_000) {
    this.#count = count;
    this.#ttlMs = ttlMs;
    this.#max = maxEntries;
  }

  /** Members of the channel, counted no further than `upTo`; from memory when counted less than `ttlMs` ago. */
  memberCount(channelId: string, upTo: number, now = Date.now()): Promise<number> {
    const key = `${channelId}\n${upTo}`;
    const known = this.#known.get(key);
    if (known && known.until > now) return known.count;
    if (known) this.#known.delete(key);
    if (this.#known.size >= this.#max) {
      const oldest = this.#known.keys().next();
      if (!oldest.done) this.#known.delete(oldest.value);
    }
    const count = this.#count(channelId, upTo);
    this.#known.set(key, { count, until: now + this.#ttlMs });
    // A failed count is not remembered: the next ask counts again.
    count.catch(() => {
      if (this.#known.get(key)?.count === count) this.#known.delete(key);
    });
    return count;
  }

  /** Counts remembered (tests). */
  get size(): number {
    return this.#known.size;
  }
}

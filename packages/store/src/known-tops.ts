// The top ordinal of each channel as this process last stored in it (or found it stored), so that an
// append can number a batch without first reading `channel_counts` (ordinal-append.ts). Why a
// remembered top is safe: it is an ordinal this process saw stored, and messages are never removed
// (a delete marks the document), so it is never above the channel's real top — the rule the cached
// counts keep too. It may be *behind*, when another process (a second persister) stored in the
// channel since: then the insert offers an ordinal that is taken, the unique index refuses it and
// the append goes on from the real top, as it does for a cached count that is behind. Each such
// refusal costs extra round trips, so one makes this process distrust what it remembers for a while
// (`distrustMs`) and read the cached counts for every batch, as it would without this.
//
// Bounded: at most `maxChannels` channels, the least recently used forgotten first; 0 turns it off.
// lru-cache, not a Map evicting its first key: at the bound a Map's `keys().next()` walks every slot
// deleted since its last rehash, which made each insert cost tens of µs at 50,000 channels.
import { LRUCache } from 'lru-cache';

export interface KnownTopsOptions {
  /** Channels remembered at most (default 50,000, ≈ 100 bytes each); 0 turns this off. */
  maxChannels?: number;
  /** How long a refused ordinal makes this process read the cached counts instead. Default 60 s. */
  distrustMs?: number;
  now?: () => number;
}

export class KnownTops {
  readonly #distrustMs: number;
  readonly #now: () => number;
  /** Channel → top ordinal, least recently stored in forgotten first (absent when off). */
  readonly #tops: LRUCache<string, number> | undefined;
  #distrustedUntil = 0;

  constructor(options: KnownTopsOptions = {}) {
    const max = options.maxChannels ?? 50_000;
    if (!Number.isInteger(max) || max < 0) throw new RangeError('maxChannels must be an integer ≥ 0');
    this.#tops = max > 0 ? new LRUCache<string, number>({ max }) : undefined;
    this.#distrustMs = options.distrustMs ?? 60_000;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#tops?.size ?? 0;
  }

  /** Whether what is remembered is used now (on, and no refused ordinal within `distrustMs`). */
  get trusted(): boolean {
    return this.#tops !== undefined && this.#now() >= this.#distrustedUntil;
  }

  /** The remembered tops of those of `channelIds` this process knows; none while distrusted. */
  known(channelIds: Iterable<string>): Map<string, number> {
    const out = new Map<string, number>();
    if (!this.trusted || !this.#tops) return out;
    for (const id of channelIds) {
      const top = this.#tops.peek(id);
      if (top !== undefined) out.set(id, top);
    }
    return out;
  }

  /** Remembers that ordinal `n` of the channel is stored (a lower one than remembered changes nothing). */
  saw(channelId: string, n: number): void {
    if (!this.#tops) return;
    const top = this.#tops.peek(channelId);
    // set() makes the channel the most recently used, and forgets the least recently used past `max`.
    this.#tops.set(channelId, top === undefined || n > top ? n : top);
  }

  /** An ordinal offered from here was taken by another process: read the cached counts for a while. */
  distrust(): void {
    this.#distrustedUntil = this.#now() + this.#distrustMs;
  }
}

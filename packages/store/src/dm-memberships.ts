// The members of direct-message channels, held in this process. A DM's two members are fixed when it
// is created (`Channels.create`; `Channels.removeMember` refuses a DM, and so does the gateway), and a
// channel's kind never changes, so what this process once read of a DM stays true: membership checks
// and audience reads of a DM are answered here without a Redis or MongoDB round trip. Why: every DM
// send is a membership check at the gateway and an audience read at the persister, and those round
// trips (the read is a Lua EVAL, ≈ 12 µs of Redis CPU, plus the client's work; under load the 250 ms
// guard trips into MongoDB) were a measured share of a durable DM's cost (bench/results/profile-2026-12.md).
//
// Bounded: at most `maxChannels` channels are remembered (DMs with their members, other channels as
// "not a DM" so they are not looked up again); past that the oldest entry is forgotten (insertion
// order, no reordering on reads: cheap, and a forgotten DM costs one lookup to learn again). An
// lru-cache read with peek(), not a Map evicting its first key: at the bound a Map's `keys().next()`
// walks every slot deleted since its last rehash (tens of µs per insert at 100,000 entries).
import { LRUCache } from 'lru-cache';

/** Members of a channel and the distinct slots of those members. */
export interface Membership {
  members: string[];
  slots: number[];
}

/** What a lookup of an unknown channel found: its kind, and its members when it is a DM. */
export type LearnedChannel = { kind: 'dm'; membership: Membership } | { kind: 'other' } | null;

/** Remembered for a channel known not to be a DM (lru-cache holds no null). */
const NOT_A_DM = Symbol('not a DM');

export class DmMemberships {
  readonly #max: number;
  /** Channel id → the DM's membership, or NOT_A_DM (absent when switched off). */
  readonly #known: LRUCache<string, Membership | typeof NOT_A_DM> | undefined;
  /** Lookups in flight, by channel: one per channel at a time. */
  readonly #learning = new Map<string, Promise<void>>();

  /** `maxChannels` ≥ 0; 0 switches the local answers off. */
  constructor(maxChannels: number) {
    if (!Number.isInteger(maxChannels) || maxChannels < 0) throw new RangeError('maxChannels must be an integer ≥ 0');
    this.#max = maxChannels;
    this.#known = maxChannels > 0 ? new LRUCache({ max: maxChannels }) : undefined;
  }

  /** The DM's membership when this process knows the channel is a DM, else undefined. */
  get(channelId: string): Membership | undefined {
    const known = this.#known?.peek(channelId);
    return known === NOT_A_DM ? undefined : known;
  }

  /** Whether this process knows the channel's kind (a DM or not). */
  knows(channelId: string): boolean {
    return this.#known?.has(channelId) ?? false;
  }

  /** False when switched off (`maxChannels` 0): nothing is remembered. */
  get enabled(): boolean {
    return this.#max > 0;
  }

  /** Channels remembered (DMs and others), for tests and metrics. */
  get size(): number {
    return this.#known?.size ?? 0;
  }

  /**
   * Learns an unknown channel in the background: `lookup` reads its kind (and a DM's members) once;
   * later calls for the same channel while it runs, or once it is known, do nothing. A DM is
   * remembered only with its two members (channels.ts reads them from its `dm_key`); a failed lookup
   * is forgotten, so a later call tries again.
   */
  learn(channelId: string, lookup: () => Promise<LearnedChannel>): void {
    void this.learnMany([channelId], async () => new Map([[channelId, await lookup()]]));
  }

  /**
   * `learn` for many channels with one lookup: the channels neither known nor being learned are
   * passed to `lookup` together (at most as many as the bound leaves room for: lookups in flight are
   * bounded like the map itself); what it finds is remembered by the rules of `remember`, a channel it
   * leaves out is not. Resolves when done; never rejects (a failed lookup is forgotten, so a later call
   * tries again).
   */
  async learnMany(
    channelIds: Iterable<string>,
    lookup: (ids: string[]) => Promise<Map<string, LearnedChannel>>,
  ): Promise<void> {
    if (this.#max === 0) return;
    const ids: string[] = [];
    for (const id of new Set(channelIds)) {
      if (this.#known?.has(id) || this.#learning.has(id)) continue;
      if (this.#learning.size + ids.length >= this.#max) break;
      ids.push(id);
    }
    if (ids.length === 0) return;
    const run = lookup(ids)
      .then((found) => {
        for (const [id, learned] of found) this.remember(id, learned);
      })
      .catch(() => {})
      .finally(() => {
        for (const id of ids) this.#learning.delete(id);
      });
    for (const id of ids) this.#learning.set(id, run);
    await run;
  }

  /**
   * Remembers what a lookup made by the caller found (e.g. many channels read at once), by the same
   * rules as `learn`: a DM only with its two members, nothing for a channel that was not found.
   */
  remember(channelId: string, found: LearnedChannel): void {
    if (this.#max === 0 || found === null) return;
    if (found.kind === 'dm') {
      if (found.membership.members.length === 2) this.#remember(channelId, found.membership);
    } else this.#remember(channelId, null);
  }

  /** Resolves when every lookup started so far has finished (tests). */
  async settled(): Promise<void> {
    await Promise.all(this.#learning.values());
  }

  #remember(channelId: string, value: Membership | null): void {
    // Past `maxChannels`, set() forgets the entry remembered longest ago (reads do not reorder: peek).
    this.#known?.set(channelId, value ?? NOT_A_DM);
  }
}

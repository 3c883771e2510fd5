// Per-channel message counts, kept incrementally and exactly. Every stored message is given an ordinal
// in its channel (1, 2, 3, …) by inserting one document into `message_ordinals`: its `_id` is the
// message id (a message is counted at most once: a redelivery finds its ordinal taken) and
// `{channel_id, n}` is unique (an ordinal is given at most once: two persisters racing for the same
// one see a duplicate key, re-read the top and try the next). Ordinals are given in order, each only
// after the one below it, so a channel's ordinals are exactly 1..N and N — the count — is the highest.
// `channel_counts` caches N per channel for cheap reads; it only ever moves up to a top that exists,
// so a crash between giving ordinals and moving it costs nothing: the redelivery moves it.
import type { Collection, Long } from 'mongodb';
import { DUPLICATE_KEY, onlyDuplicateKeys } from './duplicate-key.js';
import { toLong } from './messages.js';

/** One counted message: its id and its channel's ordinal for it. */
export interface OrdinalDoc {
  _id: Long;
  channel_id: string;
  n: number;
}

/** The cached count of one channel and the id of the message with the top ordinal. */
export interface ChannelCountDoc {
  _id: string;
  count: number;
  last_message_id: string;
}

/** A channel's count as readers see it. */
export interface ChannelCount {
  count: number;
  /** The message with the top ordinal (the last one counted; it may since have been deleted). */
  last_message_id: string | null;
}

export const ORDINAL_INDEXES = [{ key: { channel_id: 1, n: 1 }, name: 'channel_ordinal', unique: true }] as const;

const idString = (id: Long): string => BigInt.asUintN(64, id.toBigInt()).toString();

export class MessageCounts {
  readonly #ordinals: Collection<OrdinalDoc>;
  readonly #counts: Collection<ChannelCountDoc>;

  constructor(ordinals: Collection<OrdinalDoc>, counts: Collection<ChannelCountDoc>) {
    this.#ordinals = ordinals;
    this.#counts = counts;
  }

  async createIndexes(): Promise<void> {
    await this.#ordinals.createIndexes(ORDINAL_INDEXES.map((i) => ({ ...i, key: { ...i.key } })));
  }

  /**
   * Counts stored messages of one channel (call it only after they are stored), idempotently: a message
   * already counted keeps its ordinal and is not counted again, whoever counted it and whenever (a
   * redelivery, or another persister racing on the channel). Resolves with each message's ordinal, once
   * the channel's cached count covers them all. Safe to repeat after any failure.
   */
  async count(channelId: string, messageIds: readonly string[]): Promise<Map<string, number>> {
    const ordinals = new Map<string, number>();
    let pending = [...new Set(messageIds)].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
    while (pending.length > 0) {
      const top = (await this.#top(channelId))?.n ?? 0;
      const docs = pending.map((id, i) => ({ _id: toLong(id), channel_id: channelId, n: top + 1 + i }));
      try {
        await this.#ordinals.insertMany(docs, { ordered: true });
        for (const [i, d] of docs.entries()) ordinals.set(pending[i]!, d.n);
        pending = [];
      } catch (err) {
        if (!onlyDuplicateKeys(err)) throw err;
        // Ordered: the first `inserted` took their ordinals, the next one hit a duplicate key.
        const inserted = (err as { result?: { insertedCount?: number } }).result?.insertedCount ?? 0;
        for (let i = 0; i < inserted; i++) ordinals.set(pending[i]!, docs[i]!.n);
        const refused = pending[inserted]!;
        const mine = await this.#ordinals.findOne({ _id: toLong(refused) });
        if (mine) {
          // Counted before (a redelivery): keep its ordinal, count the rest. (An id counted in another
          // channel is not this channel's message: the messages collection stored the first one only.)
          if (mine.channel_id === channelId) ordinals.set(refused, mine.n);
          pending = pending.slice(inserted + 1);
        } else {
          // Someone took the ordinal meanwhile: read the new top and go on from there.
          pending = pending.slice(inserted);
        }
      }
    }
    await this.#raise(channelId);
    return ordinals;
  }

  /**
   * count() for several channels at once, in a constant number of round trips when nothing races:
   * the ids already counted are looked up in one query, the rest get ordinals above each channel's
   * cached count in one ordered insert, and the cached counts are raised in one bulk write. A cached
   * count that lags its channel's top (a crash between giving ordinals and raising), a racing persister
   * or a redelivery racing its first delivery makes the insert meet a duplicate key: it stops there
   * (ordered), and what it had not inserted goes through count(), channel by channel. Same guarantees
   * as count(): each message gets one ordinal, a channel's ordinals are exactly 1..N, safe to repeat.
   */
  async countMany(byChannel: ReadonlyMap<string, readonly string[]>): Promise<Map<string, number>> {
    const ordinals = new Map<string, number>();
    const ids = [...new Set([...byChannel.values()].flat())];
    if (ids.length === 0) return ordinals;
    const counted = await this.#ordinals.find({ _id: { $in: ids.map(toLong) } }).toArray();
    /** Highest ordinal per channel that this call saw or gave: what the cached count is raised to. */
    const tops = new Map<string, { n: number; id: string }>();
    const seen = (channelId: string, n: number, id: string) => {
      const t = tops.get(channelId);
      if (!t || n > t.n) tops.set(channelId, { n, id });
    };
    const countedIds = new Set<string>();
    for (const d of counted) {
      const id = idString(d._id);
      countedIds.add(id);
      // An id counted in another channel is not this channel's message (as in count()).
      if (byChannel.get(d.channel_id)?.includes(id)) {
        ordinals.set(id, d.n);
        seen(d.channel_id, d.n, id);
      }
    }
    const pending = new Map<string, string[]>();
    for (const [channelId, list] of byChannel) {
      const rest = [...new Set(list)].filter((id) => !countedIds.has(id));
      if (rest.length > 0)
        pending.set(
          channelId,
          rest.sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)),
        );
    }
    const cached = await this.countsOf([...pending.keys()]);
    const docs: OrdinalDoc[] = [];
    const owners: string[] = [];
    for (const [channelId, list] of pending) {
      const base = cached.get(channelId)?.count ?? 0;
      for (const [i, id] of list.entries()) {
        docs.push({ _id: toLong(id), channel_id: channelId, n: base + 1 + i });
        owners.push(id);
      }
    }
    let inserted = docs.length;
    if (docs.length > 0) {
      try {
        await this.#ordinals.insertMany(docs, { ordered: true });
      } catch (err) {
        if (!onlyDuplicateKeys(err)) throw err;
        inserted = (err as { result?: { insertedCount?: number } }).result?.insertedCount ?? 0;
      }
    }
    for (let i = 0; i < inserted; i++) {
      const d = docs[i]!;
      ordinals.set(owners[i]!, d.n);
      seen(d.channel_id, d.n, owners[i]!);
    }
    // What the insert did not reach: channel by channel, the careful way.
    const leftOver = new Map<string, string[]>();
    for (let i = inserted; i < docs.length; i++) {
      const d = docs[i]!;
      const list = leftOver.get(d.channel_id);
      if (list) list.push(owners[i]!);
      else leftOver.set(d.channel_id, [owners[i]!]);
    }
    await Promise.all(
      [...leftOver].map(async ([channelId, list]) => {
        for (const [id, n] of await this.count(channelId, list)) ordinals.set(id, n);
      }),
    );
    await this.#raiseTo(tops);
    return ordinals;
  }

  /** Moves each channel's cached count up to `n` (an ordinal that exists), in one unordered bulk write. */
  async #raiseTo(tops: ReadonlyMap<string, { n: number; id: string }>): Promise<void> {
    if (tops.size === 0) return;
    try {
      await this.#counts.bulkWrite(
        [...tops].map(([channelId, t]) => ({
          updateOne: {
            filter: { _id: channelId, count: { $lt: t.n } },
            update: { $set: { count: t.n, last_message_id: t.id } },
            upsert: true,
          },
        })),
        { ordered: false },
      );
    } catch (err) {
      // An upsert that found its channel's document at or above `n`: nothing to raise there.
      if (!onlyDuplicateKeys(err)) throw err;
    }
  }

  /** The ordinal of a counted message of this channel, or null (unknown, not counted yet, other channel). */
  async ordinalOf(channelId: string, messageId: string): Promise<number | null> {
    const doc = await this.#ordinals.findOne({ _id: toLong(messageId), channel_id: channelId });
    return doc ? doc.n : null;
  }

  /** The cached counts of these channels (a channel nothing was counted in is absent). */
  async countsOf(channelIds: readonly string[]): Promise<Map<string, ChannelCount>> {
    const out = new Map<string, ChannelCount>();
    if (channelIds.length === 0) return out;
    const docs = await this.#counts.find({ _id: { $in: [...channelIds] } }).toArray();
    for (const d of docs) out.set(d._id, { count: d.count, last_message_id: d.last_message_id });
    return out;
  }

  async #top(channelId: string): Promise<OrdinalDoc | null> {
    return this.#ordinals.findOne({ channel_id: channelId }, { sort: { n: -1 } });
  }

  /** Moves the cached count up to the channel's top ordinal; never down (a racing raise may be ahead). */
  async #raise(channelId: string): Promise<void> {
    const top = await this.#top(channelId);
    if (!top) return;
    try {
      await this.#counts.updateOne(
        { _id: channelId, count: { $lt: top.n } },
        { $set: { count: top.n, last_message_id: idString(top._id) } },
        { upsert: true },
      );
    } catch (err) {
      // The upsert found the channel's document already at or above `top`: nothing to raise.
      if ((err as { code?: number }).code !== DUPLICATE_KEY) throw err;
    }
  }
}

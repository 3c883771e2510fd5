// Per-channel message counts and authors' own read positions. Every stored message carries its
// channel's ordinal `n` (1, 2, 3, …), given by the insert that stores it (ordinal-append.ts), so a
// channel's ordinals are exactly 1..N and N — the count — is the top one (unique index
// `{channel_id, n}` on messages). `channel_counts` caches per channel the top `{n, id}` and, for each
// author, their newest message there (`authors.u<userId>: {n, id}`: sending never makes a channel
// unread for its author; a reader's position is the higher of this and their read_states entry).
// Every field of it only moves up, by `$max` on `{n, id}` documents (compared field by field, so by
// ordinal first): raises commute, repeat harmlessly and may come late — a crash between storing and
// raising costs nothing, the redelivery of the unacked writes raises. One upsert per channel per batch.
import type { Collection } from 'mongodb';
import { onlyDuplicateKeys } from './duplicate-key.js';
import { toLong } from './messages.js';
import type { ReadPosition } from './read-states.js';
import type { MessageDoc } from './types.js';

/** A message and its ordinal. Field order matters: `$max` compares `n` first. */
export interface OrdinalPosition {
  n: number;
  id: string;
}

/** The cached count of one channel: its top message and each author's newest one. */
export interface ChannelCountDoc {
  _id: string;
  top: OrdinalPosition;
  authors?: Record<string, OrdinalPosition>;
}

/** A channel's count as readers see it. */
export interface ChannelCount {
  count: number;
  /** The message with the top ordinal (the last one counted; it may since have been deleted). */
  last_message_id: string | null;
}

/** A channel's count with one user's own position there (their newest message; null: none). */
export interface ChannelCountFor extends ChannelCount {
  own: ReadPosition | null;
}

/** What one batch raises in one channel: its top and each author's newest message (by user id). */
export interface ChannelRaise {
  top: OrdinalPosition;
  authors: ReadonlyMap<string, OrdinalPosition>;
}

/**
 * The field of `channel_counts.authors` for a user: a plain field name (no dot, no `$`, not digits
 * only), one per user id — `u<id>` for the usual ids, `x<hex of its UTF-8>` for any other.
 */
export function authorKey(userId: string): string {
  return /^[A-Za-z0-9_-]+$/.test(userId) ? `u${userId}` : `x${Buffer.from(userId, 'utf8').toString('hex')}`;
}

const position = (n: number, id: string): OrdinalPosition => ({ n, id });

export class MessageCounts {
  readonly #messages: Collection<MessageDoc>;
  readonly #counts: Collection<ChannelCountDoc>;

  constructor(messages: Collection<MessageDoc>, counts: Collection<ChannelCountDoc>) {
    this.#messages = messages;
    this.#counts = counts;
  }

  /** The cached top ordinal of each channel (absent: nothing cached). Never above the real top. */
  async cachedTops(channelIds: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (channelIds.length === 0) return out;
    const docs = await this.#counts.find({ _id: { $in: [...channelIds] } }, { projection: { 'top.n': 1 } }).toArray();
    for (const d of docs) if (d.top) out.set(d._id, d.top.n);
    return out;
  }

  /** The channel's real top ordinal (0: no message), read from the messages' ordinal index. */
  async topOf(channelId: string): Promise<number> {
    const doc = await this.#messages.findOne(
      { channel_id: channelId },
      { sort: { channel_id: -1, n: -1 }, projection: { n: 1 } },
    );
    return doc?.n ?? 0;
  }

  /**
   * Raises each channel's cached top and its authors' positions to at least the given ones (ordinals
   * that exist), in one unordered bulk write; never lowers anything. Idempotent and commutative.
   */
  async raise(raises: ReadonlyMap<string, ChannelRaise>): Promise<void> {
    let ops = [...raises].map(([channelId, r]) => {
      const $max: Record<string, OrdinalPosition> = { top: position(r.top.n, r.top.id) };
      for (const [userId, p] of r.authors) $max[`authors.${authorKey(userId)}`] = position(p.n, p.id);
      return { updateOne: { filter: { _id: channelId }, update: { $max }, upsert: true } };
    });
    // Two first raises of one channel racing: the losing upsert meets the winner's document (a
    // duplicate key) and did nothing, so it goes again and now updates that document.
    for (let attempt = 0; ops.length > 0; attempt++) {
      try {
        await this.#counts.bulkWrite(ops, { ordered: false });
        return;
      } catch (err) {
        if (!onlyDuplicateKeys(err) || attempt >= 3) throw err;
        const failed = new Set(writeErrorIndexes(err));
        ops = failed.size > 0 ? ops.filter((_, i) => failed.has(i)) : ops;
      }
    }
  }

  /** The ordinal of a stored message of this channel (deleted or not), or null (unknown, other channel). */
  async ordinalOf(channelId: string, messageId: string): Promise<number | null> {
    const doc = await this.#messages.findOne(
      { _id: toLong(messageId), channel_id: channelId },
      { projection: { n: 1 } },
    );
    return doc?.n ?? null;
  }

  /** The cached counts of these channels (a channel nothing was counted in is absent). */
  async countsOf(channelIds: readonly string[]): Promise<Map<string, ChannelCount>> {
    const out = new Map<string, ChannelCount>();
    for (const [id, c] of await this.countsFor(null, channelIds)) {
      out.set(id, { count: c.count, last_message_id: c.last_message_id });
    }
    return out;
  }

  /** countsOf() with `userId`'s own position in each channel (their newest message there): one query. */
  async countsFor(userId: string | null, channelIds: readonly string[]): Promise<Map<string, ChannelCountFor>> {
    const out = new Map<string, ChannelCountFor>();
    if (channelIds.length === 0) return out;
    const key = userId === null ? null : authorKey(userId);
    const projection: Record<string, 1> = { top: 1 };
    if (key !== null) projection[`authors.${key}`] = 1;
    const docs = await this.#counts.find({ _id: { $in: [...channelIds] } }, { projection }).toArray();
    for (const d of docs) {
      if (!d.top) continue;
      const own = key === null ? undefined : d.authors?.[key];
      out.set(d._id, {
        count: d.top.n,
        last_message_id: d.top.id,
        own: own ? { n: own.n, last_read_id: own.id } : null,
      });
    }
    return out;
  }

  /** Forgets the user's own position in the channel (they left it): read state is bounded by membership. */
  async forgetAuthor(channelId: string, userId: string): Promise<void> {
    await this.#counts.updateOne({ _id: channelId }, { $unset: { [`authors.${authorKey(userId)}`]: '' } });
  }
}

function writeErrorIndexes(err: unknown): number[] {
  const e = err as { writeErrors?: { index?: number } | { index?: number }[]; index?: number };
  if (e.writeErrors === undefined) return [];
  const list = Array.isArray(e.writeErrors) ? e.writeErrors : [e.writeErrors];
  return list.map((w) => w.index).filter((i): i is number => typeof i === 'number');
}

// Per-user read positions from acks: one document per (user, channel) the user has acked in, holding
// the ordinal (message-counts.ts) of the newest message read and that message's id. A reader's position
// is the later() of this and their own newest message there (MessageCounts.countsFor: sending is
// reading, kept in the channel's count document so that a send costs no statement of its own here). A position only moves forward,
// by a conditional upsert that matches only a lower one: an older ack changes nothing, and acks racing
// from two sessions leave the higher (the unique index turns the loser's upsert into a duplicate key,
// which means "already at or past it"). Bounded by membership: the document is forgotten on leave.
import type { Collection } from 'mongodb';
import { DUPLICATE_KEY } from './duplicate-key.js';

export interface ReadStateDoc {
  user_id: string;
  channel_id: string;
  /** The ordinal of the newest message read. */
  n: number;
  last_read_id: string;
}

/** Where a user has read to in one channel. */
export interface ReadPosition {
  n: number;
  last_read_id: string;
}

export const READ_STATE_INDEXES = [{ key: { user_id: 1, channel_id: 1 }, name: 'user_channel', unique: true }] as const;

export class ReadStates {
  readonly #col: Collection<ReadStateDoc>;

  constructor(col: Collection<ReadStateDoc>) {
    this.#col = col;
  }

  async createIndexes(): Promise<void> {
    await this.#col.createIndexes(READ_STATE_INDEXES.map((i) => ({ ...i, key: { ...i.key } })));
  }

  /**
   * Moves the user's position in the channel to ordinal `n` (message `messageId`) if it is below;
   * idempotent and commutative. Resolves true when it moved.
   */
  async advance(userId: string, channelId: string, n: number, messageId: string): Promise<boolean> {
    try {
      const res = await this.#col.updateOne(
        { user_id: userId, channel_id: channelId, n: { $lt: n } },
        { $set: { n, last_read_id: messageId } },
        { upsert: true },
      );
      return res.modifiedCount + res.upsertedCount > 0;
    } catch (err) {
      // The upsert met the user's document at or past `n`.
      if ((err as { code?: number }).code === DUPLICATE_KEY) return false;
      throw err;
    }
  }

  /** The user's position in one channel, or null when they have read nothing there. */
  async get(userId: string, channelId: string): Promise<ReadPosition | null> {
    const doc = await this.#col.findOne({ user_id: userId, channel_id: channelId });
    return doc ? { n: doc.n, last_read_id: doc.last_read_id } : null;
  }

  /** The user's positions in these channels (a channel read nothing in is absent). */
  async of(userId: string, channelIds: readonly string[]): Promise<Map<string, ReadPosition>> {
    const out = new Map<string, ReadPosition>();
    if (channelIds.length === 0) return out;
    const docs = await this.#col.find({ user_id: userId, channel_id: { $in: [...channelIds] } }).toArray();
    for (const d of docs) out.set(d.channel_id, { n: d.n, last_read_id: d.last_read_id });
    return out;
  }

  /** Forgets the user's position in the channel (they left it). */
  async forget(userId: string, channelId: string): Promise<void> {
    await this.#col.deleteOne({ user_id: userId, channel_id: channelId });
  }
}

/** Unread messages for a reader at `read` (ordinal; 0 = nothing read) in a channel of `count` messages. */
export function unreadCount(count: number, read: number): number {
  return Math.max(0, count - read);
}

/** The later of two positions (the higher ordinal); null when both are. */
export function later(a: ReadPosition | null | undefined, b: ReadPosition | null | undefined): ReadPosition | null {
  if (!a) return b ?? null;
  if (!b) return a;
  return b.n > a.n ? b : a;
}

// A message's replies (docs/protocol.md §4.1): the page query on the index (channel_id, reply_to, _id) and
// the parent's `reply_count`, which the persister keeps with `recount`.
import type { Collection } from 'mongodb';
import { type Messages, toLong } from './messages.js';
import type { Message, MessageDoc } from './types.js';

export interface RepliesQuery {
  /** Replies with an id below this (newest first). */
  before?: string | undefined;
  /** 1..100. */
  limit: number;
}

/**
 * A reply stored before its parent (both are acknowledged before they are stored, and batches are stored
 * concurrently): the parent to recount once it is stored. `_id` is `<channel_id> <parent id>`.
 */
export interface ReplyWaitDoc {
  _id: string;
  at: Date;
}

/** How long a wait for a parent that never comes (an id of another channel, or none) is kept. */
const WAIT_TTL_SECONDS = 24 * 3600;

const waitKey = (channelId: string, parentId: string) => `${channelId} ${parentId}`;

export class Replies {
  readonly #col: Collection<MessageDoc>;
  readonly #waits: Collection<ReplyWaitDoc>;
  readonly #messages: Messages;

  constructor(col: Collection<MessageDoc>, waits: Collection<ReplyWaitDoc>, messages: Messages) {
    this.#col = col;
    this.#waits = waits;
    this.#messages = messages;
  }

  async createIndexes(): Promise<void> {
    await this.#waits.createIndexes([{ key: { at: 1 }, name: 'at_ttl', expireAfterSeconds: WAIT_TTL_SECONDS }]);
  }

  /** Whether a message with this id is stored in this channel, deleted or not. */
  async exists(channelId: string, messageId: string): Promise<boolean> {
    return (
      (await this.#col.findOne({ _id: toLong(messageId), channel_id: channelId }, { projection: { _id: 1 } })) !== null
    );
  }

  /**
   * A page of the replies to `parentId` in the channel, newest first, deleted ones left out: one walk of
   * the index (channel_id, reply_to, _id), each reply with its reference resolved from the parent now.
   */
  async page(channelId: string, parentId: string, q: RepliesQuery): Promise<Message[]> {
    const filter: Record<string, unknown> = { channel_id: channelId, reply_to: toLong(parentId), deleted: false };
    if (q.before !== undefined) filter._id = { $lt: toLong(q.before) };
    const docs = await this.#col.find(filter).sort({ _id: -1 }).limit(q.limit).toArray();
    return this.#messages.toMessages(docs);
  }

  /** The id of the message a stored message answers, or null (not a reply, or not stored in this channel). */
  async parentOf(channelId: string, messageId: string): Promise<string | null> {
    const doc = await this.#col.findOne(
      { _id: toLong(messageId), channel_id: channelId },
      { projection: { reply_to: 1 } },
    );
    return doc?.reply_to != null ? BigInt.asUintN(64, BigInt(String(doc.reply_to))).toString() : null;
  }

  /**
   * Sets the parent's `reply_count` to the number of its replies that are not deleted; call it after
   * storing or deleting a reply. Idempotent and exact under redelivery and concurrent recounts (any
   * process, any order): it first bumps the parent's `reply_version`, then counts, then writes the count
   * only if the version is still the one it bumped to. A recount that loses that race leaves the write
   * to the later bumper, whose count is taken after it and so includes every reply stored before this
   * one's bump. A parent unknown in this channel (not stored yet, or never) is left alone: false.
   */
  async recount(channelId: string, parentId: string): Promise<boolean> {
    const _id = toLong(parentId);
    const bumped = await this.#col.findOneAndUpdate(
      { _id, channel_id: channelId },
      { $inc: { reply_version: 1 } },
      { returnDocument: 'after', projection: { reply_version: 1 } },
    );
    if (!bumped) return false;
    const n = await this.#col.countDocuments({ channel_id: channelId, reply_to: _id, deleted: false });
    await this.#col.updateOne({ _id, reply_version: bumped.reply_version }, { $set: { reply_count: n } });
    return true;
  }

  /**
   * Recounts a parent whose reply was just stored; when the parent is not stored yet, leaves a wait for
   * it and recounts once more (a parent stored between the two recounts either sees the wait or is
   * found by the second recount: the count is never lost).
   */
  async recountOrWait(channelId: string, parentId: string): Promise<void> {
    if (await this.recount(channelId, parentId)) return;
    const _id = waitKey(channelId, parentId);
    await this.#waits.updateOne({ _id }, { $set: { at: new Date() } }, { upsert: true });
    if (await this.recount(channelId, parentId)) await this.#waits.deleteOne({ _id });
  }

  /**
   * Recounts those of these just-stored messages that replies stored before them wait for, and ends
   * their waits: one query by `_id` on the (small) waits collection.
   */
  async recountAwaited(messages: readonly { id: string; channel_id: string }[]): Promise<void> {
    if (messages.length === 0) return;
    const keys = messages.map((m) => waitKey(m.channel_id, m.id));
    const waits = await this.#waits.find({ _id: { $in: keys } }).toArray();
    for (const w of waits) {
      const [channelId = '', parentId = ''] = w._id.split(' ');
      await this.recount(channelId, parentId);
      await this.#waits.deleteOne({ _id: w._id });
    }
  }
}

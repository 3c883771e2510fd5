// The messages collection: one document per message, partitioned by (channel_id, bucket) the way
// Discord partitions by channel and 10-day bucket. Writes are idempotent by id and by event id,
// so redelivered envelopes change nothing. Each message is stored with its channel's ordinal
// (ordinal-append.ts), and counted before append() resolves (message-counts.ts).
import { bucketOf, messageOf, parseSnowflake } from '@chat/protocol';
import { type Collection, type IndexDescription, Long } from 'mongodb';
import { KnownTops } from './known-tops.js';
import type { MessageCounts } from './message-counts.js';
import { type AppendResult, appendWithOrdinals, type UnnumberedDoc } from './ordinal-append.js';
import { type Parents, parentKey, parentsOf, referenceOf } from './references.js';
import type { ApplyResult, ChangeEvent, Message, MessageDoc, NewMessage } from './types.js';

export const MESSAGE_INDEXES = [
  { key: { channel_id: 1, bucket: 1, _id: -1 }, name: 'channel_bucket_id' },
  // Partial: only changed messages (RESUME's edits and deletes since a point) and replies (a message's
  // replies) are in these two, so storing a plain new message updates three indexes, not five.
  {
    key: { channel_id: 1, updated_id: 1 },
    name: 'channel_changes',
    partialFilterExpression: { updated_id: { $exists: true } },
  },
  {
    key: { channel_id: 1, reply_to: 1, _id: -1 },
    name: 'channel_replies',
    partialFilterExpression: { reply_to: { $exists: true } },
  },
  // One message per ordinal in a channel; walked backwards for a channel's top (message-counts.ts).
  { key: { channel_id: 1, n: 1 }, name: 'channel_ordinal', unique: true },
] as const;

/** MESSAGE_INDEXES as the driver takes them: mutable copies (the driver's types do not take `as const` ones). */
export function messageIndexSpecs(): IndexDescription[] {
  return MESSAGE_INDEXES.map((i) => structuredClone(i) as IndexDescription);
}

/** Indexes of earlier versions that the partial ones above replace (same keys, every message in them). */
export const REPLACED_MESSAGE_INDEXES = ['channel_updated', 'channel_reply_to_id'] as const;

/** The server's codes for listing the indexes of a collection that does not exist, and dropping an index that does not. */
const NAMESPACE_NOT_FOUND = 26;
const INDEX_NOT_FOUND = 27;

/** The event id of a message's last change: its own id until it is first edited or deleted. */
function lastChangeOf(doc: MessageDoc): Long {
  return doc.updated_id ?? doc._id;
}

export function toLong(id: string): Long {
  return Long.fromBigInt(BigInt(id), true).toSigned();
}

function idString(id: Long | bigint | number): string {
  if (typeof id === 'bigint') return BigInt.asUintN(64, id).toString();
  if (typeof id === 'number') return String(id);
  return BigInt.asUintN(64, id.toBigInt()).toString();
}

/**
 * A stored message as the protocol's object. A reply's reference is resolved from `parents` (Messages'
 * reads pass them, see references.ts); without them it carries the parent's id only.
 */
export function toMessage(doc: MessageDoc, parents?: Parents): Message {
  const parentId = doc.reply_to != null ? idString(doc.reply_to) : undefined;
  return messageOf({
    id: idString(doc._id),
    channel_id: doc.channel_id,
    author: doc.author,
    content: doc.content,
    timestamp: new Date(doc.timestamp).toISOString(),
    edited_timestamp: doc.edited_timestamp ? new Date(doc.edited_timestamp).toISOString() : null,
    nonce: doc.nonce,
    referenced_message:
      parentId === undefined
        ? undefined
        : parents
          ? referenceOf(parentId, doc.channel_id, parents.get(parentKey(doc.reply_to!)))
          : { id: parentId },
    reply_count: doc.reply_count,
  });
}

export interface HistoryQuery {
  /** Messages with an id below this (newest first). */
  before?: string | undefined;
  /** Messages with an id above this. */
  after?: string | undefined;
  /** 1..100. */
  limit: number;
  /** Lowest bucket worth visiting (the channel's creation bucket). Default 0. */
  floorBucket?: number | undefined;
}

export class Messages {
  readonly #col: Collection<MessageDoc>;
  readonly #counts: MessageCounts;
  /** The append in progress (settled or not): the next one starts after it. */
  #lastAppend: Promise<unknown> = Promise.resolve();
  /** The tops of the channels this instance stored in (known-tops.ts): a batch needs no cached-count read. */
  readonly #tops: KnownTops;

  constructor(col: Collection<MessageDoc>, counts: MessageCounts, tops: KnownTops = new KnownTops()) {
    this.#col = col;
    this.#counts = counts;
    this.#tops = tops;
  }

  /**
   * Creates the indexes, first dropping those of earlier versions that they replace (same keys: a MongoDB
   * that allows one index per key pattern refuses the replacement beside them, and any other would keep
   * writing every message into them). Several processes may run this at once: an index another one
   * dropped first is simply gone.
   */
  async createIndexes(): Promise<void> {
    const listed = await this.#col
      .listIndexes()
      .toArray()
      .catch((err: { code?: number }) => {
        if (err.code === NAMESPACE_NOT_FOUND) return []; // no collection yet: nothing to replace
        throw err;
      });
    const existing = new Set(listed.map((i) => String(i.name)));
    for (const name of REPLACED_MESSAGE_INDEXES) {
      if (!existing.has(name)) continue;
      await this.#col.dropIndex(name).catch((err: { code?: number }) => {
        if (err.code !== INDEX_NOT_FOUND) throw err;
      });
    }
    await this.#col.createIndexes(messageIndexSpecs());
  }

  /**
   * Appends messages, each with its channel's next ordinal, and counts them (the channels' counts and
   * their authors' own read positions are raised) before it resolves. An id that is already stored
   * counts as stored (redelivery) and keeps its ordinal, so the call is idempotent and safe to repeat
   * after any failure. Resolves with how many were new and every message's ordinal. A write error other
   * than a duplicate key rejects (the caller retries the whole batch, which is safe).
   *
   * Appends through one instance run one at a time, in call order: two at once would offer the same
   * ordinals of a shared channel and refuse each other, and each refusal re-sends the rest of the
   * batch (a persister with two batches in flight spent 4 ms per message that way at 2,000 DM/s —
   * bench/results/profile-persister-2026-12-02.md). Appenders in other processes still race safely.
   */
  async append(messages: readonly NewMessage[]): Promise<AppendResult> {
    if (messages.length === 0) return { inserted: 0, duplicates: 0, ordinals: new Map() };
    const docs: UnnumberedDoc[] = messages.map((m) => {
      const id = toLong(m.id);
      return {
        _id: id,
        channel_id: m.channel_id,
        bucket: bucketOf(m.id),
        author: { id: m.author.id, username: m.author.username },
        content: m.content,
        timestamp: m.timestamp ? new Date(m.timestamp) : new Date(parseSnowflake(m.id).timestampMs),
        edited_timestamp: null,
        nonce: m.nonce ?? null,
        deleted: false,
        ...(m.reply_to ? { reply_to: toLong(m.reply_to) } : {}),
      };
    });
    const run = this.#lastAppend.then(() => appendWithOrdinals(this.#col, this.#counts, docs, this.#tops));
    this.#lastAppend = run.catch(() => {});
    return run;
  }

  /**
   * Applies an edit if its event id is newer than the last change and the message is not deleted;
   * an older or repeated event changes nothing ('ignored'), so edits commute and are idempotent.
   */
  async applyEdit(e: {
    message_id: string;
    channel_id: string;
    author_id: string;
    event_id: string;
    content: string;
  }): Promise<ApplyResult> {
    const eventId = toLong(e.event_id);
    const messageId = toLong(e.message_id);
    // An unchanged message holds no updated_id: its own id is its last change, and no edit precedes it.
    if (eventId.lessThanOrEqual(messageId)) return 'ignored';
    const res = await this.#col.updateOne(
      {
        _id: messageId,
        channel_id: e.channel_id,
        'author.id': e.author_id,
        deleted: false,
        $or: [{ updated_id: { $exists: false } }, { updated_id: { $lt: eventId } }],
      },
      {
        $set: {
          content: e.content,
          edited_timestamp: new Date(parseSnowflake(e.event_id).timestampMs),
          updated_id: eventId,
        },
      },
    );
    return res.modifiedCount === 1 ? 'applied' : 'ignored';
  }

  /**
   * Turns a message into a tombstone (content and edit time cleared, `deleted: true`). A delete wins
   * over any edit, whatever the order they arrive in; a repeated delete changes nothing.
   */
  async applyDelete(e: {
    message_id: string;
    channel_id: string;
    author_id: string;
    event_id: string;
  }): Promise<ApplyResult> {
    const res = await this.#col.updateOne(
      { _id: toLong(e.message_id), channel_id: e.channel_id, 'author.id': e.author_id, deleted: false },
      { $set: { deleted: true, content: '', edited_timestamp: null, updated_id: toLong(e.event_id) } },
    );
    return res.modifiedCount === 1 ? 'applied' : 'ignored';
  }

  /** One message that is not deleted, or null. */
  async get(channelId: string, messageId: string): Promise<Message | null> {
    const doc = await this.#col.findOne({ _id: toLong(messageId), channel_id: channelId, deleted: false });
    return doc ? ((await this.toMessages([doc]))[0] ?? null) : null;
  }

  /**
   * Channel history, newest first (Discord semantics). `before`: the `limit` newest messages older
   * than it. `after`: the `limit` messages right after it (still returned newest first). Both: the
   * newest `limit` strictly between. Walks buckets from the newest relevant one down; an empty
   * stretch of buckets is skipped with one index probe, never a scan. Deleted messages are left out.
   */
  async history(channelId: string, q: HistoryQuery): Promise<Message[]> {
    const floor = q.floorBucket ?? 0;
    const idFilter: Record<string, Long> = {};
    if (q.before !== undefined) idFilter.$lt = toLong(q.before);
    if (q.after !== undefined) idFilter.$gt = toLong(q.after);
    const hasId = Object.keys(idFilter).length > 0;

    if (q.after !== undefined && q.before === undefined) {
      // Forward paging: the oldest `limit` after the id, walking buckets upwards.
      const out: MessageDoc[] = [];
      let bucket: number | null = Math.max(floor, bucketOf(q.after));
      while (bucket !== null && out.length < q.limit) {
        const docs = await this.#col
          .find({
            channel_id: channelId,
            bucket,
            deleted: false,
            _id: idFilter.$gt ? { $gt: idFilter.$gt } : { $gte: Long.ZERO },
          })
          .sort({ _id: 1 })
          .limit(q.limit - out.length)
          .toArray();
        out.push(...docs);
        if (out.length < q.limit) bucket = await this.#nextBucket(channelId, bucket, 'up');
      }
      return this.toMessages(out.reverse());
    }

    const top = q.before !== undefined ? bucketOf(q.before) : await this.#newestBucket(channelId);
    const low = q.after !== undefined ? Math.max(floor, bucketOf(q.after)) : floor;
    const out: MessageDoc[] = [];
    let bucket: number | null = top;
    while (bucket !== null && bucket >= low && out.length < q.limit) {
      const filter: Record<string, unknown> = { channel_id: channelId, bucket, deleted: false };
      if (hasId) filter._id = idFilter;
      const docs = await this.#col
        .find(filter)
        .sort({ _id: -1 })
        .limit(q.limit - out.length)
        .toArray();
      out.push(...docs);
      if (out.length < q.limit) bucket = await this.#nextBucket(channelId, bucket, 'down');
    }
    return this.toMessages(out);
  }

  /** Stored messages as the protocol's objects, each reply's reference read from its parent now (one query). */
  async toMessages(docs: MessageDoc[]): Promise<Message[]> {
    const parents = await parentsOf(this.#col, docs);
    return docs.map((d) => toMessage(d, parents));
  }

  async #newestBucket(channelId: string): Promise<number | null> {
    const doc = await this.#col.findOne(
      { channel_id: channelId },
      { sort: { bucket: -1 }, projection: { bucket: 1, _id: 0 } },
    );
    return doc ? doc.bucket : null;
  }

  /** The next bucket holding any message (deleted or not) below/above `from`: one index probe. */
  async #nextBucket(channelId: string, from: number, dir: 'up' | 'down'): Promise<number | null> {
    const doc = await this.#col.findOne(
      { channel_id: channelId, bucket: dir === 'down' ? { $lt: from } : { $gt: from } },
      { sort: { bucket: dir === 'down' ? -1 : 1 }, projection: { bucket: 1, _id: 0 } },
    );
    return doc ? doc.bucket : null;
  }

  /**
   * Every MESSAGE_CREATE / UPDATE / DELETE in these channels with an event id above `since`, in
   * event-id order, at most `cap`; `truncated` when there were more. A message created after
   * `since` appears once, as a create carrying its current content (or as its delete if it was deleted
   * since); a message created before `since` and changed after it appears as its last change.
   */
  async changesSince(
    channelIds: readonly string[],
    since: string,
    cap: number,
  ): Promise<{ events: ChangeEvent[]; truncated: boolean }> {
    if (channelIds.length === 0) return { events: [], truncated: false };
    const sinceLong = toLong(since);
    const channels = { $in: [...channelIds] };
    const [created, changed] = await Promise.all([
      this.#col
        .find({ channel_id: channels, bucket: { $gte: bucketOf(since) }, _id: { $gt: sinceLong } })
        .sort({ _id: 1 })
        .limit(cap + 1)
        .toArray(),
      this.#col
        .find({ channel_id: channels, updated_id: { $gt: sinceLong }, _id: { $lte: sinceLong } })
        .sort({ updated_id: 1 })
        .limit(cap + 1)
        .toArray(),
    ]);
    const parents = await parentsOf(this.#col, [...created, ...changed]);
    const events: ChangeEvent[] = [];
    for (const doc of created) {
      // Created after `since` and deleted since: a client resuming from a little earlier than what
      // it saw (clients resume with a margin) may have seen the create live, so it needs the delete.
      events.push(
        doc.deleted
          ? {
              event: 'MESSAGE_DELETE',
              event_id: idString(lastChangeOf(doc)),
              channel_id: doc.channel_id,
              data: { id: idString(doc._id), channel_id: doc.channel_id },
            }
          : {
              event: 'MESSAGE_CREATE',
              event_id: idString(doc._id),
              channel_id: doc.channel_id,
              data: toMessage(doc, parents),
            },
      );
    }
    for (const doc of changed) {
      const id = idString(doc._id);
      events.push(
        doc.deleted
          ? {
              event: 'MESSAGE_DELETE',
              event_id: idString(lastChangeOf(doc)),
              channel_id: doc.channel_id,
              data: { id, channel_id: doc.channel_id },
            }
          : {
              event: 'MESSAGE_UPDATE',
              event_id: idString(lastChangeOf(doc)),
              channel_id: doc.channel_id,
              data: toMessage(doc, parents),
            },
      );
    }
    events.sort((a, b) =>
      BigInt(a.event_id) < BigInt(b.event_id) ? -1 : BigInt(a.event_id) > BigInt(b.event_id) ? 1 : 0,
    );
    const truncated = events.length > cap;
    return { events: events.slice(0, cap), truncated };
  }
}

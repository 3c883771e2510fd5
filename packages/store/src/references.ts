// A reply's reference to its parent, resolved when the reply is read (docs/protocol.md §4.1): the parent's
// current author and content excerpt, or `deleted` — so edits and deletes of a parent show in every read
// of its replies without rewriting them. A parent is looked up by id AND channel: a reply can never show
// a message of another channel, whatever id it names.
import { type ReferencedMessage, referenceOf as referenceTo } from '@chat/protocol';
import type { Collection, Long } from 'mongodb';
import type { MessageDoc } from './types.js';

/** Parent documents by `parentKey` of their id. */
export type Parents = ReadonlyMap<string, MessageDoc>;

/** A map key for a stored id, whichever way the driver returned it (Long, or a number when it fits). */
export const parentKey = (id: Long | number | bigint): string => String(id);

/** The parents of the replies among `docs`, in one query (by `_id`, so one index probe per parent). */
export async function parentsOf(col: Collection<MessageDoc>, docs: readonly MessageDoc[]): Promise<Parents> {
  const ids = new Map<string, Long>();
  for (const d of docs) if (d.reply_to != null) ids.set(parentKey(d.reply_to), d.reply_to);
  if (ids.size === 0) return new Map();
  const found = await col
    .find({ _id: { $in: [...ids.values()] } }, { projection: { channel_id: 1, author: 1, content: 1, deleted: 1 } })
    .toArray();
  return new Map(found.map((p) => [parentKey(p._id), p]));
}

/** The reference of a reply in `channelId` to `parentId`: `deleted` when the parent is deleted, unknown or of another channel. */
export function referenceOf(parentId: string, channelId: string, parent: MessageDoc | undefined): ReferencedMessage {
  return referenceTo(parentId, parent && !parent.deleted && parent.channel_id === channelId ? parent : null);
}

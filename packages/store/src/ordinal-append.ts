// Storing messages with their channel's ordinals in the same insert (message-counts.ts says why).
// The messages of each channel, in id order, are offered the ordinals right above the channel's
// cached top, in one *ordered* insert for the whole batch. Why that gives every stored message
// exactly one ordinal and a channel exactly 1..N:
// - an ordinal is offered only when the one below it is taken (the cached top never exceeds the real
//   top; within a channel the insert is ordered, so n+1 is tried only after n went in), and the unique
//   index `{channel_id, n}` lets at most one message take it: ordinals stay contiguous;
// - the `_id` is the message id, so a message stored before (a redelivery, or a racing persister) is
//   refused and keeps the ordinal it was stored with;
// - an ordered insert stops at its first refusal: the documents before it are stored, those after it
//   were not tried. The refused one and any other already stored are then looked up in one query and
//   dropped (their stored ordinals stand); if the refused one is not stored, its ordinal was taken (a
//   racer, or a cached top behind the real one) and its channel goes on from the real top. What is
//   left is offered again, renumbered from where each channel stands, so no gap is ever left.
// Without races or redeliveries that is one cached-top read, one insert and one raise per batch; with
// the tops this process remembers (known-tops.ts) the read is left out for the channels it knows.
import { type Collection, MongoBulkWriteError } from 'mongodb';
import { DUPLICATE_KEY } from './duplicate-key.js';
import type { KnownTops } from './known-tops.js';
import type { ChannelRaise, MessageCounts, OrdinalPosition } from './message-counts.js';
import type { MessageDoc } from './types.js';

/** A message document before it is given its ordinal. */
export type UnnumberedDoc = Omit<MessageDoc, 'n'>;

export interface AppendResult {
  inserted: number;
  /** Messages already stored (redeliveries, or stored by a racing persister): not stored again. */
  duplicates: number;
  /** The ordinal of every message of the call now stored in its channel (new or not). */
  ordinals: Map<string, number>;
}

const idString = (doc: { _id: MessageDoc['_id'] }) => BigInt.asUintN(64, doc._id.toBigInt()).toString();
const byId = (a: UnnumberedDoc, b: UnnumberedDoc) => {
  const x = BigInt(idString(a));
  const y = BigInt(idString(b));
  return x < y ? -1 : x > y ? 1 : 0;
};

/**
 * Stores `docs` with their ordinals, then raises their channels' cached counts and their authors'
 * own positions before it resolves (so before anything is dispatched): at least once and idempotent,
 * safe to repeat after any failure. A write error other than a duplicate key rejects; the documents
 * stored before it keep their ordinals, and a repeat finds them stored. `tops`: the tops this process
 * remembers (read instead of the cached counts for the channels it knows; kept up to date here).
 */
export async function appendWithOrdinals(
  col: Collection<MessageDoc>,
  counts: MessageCounts,
  docs: readonly UnnumberedDoc[],
  tops?: KnownTops,
): Promise<AppendResult> {
  const result: AppendResult = { inserted: 0, duplicates: 0, ordinals: new Map() };
  /** Per channel, the messages still to store, in id order (an id twice in the call: stored once). */
  const pending = new Map<string, UnnumberedDoc[]>();
  /** Each id's document (the first one, for an id given twice). */
  const all = new Map<string, UnnumberedDoc>();
  for (const d of docs) {
    const id = idString(d);
    if (all.has(id)) {
      result.duplicates++;
      continue;
    }
    all.set(id, d);
    const list = pending.get(d.channel_id);
    if (list) list.push(d);
    else pending.set(d.channel_id, [d]);
  }
  for (const list of pending.values()) list.sort(byId);
  /** Per channel, the ordinal its next message is offered: one whose predecessor is taken. */
  const next = new Map<string, number>();
  const known = tops?.known(pending.keys()) ?? new Map<string, number>();
  const unknown = [...pending.keys()].filter((id) => !known.has(id));
  const cached = unknown.length > 0 ? await counts.cachedTops(unknown) : new Map<string, number>();
  for (const channelId of pending.keys()) {
    next.set(channelId, (known.get(channelId) ?? cached.get(channelId) ?? 0) + 1);
  }

  while (pending.size > 0) {
    const batch: MessageDoc[] = [];
    for (const [channelId, list] of pending) {
      const base = next.get(channelId)!;
      for (const [i, d] of list.entries()) batch.push({ ...d, n: base + i });
    }
    const refused = await insertOrdered(col, batch);
    const stored = refused === null ? batch.length : refused;
    for (const d of batch.slice(0, stored)) {
      result.inserted++;
      result.ordinals.set(idString(d), d.n);
      next.set(d.channel_id, d.n + 1);
      const list = pending.get(d.channel_id)!;
      list.shift();
      if (list.length === 0) pending.delete(d.channel_id);
    }
    if (refused === null) break;
    const failed = batch[refused]!;
    const failedId = idString(failed);
    // Which of those not stored by this call are stored already? Their stored ordinals stand.
    const rest = [...pending.values()].flat();
    const found = await col
      .find({ _id: { $in: rest.map((d) => d._id) } }, { projection: { _id: 1, channel_id: 1, n: 1 } })
      .toArray();
    const foundIds = new Set<string>();
    for (const s of found) {
      const id = idString(s);
      foundIds.add(id);
      result.duplicates++;
      // An id stored in another channel is not this channel's message: the first one stored stands.
      if (s.channel_id === all.get(id)?.channel_id && typeof s.n === 'number') result.ordinals.set(id, s.n);
    }
    for (const [channelId, list] of pending) {
      const left = list.filter((d) => !foundIds.has(idString(d)));
      if (left.length > 0) pending.set(channelId, left);
      else pending.delete(channelId);
    }
    if (!foundIds.has(failedId)) {
      // Its ordinal was taken: by a racer, or the cached top was behind. Go on from the real top.
      const top = await counts.topOf(failed.channel_id);
      if (top + 1 <= failed.n) throw new Error(`duplicate key on message ${failedId} that is neither id nor ordinal`);
      next.set(failed.channel_id, top + 1);
      // Another process stores in these channels: stop trusting what this one remembers for a while.
      tops?.distrust();
      if (known.size > 0) {
        // The other remembered tops of this batch may be behind too: one read of their cached counts,
        // rather than a refusal (and a re-sent insert) each.
        const stale = [...known.keys()].filter((id) => pending.has(id) && id !== failed.channel_id);
        known.clear();
        for (const [channelId, top] of stale.length > 0 ? await counts.cachedTops(stale) : []) {
          if (top + 1 > next.get(channelId)!) next.set(channelId, top + 1);
        }
      }
    }
  }

  const raises = raisesOf([...all.values()], result.ordinals);
  await counts.raise(raises);
  if (tops) for (const [channelId, r] of raises) tops.saw(channelId, r.top.n);
  return result;
}

/** Inserts in order; resolves with the index of the document refused as a duplicate key, or null. */
async function insertOrdered(col: Collection<MessageDoc>, batch: MessageDoc[]): Promise<number | null> {
  if (batch.length === 0) return null;
  try {
    await col.insertMany(batch, { ordered: true });
    return null;
  } catch (err) {
    if (err instanceof MongoBulkWriteError) {
      const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
      const first = errors[0];
      // A network failure mid-batch has no write errors: not a refusal, the caller retries.
      if (errors.length === 1 && first?.code === DUPLICATE_KEY && typeof first.index === 'number') return first.index;
    } else if ((err as { code?: number }).code === DUPLICATE_KEY && batch.length === 1) {
      return 0;
    }
    throw err;
  }
}

/** Per channel, the top of the given ordinals and each author's newest message among them. */
export function raisesOf(
  docs: readonly Pick<UnnumberedDoc, '_id' | 'channel_id' | 'author'>[],
  ordinals: ReadonlyMap<string, number>,
): Map<string, ChannelRaise> {
  const out = new Map<string, { top: OrdinalPosition; authors: Map<string, OrdinalPosition> }>();
  for (const d of docs) {
    const id = idString(d);
    const n = ordinals.get(id);
    if (n === undefined) continue;
    let r = out.get(d.channel_id);
    if (!r) {
      r = { top: { n, id }, authors: new Map() };
      out.set(d.channel_id, r);
    }
    if (n > r.top.n) r.top = { n, id };
    const mine = r.authors.get(d.author.id);
    if (!mine || n > mine.n) r.authors.set(d.author.id, { n, id });
  }
  return out;
}

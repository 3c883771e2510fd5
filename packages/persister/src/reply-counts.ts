// Keeping each parent's `reply_count` (docs/protocol.md §4.1) as the persister stores replies and deletes
// them: a recount of the parent after the write (store's Replies.recount), so it is exact and idempotent
// under redelivery — a redelivered reply or delete recounts to the same number.
import type { Replies } from '@chat/store';
import { type Retry, storeTransient } from './retry.js';
import type { StoreWrites, WriteItem } from './store-writes.js';
import type { ValidWrite } from './validate.js';

export interface ReplyCounts {
  /**
   * Recounts the parents of the stored creates that are replies (a parent not stored yet is waited for),
   * and the stored creates that replies stored before them wait for; call before the creates are acked.
   */
  afterCreates(writes: readonly ValidWrite[]): Promise<void>;
  /** Recounts the parent of a deleted message if it was a reply; call before the delete is acked. */
  afterDelete(write: ValidWrite): Promise<void>;
}

export function createReplyCounts(deps: {
  replies: Pick<Replies, 'recount' | 'recountOrWait' | 'recountAwaited' | 'parentOf'>;
  retry: Retry;
}): ReplyCounts {
  const { replies, retry } = deps;
  const recount = (channelId: string, parentId: string) =>
    retry('store', () => replies.recount(channelId, parentId), storeTransient);
  return {
    async afterCreates(writes) {
      const parents = new Map<string, { channel: string; parent: string }>();
      for (const w of writes) {
        if (w.kind === 'create' && w.reply_to) {
          parents.set(`${w.channel_id} ${w.reply_to}`, { channel: w.channel_id, parent: w.reply_to });
        }
      }
      await Promise.all(
        [...parents.values()].map((p) =>
          retry('store', () => replies.recountOrWait(p.channel, p.parent), storeTransient),
        ),
      );
      const creates = writes.filter((w) => w.kind === 'create');
      await retry('store', () => replies.recountAwaited(creates), storeTransient);
    },
    async afterDelete(w) {
      if (w.kind !== 'delete') return;
      const parent = await retry('store', () => replies.parentOf(w.channel_id, w.message_id), storeTransient);
      if (parent) await recount(w.channel_id, parent);
    },
  };
}

/**
 * `inner`, with the parents' reply counts recounted after each stored delete and each batch of stored
 * creates, before the call returns (so before the writes are acked): at least once, idempotent.
 */
export function withReplyCounts(inner: StoreWrites, counts: ReplyCounts): StoreWrites {
  return {
    async storeChange(item) {
      const applied = await inner.storeChange(item);
      if (applied) await counts.afterDelete(item.write);
      return applied;
    },
    async storeCreates<T extends WriteItem>(items: readonly T[]): Promise<T[]> {
      const stored = await inner.storeCreates(items);
      await counts.afterCreates(stored.map((i) => i.write));
      return stored;
    },
  };
}

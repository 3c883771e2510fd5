// Counting stored creates: after a batch's creates are stored and before they are dispatched, each
// gets its channel's next ordinal (@chat/store MessageCounts: exact under redelivery and racing
// persisters), and each author's read position moves up to their newest message of the batch, so
// sending never makes a channel unread for its author. Both steps are idempotent, so a crash anywhere
// in them is repaired by the redelivery of the unacked writes.
import type { MessageCounts, ReadStates } from '@chat/store';
import { type Retry, storeTransient } from './retry.js';
import type { StoreWrites, WriteItem } from './store-writes.js';
import type { ValidWrite } from './validate.js';

type Create = Extract<ValidWrite, { kind: 'create' }>;

export interface CountingDeps {
  counts: Pick<MessageCounts, 'countMany'>;
  readStates: Pick<ReadStates, 'advanceMany'>;
  retry: Retry;
}

/** The newest message (highest ordinal) of each author among `writes`, given their ordinals. */
export function newestByAuthor(
  writes: readonly Create[],
  ordinals: ReadonlyMap<string, number>,
): Map<string, { n: number; id: string }> {
  const out = new Map<string, { n: number; id: string }>();
  for (const w of writes) {
    const n = ordinals.get(w.id);
    if (n === undefined) continue;
    const seen = out.get(w.author.id);
    if (!seen || n > seen.n) out.set(w.author.id, { n, id: w.id });
  }
  return out;
}

/**
 * Counts stored creates and advances their authors' read positions: one countMany and one advanceMany
 * for the whole batch (a constant number of store round trips, not a few per channel — bench/results/
 * counting-ab-2026-12-02.md). At least once and idempotent: counting a write again changes nothing.
 * Transient store failures are retried; a permanent one rejects (the caller leaves the batch unacked).
 */
export async function countCreates(writes: readonly Create[], deps: CountingDeps): Promise<void> {
  const byChannel = new Map<string, Create[]>();
  for (const w of writes) {
    const list = byChannel.get(w.channel_id);
    if (list) list.push(w);
    else byChannel.set(w.channel_id, [w]);
  }
  const store = <T>(op: () => Promise<T>) => deps.retry('store', op, storeTransient);
  const ids = new Map([...byChannel].map(([channelId, list]) => [channelId, list.map((w) => w.id)]));
  const ordinals = await store(() => deps.counts.countMany(ids));
  const moves: { userId: string; channelId: string; n: number; messageId: string }[] = [];
  for (const [channelId, list] of byChannel) {
    for (const [userId, p] of newestByAuthor(list, ordinals))
      moves.push({ userId, channelId, n: p.n, messageId: p.id });
  }
  await store(() => deps.readStates.advanceMany(moves));
}

/** `inner`, with every create it stored counted before it is returned (so before its dispatch). */
export function withCounting(inner: StoreWrites, deps: CountingDeps): StoreWrites {
  return {
    storeChange: (item) => inner.storeChange(item),
    async storeCreates<T extends WriteItem>(items: readonly T[]): Promise<T[]> {
      const stored = await inner.storeCreates(items);
      await countCreates(
        stored.map((i) => i.write as Create),
        deps,
      );
      return stored;
    },
  };
}

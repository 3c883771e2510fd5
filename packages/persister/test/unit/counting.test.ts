import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { unreadCount } from '@chat/store';
import { countCreates, newestByAuthor } from '../../src/counting.js';
import type { ValidWrite } from '../../src/validate.js';
import { create, instantRetry, item } from './fakes.js';

type Create = Extract<ValidWrite, { kind: 'create' }>;

const write = (channel: string, author: string): Create => {
  const w = item(create(channel)).write as Create;
  return { ...w, author: { id: author, username: author } };
};

/** Ordinals in memory with MessageCounts' contract: a message keeps the ordinal it first got. */
function memoryCounts(failFirst = 0) {
  const ordinals = new Map<string, Map<string, number>>();
  let failures = failFirst;
  return {
    ordinals,
    async countMany(byChannel: ReadonlyMap<string, readonly string[]>) {
      if (failures-- > 0) throw new Error('connection reset');
      const out = new Map<string, number>();
      for (const [channelId, ids] of byChannel) {
        const ch = ordinals.get(channelId) ?? new Map<string, number>();
        ordinals.set(channelId, ch);
        for (const id of ids) if (!ch.has(id)) ch.set(id, ch.size + 1);
        for (const id of ids) out.set(id, ch.get(id)!);
      }
      return out;
    },
  };
}

function memoryReads() {
  const positions = new Map<string, number>();
  return {
    positions,
    async advanceMany(moves: readonly { userId: string; channelId: string; n: number }[]) {
      for (const m of moves) {
        const key = `${m.userId}@${m.channelId}`;
        if ((positions.get(key) ?? 0) < m.n) positions.set(key, m.n);
      }
    },
  };
}

describe('counting stored creates', () => {
  it("each author's read position moves to their newest message of the batch, per channel", async () => {
    const counts = memoryCounts();
    const reads = memoryReads();
    const batch = [write('a', 'ann'), write('a', 'bob'), write('b', 'ann'), write('a', 'ann'), write('a', 'cid')];
    await countCreates(batch, { counts, readStates: reads, retry: instantRetry().retry });
    assert.deepEqual(Object.fromEntries(reads.positions), { 'ann@a': 3, 'bob@a': 2, 'cid@a': 4, 'ann@b': 1 });
    assert.equal(counts.ordinals.get('a')?.size, 4);
    assert.equal(counts.ordinals.get('b')?.size, 1);
  });

  it('counting a redelivered batch again changes no count and no read position', async () => {
    const counts = memoryCounts();
    const reads = memoryReads();
    const batch = [write('a', 'ann'), write('a', 'bob')];
    const deps = { counts, readStates: reads, retry: instantRetry().retry };
    await countCreates(batch, deps);
    const before = { n: counts.ordinals.get('a')?.size, reads: Object.fromEntries(reads.positions) };
    await countCreates(batch, deps);
    assert.deepEqual({ n: counts.ordinals.get('a')?.size, reads: Object.fromEntries(reads.positions) }, before);
  });

  it('a transient store failure is retried until the count is taken', async () => {
    const { retry, retries } = instantRetry();
    const counts = memoryCounts(2);
    await countCreates([write('a', 'ann')], { counts, readStates: memoryReads(), retry });
    assert.deepEqual(retries, ['store', 'store']);
    assert.equal(counts.ordinals.get('a')?.size, 1);
  });

  it('newestByAuthor skips writes without an ordinal; unread is never negative', () => {
    const [w1, w2] = [write('a', 'ann'), write('a', 'ann')];
    assert.deepEqual(newestByAuthor([w1, w2], new Map([[w1.id, 7]])), new Map([['ann', { n: 7, id: w1.id }]]));
    assert.equal(unreadCount(10, 4), 6);
    assert.equal(unreadCount(3, 5), 0);
  });
});

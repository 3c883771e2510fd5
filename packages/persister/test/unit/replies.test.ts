// The persister's side of replies (docs/protocol.md §4.1): a reply's MESSAGE_CREATE carries its parent as
// stored now, read in the reply's own channel; the parents of stored replies (and deleted ones) are
// recounted, a parent not stored yet is waited for, and a reply_to that is no id is dead-lettered.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MessageCreateWrite } from '@chat/protocol';
import type { Message } from '@chat/store';
import { envelopeFor } from '../../src/envelope.js';
import { createReplyCounts } from '../../src/reply-counts.js';
import type { ValidWrite } from '../../src/validate.js';
import { validateWrite } from '../../src/validate.js';
import { create, instantRetry, item, remove, snowflake } from './fakes.js';

const parentId = snowflake();
const parent: Message = {
  id: parentId,
  channel_id: 'c1',
  author: { id: 'u2', username: 'bea' },
  content: `${'ü'.repeat(120)}`,
  timestamp: '2026-01-01T00:00:00.000Z',
  edited_timestamp: null,
  nonce: null,
  type: 0,
};
const createWith = (channel: string, fields: Partial<MessageCreateWrite>): MessageCreateWrite => ({
  ...(create(channel, 'yes') as MessageCreateWrite),
  ...fields,
});
const reply = (channel = 'c1', to = parentId) => item(createWith(channel, { reply_to: to })).write;

describe('a reply’s dispatch', () => {
  it('carries the parent as stored now: its author and the first 100 code points of its content', async () => {
    const reads: string[] = [];
    const env = await envelopeFor(reply(), async (c, id) => {
      reads.push(`${c} ${id}`);
      return c === 'c1' && id === parentId ? parent : null;
    });
    assert.deepEqual(reads, [`c1 ${parentId}`], 'the parent is read in the reply’s channel');
    assert.deepEqual((env!.data as Message).referenced_message, {
      id: parentId,
      author: { id: 'u2', username: 'bea' },
      content: 'ü'.repeat(100),
    });
  });

  it('shows a parent that is deleted, unknown or of another channel as deleted, and nothing of it', async () => {
    const env = await envelopeFor(reply('c2'), async (c, id) => (c === 'c1' && id === parentId ? parent : null));
    assert.deepEqual((env!.data as Message).referenced_message, { id: parentId, deleted: true });
  });

  it('a message that answers nothing has no reference', async () => {
    const env = await envelopeFor(item(create('c1')).write, async () => parent);
    assert.equal('referenced_message' in (env!.data as Message), false);
  });

  it('a reply_to that is no id is refused as invalid_reply_to (dead-lettered, never stored)', () => {
    assert.deepEqual(validateWrite(createWith('c1', { reply_to: '01' }), 4000), { reason: 'invalid_reply_to' });
  });
});

/** Replies in memory: which parents exist, the recounts and waits asked for. */
function fakeReplies(stored: Set<string>, parents: Record<string, string> = {}) {
  const log: string[] = [];
  const replies = {
    async recount(c: string, p: string) {
      log.push(`recount ${c} ${p}`);
      return stored.has(p);
    },
    async recountOrWait(c: string, p: string) {
      log.push(`recountOrWait ${c} ${p}`);
    },
    async recountAwaited(ms: readonly { id: string; channel_id: string }[]) {
      log.push(`awaited ${ms.map((m) => m.id).join(',')}`);
    },
    async parentOf(_c: string, id: string) {
      return parents[id] ?? null;
    },
  };
  return { replies, log };
}

describe('reply counts', () => {
  it('recount each parent of a batch’s replies once, then the batch’s messages that replies wait for', async () => {
    const { replies, log } = fakeReplies(new Set([parentId]));
    const counts = createReplyCounts({ replies, retry: instantRetry().retry });
    const plain = item(create('c1')).write;
    const writes: ValidWrite[] = [reply(), reply(), reply('c2'), plain];
    await counts.afterCreates(writes);
    const ids = writes.map((w) => w.id).join(',');
    assert.deepEqual(log, [`recountOrWait c1 ${parentId}`, `recountOrWait c2 ${parentId}`, `awaited ${ids}`]);
  });

  it('a deleted reply recounts its parent; a deleted message that answers nothing recounts nothing', async () => {
    const replyId = snowflake();
    const { replies, log } = fakeReplies(new Set([parentId]), { [replyId]: parentId });
    const counts = createReplyCounts({ replies, retry: instantRetry().retry });
    await counts.afterDelete(item(remove('c1', replyId)).write);
    await counts.afterDelete(item(remove('c1', snowflake())).write);
    assert.deepEqual(log, [`recount c1 ${parentId}`]);
  });

  it('a store failure is retried until the recount is made', async () => {
    const { replies, log } = fakeReplies(new Set([parentId]));
    let failures = 2;
    const flaky = {
      ...replies,
      async recountOrWait(c: string, p: string) {
        if (failures-- > 0) throw Object.assign(new Error('connection reset'), { name: 'MongoNetworkError' });
        return replies.recountOrWait(c, p);
      },
    };
    const retry = instantRetry();
    await createReplyCounts({ replies: flaky, retry: retry.retry }).afterCreates([reply()]);
    assert.deepEqual(retry.retries, ['store', 'store']);
    assert.equal(log[0], `recountOrWait c1 ${parentId}`);
  });
});

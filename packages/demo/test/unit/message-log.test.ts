import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Message } from '@chat/client';
import { MessageLog } from '../../src/message-log.js';

function msg(id: string, content = `m${id}`, edited: string | null = null): Message {
  return {
    id,
    channel_id: '1',
    author: { id: '7', username: 'alice' },
    content,
    timestamp: '2026-01-01T00:00:00.000Z',
    edited_timestamp: edited,
    type: 0,
  };
}

describe('MessageLog', () => {
  it('keeps messages in id order whatever order history pages and live events arrive in', () => {
    const log = new MessageLog();
    // A live event first, then a history page (newest first) that overlaps it.
    log.upsert(msg('1000000000000000005'));
    for (const id of ['1000000000000000005', '1000000000000000004', '999999999999999999']) log.upsert(msg(id));
    log.upsert(msg('1000000000000000010'));
    assert.deepEqual(
      log.list().map((m) => m.id),
      ['999999999999999999', '1000000000000000004', '1000000000000000005', '1000000000000000010'],
    );
    assert.equal(log.oldest?.id, '999999999999999999');
  });

  it('reports where each message went, and a duplicate as unchanged', () => {
    const log = new MessageLog();
    assert.deepEqual(log.upsert(msg('20')), { kind: 'inserted', index: 0 });
    assert.deepEqual(log.upsert(msg('10')), { kind: 'inserted', index: 0 });
    assert.deepEqual(log.upsert(msg('30')), { kind: 'inserted', index: 2 });
    assert.deepEqual(log.upsert(msg('20')), { kind: 'unchanged' });
    assert.equal(log.size, 3);
  });

  it('takes a newer edit and ignores an older copy that arrives after it', () => {
    const log = new MessageLog();
    log.upsert(msg('20', 'first'));
    assert.deepEqual(log.upsert(msg('20', 'second', '2026-01-01T00:00:02.000Z')), { kind: 'replaced', index: 0 });
    assert.deepEqual(log.upsert(msg('20', 'first')), { kind: 'unchanged' });
    assert.deepEqual(log.upsert(msg('20', 'stale', '2026-01-01T00:00:01.000Z')), { kind: 'unchanged' });
    assert.equal(log.list()[0]?.content, 'second');
  });

  it('does not bring back a deleted message from a late history page', () => {
    const log = new MessageLog();
    log.upsert(msg('10'));
    log.upsert(msg('20'));
    assert.equal(log.delete('10'), 0);
    assert.deepEqual(log.upsert(msg('10')), { kind: 'unchanged' });
    assert.equal(log.delete('99'), -1);
    assert.deepEqual(
      log.list().map((m) => m.id),
      ['20'],
    );
  });
});

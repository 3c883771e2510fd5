import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LruMap } from '../../src/internal/lru.js';
import { MessageDedup } from '../../src/internal/message-dedup.js';

function msg(id: string, content: string, edited: string | null = null) {
  return { id, content, edited_timestamp: edited };
}

describe('LruMap', () => {
  it('forgets the least recently used key once over capacity', () => {
    const lru = new LruMap<string, number>(3);
    lru.set('a', 1).set('b', 2).set('c', 3);
    lru.get('a'); // a is now the most recent
    lru.set('d', 4);
    assert.equal(lru.has('b'), false);
    assert.deepEqual(
      ['a', 'c', 'd'].map((k) => lru.get(k)),
      [1, 3, 4],
    );
    assert.equal(lru.size, 3);
  });

  it('refuses a capacity below one', () => {
    assert.throws(() => new LruMap(0), RangeError);
  });
});

describe('MessageDedup', () => {
  it('passes a MESSAGE_CREATE on once per message id', () => {
    const d = new MessageDedup();
    assert.equal(d.observe('MESSAGE_CREATE', msg('1', 'a')), 'messageCreate');
    assert.equal(d.observe('MESSAGE_CREATE', msg('1', 'a')), null);
    assert.equal(d.observe('MESSAGE_CREATE', msg('2', 'a')), 'messageCreate');
  });

  it('passes an update on once per (id, content, edit time), and drops an older state than the one passed on', () => {
    const d = new MessageDedup();
    d.observe('MESSAGE_CREATE', msg('1', 'a'));
    const e1 = msg('1', 'b', '2026-01-01T00:00:01.000Z');
    const e2 = msg('1', 'a', '2026-01-01T00:00:02.000Z');
    assert.equal(d.observe('MESSAGE_UPDATE', e1), 'messageUpdate');
    assert.equal(d.observe('MESSAGE_UPDATE', e1), null);
    assert.equal(d.observe('MESSAGE_UPDATE', e2), 'messageUpdate', 'editing back to an earlier content is a change');
    assert.equal(d.observe('MESSAGE_UPDATE', e1), null, 'a stale redelivery is not a change');
  });

  it('turns a replayed create that carries a newer state into an update, and drops one carrying the same state', () => {
    const d = new MessageDedup();
    d.observe('MESSAGE_CREATE', msg('1', 'a'));
    const replay = msg('1', 'edited while away', '2026-01-01T00:00:05.000Z');
    assert.equal(d.observe('MESSAGE_CREATE', replay), 'messageUpdate');
    assert.equal(d.observe('MESSAGE_CREATE', replay), null);
    assert.equal(d.observe('MESSAGE_UPDATE', replay), null);
  });

  it('passes a delete on once, and nothing about that message afterwards', () => {
    const d = new MessageDedup();
    d.observe('MESSAGE_CREATE', msg('1', 'a'));
    assert.equal(d.observe('MESSAGE_DELETE', { id: '1' }), 'messageDelete');
    assert.equal(d.observe('MESSAGE_DELETE', { id: '1' }), null);
    assert.equal(d.observe('MESSAGE_UPDATE', msg('1', 'b', '2026-01-01T00:00:09.000Z')), null);
    assert.equal(d.observe('MESSAGE_CREATE', msg('1', 'a')), null);
  });

  it('passes on an update or delete of a message it never saw', () => {
    const d = new MessageDedup();
    assert.equal(d.observe('MESSAGE_UPDATE', msg('7', 'x', '2026-01-01T00:00:01.000Z')), 'messageUpdate');
    assert.equal(d.observe('MESSAGE_DELETE', { id: '8' }), 'messageDelete');
  });

  it('keeps memory bounded: past the capacity the oldest ids are forgotten', () => {
    const d = new MessageDedup(100);
    for (let i = 0; i < 1000; i++) d.observe('MESSAGE_CREATE', msg(String(i), 'x'));
    assert.equal(d.size, 100);
    assert.equal(d.observe('MESSAGE_CREATE', msg('999', 'x')), null, 'recent ids are remembered');
    assert.equal(d.observe('MESSAGE_CREATE', msg('0', 'x')), 'messageCreate', 'the oldest were forgotten');
  });
});

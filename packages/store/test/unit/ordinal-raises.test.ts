import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { later, raisesOf, toLong, unreadCount } from '@chat/store';

const doc = (id: string, channel: string, author: string) => ({
  _id: toLong(id),
  channel_id: channel,
  author: { id: author, username: author },
});

describe('what a batch raises', () => {
  it("per channel: the top ordinal and each author's newest message, whatever the order of the batch", () => {
    const docs = [doc('11', 'a', 'ann'), doc('12', 'a', 'bob'), doc('13', 'b', 'ann'), doc('14', 'a', 'ann')];
    const ordinals = new Map([
      ['14', 3],
      ['11', 1],
      ['12', 2],
      ['13', 1],
    ]);
    const r = raisesOf([...docs].reverse(), ordinals);
    assert.deepEqual(r.get('a')?.top, { n: 3, id: '14' });
    assert.deepEqual(Object.fromEntries(r.get('a')!.authors), { ann: { n: 3, id: '14' }, bob: { n: 2, id: '12' } });
    assert.deepEqual(r.get('b'), { top: { n: 1, id: '13' }, authors: new Map([['ann', { n: 1, id: '13' }]]) });
  });

  it('a message without an ordinal (stored in another channel) raises nothing', () => {
    const r = raisesOf([doc('21', 'a', 'ann'), doc('22', 'a', 'ann')], new Map([['21', 7]]));
    assert.deepEqual(r.get('a'), { top: { n: 7, id: '21' }, authors: new Map([['ann', { n: 7, id: '21' }]]) });
    assert.equal(raisesOf([doc('23', 'c', 'cid')], new Map()).size, 0);
  });

  it('a position is the later of an ack and an own message; unread is never negative', () => {
    const ack = { n: 4, last_read_id: '4' };
    const own = { n: 6, last_read_id: '6' };
    assert.equal(later(ack, own), own);
    assert.equal(later(own, ack), own);
    assert.equal(later(null, ack), ack);
    assert.equal(later(ack, undefined), ack);
    assert.equal(later(null, null), null);
    assert.equal(unreadCount(10, 4), 6);
    assert.equal(unreadCount(3, 5), 0);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LocalIndex, type Member } from '../../src/local-index.js';

class Sock implements Member {
  readonly got: string[] = [];
  constructor(readonly userId: string) {}
  deliver(event: string): void {
    this.got.push(event);
  }
}

const ids = (members: Iterable<Member>) => [...members];

describe('local index (per-user subscriptions)', () => {
  it('delivers a channel to every local socket of its members, each socket once', () => {
    const index = new LocalIndex();
    const a1 = new Sock('a');
    const a2 = new Sock('a');
    const b = new Sock('b');
    index.add(a1, ['1', '10']);
    index.add(a2, ['1', '10']);
    index.add(b, ['1']);
    assert.deepEqual(new Set(ids(index.membersOfChannel('1'))), new Set([a1, a2, b]));
    assert.equal(ids(index.membersOfChannel('1')).length, 3);
    assert.deepEqual(new Set(ids(index.membersOfChannel('10'))), new Set([a1, a2]));
    assert.deepEqual(ids(index.membersOfChannel('404')), []);
    assert.deepEqual(ids(index.membersOfUser('a')), [a1, a2]);
    assert.equal(index.users, 2);
    assert.equal(index.channels, 2);
  });

  it('counts sockets per user for presence: remove() is true only for the last socket of the user', () => {
    const index = new LocalIndex();
    const a1 = new Sock('a');
    const a2 = new Sock('a');
    const b = new Sock('b');
    index.add(a1, ['1']);
    assert.equal(ids(index.membersOfUser('a')).length, 1, 'first socket: the user is new here');
    index.add(a2, ['1']);
    index.add(b, ['1']);
    assert.equal(ids(index.membersOfUser('a')).length, 2, 'second socket: not new');
    assert.deepEqual([...index.userIds()].sort(), ['a', 'b']);
    assert.equal(index.remove(a1), false, 'a still has a socket here');
    assert.equal(index.remove(a1), false, 'a socket removed twice counts once');
    assert.equal(index.remove(new Sock('a')), false, 'a socket that was never added');
    assert.equal(index.remove(a2), true, "a's last socket");
    assert.equal(index.remove(a2), false);
    assert.deepEqual([...index.userIds()], ['b']);
    index.add(a1, ['1']);
    assert.equal(ids(index.membersOfUser('a')).length, 1, 'back: first socket again');
    assert.equal(index.remove(b), true);
    assert.deepEqual([...index.userIds()], ['a']);
  });

  it('returns the interned user id, shared by all sockets of the user', () => {
    const index = new LocalIndex();
    const first = index.add(new Sock(['4', '2'].join('')), ['1']);
    const second = index.add(new Sock(['4', '2'].join('')), ['1']);
    assert.equal(first, '42');
    assert.equal(second, first);
  });

  it('membership changes apply to all sockets of the user; a late socket adds its channels to the user', () => {
    const index = new LocalIndex();
    const a1 = new Sock('a');
    const a2 = new Sock('a');
    index.add(a1, ['1']);
    index.subscribe(a1, '7');
    index.add(a2, ['1', '8']);
    assert.deepEqual(new Set(ids(index.membersOfChannel('7'))), new Set([a1, a2]));
    assert.deepEqual(new Set(ids(index.membersOfChannel('8'))), new Set([a1, a2]));
    index.unsubscribe(a2, '7');
    assert.deepEqual(ids(index.membersOfChannel('7')), []);
    assert.deepEqual(index.channelsOfUser('a').sort(), ['1', '8']);
    index.subscribe(a1, '1'); // twice: no duplicate delivery
    assert.equal(ids(index.membersOfChannel('1')).length, 2);
  });

  it('a user leaves its channels with its last local socket, and empty channels are dropped', () => {
    const index = new LocalIndex();
    const a1 = new Sock('a');
    const a2 = new Sock('a');
    const b = new Sock('b');
    index.add(a1, ['1', '2']);
    index.add(a2, ['1', '2']);
    index.add(b, ['1']);
    index.remove(a1);
    assert.deepEqual(new Set(ids(index.membersOfChannel('2'))), new Set([a2]));
    index.remove(a1); // twice: nothing
    index.remove(a2);
    assert.deepEqual(ids(index.membersOfChannel('2')), []);
    assert.deepEqual(ids(index.membersOfChannel('1')), [b]);
    assert.deepEqual(ids(index.membersOfUser('a')), []);
    assert.deepEqual(index.channelsOfUser('a'), []);
    index.remove(b);
    assert.equal(index.users, 0);
    assert.equal(index.channels, 0);
    index.remove(new Sock('never-added'));
  });
});

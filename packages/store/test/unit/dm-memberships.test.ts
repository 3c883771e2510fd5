// The DM memberships a process remembers: a DM only with its two members, other channels as "not a
// DM", bounded with the entry remembered longest ago forgotten first (reads do not reorder), off at 0.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DmMemberships, type LearnedChannel } from '@chat/store';

const dm = (a: string, b: string): LearnedChannel => ({ kind: 'dm', membership: { members: [a, b], slots: [1, 2] } });

describe('DmMemberships', () => {
  it('answers a DM with its members, knows a channel that is not a DM, and skips what was not found', () => {
    const m = new DmMemberships(10);
    m.remember('d1', dm('u1', 'u2'));
    m.remember('g1', { kind: 'other' });
    m.remember('gone', null);
    assert.deepEqual(m.get('d1')?.members, ['u1', 'u2']);
    assert.equal(m.knows('g1'), true);
    assert.equal(m.get('g1'), undefined, 'not a DM: no membership');
    assert.equal(m.knows('gone'), false);
    assert.equal(m.size, 2);
  });

  it('holds at most maxChannels, forgetting the one remembered longest ago, whatever was read since', () => {
    const m = new DmMemberships(3);
    m.remember('a', dm('u1', 'u2'));
    m.remember('b', { kind: 'other' });
    m.remember('c', dm('u3', 'u4'));
    assert.ok(m.get('a'), 'a read does not make a the newest');
    m.remember('d', dm('u5', 'u6'));
    assert.equal(m.size, 3);
    assert.equal(m.knows('a'), false, 'a went first');
    for (const id of ['b', 'c', 'd']) assert.equal(m.knows(id), true, id);
    for (let i = 0; i < 1000; i++) m.remember(`x${i}`, { kind: 'other' });
    assert.equal(m.size, 3);
    assert.deepEqual(
      ['x997', 'x998', 'x999', 'd'].map((id) => m.knows(id)),
      [true, true, true, false],
    );
  });

  it('maxChannels 0 remembers nothing', async () => {
    const m = new DmMemberships(0);
    assert.equal(m.enabled, false);
    m.remember('d1', dm('u1', 'u2'));
    await m.learnMany(['d2'], async () => new Map([['d2', dm('u1', 'u3')]]));
    assert.equal(m.size, 0);
    assert.equal(m.get('d1'), undefined);
  });
});

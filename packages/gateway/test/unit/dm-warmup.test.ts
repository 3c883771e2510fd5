// dmWarmup: the DMs among the channels that IDENTIFY/RESUME read are handed to the store's learnDms,
// the channels of every user of one turn in one call (a reconnect storm: one query per batch, not per
// user), groups never; the caller neither waits nor sees a failure.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dmWarmup } from '../../src/dm-warmup.js';

const settle = () => new Promise<void>((r) => setImmediate(r));

function recording(fail = false) {
  const calls: string[][] = [];
  const channels = {
    dmMemberships: { knows: (id: string) => id.startsWith('known') },
    learnDms: async (list: Iterable<{ id: string; kind: string }>) => {
      const l = [...list];
      assert.ok(l.every((c) => c.kind === 'dm'));
      calls.push(l.map((c) => c.id));
      if (fail) throw new Error('store down');
    },
  };
  return { calls, channels };
}

describe('dmWarmup', () => {
  it("learns the DMs of one turn's users in one call, without the groups, each DM once", async () => {
    const { calls, channels } = recording();
    const warm = dmWarmup(channels);
    warm([
      { id: 'd1', kind: 'dm' },
      { id: 'g1', kind: 'group' },
      { id: 'd2', kind: 'dm' },
    ]);
    warm([
      { id: 'd2', kind: 'dm' },
      { id: 'd3', kind: 'dm' },
    ]);
    assert.deepEqual(calls, [], 'nothing before the turn ends: the caller does not wait');
    await settle();
    assert.deepEqual(calls, [['d1', 'd2', 'd3']]);
    warm([{ id: 'g2', kind: 'group' }]);
    await settle();
    assert.equal(calls.length, 1, 'a user without DMs costs no call');
  });

  it('splits a turn into calls of at most maxBatch DMs', async () => {
    const { calls, channels } = recording();
    const warm = dmWarmup(channels, 2);
    warm(['a', 'b', 'c', 'd', 'e'].map((id) => ({ id, kind: 'dm' as const })));
    await settle();
    assert.deepEqual(calls, [['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('a failing store is not the caller’s problem (no unhandled rejection)', async () => {
    const { calls, channels } = recording(true);
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      dmWarmup(channels)([{ id: 'd1', kind: 'dm' }]);
      await settle();
      await settle();
      assert.deepEqual(calls, [['d1']]);
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

// Membership fallbacks are coalesced: concurrent reads that miss (or find Redis unavailable) share
// one MongoDB query, so a tripped guard under load cannot multiply MongoDB work by the request rate.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MembershipCache } from '@chat/store';
import { uniquePrefix } from '@chat/testkit';
import type { Redis } from 'ioredis';
import { fastFailRedis } from './fixture.js';

/** A load that stays pending until released, counting its calls. */
function gatedLoad<T>(value: T) {
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const state = { calls: 0, release: () => release() };
  const load = async () => {
    state.calls++;
    await gate;
    return value;
  };
  return { state, load };
}

describe('membership cache fallbacks', () => {
  let redis: Redis;
  let down: Redis;
  before(async () => {
    redis = fastFailRedis();
    await new Promise<void>((resolve) => (redis.status === 'ready' ? resolve() : redis.once('ready', () => resolve())));
    down = fastFailRedis('redis://127.0.0.1:1'); // nothing listens: never ready
  });
  after(async () => {
    redis.disconnect();
    down.disconnect();
  });

  it('with Redis unavailable, concurrent reads of one channel or one membership share one MongoDB query', async () => {
    const cache = new MembershipCache({ redis: down, prefix: `${uniquePrefix('mc')}:` });
    const sets = gatedLoad({ members: ['a', 'b'], slots: [1, 2] });
    const gets = Array.from({ length: 50 }, () => cache.get('c1', sets.load));
    const member = gatedLoad(true);
    const checks = Array.from({ length: 50 }, () => cache.has('c1', 'a', member.load));
    const otherLoad = gatedLoad(false);
    const other = cache.has('c1', 'b', otherLoad.load); // another user: its own query
    for (let i = 0; i < 100 && cache.fallbacksInFlight < 3; i++) await new Promise((r) => setImmediate(r));
    assert.equal(cache.fallbacksInFlight, 3);
    sets.state.release();
    member.state.release();
    otherLoad.state.release();
    const results = await Promise.all(gets);
    assert.ok(results.every((r) => r.members.join() === 'a,b' && !r.cached));
    assert.ok((await Promise.all(checks)).every(Boolean));
    assert.equal(await other, false);
    assert.equal(sets.state.calls, 1);
    assert.equal(member.state.calls, 1);
    assert.equal(cache.fallbacksInFlight, 0);
  });

  it('a local change drops the flights of its channel: later reads do not join a query from before it', async () => {
    const cache = new MembershipCache({ redis: down, prefix: `${uniquePrefix('mc')}:` });
    const before = gatedLoad(true);
    const early = cache.has('c2', 'a', before.load);
    while (before.state.calls === 0) await new Promise((r) => setImmediate(r));
    await cache.invalidate('c2');
    const late = await cache.has('c2', 'a', async () => false);
    assert.equal(late, false, 'a fresh query after the change');
    before.state.release();
    assert.equal(await early, true);
  });

  it('on a miss with Redis up, concurrent readers share one load and one fill', async () => {
    const prefix = `${uniquePrefix('mc')}:`;
    const cache = new MembershipCache({ redis, prefix });
    const sets = gatedLoad({ members: ['x'], slots: [7] });
    const gets = Array.from({ length: 20 }, () => cache.get('c3', sets.load));
    while (sets.state.calls === 0) await new Promise((r) => setImmediate(r));
    sets.state.release();
    await Promise.all(gets);
    assert.equal(sets.state.calls, 1);
    const again = await cache.get('c3', async () => {
      throw new Error('should be cached');
    });
    assert.deepEqual(again, { members: ['x'], slots: [7], cached: true });
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
  });
});

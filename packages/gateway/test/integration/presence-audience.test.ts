// Who hears a user's presence, read from the real store (MongoDB stand-in or MONGO_URL, Redis cache):
// DM partners and members of small groups, never big groups, never more than the audience bound.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createStore, type Store } from '@chat/store';
import { type MongoHandle, startMongo, uniquePrefix } from '@chat/testkit';
import { Redis } from 'ioredis';
import { type Db, MongoClient } from 'mongodb';
import { presenceAudience } from '../../src/presence-audience.js';

describe('presence audience', () => {
  let mongo: MongoHandle;
  let client: MongoClient;
  let db: Db;
  let redis: Redis;
  let store: Store;
  const redisPrefix = `${uniquePrefix('audience')}:`;
  let n = 100;
  const id = () => String(++n);

  before(async () => {
    mongo = await startMongo();
    client = await new MongoClient(mongo.url, { serverSelectionTimeoutMS: 5000 }).connect();
    db = client.db(uniquePrefix('audience').replace(/-+$/, '').replace(/-/g, '_'));
    redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
    store = createStore({ db, redis, redisPrefix });
    await store.init();
  });
  after(async () => {
    await db.dropDatabase().catch(() => {});
    await client.close();
    const keys = await redis.keys(`${redisPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await mongo.close();
  });

  it('DM partners and members of groups up to the member limit; bigger groups add nobody; the audience is bounded', async () => {
    const u = 'u1';
    const dm1 = await store.channels.create({ id: id(), kind: 'dm', creatorId: u, recipients: ['p1'] });
    const dm2 = await store.channels.create({ id: id(), kind: 'dm', creatorId: 'p2', recipients: [u] });
    const small = await store.channels.create({ id: id(), kind: 'group', creatorId: u, recipients: ['g1', 'g2'] });
    const big = await store.channels.create({
      id: id(),
      kind: 'group',
      creatorId: 'b0',
      recipients: [u, 'b1', 'b2', 'b3'],
    });
    // Someone else's DM: not u's channel, not in its list.
    await store.channels.create({ id: id(), kind: 'dm', creatorId: 'p1', recipients: ['x'] });
    const memberOf = await store.channels.listForUser(u);
    assert.deepEqual(memberOf.map((c) => c.id).sort(), [dm1, dm2, small, big].map((c) => c.channel.id).sort());

    const audience = (maxGroupMembers: number, maxAudience: number) =>
      presenceAudience(store.channels, u, memberOf, { maxGroupMembers, maxAudience });

    assert.deepEqual((await audience(3, 1000)).sort(), ['g1', 'g2', 'p1', 'p2'], 'the 5-member group is big');
    assert.deepEqual((await audience(5, 1000)).sort(), ['b0', 'b1', 'b2', 'b3', 'g1', 'g2', 'p1', 'p2']);
    assert.deepEqual((await audience(0, 1000)).sort(), ['p1', 'p2'], 'limit 0: DMs only');
    const bounded = await audience(5, 3);
    assert.equal(bounded.length, 3, 'cut at the audience bound');
    assert.deepEqual(bounded.slice(0, 2).sort(), ['p1', 'p2'], 'DM partners first');
    assert.ok(!bounded.includes(u), 'never the user itself');
    assert.deepEqual(await presenceAudience(store.channels, 'nobody', [], { maxGroupMembers: 5, maxAudience: 9 }), []);
  });
});

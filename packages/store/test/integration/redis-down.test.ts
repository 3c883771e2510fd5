import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type RedisServer, startRedisServer } from '@chat/testkit';
import { fastFailRedis, openStore, type StoreFixture } from './fixture.js';

describe('membership when Redis is down', () => {
  let redis: RedisServer;
  let fx: StoreFixture;
  before(async () => {
    redis = await startRedisServer();
    fx = await openStore({ redis: fastFailRedis(redis.url) });
  });
  after(async () => {
    await fx.close();
    await redis.stop();
  });

  it('reads fall back to MongoDB and changes still apply while Redis is killed, and the cache works again when it is back', async () => {
    const { channel } = await fx.store.channels.create({
      id: 'rd1',
      kind: 'group',
      name: 'g',
      creatorId: 'a',
      recipients: ['b'],
    });
    assert.deepEqual((await fx.store.channels.members(channel.id)).sort(), ['a', 'b']);
    await redis.kill();
    await sleep(50);
    // Every read and change works, answered by MongoDB, and quickly (no offline queue).
    const started = Date.now();
    assert.deepEqual((await fx.store.channels.members(channel.id)).sort(), ['a', 'b']);
    await fx.store.channels.addMember(channel.id, 'c');
    await fx.store.channels.removeMember(channel.id, 'a');
    assert.deepEqual((await fx.store.channels.members(channel.id)).sort(), ['b', 'c']);
    assert.equal(await fx.store.channels.isMember(channel.id, 'a'), false);
    assert.equal(await fx.store.channels.isMember(channel.id, 'c'), true);
    assert.ok(Date.now() - started < 5000, 'no request waited for Redis');

    await redis.start();
    await new Promise<void>((resolve) =>
      fx.redis!.status === 'ready' ? resolve() : fx.redis!.once('ready', () => resolve()),
    );
    assert.deepEqual((await fx.store.channels.members(channel.id)).sort(), ['b', 'c']);
    const key = `${fx.redisPrefix}ch:{${channel.id}}:members`;
    assert.deepEqual((await fx.redis!.smembers(key)).filter(Boolean).sort(), ['b', 'c'], 'filled again');
  });
});

// Presence counted across gateways in the real Redis (PresenceRegistry): a user is online while any live
// gateway lists it; one that stops beating drops out at once and is claimed by exactly one survivor.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { uniquePrefix } from '@chat/testkit';
import { Redis } from 'ioredis';
import { PresenceRegistry } from '../../src/presence-registry.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('PresenceRegistry', () => {
  let redis: Redis;
  const prefix = `${uniquePrefix('presence')}:`;
  const registry = (serverId: string, timeoutMs = 60_000) =>
    new PresenceRegistry({ redis, prefix, serverId, timeoutMs });
  before(async () => {
    redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
    if (redis.status !== 'ready') await new Promise((r) => redis.once('ready', r));
  });
  after(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('counts a user across gateways: online at its first gateway, offline only when it left the last one', async () => {
    const g1 = registry('g1');
    const g2 = registry('g2');
    await g1.beat(0);
    await g2.beat(0);
    assert.deepEqual(await g1.online(['u']), [false]);
    assert.equal(await g1.join('u'), true, 'first gateway: came online');
    assert.equal(await g2.join('u'), false, 'already online on g1');
    assert.deepEqual(await g2.online(['u', 'v']), [true, false]);
    assert.equal(await g1.leave('u'), false, 'still on g2');
    assert.deepEqual(await g1.online(['u']), [true]);
    assert.equal(await g2.leave('u'), true, 'left its last gateway: offline');
    assert.deepEqual(await g1.online(['u']), [false]);
    assert.equal(await g2.leave('u'), false, 'a second leave changes nothing');
    assert.equal(await g2.join('u'), true, 'back online');
  });

  it('every key expires: the gateway set and each gateway user set carry a TTL', async () => {
    const g = registry('ttl', 1000);
    await g.beat(0);
    await g.join('x');
    const ttlSet = await redis.pttl(g.setKey('ttl'));
    const ttlGateways = await redis.pttl(g.gatewaysKey);
    assert.ok(ttlSet > 0 && ttlSet <= 3000, `user set TTL ${ttlSet}`);
    assert.ok(ttlGateways > 0 && ttlGateways <= 3000, `gateway set TTL ${ttlGateways}`);
  });

  it('a gateway that stops beating: its users are offline at once, one survivor claims them, the dead one learns it was lost', async () => {
    const timeoutMs = 400;
    const p = `${prefix}dead:`;
    const make = (id: string) => new PresenceRegistry({ redis, prefix: p, serverId: id, timeoutMs });
    const live1 = make('live1');
    const live2 = make('live2');
    const dead = make('dead');
    await Promise.all([live1.beat(0), live2.beat(0), dead.beat(0)]);
    assert.equal(await dead.join('a'), true);
    assert.equal(await dead.join('b'), true);
    assert.equal(await live1.join('b'), false, 'b is also on live1');
    assert.deepEqual(await live1.online(['a', 'b']), [true, true]);
    // dead stops beating; the others go on.
    for (let i = 0; i < 4; i++) {
      await sleep(timeoutMs / 2);
      await Promise.all([live1.beat(1), live2.beat(0)]);
    }
    assert.deepEqual(await live1.online(['a', 'b']), [false, true], 'a was only on the dead gateway');
    const beat = await live2.beat(0);
    assert.deepEqual(beat.stale, ['dead']);
    assert.equal(beat.lost, false);
    const claims = await Promise.all([live1.claim('dead'), live2.claim('dead')]);
    const won = claims.filter((c) => c !== null);
    assert.equal(won.length, 1, 'exactly one survivor claims the dead gateway');
    assert.deepEqual([...won[0]!].sort(), ['a', 'b']);
    assert.equal(await redis.exists(dead.setKey('dead')), 0, 'its set is gone');
    assert.deepEqual((await live1.beat(1)).stale, [], 'claimed: no longer stale');
    // The "dead" gateway was only slow: its next beat says its entries were lost, so it registers again.
    assert.equal((await dead.beat(2)).lost, true);
    assert.equal(await dead.join('a'), true, 'a is online again');
    assert.equal((await dead.beat(1)).lost, false);
  });

  it('a live gateway is never claimed; a drained one leaves no trace', async () => {
    const p = `${prefix}stop:`;
    const g = new PresenceRegistry({ redis, prefix: p, serverId: 'g', timeoutMs: 60_000 });
    const other = new PresenceRegistry({ redis, prefix: p, serverId: 'o', timeoutMs: 60_000 });
    await g.beat(0);
    await g.join('u');
    assert.equal(await other.claim('g'), null, 'g is alive');
    assert.deepEqual(await other.online(['u']), [true]);
    await g.stop();
    assert.deepEqual(await other.online(['u']), [false]);
    assert.equal(await redis.exists(g.setKey('g')), 0);
    assert.equal(await redis.zscore(g.gatewaysKey, 'g'), null);
  });

  it('a process restarted with the same server id takes over (and drops) what its predecessor listed', async () => {
    const p = `${prefix}restart:`;
    const earlier = new PresenceRegistry({ redis, prefix: p, serverId: 'same', timeoutMs: 60_000 });
    await earlier.beat(0);
    await earlier.join('left-behind');
    const restarted = new PresenceRegistry({ redis, prefix: p, serverId: 'same', timeoutMs: 60_000 });
    assert.deepEqual(await restarted.takeOver(), ['left-behind']);
    assert.deepEqual(await restarted.online(['left-behind']), [false]);
    assert.deepEqual(await restarted.takeOver(), [], 'nothing left the second time');
  });

  it('answers many users in bounded chunks', async () => {
    const g = registry('many');
    await g.beat(0);
    const users = Array.from({ length: 1200 }, (_, i) => `m${i}`);
    for (const u of users.filter((_, i) => i % 3 === 0)) await g.join(u);
    const online = await g.online(users);
    assert.equal(online.length, 1200);
    assert.ok(online.every((on, i) => on === (i % 3 === 0)));
  });
});

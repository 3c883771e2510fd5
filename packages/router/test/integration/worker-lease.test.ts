// The Redis worker-id lease (leaseWorkerId) against the real Redis at REDIS_URL, each test under its
// own key prefix.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InvalidArgumentError, leaseWorkerId, WORKER_IDS } from '@chat/router';
import { uniquePrefix } from '@chat/testkit';
import { Redis } from 'ioredis';

describe('leaseWorkerId (Redis)', () => {
  let redis: Redis;
  const prefixes: string[] = [];
  const fresh = () => {
    const p = `${uniquePrefix('lease')}:`;
    prefixes.push(p);
    return p;
  };
  const never = () => assert.fail('lease lost');
  before(() => {
    redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
  });
  after(async () => {
    for (const p of prefixes) {
      const keys = await redis.keys(`${p}worker:*`);
      if (keys.length > 0) await redis.del(...keys);
    }
    redis.disconnect();
  });

  it('gives concurrent owners distinct ids, holds them in Redis with a TTL, and frees them on release', async () => {
    const prefix = fresh();
    const leases = await Promise.all(
      Array.from({ length: 20 }, (_, i) => leaseWorkerId({ redis, owner: `owner-${i}`, prefix, onLost: never })),
    );
    const ids = leases.map((l) => l.workerId);
    assert.equal(new Set(ids).size, 20, `ids ${ids.join(',')}`);
    for (const [i, l] of leases.entries()) {
      assert.ok(l.workerId >= 0 && l.workerId < WORKER_IDS);
      assert.equal(l.key, `${prefix}worker:${l.workerId}`);
      assert.equal(await redis.get(l.key), `owner-${i}`);
      const ttl = await redis.pttl(l.key);
      assert.ok(ttl > 0 && ttl <= 30_000, `ttl ${ttl}`);
    }
    await Promise.all(leases.map((l) => l.release()));
    await leases[0]!.release(); // idempotent
    assert.deepEqual(await redis.keys(`${prefix}worker:*`), []);
  });

  it('takes the one id left when every other is held, and fails clearly when none is', async () => {
    const prefix = fresh();
    const pipeline = redis.pipeline();
    for (let id = 0; id < WORKER_IDS; id++)
      if (id !== 617) pipeline.set(`${prefix}worker:${id}`, 'someone', 'PX', 60_000);
    await pipeline.exec();
    const lease = await leaseWorkerId({ redis, owner: 'me', prefix, onLost: never });
    assert.equal(lease.workerId, 617);
    await assert.rejects(leaseWorkerId({ redis, owner: 'late', prefix, onLost: never }), /no free worker id: 1024/);
    await lease.release();
    assert.equal(await redis.get(`${prefix}worker:617`), null);
    assert.equal(await redis.get(`${prefix}worker:616`), 'someone', 'release deletes only its own key');
  });

  it('renews the key while held, and reports the loss when another owner took it', async () => {
    const prefix = fresh();
    let lost: (reason: string) => void = () => {};
    const reported = new Promise<string>((resolve) => {
      lost = resolve;
    });
    const lease = await leaseWorkerId({ redis, owner: 'first', prefix, ttlMs: 1500, onLost: (r) => lost(r) });
    // Past twice the TTL the key is still there and ours: only renewals (every 500 ms) keep it.
    await new Promise((r) => setTimeout(r, 3500));
    assert.equal(await redis.get(lease.key), 'first');
    await redis.set(lease.key, 'second', 'PX', 60_000);
    assert.match(await reported, new RegExp(`worker id ${lease.workerId} lease lost`));
    await lease.release();
    assert.equal(await redis.get(lease.key), 'second', 'release leaves the new owner alone');
  });

  it('takes its key back when it is gone (Redis restarted empty, evicted) instead of reporting a loss', async () => {
    const prefix = fresh();
    let reclaimed: (reason: string) => void = () => {};
    const reported = new Promise<string>((resolve) => {
      reclaimed = resolve;
    });
    const lease = await leaseWorkerId({
      redis,
      owner: 'evicted',
      prefix,
      ttlMs: 600,
      onLost: never,
      onReclaimed: (r) => reclaimed(r),
    });
    await redis.del(lease.key);
    assert.match(await reported, new RegExp(`worker id ${lease.workerId}: its key was gone`));
    assert.equal(await redis.get(lease.key), 'evicted', "the key is this owner's again");
    const ttl = await redis.pttl(lease.key);
    assert.ok(ttl > 0 && ttl <= 600, `ttl ${ttl}`);
    await lease.release();
    assert.equal(await redis.get(lease.key), null);
  });

  it('leases only from its range (one range per site), and fails clearly when the range is full', async () => {
    const prefix = fresh();
    const ids = { first: 512, last: 515 };
    const leases = await Promise.all(
      Array.from({ length: 4 }, (_, i) => leaseWorkerId({ redis, owner: `b-${i}`, prefix, ids, onLost: never })),
    );
    assert.deepEqual(leases.map((l) => l.workerId).sort(), [512, 513, 514, 515]);
    await assert.rejects(
      leaseWorkerId({ redis, owner: 'b-late', prefix, ids, onLost: never }),
      /no free worker id: 4 producers hold leases on ids 512\.\.515/,
    );
    // Another site's range under the same prefix is unaffected.
    const other = await leaseWorkerId({ redis, owner: 'a-0', prefix, ids: { first: 0, last: 511 }, onLost: never });
    assert.ok(other.workerId >= 0 && other.workerId <= 511);
    await Promise.all([...leases, other].map((l) => l.release()));
  });

  it('refuses bad options', async () => {
    await assert.rejects(leaseWorkerId({ redis, owner: '', onLost: never }), InvalidArgumentError);
    await assert.rejects(leaseWorkerId({ redis, owner: 'x', ttlMs: 1.5, onLost: never }), InvalidArgumentError);
    for (const ids of [
      { first: -1, last: 3 },
      { first: 5, last: 4 },
      { first: 0, last: WORKER_IDS },
      { first: 0.5, last: 3 },
    ])
      await assert.rejects(leaseWorkerId({ redis, owner: 'x', ids, onLost: never }), InvalidArgumentError);
  });
});

// The per-user rate limit shared by every gateway (SharedRateLimiter): counted in Redis across
// processes, in fixed windows whose counters expire, and locally while Redis is unreachable.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { uniquePrefix } from '@chat/testkit';
import { Redis } from 'ioredis';
import { SharedRateLimiter } from '../../src/guards.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

function client(target = url): Redis {
  const redis = new Redis(target, { enableAutoPipelining: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  redis.on('error', () => {});
  return redis;
}

async function ready(redis: Redis): Promise<void> {
  if (redis.status !== 'ready') await new Promise((r) => redis.once('ready', r));
}

describe('SharedRateLimiter', () => {
  let a: Redis;
  let b: Redis;
  const prefix = `${uniquePrefix('rate')}:`;
  before(async () => {
    a = client();
    b = client();
    await Promise.all([ready(a), ready(b)]);
  });
  after(async () => {
    const keys = await a.keys(`${prefix}*`);
    if (keys.length > 0) await a.del(...keys);
    a.disconnect();
    b.disconnect();
  });

  it('counts one scope across gateways: the hit past the limit is refused with the time left in the window', async () => {
    const windowMs = 60_000;
    const gw1 = new SharedRateLimiter(a, prefix, 5, windowMs);
    const gw2 = new SharedRateLimiter(b, prefix, 5, windowMs);
    // Inside one window (fixed `now`): 3 hits on one gateway and 2 on the other use the budget.
    const now = Math.floor(Date.now() / windowMs) * windowMs + 1000;
    const first = await Promise.all([gw1.hit('u1', now), gw1.hit('u1', now), gw1.hit('u1', now)]);
    const second = await Promise.all([gw2.hit('u1', now), gw2.hit('u1', now)]);
    assert.ok([...first, ...second].every((d) => d.ok));
    const refused = await gw1.hit('u1', now);
    assert.equal(refused.ok, false);
    assert.equal(refused.retryAfterMs, windowMs - 1000);
    // Another scope has its own budget.
    assert.equal((await gw2.hit('u2', now)).ok, true);
    // The window's counter expires by itself (two windows), so keys do not accumulate.
    const key = `${prefix}rate:u1:${Math.floor(now / windowMs)}`;
    assert.equal(await a.get(key), '6');
    const ttl = await a.pttl(key);
    assert.ok(ttl > windowMs && ttl <= 2 * windowMs, `ttl ${ttl}`);
    // The next window starts from zero.
    assert.equal((await gw1.hit('u1', now + windowMs)).ok, true);
  });

  it('with Redis unreachable it counts locally and still refuses past the limit', async () => {
    const down = client('redis://127.0.0.1:1');
    try {
      const limiter = new SharedRateLimiter(down, prefix, 2, 60_000);
      const now = Date.now();
      const decisions = [await limiter.hit('u3', now), await limiter.hit('u3', now), await limiter.hit('u3', now)];
      assert.deepEqual(
        decisions.map((d) => d.ok),
        [true, true, false],
      );
    } finally {
      down.disconnect();
    }
  });
});

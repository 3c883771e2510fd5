// Request budgets shared by every gateway through Redis, in fixed windows whose counters expire, and
// counted locally while Redis is unreachable: SharedRateLimiter (one round trip per hit, the abuse
// budgets) and SyncedRateLimiter (the per-user budget: decided locally, synced every SYNC_MS).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { uniquePrefix } from '@chat/testkit';
import { Redis } from 'ioredis';
import { SharedRateLimiter } from '../../src/guards.js';
import { SyncedRateLimiter } from '../../src/synced-rate-limiter.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

function client(target = url): Redis {
  const redis = new Redis(target, { enableAutoPipelining: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  redis.on('error', () => {});
  return redis;
}

async function ready(redis: Redis): Promise<void> {
  if (redis.status !== 'ready') await new Promise((r) => redis.once('ready', r));
}

// Two gateways' Redis connections, shared by both suites; every key the file wrote is deleted after it.
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

describe('SharedRateLimiter', () => {
  const shared = `${prefix}shared:`;

  it('counts one scope across gateways: the hit past the limit is refused with the time left in the window', async () => {
    const windowMs = 60_000;
    const gw1 = new SharedRateLimiter(a, shared, 5, windowMs);
    const gw2 = new SharedRateLimiter(b, shared, 5, windowMs);
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
    const key = `${shared}rate:u1:${Math.floor(now / windowMs)}`;
    assert.equal(await a.get(key), '6');
    const ttl = await a.pttl(key);
    assert.ok(ttl > windowMs && ttl <= 2 * windowMs, `ttl ${ttl}`);
    // The next window starts from zero.
    assert.equal((await gw1.hit('u1', now + windowMs)).ok, true);
  });

  it('with Redis unreachable it counts locally and still refuses past the limit', async () => {
    const down = client('redis://127.0.0.1:1');
    try {
      const limiter = new SharedRateLimiter(down, shared, 2, 60_000);
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

describe('SyncedRateLimiter', () => {
  const synced = `${prefix}synced:`;

  it('decides at once from its own hits: the hit past the limit is refused before any sync', () => {
    const limiter = new SyncedRateLimiter(a, `${synced}local:`, 3, 60_000, { syncMs: 60_000 });
    const now = Date.now();
    const decisions = [0, 1, 2, 3].map(() => limiter.take('u1', now));
    assert.deepEqual(
      decisions.map((d) => d.ok),
      [true, true, true, false],
    );
    assert.ok(decisions[3]!.retryAfterMs > 0 && decisions[3]!.retryAfterMs <= 60_000);
  });

  it("shares one budget across gateways once they synced, with SharedRateLimiter's keys and expiry", async () => {
    const windowMs = 60_000;
    // Long sync periods: the test syncs by hand, so nothing depends on timing.
    const gw1 = new SyncedRateLimiter(a, synced, 5, windowMs, { syncMs: 60_000 });
    const gw2 = new SyncedRateLimiter(b, synced, 5, windowMs, { syncMs: 60_000 });
    const now = Math.floor(Date.now() / windowMs) * windowMs + 1000;
    const first = [gw1.take('u1', now), gw1.take('u1', now), gw1.take('u1', now)];
    const second = [gw2.take('u1', now), gw2.take('u1', now)];
    assert.ok([...first, ...second].every((d) => d.ok));
    await gw1.sync(now);
    await gw2.sync(now); // learns gw1's 3: the shared count is 5
    await gw1.sync(now); // nothing new to send: gw1 still knows 3 until its next hit is synced
    // gw2 knows the budget is spent; gw1 refuses once it has learnt gw2's hits.
    assert.equal(gw2.take('u1', now).ok, false);
    await gw2.sync(now);
    const gw1Hit = gw1.take('u1', now);
    await gw1.sync(now);
    assert.equal(
      gw1.take('u1', now).ok,
      false,
      `gw1 after learning the shared count (its own previous hit: ${gw1Hit.ok})`,
    );
    const key = `${synced}rate:u1:${Math.floor(now / windowMs)}`;
    assert.equal(await a.get(key), '7');
    const ttl = await a.pttl(key);
    assert.ok(ttl > windowMs && ttl <= 2 * windowMs, `ttl ${ttl}`);
    // A SharedRateLimiter on the same keys sees the same count.
    assert.equal((await new SharedRateLimiter(a, synced, 8, windowMs).hit('u1', now)).ok, true);
    assert.equal(await a.get(key), '8');
    // Another scope has its own budget, and the next window starts from zero.
    assert.equal(gw2.take('u2', now).ok, true);
    assert.equal(gw1.take('u1', now + windowMs).ok, true);
  });

  it('syncs by itself every syncMs', async () => {
    const limiter = new SyncedRateLimiter(a, synced, 100, 60_000, { syncMs: 20 });
    const now = Date.now();
    for (let i = 0; i < 4; i++) limiter.take('u4', now);
    const key = `${synced}rate:u4:${Math.floor(now / 60_000)}`;
    const deadline = Date.now() + 5_000;
    while ((await a.get(key)) !== '4' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(await a.get(key), '4');
  });

  it('with Redis unreachable it keeps counting locally and still refuses past the limit', async () => {
    const down = client('redis://127.0.0.1:1');
    try {
      const limiter = new SyncedRateLimiter(down, synced, 2, 60_000, { syncMs: 60_000 });
      const now = Date.now();
      assert.equal(limiter.take('u3', now).ok, true);
      await limiter.sync(now); // fails: the hit stays counted here
      assert.equal(limiter.take('u3', now).ok, true);
      assert.equal(limiter.take('u3', now).ok, false);
    } finally {
      down.disconnect();
    }
  });

  it('a sync in a later window drops the counts of earlier windows without sending them', async () => {
    const limiter = new SyncedRateLimiter(a, synced, 5, 1_000, { syncMs: 60_000 });
    const t0 = Math.floor(Date.now() / 1_000) * 1_000;
    limiter.take('u5', t0);
    limiter.take('u6', t0 + 1_000);
    assert.equal(limiter.scopes, 2);
    await limiter.sync(t0 + 1_000);
    assert.equal(limiter.scopes, 1);
    assert.equal(await a.get(`${synced}rate:u5:${t0 / 1_000}`), null, 'a past window is not sent');
    assert.equal(await a.get(`${synced}rate:u6:${t0 / 1_000 + 1}`), '1');
  });

  it('holds at most maxScopes users: past windows are dropped first, then everything', () => {
    const limiter = new SyncedRateLimiter(a, synced, 1, 1_000, { syncMs: 60_000, maxScopes: 3 });
    const t0 = 10_000;
    limiter.take('old-1', t0);
    limiter.take('old-2', t0);
    limiter.take('now-1', t0 + 1_000);
    assert.equal(limiter.scopes, 3);
    limiter.take('now-2', t0 + 1_000); // the full map drops the two counts of the past window
    assert.equal(limiter.scopes, 2);
    assert.equal(limiter.take('now-1', t0 + 1_000).ok, false, 'the current window is still counted');
    limiter.take('now-3', t0 + 1_000);
    limiter.take('now-4', t0 + 1_000); // full with current counts only: cleared
    assert.equal(limiter.scopes, 1);
  });
});

// NonceGuard against a real Redis: a repeated nonce returns the first result without running again;
// the epoch key that tells a lost Redis from a fresh one has a TTL and is renewed by every claim; records
// lost under a guard that had seen the epoch make it refuse `unavailable` for the recovery time; and an
// epoch that expired by itself (nothing written for longer than a record lives) is not taken for a loss.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { uniquePrefix } from '@chat/testkit';
import { Redis } from 'ioredis';
import type { ApiError } from '../../src/errors.js';
import { NonceGuard, type NonceRef } from '../../src/guards.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const asRef: NonceRef<string> = { toRef: (v) => v, fromRef: async (r) => r };

describe('NonceGuard', () => {
  let redis: Redis;
  const prefixes: string[] = [];
  const newPrefix = () => {
    const p = `${uniquePrefix('nonce')}:`;
    prefixes.push(p);
    return p;
  };
  /** What an empty restart leaves of one guard's keys: nothing. */
  const wipe = async (prefix: string) => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  };
  before(async () => {
    redis = new Redis(url, { maxRetriesPerRequest: 1 });
    redis.on('error', () => {});
    if (redis.status !== 'ready') await new Promise((r) => redis.once('ready', r));
  });
  after(async () => {
    for (const p of prefixes) await wipe(p);
    redis.disconnect();
  });

  it('runs a nonce once; the epoch key lives a record plus the recovery time, renewed by claims', async () => {
    const prefix = newPrefix();
    const guard = new NonceGuard(redis, prefix, { ttlMs: 60_000, recoveryMs: 5_000 });
    await guard.observe();
    let runs = 0;
    const run = async () => `m${++runs}`;
    assert.equal(await guard.once('u', 'c', 'n1', run, asRef), 'm1');
    assert.equal(await guard.once('u', 'c', 'n1', run, asRef), 'm1', 'the retry gets the first result');
    assert.equal(runs, 1);
    const ttl = await redis.pttl(`${prefix}nonce:epoch`);
    assert.ok(ttl > 60_000 && ttl <= 65_000, `epoch TTL ${ttl} ms`);
    assert.ok((await redis.pttl(`${prefix}nonce:u:c:n1`)) > 0, 'the record has a TTL');
  });

  it('after the records were lost under it, a guard refuses new nonces unavailable for the recovery time', async () => {
    const prefix = newPrefix();
    const guard = new NonceGuard(redis, prefix, { ttlMs: 60_000, recoveryMs: 60_000 });
    assert.equal(await guard.once('u', 'c', 'a', async () => 'first', asRef), 'first');
    await wipe(prefix);
    await assert.rejects(
      guard.once('u', 'c', 'b', async () => 'never', asRef),
      (err: ApiError) => err.code === 'unavailable' && (err.retryAfterMs ?? 0) > 0,
    );
    // A guard that never saw the epoch finds the loss recorded in Redis and refuses too.
    const other = new NonceGuard(redis, prefix, { ttlMs: 60_000, recoveryMs: 60_000 });
    await assert.rejects(
      other.once('u', 'c', 'b', async () => 'never', asRef),
      (err: ApiError) => err.code === 'unavailable',
    );
  });

  it('an empty Redis seen for the first time is a fresh deployment, not a loss', async () => {
    const prefix = newPrefix();
    const guard = new NonceGuard(redis, prefix, { ttlMs: 60_000, recoveryMs: 60_000 });
    assert.equal(await guard.once('u', 'c', 'x', async () => 'stored', asRef), 'stored');
  });

  it('an epoch that expired by itself (no claim for longer than a record lives) is not taken for a loss', async () => {
    const prefix = newPrefix();
    const guard = new NonceGuard(redis, prefix, { ttlMs: 150, recoveryMs: 100 });
    assert.equal(await guard.once('u', 'c', 'p', async () => 'one', asRef), 'one');
    // Waiting for the TTLs themselves: the record's (150 ms) and the epoch's (250 ms).
    await sleep(400);
    assert.equal(await redis.exists(`${prefix}nonce:epoch`), 0, 'the epoch expired');
    assert.equal(await guard.once('u', 'c', 'q', async () => 'two', asRef), 'two');
  });
});

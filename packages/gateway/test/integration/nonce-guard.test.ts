// NonceGuard against a real Redis: a repeated nonce returns the first result without running again; a
// failed or hanging attempt is repeated under the identity minted for the first (never a new one);
// the epoch key that tells a lost Redis from a fresh one has a TTL and is renewed by every claim; records
// lost under a guard that had seen the epoch make it refuse `unavailable` for the recovery time; and an
// epoch that expired by itself (nothing written for longer than a record lives) is not taken for a loss.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { uniquePrefix } from '@chat/testkit';
import { Redis } from 'ioredis';
import type { ApiError } from '../../src/errors.js';
import { NonceGuard, type NonceWrite } from '../../src/nonce-guard.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** A write whose identities are `m1`, `m2`, …, whose result is its identity, and which records its runs. */
function counted(run: (ref: string) => Promise<string> = async (ref) => ref): NonceWrite<string> & { runs: string[] } {
  let minted = 0;
  const runs: string[] = [];
  return {
    runs,
    mint: async () => `m${++minted}`,
    run: async (ref) => {
      runs.push(ref);
      return run(ref);
    },
    fromRef: async (ref) => `read ${ref}`,
  };
}
/** A write that must not run. */
const never = (): NonceWrite<string> => ({
  mint: async () => 'never',
  run: async () => assert.fail('ran'),
  fromRef: async () => assert.fail('read'),
});

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
    const write = counted();
    assert.equal(await guard.once('u', 'c', 'n1', write), 'm1');
    assert.equal(await guard.once('u', 'c', 'n1', write), 'read m1', 'the retry reads the first result back');
    assert.deepEqual(write.runs, ['m1']);
    const ttl = await redis.pttl(`${prefix}nonce:epoch`);
    assert.ok(ttl > 60_000 && ttl <= 65_000, `epoch TTL ${ttl} ms`);
    assert.ok((await redis.pttl(`${prefix}nonce:u:c:n1`)) > 0, 'the record has a TTL');
  });

  it('after the records were lost under it, a guard refuses new nonces unavailable for the recovery time', async () => {
    const prefix = newPrefix();
    const guard = new NonceGuard(redis, prefix, { ttlMs: 60_000, recoveryMs: 60_000 });
    assert.equal(await guard.once('u', 'c', 'a', counted()), 'm1');
    await wipe(prefix);
    await assert.rejects(
      guard.once('u', 'c', 'b', never()),
      (err: ApiError) => err.code === 'unavailable' && (err.retryAfterMs ?? 0) > 0,
    );
    // A guard that never saw the epoch finds the loss recorded in Redis and refuses too.
    const other = new NonceGuard(redis, prefix, { ttlMs: 60_000, recoveryMs: 60_000 });
    await assert.rejects(other.once('u', 'c', 'b', never()), (err: ApiError) => err.code === 'unavailable');
  });

  it('an empty Redis seen for the first time is a fresh deployment, not a loss', async () => {
    const prefix = newPrefix();
    const guard = new NonceGuard(redis, prefix, { ttlMs: 60_000, recoveryMs: 60_000 });
    assert.equal(await guard.once('u', 'c', 'x', counted()), 'm1');
  });

  it('an epoch that expired by itself (no claim for longer than a record lives) is not taken for a loss', async () => {
    const prefix = newPrefix();
    const guard = new NonceGuard(redis, prefix, { ttlMs: 150, recoveryMs: 100 });
    assert.equal(await guard.once('u', 'c', 'p', counted()), 'm1');
    // Waiting for the TTLs themselves: the record's (150 ms) and the epoch's (250 ms).
    await sleep(400);
    assert.equal(await redis.exists(`${prefix}nonce:epoch`), 0, 'the epoch expired');
    assert.equal(await guard.once('u', 'c', 'q', counted()), 'm1');
  });

  it('a failed attempt is repeated under its identity, never a new one (its outcome is unknown)', async () => {
    const prefix = newPrefix();
    const guard = new NonceGuard(redis, prefix, { ttlMs: 60_000 });
    let fail = 2;
    const write = counted(async (ref) => {
      if (fail-- > 0) throw new Error('confirm lost');
      return ref;
    });
    await assert.rejects(guard.once('u', 'c', 'f', write), /confirm lost/);
    await assert.rejects(guard.once('u', 'c', 'f', write), /confirm lost/);
    assert.equal(await guard.once('u', 'c', 'f', write), 'm1', 'the third attempt succeeds as the first write');
    assert.equal(await guard.once('u', 'c', 'f', write), 'read m1');
    assert.deepEqual(write.runs, ['m1', 'm1', 'm1'], 'every attempt wrote under the first identity');
    assert.ok((await redis.pttl(`${prefix}nonce:u:c:f`)) > 0, 'the record has a TTL');
  });

  it('an attempt in flight is waited for; one that hangs past waitMs is repeated under its identity', async () => {
    const prefix = newPrefix();
    const guard = new NonceGuard(redis, prefix, { ttlMs: 60_000, waitMs: 300 });
    let release: (v: string) => void = () => {};
    const hanging = counted(() => new Promise<string>((r) => (release = r)));
    const first = guard.once('u', 'c', 'h', hanging);
    await sleep(50);
    const second = counted();
    assert.equal(await guard.once('u', 'c', 'h', second), 'm1', 'the second call wrote as the first');
    assert.deepEqual(second.runs, ['m1']);
    release('m1');
    assert.equal(await first, 'm1');
    // A call while an attempt is in flight (and quick) waits for it and reads its result back.
    const quick = counted(async (ref) => {
      await sleep(100);
      return ref;
    });
    const a = guard.once('u', 'c', 'k', quick);
    await sleep(20);
    const waiter = { ...counted(), mint: async () => 'x1' };
    assert.equal(await guard.once('u', 'c', 'k', waiter), 'read m1');
    assert.deepEqual(waiter.runs, [], 'the waiter did not write');
    assert.equal(await a, 'm1');
  });
});

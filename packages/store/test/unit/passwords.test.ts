import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PasswordHasher, PasswordHasherBusyError } from '@chat/store';

describe('PasswordHasher', () => {
  it('hashes with scrypt N = 2^17, r = 8, p = 1 by default and verifies only the right password', async () => {
    const hasher = new PasswordHasher();
    const stored = await hasher.hash('correct horse battery');
    assert.match(stored, /^scrypt\$131072\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    assert.equal(await hasher.verify('correct horse battery', stored), true);
    assert.equal(await hasher.verify('wrong horse battery', stored), false);
    assert.equal(await hasher.verify('x', 'not a hash'), false);
    assert.equal(hasher.outdated(stored), false);
  });

  it('keeps verifying hashes made with a lower cost, and calls them outdated', async () => {
    const old = await new PasswordHasher({ logN: 12 }).hash('pw-of-old');
    const current = new PasswordHasher({ logN: 14 });
    assert.equal(await current.verify('pw-of-old', old), true);
    assert.equal(current.outdated(old), true);
  });

  it('runs at most maxConcurrent hashes, queues at most maxQueued, and refuses the rest at once', async () => {
    const hasher = new PasswordHasher({ logN: 14, maxConcurrent: 1, maxQueued: 2 });
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => hasher.hash(`password ${i}`)));
    const refused = results.filter((r) => r.status === 'rejected');
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 3, 'one running and two queued');
    assert.equal(refused.length, 3);
    for (const r of refused) {
      const err = (r as PromiseRejectedResult).reason;
      assert.ok(err instanceof PasswordHasherBusyError);
      assert.equal(err.retryable, true);
    }
    assert.deepEqual(hasher.load, { running: 0, waiting: 0 }, 'every slot is given back');
    await hasher.hash('after the flood');
  });
});

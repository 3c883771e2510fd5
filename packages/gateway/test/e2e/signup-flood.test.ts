// A sign-up flood meets rationed password hashing: at most PASSWORD_HASH_CONCURRENCY hashes run and
// PASSWORD_HASH_QUEUE wait; the rest are refused at once with 503 `overloaded` and Retry-After, never
// a 500, and the gateway serves the next sign-up normally.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http, type Stack, signUp, startStack } from './stack.js';

describe('sign-up flood', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      gateways: 1,
      gatewayEnv: { SCRYPT_LOG_N: '15', PASSWORD_HASH_CONCURRENCY: '1', PASSWORD_HASH_QUEUE: '2' },
    });
  });
  after(async () => stack?.close());

  it('refuses what exceeds the hashing budget with 503 overloaded and Retry-After, and recovers', async () => {
    const gw = stack.gateways[0]!;
    const attempts = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        http(gw.url, 'POST', '/api/users', { username: `flood-${i}`, password: 'correct horse battery' }),
      ),
    );
    const statuses = attempts.map((a) => a.status);
    assert.ok(
      statuses.every((s) => s === 201 || s === 503),
      statuses.join(','),
    );
    const refused = attempts.filter((a) => a.status === 503);
    assert.ok(
      refused.length >= 12 - 3 - 2,
      `at most one running and two waiting (plus any that finished meanwhile): ${statuses}`,
    );
    for (const r of refused) {
      assert.equal(r.body.code, 'overloaded');
      assert.ok(Number(r.headers.get('retry-after')) >= 1);
    }
    // Nothing was half-done: a refused name is free, an accepted one is taken.
    const accepted = attempts.findIndex((a) => a.status === 201);
    const retried = attempts.findIndex((a) => a.status === 503);
    assert.equal((await signUp(gw.url, `flood-${retried}`)).username, `flood-${retried}`);
    assert.equal(
      (await http(gw.url, 'POST', '/api/users', { username: `flood-${accepted}`, password: 'x'.repeat(10) })).status,
      409,
    );
  });
});

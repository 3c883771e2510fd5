// A retried message.create is stored once across a Redis outage and an empty restart (chaos finding 1):
// while Redis is down a write with a nonce is refused `unavailable`, and after Redis came back without
// its records such writes are refused for NONCE_RECOVERY_MS, so a resend of an earlier write never
// slips through as a second copy.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type RedisServer, startRedisServer } from '@chat/testkit';
import { RawClient } from './raw-client.js';
import { http, type Stack, signUp, startStack, waitFor } from './stack.js';

describe('nonces across a Redis restart', () => {
  let redis: RedisServer;
  let stack: Stack;
  before(async () => {
    redis = await startRedisServer();
    stack = await startStack({ gateways: 1, gatewayEnv: { REDIS_URL: redis.url, NONCE_RECOVERY_MS: '3000' } });
  });
  after(async () => {
    await stack?.close();
    await redis?.stop();
  });

  it('a retry with the same nonce is refused while Redis is down and after it restarted empty, and the message is stored once', async () => {
    const gw = stack.gateways[0]!;
    const redisUp = async () => (await http(gw.url, 'GET', '/readyz')).body?.checks?.redis === true;
    const ivy = await signUp(gw.url, 'nonceivy');
    const jon = await signUp(gw.url, 'noncejon');
    const dm = (await http(gw.url, 'POST', '/api/channels', { kind: 'dm', recipients: [ivy.id] }, jon.token)).body;
    const c = await RawClient.open(`ws://127.0.0.1:${gw.port}/ws`);
    await c.identify(jon.token);
    const create = (nonce: string, content = 'once') =>
      c.request('message.create', { channel_id: dm.id, content, nonce });

    const first = await create('n-1');
    assert.equal(first.ok, true, JSON.stringify(first));
    assert.equal((await create('n-1')).result?.id, first.result.id, 'a retry returns the first message');

    await redis.kill();
    await waitFor(async () => !(await redisUp()), 'the gateway to see Redis down', 20_000);
    for (const nonce of ['n-1', 'n-2']) {
      const down = await create(nonce);
      assert.equal(down.ok, false, `${nonce} while Redis is down: ${JSON.stringify(down)}`);
      assert.equal(down.error.code, 'unavailable');
    }

    await redis.start();
    await waitFor(redisUp, 'the gateway to reconnect to Redis', 20_000);
    const lost = await create('n-1');
    assert.equal(lost.ok, false, `the retry after an empty restart: ${JSON.stringify(lost)}`);
    assert.equal(lost.error.code, 'unavailable');
    assert.ok(lost.error.retry_after_ms > 0 && lost.error.retry_after_ms <= 3000, JSON.stringify(lost.error));

    // The refusal's hint is when writes with a nonce are taken again.
    await sleep(lost.error.retry_after_ms);
    const later = await create('n-3', 'later');
    assert.equal(later.ok, true, JSON.stringify(later));
    assert.equal((await create('n-3', 'later')).result?.id, later.result.id, 'records are kept again');

    const history = async () =>
      (await http(gw.url, 'GET', `/api/channels/${dm.id}/messages?limit=100`, undefined, jon.token)).body as Array<{
        id: string;
        content: string;
      }>;
    await waitFor(
      async () => (await history()).some((m) => m.id === later.result.id),
      'the later message to be stored',
      20_000,
    );
    const stored = await history();
    assert.deepEqual(
      stored.filter((m) => m.content === 'once').map((m) => m.id),
      [first.result.id],
      'the message retried with n-1 is stored once',
    );
    c.close();
  });
});

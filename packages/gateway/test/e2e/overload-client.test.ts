// @chat/client against a real gateway that sheds: a message.create (WebSocket) and a POST (HTTP)
// refused with `overloaded` are sent again — same request, same nonce — after the server's hint
// plus jitter, and end up stored and delivered once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient } from '@chat/client';
import { Redis } from 'ioredis';
import { RawClient } from './raw-client.js';
import { http, type Stack, signUp, startStack, waitFor } from './stack.js';

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

describe('@chat/client under overload', () => {
  let stack: Stack;
  let redis: Redis;
  before(async () => {
    stack = await startStack({ gateways: 0 });
    redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  });
  after(async () => {
    redis?.disconnect();
    await stack?.close();
  });

  it('backs off on overloaded and retries the same request with the same nonce: stored and delivered once', async () => {
    const gw = await stack.addGateway({ MAX_INFLIGHT_WRITES: '1', OVERLOAD_RETRY_AFTER_MS: '100', DEFAULT_GROUP: '' });
    const sender = await signUp(gw.url, 'sdk-sender');
    const recipient = await signUp(gw.url, 'sdk-recipient');
    const dm = (await http(gw.url, 'POST', '/api/channels', { kind: 'dm', recipients: [recipient.id] }, sender.token))
      .body;
    const inbox = await RawClient.open(`ws://127.0.0.1:${gw.port}/ws`);
    await inbox.identify(recipient.token);
    const options = {
      baseUrl: gw.url,
      token: sender.token,
      requestTimeoutMs: 60_000,
      overloadRetry: { maxRetries: 1000, initialDelayMs: 50, maxDelayMs: 200 },
    };
    const client = createClient(options);
    // Never connected: its send() goes over the HTTP API.
    const httpOnly = createClient(options);
    await client.connect();
    try {
      // Hold the gateway's only write slot: a write waiting on a nonce that is "still publishing".
      const holder = await RawClient.open(`ws://127.0.0.1:${gw.port}/ws`);
      await holder.identify(sender.token);
      const nonceKey = `${stack.prefix}:nonce:${sender.id}:${dm.id}:held`;
      await redis.set(nonceKey, JSON.stringify({ state: 'pending' }), 'PX', 60_000);
      const held = holder.request('message.create', { channel_id: dm.id, content: 'held', nonce: 'held' });
      await waitFor(async () => (await metric(gw.url, 'chat_gateway_inflight_writes')) === 1, 'the slot held');

      const viaWs = client.send(dm.id, 'via ws', { nonce: 'sdk-ws' });
      const viaHttp = httpOnly.send(dm.id, 'via http', { nonce: 'sdk-http' });
      // Both were refused at least twice (the first attempts and a retry) before the slot frees up.
      await waitFor(
        async () => (await metric(gw.url, 'chat_gateway_overloaded_total')) >= 4,
        'the SDK to be refused and retry',
      );
      await redis.del(nonceKey);
      const [ws, viaPost, heldAnswer] = await Promise.all([viaWs, viaHttp, held]);
      assert.equal(heldAnswer.ok, true);
      assert.equal(ws.nonce, 'sdk-ws');
      assert.equal(viaPost.nonce, 'sdk-http');

      const ids = [ws.id, viaPost.id, heldAnswer.result.id as string];
      const received = () => inbox.frames.filter((f) => f.t === 'MESSAGE_CREATE').map((f) => f.d.id as string);
      await waitFor(() => ids.every((id) => received().includes(id)), 'all three delivered');
      assert.equal(received().length, new Set(received()).size, 'no duplicates');
      const stored = (await http(gw.url, 'GET', `/api/channels/${dm.id}/messages`, undefined, sender.token))
        .body as Array<{ id: string; nonce: string }>;
      assert.deepEqual(stored.map((m) => m.nonce).sort(), ['held', 'sdk-http', 'sdk-ws'], 'each stored once');
      holder.close();
    } finally {
      await client.close();
      inbox.close();
    }
  });

  it('gives up after maxRetries with the overloaded error (retryable, with the hint)', async () => {
    const gw = await stack.addGateway({ MAX_INFLIGHT_WRITES: '1', OVERLOAD_RETRY_AFTER_MS: '20', DEFAULT_GROUP: '' });
    const sender = await signUp(gw.url, 'sdk-giveup');
    const dm = (await http(gw.url, 'POST', '/api/channels', { kind: 'group', name: 'g' }, sender.token)).body;
    const client = createClient({ baseUrl: gw.url, token: sender.token, overloadRetry: { maxRetries: 2 } });
    await client.connect();
    const holder = await RawClient.open(`ws://127.0.0.1:${gw.port}/ws`);
    await holder.identify(sender.token);
    const nonceKey = `${stack.prefix}:nonce:${sender.id}:${dm.id}:held2`;
    await redis.set(nonceKey, JSON.stringify({ state: 'pending' }), 'PX', 60_000);
    const held = holder.request('message.create', { channel_id: dm.id, content: 'held', nonce: 'held2' });
    try {
      await waitFor(async () => (await metric(gw.url, 'chat_gateway_inflight_writes')) === 1, 'the slot held');
      const before = await metric(gw.url, 'chat_gateway_overloaded_total');
      await assert.rejects(client.send(dm.id, 'nope', { nonce: 'never' }), (err: Error & Record<string, unknown>) => {
        assert.equal(err.code, 'overloaded');
        assert.equal(err.retryable, true);
        assert.equal(err.retryAfterMs, 20);
        return true;
      });
      assert.equal((await metric(gw.url, 'chat_gateway_overloaded_total')) - before, 3, 'one try and two retries');
    } finally {
      await redis.del(nonceKey);
      await held;
      holder.close();
      await client.close();
    }
  });
});

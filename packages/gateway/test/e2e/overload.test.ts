// Overload is shed, not queued: a gateway past its admission bounds refuses durable writes with
// `overloaded` (WebSocket, with retry_after_ms) / 503 + Retry-After (HTTP), stays ready, and every
// write it accepted is stored and delivered exactly once; nothing refused is ever stored.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
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

const LIMITS = {
  MAX_INFLIGHT_WRITES: '4',
  MAX_INFLIGHT_WRITES_PER_CONNECTION: '2',
  OVERLOAD_RETRY_AFTER_MS: '250',
  RATE_FRAMES: '100000',
  RATE_BURST: '100000',
  USER_RATE_REQUESTS: '100000',
  HTTP_RATE_REQUESTS: '100000',
  DEFAULT_GROUP: '',
};

describe('overload', () => {
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

  it('past the bounds writes are refused with overloaded / 503 + Retry-After; accepted ones are stored and delivered once', async () => {
    const gw = await stack.addGateway(LIMITS);
    const ws = `ws://127.0.0.1:${gw.port}/ws`;
    const sender = await signUp(gw.url, 'busy-sender');
    const recipient = await signUp(gw.url, 'busy-recipient');
    const dm = (await http(gw.url, 'POST', '/api/channels', { kind: 'dm', recipients: [recipient.id] }, sender.token))
      .body;
    const inbox = await RawClient.open(ws);
    await inbox.identify(recipient.token);
    const conns = await Promise.all([0, 1, 2, 3].map(() => RawClient.open(ws)));
    for (const c of conns) await c.identify(sender.token);
    const create = (c: RawClient, id: string, nonce: string) =>
      c.request('message.create', { channel_id: dm.id, content: `overload ${nonce}`, nonce }, id);

    // 1. Fill the process budget deterministically: four writes wait on a nonce another request
    //    "is still publishing" (a pending nonce record), holding their admission the whole time.
    const nonceKey = `${stack.prefix}:nonce:${sender.id}:${dm.id}:held`;
    await redis.set(nonceKey, JSON.stringify({ state: 'pending' }), 'PX', 60_000);
    const held = [
      create(conns[0]!, 'h0', 'held'),
      create(conns[0]!, 'h1', 'held'),
      create(conns[1]!, 'h2', 'held'),
      create(conns[1]!, 'h3', 'held'),
    ];
    await waitFor(async () => (await metric(gw.url, 'chat_gateway_inflight_writes')) === 4, 'four writes in flight');

    const wsRefused = await create(conns[2]!, 'x0', 'refused-ws');
    assert.equal(wsRefused.ok, false);
    assert.equal(wsRefused.error.code, 'overloaded');
    assert.equal(wsRefused.error.retry_after_ms, 250);
    const post = await http(
      gw.url,
      'POST',
      `/api/channels/${dm.id}/messages`,
      { content: 'overload refused-http', nonce: 'refused-http' },
      sender.token,
    );
    assert.equal(post.status, 503);
    assert.equal(post.body.code, 'overloaded');
    assert.equal(post.headers.get('retry-after'), '1');
    for (const method of ['PATCH', 'DELETE']) {
      const res = await http(
        gw.url,
        method,
        `/api/channels/${dm.id}/messages/${dm.id}`,
        { content: 'x' },
        sender.token,
      );
      assert.equal(res.status, 503, method);
      assert.equal(res.body.code, 'overloaded', method);
    }
    // Reads are not durable writes: they pass while writes are shed, and the gateway stays ready.
    const history = await conns[2]!.request('history.get', { channel_id: dm.id });
    assert.equal(history.ok, true);
    assert.equal((await http(gw.url, 'GET', '/readyz')).status, 200);
    // The per-connection bound: a third write on a connection that has two in flight.
    const perConn = await create(conns[0]!, 'x1', 'refused-conn');
    assert.equal(perConn.error?.code, 'overloaded');

    // Release: the four held requests share one message (same nonce), stored once.
    await redis.del(nonceKey);
    const heldResults = await Promise.all(held);
    assert.ok(
      heldResults.every((r) => r.ok),
      JSON.stringify(heldResults),
    );
    const heldIds = new Set(heldResults.map((r) => r.result.id));
    assert.equal(heldIds.size, 1, 'one message for one nonce');

    // 2. A burst over the bounds from four sockets and HTTP at once: each write is acked or refused
    //    with overloaded, never anything else.
    const burst: Array<Promise<{ nonce: string; ok: boolean; id?: string; code?: string }>> = [];
    conns.forEach((c, ci) => {
      for (let i = 0; i < 10; i++) {
        const nonce = `b${ci}-${i}`;
        burst.push(
          create(c, `b${ci}-${i}`, nonce).then((r) => ({ nonce, ok: r.ok, id: r.result?.id, code: r.error?.code })),
        );
      }
    });
    for (let i = 0; i < 10; i++) {
      const nonce = `h-${i}`;
      burst.push(
        http(
          gw.url,
          'POST',
          `/api/channels/${dm.id}/messages`,
          { content: `overload ${nonce}`, nonce },
          sender.token,
        ).then((r) => {
          if (r.status === 503) assert.ok(Number(r.headers.get('retry-after')) >= 1);
          return { nonce, ok: r.status === 201, id: r.body?.id, code: r.body?.code };
        }),
      );
    }
    const outcomes = await Promise.all(burst);
    const acked = outcomes.filter((o) => o.ok);
    const refused = outcomes.filter((o) => !o.ok);
    assert.ok(
      refused.every((o) => o.code === 'overloaded'),
      JSON.stringify(refused.filter((o) => o.code !== 'overloaded')),
    );
    assert.ok(refused.length > 0, 'the burst went past the bounds');
    assert.ok(acked.length > 0, 'the gateway kept accepting within its bounds');

    // 3. Every acked write is delivered to the recipient, exactly once, and stored; nothing refused is.
    const ackedIds = new Set([...heldIds, ...acked.map((o) => o.id!)]);
    const sentinel = await create(conns[3]!, 'last', 'sentinel');
    assert.equal(sentinel.ok, true);
    ackedIds.add(sentinel.result.id);
    const received = () => inbox.frames.filter((f) => f.t === 'MESSAGE_CREATE').map((f) => f.d.id as string);
    await waitFor(() => [...ackedIds].every((id) => received().includes(id)), 'every acked message delivered', 30_000);
    const counts = new Map<string, number>();
    for (const id of received()) counts.set(id, (counts.get(id) ?? 0) + 1);
    assert.deepEqual(
      [...counts].filter(([, n]) => n > 1),
      [],
      'no duplicates',
    );
    assert.deepEqual([...counts.keys()].sort(), [...ackedIds].sort(), 'only acked messages were delivered');
    const stored = (await http(gw.url, 'GET', `/api/channels/${dm.id}/messages?limit=100`, undefined, sender.token))
      .body as Array<{ id: string; nonce: string }>;
    assert.deepEqual(stored.map((m) => m.id).sort(), [...ackedIds].sort(), 'stored = acked');
    assert.ok(!stored.some((m) => m.nonce.startsWith('refused')));
    assert.ok((await metric(gw.url, 'chat_gateway_overloaded_total')) >= refused.length + 5);
    assert.equal(await metric(gw.url, 'chat_gateway_inflight_writes'), 0);
    // The whole path's window counted the sender's messages (it has sockets here) until each came back.
    assert.equal(await metric(gw.url, 'chat_gateway_path_messages'), 0, 'every message back: none left on the path');
    // A fast path: not engaged (an engaged window at this test's return rate would be at its floor, 128), so the
    // limit is the headroom bound (at least 512) or, a second after the last return, none (16,384).
    assert.ok((await metric(gw.url, 'chat_gateway_path_window')) >= 512, 'a fast path: the window is not engaged');
    assert.equal((await http(gw.url, 'GET', '/readyz')).status, 200);
    for (const c of [inbox, ...conns]) c.close();
  });
});

describe('overload: a full persist queue', () => {
  let stack: Stack;
  before(async () => {
    const bound = { PERSIST_MAX_LENGTH: '5' };
    stack = await startStack({ gateways: 0, gatewayEnv: { ...LIMITS, ...bound }, persisterEnv: bound });
  });
  after(async () => stack?.close());

  it('is refused as overloaded (never silently), and everything acked is delivered once the persister is back', async () => {
    const gw = await stack.addGateway();
    const sender = await signUp(gw.url, 'qf-sender');
    const recipient = await signUp(gw.url, 'qf-recipient');
    const dm = (await http(gw.url, 'POST', '/api/channels', { kind: 'dm', recipients: [recipient.id] }, sender.token))
      .body;
    const inbox = await RawClient.open(`ws://127.0.0.1:${gw.port}/ws`);
    await inbox.identify(recipient.token);
    const c = await RawClient.open(`ws://127.0.0.1:${gw.port}/ws`);
    await c.identify(sender.token);
    stack.persister.kill('SIGKILL');
    await stack.persister.exited;
    const acked: string[] = [];
    let refusal: { code: string; retry_after_ms?: number } | undefined;
    for (let i = 0; i < 20 && !refusal; i++) {
      const r = await c.request('message.create', { channel_id: dm.id, content: `qf ${i}`, nonce: `qf-${i}` });
      if (r.ok) acked.push(r.result.id);
      else refusal = r.error;
    }
    assert.equal(refusal?.code, 'overloaded');
    assert.equal(refusal?.retry_after_ms, 250);
    assert.ok(acked.length >= 5, `acked ${acked.length}`);
    const post = await http(gw.url, 'POST', `/api/channels/${dm.id}/messages`, { content: 'qf http' }, sender.token);
    assert.equal(post.status, 503);
    assert.equal(post.body.code, 'overloaded');
    assert.ok(Number(post.headers.get('retry-after')) >= 1);
    assert.ok((await metric(gw.url, 'chat_gateway_overloaded_total{reason="queue_full"}')) >= 2);
    assert.equal((await http(gw.url, 'GET', '/readyz')).status, 200);

    await stack.restartPersister();
    const received = () => inbox.frames.filter((f) => f.t === 'MESSAGE_CREATE').map((f) => f.d.id as string);
    await waitFor(() => acked.every((id) => received().includes(id)), 'the acked backlog delivered', 30_000);
    assert.equal(new Set(received()).size, received().length, 'no duplicates');
    // Room again: the same request that was refused is accepted now (after the queue drained).
    await waitFor(async () => {
      const r = await c.request('message.create', { channel_id: dm.id, content: 'qf again', nonce: 'qf-again' });
      return r.ok;
    }, 'writes accepted again');
    inbox.close();
    c.close();
  });
});

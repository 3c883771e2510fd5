// Replies end to end (docs/protocol.md §4.1): through real gateways, RabbitMQ, the persister and the
// MongoDB (stand-in unless MONGO_URL is set) — references resolved by the persister and at read time,
// reply_to confined to the reply's channel, the replies page, and reply_count under redelivery.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeSnowflake } from '@chat/protocol';
import { createRouter } from '@chat/router';
import { amqpUrl } from '@chat/testkit';
import { MongoClient } from 'mongodb';
import { RawClient } from './raw-client.js';
import { http, type Stack, signUp, startStack, waitFor } from './stack.js';

type User = { id: string; username: string; token: string };

describe('replies', () => {
  let stack: Stack;
  let alice: User;
  let bob: User;
  let carol: User;
  let group: { id: string };
  let secret: { id: string };
  before(async () => {
    // reply_to ids not stored are refused at once (production waits REPLY_TO_PENDING_MS for a message on its way).
    // The tests poll history until the persister caught up: lift the per-user and per-address budgets.
    const unlimited = { HTTP_RATE_REQUESTS: '1000000', USER_RATE_REQUESTS: '1000000', RATE_BURST: '100000' };
    stack = await startStack({ gateways: 2, gatewayEnv: { REPLY_TO_PENDING_MS: '0', ...unlimited } });
    const [gwA, gwB] = stack.gateways;
    alice = await signUp(gwA!.url, 'r_alice');
    bob = await signUp(gwB!.url, 'r_bob');
    carol = await signUp(gwA!.url, 'r_carol');
    const body = { kind: 'group', name: 'thread', recipients: [bob.id] };
    group = (await http(gwA!.url, 'POST', '/api/channels', body, alice.token)).body;
    // Carol's group with alice: bob is no member of it.
    const other = { kind: 'group', name: 'secret', recipients: [alice.id] };
    secret = (await http(gwA!.url, 'POST', '/api/channels', other, carol.token)).body;
  });
  after(async () => stack?.close());

  const url = () => stack.gateways[0]!.url;
  const send = (channel: string, content: string, who: User, replyTo?: string) =>
    http(url(), 'POST', `/api/channels/${channel}/messages`, { content, reply_to: replyTo }, who.token);
  const replies = (channel: string, parent: string, query: string, who: User) =>
    http(url(), 'GET', `/api/channels/${channel}/messages/${parent}/replies${query}`, undefined, who.token);
  /** The message as history reads it now. */
  const read = async (channel: string, id: string, who: User) => {
    const page = await http(
      url(),
      'GET',
      `/api/channels/${channel}/messages?before=${BigInt(id) + 1n}&limit=1`,
      undefined,
      who.token,
    );
    assert.equal(page.status, 200, JSON.stringify(page.body));
    return page.body[0]?.id === id ? page.body[0] : undefined;
  };
  const replyCountOf = async (channel: string, id: string) => (await read(channel, id, alice))?.reply_count ?? 0;
  /** Sends a message and waits until it is stored (a 201 means durable, not yet stored). */
  const post = async (channel: string, content: string, who: User) => {
    const m = (await send(channel, content, who)).body;
    await waitFor(async () => (await read(channel, m.id, who)) !== undefined, 'the message to be stored');
    return m;
  };

  it("a reply is answered, dispatched and stored with its parent's reference (author, a 100-code-point excerpt), and the parent counts it", async () => {
    const long = `${'😀'.repeat(99)}é${'x'.repeat(50)}`;
    const parent = await post(group.id, long, alice);
    const a = await RawClient.open(`ws://127.0.0.1:${stack.gateways[0]!.port}/ws`);
    const b = await RawClient.open(`ws://127.0.0.1:${stack.gateways[1]!.port}/ws`);
    try {
      await a.identify(alice.token);
      await b.identify(bob.token);
      const res = await b.request('message.create', { channel_id: group.id, content: 'agreed', reply_to: parent.id });
      assert.equal(res.ok, true, JSON.stringify(res));
      const expected = {
        id: parent.id,
        author: { id: alice.id, username: 'r_alice' },
        content: `${'😀'.repeat(99)}é`,
      };
      assert.deepEqual(res.result.referenced_message, expected, 'the RESPONSE carries the reference');
      const live = await a.next((f) => f.t === 'MESSAGE_CREATE' && f.d.id === res.result.id);
      assert.deepEqual(
        live.d.referenced_message,
        expected,
        'the dispatch carries the reference the persister resolved',
      );
      await waitFor(async () => (await replyCountOf(group.id, parent.id)) === 1, 'the parent to count its reply');
      const stored = await read(group.id, res.result.id, bob);
      assert.deepEqual(stored.referenced_message, expected, 'history carries it');
      assert.equal(stored.reply_count, undefined, 'a message without replies has no reply_count');
    } finally {
      a.close();
      b.close();
    }
  });

  it("reply_to naming another channel's message, an unknown or a deleted one is refused alike; a non-id is a 400", async () => {
    const hidden = await post(secret.id, 'carol only', carol);
    const gone = await post(group.id, 'soon gone', alice);
    assert.equal(
      (await http(url(), 'DELETE', `/api/channels/${group.id}/messages/${gone.id}`, undefined, alice.token)).status,
      204,
    );
    await waitFor(async () => (await read(group.id, gone.id, alice)) === undefined, 'the delete to be stored');
    const refusals = await Promise.all([
      send(group.id, 'peek', bob, hidden.id),
      send(group.id, 'peek', bob, '123456789012345678'),
      send(group.id, 'peek', bob, gone.id),
    ]);
    for (const r of refusals) {
      assert.equal(r.status, 404, JSON.stringify(r.body));
      assert.deepEqual(r.body, refusals[0]!.body, 'the same answer whatever the id names: nothing is revealed');
      assert.ok(!JSON.stringify(r.body).includes('carol only'));
    }
    const b = await RawClient.open(`ws://127.0.0.1:${stack.gateways[1]!.port}/ws`);
    try {
      await b.identify(bob.token);
      const res = await b.request('message.create', { channel_id: group.id, content: 'peek', reply_to: hidden.id });
      assert.equal(res.ok, false);
      assert.equal(res.error.code, 'not_found');
    } finally {
      b.close();
    }
    // With the production window, a recent id not stored here is taken as on its way: the reply is stored,
    // and its reference, read in this channel only, shows nothing of another channel's message.
    const patient = await stack.addGateway({ REPLY_TO_PENDING_MS: '60000' });
    const recentUnknown = String(makeSnowflake(Date.now(), 1021, 0));
    const taken = await Promise.all(
      [hidden.id, recentUnknown].map((id) =>
        http(patient.url, 'POST', `/api/channels/${group.id}/messages`, { content: 'hm', reply_to: id }, bob.token),
      ),
    );
    for (const [i, r] of taken.entries()) {
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.deepEqual(r.body.referenced_message, { id: [hidden.id, recentUnknown][i] });
      await waitFor(async () => (await read(group.id, r.body.id, bob)) !== undefined, 'the reply stored');
      const stored = await read(group.id, r.body.id, bob);
      assert.deepEqual(stored.referenced_message, { id: [hidden.id, recentUnknown][i], deleted: true });
    }
    assert.equal(await replyCountOf(secret.id, hidden.id), 0, 'a reply in another channel is no reply of it');
    const bad = await send(group.id, 'x', bob, 'abc');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'invalid_request');
  });

  it('the replies of a message page newest first by id, to members only; a deleted reply leaves the page and the count', async () => {
    const parent = await post(group.id, 'what do you think?', alice);
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await send(group.id, `answer ${i}`, i % 2 ? alice : bob, parent.id);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      ids.push(r.body.id);
    }
    await send(group.id, 'not a reply', bob);
    await waitFor(
      async () => (await replies(group.id, parent.id, '?limit=100', bob)).body.length === 7,
      '7 replies stored',
    );
    const newest = [...ids].reverse();
    const first = await replies(group.id, parent.id, '?limit=3', bob);
    assert.equal(first.status, 200);
    assert.deepEqual(
      first.body.map((m: { id: string }) => m.id),
      newest.slice(0, 3),
    );
    assert.ok(first.body.every((m: { referenced_message: { id: string } }) => m.referenced_message.id === parent.id));
    const second = await replies(group.id, parent.id, `?limit=3&before=${newest[2]}`, bob);
    assert.deepEqual(
      second.body.map((m: { id: string }) => m.id),
      newest.slice(3, 6),
    );
    const last = await replies(group.id, parent.id, `?before=${newest[5]}`, bob);
    assert.deepEqual(
      last.body.map((m: { id: string }) => m.id),
      newest.slice(6),
    );
    assert.equal((await replies(group.id, parent.id, '', carol)).body.code, 'not_a_member');
    assert.equal((await replies(group.id, parent.id, '', carol)).status, 403);
    assert.equal((await replies(group.id, '123456789012345678', '', bob)).status, 404);
    assert.equal(
      (await replies(secret.id, parent.id, '', carol)).status,
      404,
      "another channel's message is unknown here",
    );
    assert.equal((await replies(group.id, parent.id, '?limit=0', bob)).status, 400);
    assert.equal((await replies(group.id, parent.id, '?limit=101', bob)).status, 400);
    assert.equal((await replies(group.id, parent.id, '?after=1', bob)).body.code, 'unknown_field');
    await waitFor(async () => (await replyCountOf(group.id, parent.id)) === 7, 'reply_count 7');
    const deleted = await http(url(), 'DELETE', `/api/channels/${group.id}/messages/${ids[0]}`, undefined, bob.token);
    assert.equal(deleted.status, 204);
    await waitFor(
      async () => (await replyCountOf(group.id, parent.id)) === 6,
      'reply_count 6 after a reply is deleted',
    );
    const all = await replies(group.id, parent.id, '', bob);
    assert.deepEqual(
      all.body.map((m: { id: string }) => m.id),
      newest.slice(0, 6),
    );
  });

  it("edits and deletes of a parent show in its replies' references wherever they are read", async () => {
    const parent = await post(group.id, 'first draft', alice);
    const reply = (await send(group.id, 'nice', bob, parent.id)).body;
    assert.equal(reply.referenced_message.content, 'first draft');
    const edit = { content: 'second draft' };
    const path = `/api/channels/${group.id}/messages/${parent.id}`;
    assert.equal((await http(url(), 'PATCH', path, edit, alice.token)).status, 200);
    await waitFor(
      async () => (await read(group.id, reply.id, bob))?.referenced_message.content === 'second draft',
      'history to show the edited parent',
    );
    const page = await replies(group.id, parent.id, '', bob);
    assert.equal(page.body[0].referenced_message.content, 'second draft');
    assert.equal((await http(url(), 'DELETE', path, undefined, alice.token)).status, 204);
    await waitFor(
      async () => (await read(group.id, reply.id, bob))?.referenced_message.deleted === true,
      'history to show the deleted parent',
    );
    const afterDelete = await replies(group.id, parent.id, '', bob);
    assert.equal(afterDelete.status, 200, "a deleted message's replies stay readable");
    assert.deepEqual(afterDelete.body[0].referenced_message, { id: parent.id, deleted: true });
  });

  it('a reply retried with its nonce after its parent was deleted returns the stored reply, not a refusal', async () => {
    const parent = await post(group.id, 'to be deleted', alice);
    const body = { content: 'answer', nonce: 'reply-retry-1', reply_to: parent.id };
    const path = `/api/channels/${group.id}/messages`;
    const first = await http(url(), 'POST', path, body, bob.token);
    assert.equal(first.status, 201, JSON.stringify(first.body));
    await waitFor(async () => (await read(group.id, first.body.id, bob)) !== undefined, 'the reply to be stored');
    const del = await http(url(), 'DELETE', `/api/channels/${group.id}/messages/${parent.id}`, undefined, alice.token);
    assert.equal(del.status, 204);
    await waitFor(async () => (await read(group.id, parent.id, alice)) === undefined, 'the delete to be stored');
    const again = await http(url(), 'POST', path, body, bob.token);
    assert.equal(again.status, 201, JSON.stringify(again.body));
    assert.equal(again.body.id, first.body.id, 'the same message');
    assert.deepEqual(again.body.referenced_message, { id: parent.id, deleted: true });
    const fresh = await http(url(), 'POST', path, { ...body, nonce: 'reply-retry-2' }, bob.token);
    assert.equal(fresh.status, 404, 'a new reply to the deleted message is refused');
  });

  it('reply_count is exact when the same reply is delivered twice and when the persister is killed mid-stream', async () => {
    const parent = await post(group.id, 'count me', alice);
    const router = createRouter({ url: amqpUrl(), prefix: stack.prefix });
    const mongo = await new MongoClient(stack.mongo.url).connect();
    try {
      const messages = mongo.db(stack.dbName).collection('messages');
      // Ids of worker 1023, which no gateway of this stack leases: they cannot collide with theirs.
      const now = Date.now();
      const write = (i: number) => ({
        v: 1 as const,
        type: 'message.create' as const,
        id: String(makeSnowflake(now, 1023, i)),
        channel_id: group.id,
        author: { id: bob.id, username: 'r_bob' },
        content: `reply ${i}`,
        nonce: null,
        timestamp: new Date().toISOString(),
        reply_to: parent.id,
      });
      // The same envelope twice: the second delivery finds the reply stored and must not count it again.
      await router.durableWrite(write(0));
      await router.durableWrite(write(0));
      await waitFor(async () => (await replyCountOf(group.id, parent.id)) === 1, 'the reply counted');
      // A stream of replies, the persister killed while it stores them, then restarted.
      const total = 400;
      const writing = (async () => {
        for (let i = 1; i < total; i++) await router.durableWrite(write(i));
      })();
      await waitFor(
        async () => (await messages.countDocuments({ channel_id: group.id, content: /^reply / })) > 50,
        'the persister to be into the stream',
      );
      stack.persister.kill('SIGKILL');
      await stack.persister.exited;
      await stack.restartPersister();
      await writing;
      await waitFor(async () => (await replyCountOf(group.id, parent.id)) === total, `reply_count ${total}`, 60_000);
      const stored = await messages.countDocuments({ channel_id: group.id, content: /^reply / });
      assert.equal(stored, total, 'each reply stored once');
      assert.equal(await replyCountOf(group.id, parent.id), total);
    } finally {
      await router.close();
      await mongo.close();
    }
  });

  it('a reply stored before its parent is counted once the parent is stored, and its reference then resolves', async () => {
    const router = createRouter({ url: amqpUrl(), prefix: stack.prefix });
    try {
      const now = Date.now();
      const parentId = String(makeSnowflake(now, 1022, 0));
      const base = { v: 1 as const, type: 'message.create' as const, channel_id: group.id, nonce: null };
      const at = new Date(now).toISOString();
      // The reply's write first: the persister stores it while its parent is unknown.
      const reply = { ...base, id: String(makeSnowflake(now, 1022, 1)), author: { id: bob.id, username: 'r_bob' } };
      await router.durableWrite({ ...reply, content: 'early', timestamp: at, reply_to: parentId });
      await waitFor(async () => (await read(group.id, reply.id, bob)) !== undefined, 'the reply to be stored');
      assert.deepEqual((await read(group.id, reply.id, bob)).referenced_message, { id: parentId, deleted: true });
      const author = { id: alice.id, username: 'r_alice' };
      await router.durableWrite({ ...base, id: parentId, author, content: 'late parent', timestamp: at });
      await waitFor(async () => (await replyCountOf(group.id, parentId)) === 1, 'the late parent to count its reply');
      assert.deepEqual((await read(group.id, reply.id, bob)).referenced_message, {
        id: parentId,
        author,
        content: 'late parent',
      });
    } finally {
      await router.close();
    }
  });
});

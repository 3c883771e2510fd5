import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ReadyPayload } from '@chat/protocol';
import { RawClient } from './raw-client.js';
import { http, type Stack, signUp, startStack, waitFor } from './stack.js';

type User = Awaited<ReturnType<typeof signUp>>;
type Entry = { id: string; unread_count: number; last_read_id: string | null; last_message_id: string | null };

describe('read state: unread counts and acks', () => {
  let stack: Stack;
  let alice: User;
  let bob: User;
  let dave: User;
  const open: RawClient[] = [];
  before(async () => {
    stack = await startStack({ gateways: 2 });
    alice = await signUp(stack.gateways[0]!.url, 'alice');
    bob = await signUp(stack.gateways[1]!.url, 'bob');
    dave = await signUp(stack.gateways[0]!.url, 'dave');
  });
  after(async () => {
    for (const c of open) c.close();
    await stack?.close();
  });

  const gw = (i: number) => stack.gateways[i]!;
  async function connect(i: number, user: User): Promise<{ c: RawClient; ready: ReadyPayload }> {
    const c = await RawClient.open(`ws://127.0.0.1:${gw(i).port}/ws`);
    open.push(c);
    return { c, ready: await c.identify(user.token) };
  }
  async function group(name: string): Promise<string> {
    const res = await http(
      gw(1).url,
      'POST',
      '/api/channels',
      { kind: 'group', name, recipients: [alice.id] },
      bob.token,
    );
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id;
  }
  async function send(channel: string, n: number, who = bob): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const res = await http(gw(1).url, 'POST', `/api/channels/${channel}/messages`, { content: `m${i}` }, who.token);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      ids.push(res.body.id);
    }
    return ids;
  }
  async function entry(user: User, channel: string, i = 0): Promise<Entry> {
    const res = await http(gw(i).url, 'GET', '/api/users/@me/channels', undefined, user.token);
    assert.equal(res.status, 200);
    const e = (res.body as Entry[]).find((c) => c.id === channel);
    assert.ok(e, `channel ${channel} listed`);
    return e;
  }
  const ack = (user: User, channel: string, messageId: unknown, i = 0) =>
    http(gw(i).url, 'POST', `/api/channels/${channel}/ack`, { message_id: messageId }, user.token);
  const acks = (c: RawClient, channel: string) =>
    c.frames.filter((f) => f.t === 'ACK' && f.d.channel_id === channel).map((f) => f.d);
  /** Waits until the user's listing shows `n` unread (messages are counted before they are delivered). */
  const unreadIs = (user: User, channel: string, n: number) =>
    waitFor(async () => (await entry(user, channel)).unread_count === n, `${user.username}: ${n} unread`);

  it('unread counts show in READY and @me/channels; acks over WS and HTTP move the position and reach the other sessions', async () => {
    const ch = await group('reading');
    const a1 = await connect(0, alice);
    const ids = await send(ch, 5);
    await waitFor(
      () => a1.c.frames.filter((f) => f.t === 'MESSAGE_CREATE' && f.d.channel_id === ch).length === 5,
      'a1 gets 5',
    );
    const listed = await entry(alice, ch);
    assert.deepEqual([listed.unread_count, listed.last_read_id, listed.last_message_id], [5, null, ids[4]]);
    // The author's own messages are read: sending advanced bob's position.
    const mine = await entry(bob, ch, 1);
    assert.equal(mine.unread_count, 0);
    assert.equal(mine.last_read_id, ids[4]);
    const a2 = await connect(1, alice);
    const inReady = a2.ready.channels.find((c) => c.id === ch)!;
    assert.equal(inReady.unread_count, 5);
    assert.equal(inReady.last_message_id, ids[4]);
    assert.equal(inReady.last_read_id, null);

    const res = await a1.c.request('read.ack', { channel_id: ch, message_id: ids[2] });
    assert.equal(res.ok, true, JSON.stringify(res));
    assert.deepEqual(res.result, { channel_id: ch, message_id: ids[2], unread_count: 2 });
    const ev = await a2.c.next((f) => f.t === 'ACK');
    assert.deepEqual(ev.d, { channel_id: ch, message_id: ids[2], unread_count: 2 });

    // An older ack is a no-op (not an error): it answers the current position and tells nobody.
    const back = await ack(alice, ch, ids[1]);
    assert.equal(back.status, 200);
    assert.deepEqual(back.body, { channel_id: ch, message_id: ids[2], unread_count: 2 });

    const all = await ack(alice, ch, ids[4]);
    assert.deepEqual(all.body, { channel_id: ch, message_id: ids[4], unread_count: 0 });
    // An HTTP ack reaches every session; the WS ack above reached every session but its own.
    await waitFor(() => acks(a1.c, ch).length === 1 && acks(a2.c, ch).length === 2, 'the HTTP ack on both sessions');
    assert.deepEqual(
      acks(a1.c, ch).map((d) => d.message_id),
      [ids[4]],
      'the acking session got no ACK of its own',
    );
    assert.deepEqual(
      acks(a2.c, ch).map((d) => d.message_id),
      [ids[2], ids[4]],
    );
    const a3 = await connect(0, alice);
    const later = a3.ready.channels.find((c) => c.id === ch)!;
    assert.equal(later.unread_count, 0);
    assert.equal(later.last_read_id, ids[4]);
  });

  it('acks racing from two sessions and HTTP settle on the newest message', async () => {
    const ch = await group('racing');
    const ids = await send(ch, 10);
    await unreadIs(alice, ch, 10);
    const s1 = await connect(0, alice);
    const s2 = await connect(1, alice);
    const results = await Promise.all([
      s1.c.request('read.ack', { channel_id: ch, message_id: ids[6] }),
      s2.c.request('read.ack', { channel_id: ch, message_id: ids[8] }),
      ack(alice, ch, ids[3], 0),
      ack(alice, ch, ids[7], 1),
      s1.c.request('read.ack', { channel_id: ch, message_id: ids[5] }),
    ]);
    for (const r of results) assert.ok((r as { ok?: boolean; status?: number }).ok ?? r.status === 200);
    const e = await entry(alice, ch);
    assert.equal(e.last_read_id, ids[8]);
    assert.equal(e.unread_count, 1);
  });

  it("an ack below the caller's own newest message changes nothing; leaving forgets the position a send gave", async () => {
    const ch = await group('own-position');
    const theirs = await send(ch, 2);
    const [mine] = await send(ch, 1, alice);
    await send(ch, 1);
    await unreadIs(alice, ch, 1);
    assert.equal((await entry(alice, ch)).last_read_id, mine, 'sending read the channel up to her message');
    const { c } = await connect(0, alice);
    const older = await ack(alice, ch, theirs[1]);
    assert.deepEqual(older.body, { channel_id: ch, message_id: mine, unread_count: 1 }, 'the current position');
    const res = await http(gw(1).url, 'DELETE', `/api/channels/${ch}/members/${alice.id}`, undefined, alice.token);
    assert.equal(res.status, 204, JSON.stringify(res.body));
    const back = await http(gw(1).url, 'POST', `/api/channels/${ch}/members`, { user_id: alice.id }, bob.token);
    assert.equal(back.status, 204, JSON.stringify(back.body));
    const e = await entry(alice, ch);
    assert.deepEqual([e.unread_count, e.last_read_id], [4, null], 'a member again, with nothing read');
    assert.deepEqual(acks(c, ch), [], 'no ACK for an ack that moved nothing');
  });

  it('non-members, unknown messages and malformed acks are refused like history is', async () => {
    const ch = await group('private');
    const [id] = await send(ch, 1);
    const outsider = await ack(dave, ch, id);
    assert.equal(outsider.status, 403);
    assert.equal(outsider.body.code, 'not_a_member');
    const d = await connect(0, dave);
    const ws = await d.c.request('read.ack', { channel_id: ch, message_id: id });
    assert.equal(ws.error.code, 'not_a_member');
    const other = await send((await group('elsewhere')) as string, 1);
    const unknown = await ack(alice, ch, other[0]);
    assert.equal(unknown.status, 404, 'a message of another channel names nothing here');
    assert.equal(unknown.body.code, 'not_found');
    assert.equal((await ack(alice, ch, 'not-an-id')).body.code, 'invalid_request');
    const extra = await http(gw(0).url, 'POST', `/api/channels/${ch}/ack`, { message_id: id, x: 1 }, alice.token);
    assert.equal(extra.body.code, 'unknown_field');
    const missing = await d.c.request('read.ack', { channel_id: ch });
    assert.equal(missing.error.code, 'invalid_request');
  });

  it('a deleted unread message stays counted until the reader acks it or a later one', async () => {
    const ch = await group('deleting');
    const [m] = await send(ch, 1);
    await unreadIs(alice, ch, 1);
    const del = await http(gw(1).url, 'DELETE', `/api/channels/${ch}/messages/${m}`, undefined, bob.token);
    assert.equal(del.status, 204);
    const e = await entry(alice, ch);
    assert.equal(e.unread_count, 1);
    assert.equal(e.last_message_id, m, 'the newest message id, to ack everything with');
    assert.deepEqual((await ack(alice, ch, m)).body, { channel_id: ch, message_id: m, unread_count: 0 });
  });

  it('counts stay exact when the persister is SIGKILLed mid-stream and its writes are redelivered', async () => {
    const ch = await group('redelivery');
    const sending = send(ch, 120);
    await waitFor(async () => (await entry(alice, ch)).unread_count > 10, 'the persister to be counting');
    stack.persister.kill('SIGKILL');
    await stack.persister.exited;
    await stack.restartPersister();
    const ids = await sending;
    await unreadIs(alice, ch, 120);
    assert.equal((await entry(bob, ch, 1)).unread_count, 0);
    // The last message counted (a redelivered one may be counted after newer ids) is what clears the channel.
    const last = (await entry(alice, ch)).last_message_id;
    assert.ok(last !== null && ids.includes(last));
    assert.equal((await ack(alice, ch, last)).body.unread_count, 0);
  });

  it('a flood of acks is refused with rate_limited by the per-user request budget', async () => {
    // A user budget below the connection's frame burst (20): the requests, not the frames, run out.
    const limited = await stack.addGateway({ USER_RATE_REQUESTS: '8', HTTP_RATE_REQUESTS: '8' });
    const ch = await group('flood');
    const [id] = await send(ch, 1);
    const c = await RawClient.open(`ws://127.0.0.1:${limited.port}/ws`);
    open.push(c);
    await c.identify(alice.token);
    const codes: string[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await c.request('read.ack', { channel_id: ch, message_id: id });
      codes.push(r.ok ? 'ok' : r.error.code);
    }
    assert.ok(codes.includes('rate_limited'), codes.join(','));
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await ack(alice, ch, id, stack.gateways.indexOf(limited))).status);
    assert.ok(statuses.includes(429), statuses.join(','));
  });
});

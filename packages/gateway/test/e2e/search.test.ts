// Full-text search through real gateways, RabbitMQ, the persister and MongoDB (or its stand-in):
// `GET /api/search` and REQUEST `message.search`. Each write is awaited through its delivery to a
// connected member (the persister publishes only what it stored), never by sleeping.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient } from '@chat/client';
import { RawClient } from './raw-client.js';
import { http, type Stack, signUp, startStack } from './stack.js';

type User = Awaited<ReturnType<typeof signUp>>;
type Msg = { id: string; channel_id: string; content: string };

describe('searching messages', () => {
  let stack: Stack;
  let alice: User;
  let bob: User;
  let carol: User;
  let group: { id: string };
  let dm: { id: string };
  /** Alice's socket: she is in every channel here, so every stored change reaches it. */
  let watcher: RawClient;
  const sent: Record<string, Msg> = {};

  const base = () => stack.gateways[0]!.url;
  const search = (who: User, query: string, gw = 0) =>
    http(stack.gateways[gw]!.url, 'GET', `/api/search?${query}`, undefined, who.token);
  const q = (params: Record<string, string>) => new URLSearchParams(params).toString();
  const ids = (body: Msg[]) => body.map((m) => m.id);

  /** Sends over HTTP and resolves once alice's socket got the stored message. */
  async function send(who: User, channel: string, content: string, key = content): Promise<Msg> {
    const res = await http(base(), 'POST', `/api/channels/${channel}/messages`, { content }, who.token);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    await watcher.next((f) => f.t === 'MESSAGE_CREATE' && f.d.id === res.body.id);
    sent[key] = res.body;
    return res.body;
  }

  before(async () => {
    stack = await startStack({ gateways: 2 });
    alice = await signUp(base(), 'alice');
    bob = await signUp(base(), 'bob');
    carol = await signUp(base(), 'carol');
    group = (
      await http(base(), 'POST', '/api/channels', { kind: 'group', name: 'pals', recipients: [bob.id] }, alice.token)
    ).body;
    dm = (await http(base(), 'POST', '/api/channels', { kind: 'dm', recipients: [carol.id] }, alice.token)).body;
    watcher = await RawClient.open(`ws://127.0.0.1:${stack.gateways[1]!.port}/ws`);
    await watcher.identify(alice.token);
    await send(alice, group.id, 'The quick brown fox');
    await send(bob, group.id, 'Quick thinking wins');
    await send(alice, group.id, 'slow brown dog');
    await send(carol, dm.id, 'secret brown plan');
    await send(carol, dm.id, 'Café meeting at noon');
  });
  after(async () => {
    watcher?.close();
    await stack?.close();
  });

  it('finds the messages of every channel of the caller, newest first, and never those of a channel it is not in', async () => {
    const a = await search(alice, q({ q: 'brown' }));
    assert.equal(a.status, 200, JSON.stringify(a.body));
    assert.deepEqual(ids(a.body), [
      sent['secret brown plan']!.id,
      sent['slow brown dog']!.id,
      sent['The quick brown fox']!.id,
    ]);
    assert.deepEqual(a.body[0], sent['secret brown plan'], 'results are the protocol Message objects');
    const b = await search(bob, q({ q: 'brown' }), 1);
    assert.deepEqual(
      ids(b.body),
      [sent['slow brown dog']!.id, sent['The quick brown fox']!.id],
      'not the DM bob is not in',
    );
    const bobSecret = await search(bob, q({ q: 'secret plan' }));
    assert.deepEqual(bobSecret.body, []);
    const c = await search(carol, q({ q: 'brown' }));
    assert.deepEqual(ids(c.body), [sent['secret brown plan']!.id]);
  });

  it('requires every word, ignoring case and accents, and matches words not stems', async () => {
    assert.deepEqual(ids((await search(alice, q({ q: 'QUICK brown' }))).body), [sent['The quick brown fox']!.id]);
    assert.deepEqual(ids((await search(alice, q({ q: 'cafe' }))).body), [sent['Café meeting at noon']!.id]);
    assert.deepEqual(ids((await search(alice, q({ q: 'CAFÉ, noon!' }))).body), [sent['Café meeting at noon']!.id]);
    assert.deepEqual((await search(alice, q({ q: 'meet' }))).body, []);
  });

  it('narrows to one channel of the caller; a channel it is not in is refused as history refuses it', async () => {
    const inGroup = await search(alice, q({ q: 'brown', channel_id: group.id }));
    assert.deepEqual(ids(inGroup.body), [sent['slow brown dog']!.id, sent['The quick brown fox']!.id]);
    for (const channel of [dm.id, '123456789']) {
      const refused = await search(bob, q({ q: 'brown', channel_id: channel }));
      assert.equal(refused.status, 403);
      assert.equal(refused.body.code, 'not_a_member');
      const history = await http(base(), 'GET', `/api/channels/${channel}/messages`, undefined, bob.token);
      assert.deepEqual([history.status, history.body.code], [refused.status, refused.body.code]);
    }
  });

  it('pages with before: every match once, newest first, then an empty page', async () => {
    const page: string[] = [];
    for (let i = 0; i < 7; i++) page.unshift((await send(bob, group.id, `paging item ${i}`)).id);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const res = await search(
        alice,
        q({ q: 'paging', limit: '3', ...(cursor ? { before: cursor } : {}) }),
        seen.length % 2,
      );
      assert.equal(res.status, 200);
      assert.ok(res.body.length <= 3);
      if (res.body.length === 0) break;
      seen.push(...ids(res.body));
      cursor = res.body.at(-1).id;
    }
    assert.deepEqual(seen, page);
  });

  it('a deleted message is gone from the results', async () => {
    const target = sent['slow brown dog']!;
    const del = await http(base(), 'DELETE', `/api/channels/${group.id}/messages/${target.id}`, undefined, alice.token);
    assert.equal(del.status, 204);
    await watcher.next((f) => f.t === 'MESSAGE_DELETE' && f.d.id === target.id);
    assert.deepEqual((await search(alice, q({ q: 'slow' }))).body, []);
    assert.ok(!ids((await search(alice, q({ q: 'brown' }))).body).includes(target.id));
  });

  it('an edited message is found by its new words and no longer by its old ones', async () => {
    const target = sent['Quick thinking wins']!;
    const edit = await http(
      base(),
      'PATCH',
      `/api/channels/${group.id}/messages/${target.id}`,
      { content: 'careful planning wins' },
      bob.token,
    );
    assert.equal(edit.status, 200);
    await watcher.next((f) => f.t === 'MESSAGE_UPDATE' && f.d.id === target.id);
    assert.deepEqual((await search(alice, q({ q: 'thinking' }))).body, []);
    const found = await search(alice, q({ q: 'careful wins' }));
    assert.deepEqual(ids(found.body), [target.id]);
    assert.equal(found.body[0].content, 'careful planning wins');
    assert.notEqual(found.body[0].edited_timestamp, null);
  });

  it('refuses queries past their bounds with invalid_request, unknown parameters with unknown_field', async () => {
    const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(' ');
    const refused: Array<[Record<string, string>, string]> = [
      [{}, 'invalid_request'],
      [{ q: '' }, 'invalid_request'],
      [{ q: ' !?… ' }, 'invalid_request'],
      [{ q: 'a'.repeat(201) }, 'invalid_request'],
      [{ q: words(11) }, 'invalid_request'],
      [{ q: 'brown', limit: '0' }, 'invalid_request'],
      [{ q: 'brown', limit: '51' }, 'invalid_request'],
      [{ q: 'brown', limit: 'ten' }, 'invalid_request'],
      [{ q: 'brown', before: '01' }, 'invalid_request'],
      [{ q: 'brown', channel_id: 'general' }, 'invalid_request'],
      [{ q: 'brown', sort: 'score' }, 'unknown_field'],
    ];
    for (const [params, code] of refused) {
      const res = await search(alice, q(params));
      assert.equal(res.status, 400, `${JSON.stringify(params)}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.code, code, JSON.stringify(params));
    }
    // At the bounds: 200 code points (astral characters count once) and 10 words are accepted.
    assert.equal((await search(alice, q({ q: '𝒜'.repeat(200) }))).status, 200);
    assert.equal((await search(alice, q({ q: words(10) + ' w1 w2' }))).status, 200, 'repeated words count once');
    assert.equal((await search(alice, q({ q: 'brown', limit: '50' }))).status, 200);
    const anonymous = await http(base(), 'GET', `/api/search?${q({ q: 'brown' })}`);
    assert.equal(anonymous.status, 401);
  });

  it('answers REQUEST message.search over the socket and client.search() as the HTTP route does', async () => {
    const raw = await RawClient.open(`ws://127.0.0.1:${stack.gateways[0]!.port}/ws`);
    try {
      await raw.identify(carol.token);
      const res = await raw.request('message.search', { q: 'brown', channel_id: null, before: null, limit: 10 });
      assert.equal(res.ok, true, JSON.stringify(res));
      assert.deepEqual(res.result, (await search(carol, q({ q: 'brown', limit: '10' }))).body);
      const bad = await raw.request('message.search', { q: 'brown', limit: 99 });
      assert.equal(bad.ok, false);
      assert.equal(bad.error.code, 'invalid_request');
      const unknown = await raw.request('message.search', { q: 'brown', sort: 'x' });
      assert.equal(unknown.error.code, 'unknown_field');
    } finally {
      raw.close();
    }
    const client = createClient({ baseUrl: base(), token: alice.token });
    try {
      const overHttp = await client.search('brown', { channelId: group.id, limit: 5 });
      assert.deepEqual(ids(overHttp as Msg[]), [sent['The quick brown fox']!.id]);
      await client.connect();
      const overSocket = await client.search('paging', { limit: 2 });
      assert.equal(overSocket.length, 2);
      const next = await client.search('paging', { limit: 2, before: overSocket[1]!.id });
      assert.ok(BigInt(next[0]!.id) < BigInt(overSocket[1]!.id));
    } finally {
      await client.close();
    }
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { partitionOf, slotOf } from '@chat/router';
import { RawClient } from './raw-client.js';
import { http, type Stack, signUp, startStack, waitFor, waitForStored } from './stack.js';

const byId = (a: { id: string }, b: { id: string }) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1);

describe('chatting across two gateways', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ gateways: 2 });
  });
  after(async () => stack?.close());

  it('two users on different gateways exchange DMs and group messages, and each sees the other’s in id order', async () => {
    const [gwA, gwB] = stack.gateways;
    const alice = await signUp(gwA!.url, 'alice');
    const bob = await signUp(gwB!.url, 'bob');
    const carol = await signUp(gwA!.url, 'carol');
    const dm = (await http(gwA!.url, 'POST', '/api/channels', { kind: 'dm', recipients: [bob.id] }, alice.token)).body;
    const group = (
      await http(
        gwB!.url,
        'POST',
        '/api/channels',
        { kind: 'group', name: 'trio', recipients: [alice.id, carol.id] },
        bob.token,
      )
    ).body;
    const a = await RawClient.open(`ws://127.0.0.1:${gwA!.port}/ws`);
    const b = await RawClient.open(`ws://127.0.0.1:${gwB!.port}/ws`);
    const readyA = await a.identify(alice.token);
    await b.identify(bob.token);
    assert.deepEqual(readyA.user, { id: alice.id, username: 'alice' });
    assert.ok(readyA.channels.some((c: { id: string }) => c.id === dm.id));
    assert.ok(readyA.channels.some((c: { id: string }) => c.id === group.id));
    assert.ok(
      readyA.channels.some((c: { id: string; name: string }) => c.id === '1' && c.name === 'official'),
      'everyone joins the default group',
    );

    const sent: Array<{ id: string; channel_id: string }> = [];
    for (let i = 0; i < 20; i++) {
      const [who, channel] = [
        [a, dm.id],
        [b, dm.id],
        [a, group.id],
        [b, group.id],
      ][i % 4] as [RawClient, string];
      const res = await who.request('message.create', { channel_id: channel, content: `m${i}` });
      assert.equal(res.ok, true, JSON.stringify(res));
      sent.push(res.result);
    }
    for (const [client, label] of [
      [a, 'alice'],
      [b, 'bob'],
    ] as const) {
      await waitFor(
        () => client.frames.filter((f) => f.t === 'MESSAGE_CREATE').length >= 20,
        `${label} to receive all 20`,
      );
      const got = client.frames.filter((f) => f.t === 'MESSAGE_CREATE').map((f) => f.d);
      assert.deepEqual(got.map((m) => m.id).sort(), sent.map((m) => m.id).sort(), `${label} got every message once`);
      const perChannel = (ch: string) => got.filter((m) => m.channel_id === ch).map((m) => m.id);
      for (const ch of [dm.id, group.id])
        assert.deepEqual(
          perChannel(ch),
          [...perChannel(ch)].sort((x, y) => byId({ id: x }, { id: y })),
          'in id order per channel',
        );
      const seqs = client.frames.filter((f) => f.op === 0).map((f) => f.s!);
      assert.deepEqual(
        seqs,
        seqs.map((_, i) => i + 1),
        'the per-connection sequence counts every DISPATCH',
      );
    }
    a.close();
    b.close();
  });

  it('a group whose members’ slots span several partitions delivers each message to each socket exactly once', async () => {
    const gw = stack.gateways[0]!;
    const users = [];
    for (let i = 0; i < 12; i++) users.push(await signUp(gw.url, `span${i}`));
    const group = (
      await http(
        gw.url,
        'POST',
        '/api/channels',
        { kind: 'group', name: 'span', recipients: users.slice(1).map((u) => u.id) },
        users[0]!.token,
      )
    ).body;
    const sockets = await Promise.all(
      users.map(async (u) => {
        const c = await RawClient.open(`ws://127.0.0.1:${gw.port}/ws`);
        await c.identify(u.token);
        return c;
      }),
    );
    const partitions = new Set(users.map((u) => partitionOf(slotOf(u.id))));
    assert.ok(partitions.size > 1, 'the members hash into several partitions');
    const sent: string[] = [];
    for (let i = 0; i < 5; i++)
      sent.push(
        (await http(gw.url, 'POST', `/api/channels/${group.id}/messages`, { content: `span ${i}` }, users[i]!.token))
          .body.id,
      );
    await waitFor(
      () => sockets.every((c) => sent.every((id) => c.frames.some((f) => f.t === 'MESSAGE_CREATE' && f.d.id === id))),
      'every socket to get every message',
    );
    await sleep(500);
    for (const c of sockets) {
      const ids = c.frames.filter((f) => f.t === 'MESSAGE_CREATE' && f.d.channel_id === group.id).map((f) => f.d.id);
      assert.deepEqual(ids, sent, 'each message once, in order');
      c.close();
    }
  });

  it('history over HTTP and over history.get agree with what was sent, page by page', async () => {
    const [gwA, gwB] = stack.gateways;
    const dave = await signUp(gwA!.url, 'dave');
    const erin = await signUp(gwB!.url, 'erin');
    const group = (
      await http(
        gwA!.url,
        'POST',
        '/api/channels',
        { kind: 'group', name: 'history', recipients: [erin.id] },
        dave.token,
      )
    ).body;
    const sent: string[] = [];
    for (let i = 0; i < 120; i++) {
      const res = await http(
        i % 2 ? gwA!.url : gwB!.url,
        'POST',
        `/api/channels/${group.id}/messages`,
        { content: `h${i}` },
        i % 2 ? dave.token : erin.token,
      );
      assert.equal(res.status, 201);
      sent.push(res.body.id);
    }
    await waitForStored(gwA!.url, group.id, sent.at(-1)!, dave.token);
    const newestFirst = [...sent].reverse();
    // HTTP: pages of 50 walking backwards with `before`.
    const pages: string[] = [];
    let before: string | undefined;
    for (;;) {
      const q = before ? `?limit=50&before=${before}` : '?limit=50';
      const page = (await http(gwB!.url, 'GET', `/api/channels/${group.id}/messages${q}`, undefined, erin.token))
        .body as Array<{ id: string }>;
      if (page.length === 0) break;
      pages.push(...page.map((m) => m.id));
      before = page.at(-1)!.id;
    }
    assert.deepEqual(pages, newestFirst);
    // WebSocket: the same through history.get, and `after` paging forward.
    const ws = await RawClient.open(`ws://127.0.0.1:${gwA!.port}/ws`);
    await ws.identify(dave.token);
    const first = await ws.request('history.get', { channel_id: group.id, limit: 100 });
    assert.deepEqual(
      first.result.map((m: { id: string }) => m.id),
      newestFirst.slice(0, 100),
    );
    const afterRes = await ws.request('history.get', { channel_id: group.id, after: sent[9], limit: 5 });
    assert.deepEqual(
      afterRes.result.map((m: { id: string }) => m.id),
      sent.slice(10, 15).reverse(),
    );
    const httpAfter = (
      await http(gwB!.url, 'GET', `/api/channels/${group.id}/messages?after=${sent[9]}&limit=5`, undefined, erin.token)
    ).body;
    assert.deepEqual(
      httpAfter.map((m: { id: string }) => m.id),
      afterRes.result.map((m: { id: string }) => m.id),
    );
    ws.close();
  });

  it('a retried message.create with the same nonce returns the same id and stores one message', async () => {
    const [gwA, gwB] = stack.gateways;
    const frank = await signUp(gwA!.url, 'frank');
    const ws = await RawClient.open(`ws://127.0.0.1:${gwA!.port}/ws`);
    await ws.identify(frank.token);
    const params = { channel_id: '1', content: 'only once', nonce: 'retry-me-42' };
    const [r1, r2] = await Promise.all([ws.request('message.create', params), ws.request('message.create', params)]);
    const r3 = await http(
      gwB!.url,
      'POST',
      '/api/channels/1/messages',
      { content: 'only once', nonce: 'retry-me-42' },
      frank.token,
    );
    assert.equal(r1.ok && r2.ok, true);
    assert.equal(r1.result.id, r2.result.id);
    assert.equal(r3.body.id, r1.result.id, 'also across gateways and transports');
    await sleep(1000);
    const history = (await http(gwA!.url, 'GET', '/api/channels/1/messages?limit=100', undefined, frank.token))
      .body as Array<{ nonce: string }>;
    assert.equal(history.filter((m) => m.nonce === 'retry-me-42').length, 1);
    ws.close();
  });

  it('edits and deletes reach the other members and history reflects them', async () => {
    const [gwA, gwB] = stack.gateways;
    const gina = await signUp(gwA!.url, 'gina');
    const hank = await signUp(gwB!.url, 'hank');
    const dm = (await http(gwA!.url, 'POST', '/api/channels', { kind: 'dm', recipients: [hank.id] }, gina.token)).body;
    const h = await RawClient.open(`ws://127.0.0.1:${gwB!.port}/ws`);
    await h.identify(hank.token);
    const sent = (await http(gwA!.url, 'POST', `/api/channels/${dm.id}/messages`, { content: 'typo' }, gina.token))
      .body;
    await h.next((f) => f.t === 'MESSAGE_CREATE' && f.d.id === sent.id);
    const denied = await http(
      gwB!.url,
      'PATCH',
      `/api/channels/${dm.id}/messages/${sent.id}`,
      { content: 'hijack' },
      hank.token,
    );
    assert.equal(denied.status, 403);
    assert.equal(denied.body.code, 'not_author');
    const edited = await http(
      gwA!.url,
      'PATCH',
      `/api/channels/${dm.id}/messages/${sent.id}`,
      { content: 'fixed' },
      gina.token,
    );
    assert.equal(edited.status, 200);
    assert.equal(edited.body.content, 'fixed');
    const upd = await h.next((f) => f.t === 'MESSAGE_UPDATE' && f.d.id === sent.id);
    assert.equal(upd.d.content, 'fixed');
    assert.ok(upd.d.edited_timestamp);
    assert.equal(
      (await http(gwA!.url, 'DELETE', `/api/channels/${dm.id}/messages/${sent.id}`, undefined, gina.token)).status,
      204,
    );
    await h.next((f) => f.t === 'MESSAGE_DELETE' && f.d.id === sent.id);
    const history = (await http(gwB!.url, 'GET', `/api/channels/${dm.id}/messages`, undefined, hank.token)).body;
    assert.deepEqual(history, []);
    h.close();
  });
});

// The operator's view through real gateways, RabbitMQ (with its management API), Redis and the persister:
// only ADMIN_USERS get in, gateways show their connections and bound keys, queues their depths, and the
// dead-letter queue lists each write with its reason; a requeued write is stored and delivered exactly
// once, a discarded one is gone.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MAX_LISTED_BOUND_KEYS } from '@chat/protocol';
import amqp from 'amqplib';
import { type AdminStack, deadLetteredJunk, deadLetteredMessage, startAdminStack } from './admin-stack.js';
import { RawClient } from './raw-client.js';
import { http, signUp, waitFor } from './stack.js';

describe('operator view (admin API)', { timeout: 240_000 }, () => {
  let sys: AdminStack;
  let base: string;
  const get = (path: string, token = sys.admin.token) => http(base, 'GET', path, undefined, token);

  before(async () => {
    sys = await startAdminStack(2);
    base = sys.stack.gateways[0]!.url;
  });
  after(async () => sys?.close());

  it('answers a non-admin 403 forbidden on every admin route, and no token 401', async () => {
    const user = await signUp(base, 'plainuser');
    for (const [method, path] of [
      ['GET', '/api/admin/gateways'],
      ['GET', '/api/admin/queues'],
      ['GET', '/api/v1/admin/dead-letters'],
      ['POST', '/api/admin/dead-letters/0123456789abcdef/requeue'],
      ['DELETE', '/api/admin/dead-letters/0123456789abcdef'],
    ] as const) {
      const r = await http(base, method, path, undefined, user.token);
      assert.equal(r.status, 403, `${method} ${path}`);
      assert.equal(r.body.code, 'forbidden');
      assert.equal((await http(base, method, path)).status, 401);
    }
    const ok = await get('/api/admin/gateways');
    assert.equal(ok.status, 200);
  });

  it('lists each gateway with its connection count and the keys bound to its queue', async () => {
    const [gw0, gw1] = sys.stack.gateways;
    const users = [await signUp(base, 'conn-a'), await signUp(base, 'conn-b'), await signUp(base, 'conn-c')];
    const sockets: RawClient[] = [];
    for (const [i, u] of users.entries()) {
      const c = await RawClient.open(`ws://127.0.0.1:${(i < 2 ? gw0! : gw1!).port}/ws`);
      await c.identify(u.token);
      sockets.push(c);
    }
    try {
      type Gw = { server_id: string; connections: number; bound_key_count: number; bound_keys: string[] };
      let listed: Gw[] = [];
      await waitFor(
        async () => {
          listed = (await get('/api/admin/gateways')).body;
          const by = (id: string) => listed.find((g) => g.server_id === id);
          return by('gw0')?.connections === 2 && by('gw1')?.connections === 1;
        },
        'the gateways to report 2 and 1 connections',
        30_000,
        250,
      );
      for (const g of listed) {
        assert.equal((g as unknown as { live: boolean }).live, true);
        assert.equal((g as unknown as { queue: string }).queue, `${sys.stack.prefix}.gw.${g.server_id}`);
        assert.ok(g.bound_key_count >= 1, `${g.server_id} has bound keys`);
        assert.equal(g.bound_keys.length, Math.min(g.bound_key_count, 200));
      }
    } finally {
      for (const s of sockets) s.close();
    }
  });

  it('lists at most 200 bound keys per gateway, and counts them all', async () => {
    // 250 more keys bound to gw1's queue on the front exchange, as slot keys are.
    const queue = `${sys.stack.prefix}.gw.gw1`;
    const conn = await amqp.connect(sys.rabbit.url);
    try {
      const ch = await conn.createChannel();
      for (let i = 0; i < 250; i++) await ch.bindQueue(queue, `${sys.stack.prefix}.route`, `extra.${i}`);
      await ch.close();
    } finally {
      await conn.close();
    }
    const gw1 = (await get('/api/admin/gateways')).body.find((g: { server_id: string }) => g.server_id === 'gw1');
    assert.ok(gw1.bound_key_count >= 250, `${gw1.bound_key_count} keys counted`);
    assert.equal(gw1.bound_keys.length, MAX_LISTED_BOUND_KEYS);
  });

  it('lists the queues of the deployment with depth and consumers', async () => {
    const p = sys.stack.prefix;
    const persistOf = (b: { queues: Array<{ name: string; type: string; consumers: number }> }) =>
      b.queues.find((q) => q.name === `${p}.persist`);
    // The management API samples its figures: wait for a sample that has the persister's consumer.
    let r = await get('/api/admin/queues');
    await waitFor(
      async () => {
        r = await get('/api/admin/queues');
        assert.equal(r.status, 200);
        return (persistOf(r.body)?.consumers ?? 0) >= 1;
      },
      'the persister as a consumer of the persist queue',
      30_000,
      250,
    );
    const names = r.body.queues.map((q: { name: string }) => q.name);
    for (const n of [`${p}.persist`, `${p}.persist.dead`, `${p}.gw.gw0`, `${p}.gw.gw1`])
      assert.ok(names.includes(n), n);
    assert.equal(persistOf(r.body)!.type, 'quorum');
    // Past 500 queues of the prefix the listing stops there and says so (exclusive: gone with the connection).
    const conn = await amqp.connect(sys.rabbit.url);
    try {
      const ch = await conn.createChannel();
      for (let i = 0; i < 500; i++) await ch.assertQueue(`${p}.extra.${i}`, { exclusive: true });
      const many = await get('/api/admin/queues');
      assert.equal(many.body.queues.length, 500);
      assert.equal(many.body.truncated, true);
    } finally {
      await conn.close();
    }
    assert.equal(r.body.truncated, false);
  });

  it('lists a dead-lettered write with its reason; requeued, it is stored and delivered exactly once', async () => {
    const { bob, alice, channelId, id } = await deadLetteredMessage(sys, 'dl', 'from the dead-letter queue');
    const dm = { id: channelId };
    const bobWs = await RawClient.open(`ws://127.0.0.1:${sys.stack.gateways[1]!.port}/ws`);
    await bobWs.identify(bob.token);
    try {
      let letter: { id: string; reason: string; message_id: string; type: string; body: string } | undefined;
      await waitFor(
        async () => {
          const list = await get('/api/admin/dead-letters?limit=100');
          assert.equal(list.status, 200);
          letter = list.body.dead_letters.find((d: { message_id: string }) => d.message_id === id);
          return letter !== undefined;
        },
        'the write in the dead-letter queue',
        30_000,
        250,
      );
      assert.equal(letter!.reason, 'writer_not_allowed');
      assert.equal(letter!.type, 'message.create');
      assert.match(letter!.id, /^[0-9a-f]{16}$/);
      assert.equal(JSON.parse(letter!.body).content, 'from the dead-letter queue');
      const history = await http(base, 'GET', `/api/channels/${dm.id}/messages`, undefined, bob.token);
      assert.equal(history.body.length, 0, 'not stored while dead-lettered');

      const requeued = await http(
        base,
        'POST',
        `/api/admin/dead-letters/${letter!.id}/requeue`,
        undefined,
        sys.admin.token,
      );
      assert.equal(requeued.status, 200);
      assert.equal(requeued.body.message_id, id);
      await bobWs.next((f) => f.t === 'MESSAGE_CREATE' && f.d?.id === id, 20_000);
      // A later message in the same channel is the barrier: once bob has it, a duplicate would have come.
      const later = await http(base, 'POST', `/api/channels/${dm.id}/messages`, { content: 'later' }, alice.token);
      assert.equal(later.status, 201);
      await bobWs.next((f) => f.t === 'MESSAGE_CREATE' && f.d?.id === later.body.id, 20_000);
      assert.equal(bobWs.frames.filter((f) => f.t === 'MESSAGE_CREATE' && f.d?.id === id).length, 1);
      const stored = await http(base, 'GET', `/api/channels/${dm.id}/messages`, undefined, bob.token);
      assert.deepEqual(
        stored.body.map((m: { id: string }) => m.id),
        [later.body.id, id],
      );
      const after = await get('/api/admin/dead-letters?limit=100');
      assert.equal(after.body.dead_letters.filter((d: { id: string }) => d.id === letter!.id).length, 0);
    } finally {
      bobWs.close();
    }
  });

  it('discards a dead letter for good; unknown ids are 404 and the listing is bounded', async () => {
    const body = await deadLetteredJunk(sys, 'discard');
    let id = '';
    await waitFor(
      async () => {
        const list = await get('/api/admin/dead-letters');
        const found = list.body.dead_letters.find((d: { body: string }) => d.body === body);
        id = found?.id ?? '';
        return found?.reason === 'invalid_json';
      },
      'the invalid write in the dead-letter queue',
      30_000,
      250,
    );
    const discarded = await http(base, 'DELETE', `/api/admin/dead-letters/${id}`, undefined, sys.admin.token);
    assert.equal(discarded.status, 200);
    assert.equal(discarded.body.reason, 'invalid_json');
    const list = await get('/api/admin/dead-letters?limit=100');
    assert.equal(list.body.dead_letters.filter((d: { id: string }) => d.id === id).length, 0);
    const again = await http(base, 'DELETE', `/api/admin/dead-letters/${id}`, undefined, sys.admin.token);
    assert.equal(again.status, 404);
    const requeueGone = await http(base, 'POST', `/api/admin/dead-letters/${id}/requeue`, undefined, sys.admin.token);
    assert.equal(requeueGone.status, 404);
    assert.equal(
      (await http(base, 'DELETE', '/api/admin/dead-letters/not-an-id', undefined, sys.admin.token)).status,
      404,
    );
    assert.equal((await get('/api/admin/dead-letters?limit=101')).status, 400);
    assert.equal((await get('/api/admin/dead-letters?limit=0')).status, 400);
    assert.equal((await get('/api/admin/dead-letters?color=red')).body.code, 'unknown_field');
  });

  it('logs every admin action once: who, what and which dead letter', async () => {
    const logs = sys.stack.gateways.flatMap((g) => g.logs);
    const requeues = logs.filter(
      (l) => l.includes('"msg":"admin action"') && l.includes('"action":"dead_letters.requeue"'),
    );
    assert.equal(requeues.length, 1);
    assert.match(requeues[0]!, /"admin":"opsadmin"/);
    assert.match(requeues[0]!, /"dead_letter":"[0-9a-f]{16}"/);
    assert.match(requeues[0]!, /"reason":"writer_not_allowed"/);
    const refused = logs.filter((l) => l.includes('"msg":"admin action refused: not an admin"'));
    assert.ok(refused.some((l) => l.includes('"admin":"plainuser"')));
  });
});

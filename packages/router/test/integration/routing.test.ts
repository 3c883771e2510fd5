import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type DispatchEnvelope, partitionOf, type Router, slotOf } from '@chat/router';
import { amqpUrl, useAmqpLeakCheck } from '@chat/testkit';
import amqp from 'amqplib';
import { type RouterFixture, routerFixture, usersInDistinctPartitions, waitFor } from './fixture.js';

useAmqpLeakCheck();

function typing(to: string[], n: number): DispatchEnvelope {
  return { v: 1, type: 'dispatch', event: 'TYPING_START', to, data: { n } };
}

/** A gateway router that records what its consumer receives. */
async function gateway(fx: RouterFixture, serverId: string, extra: Parameters<RouterFixture['make']>[0] = {}) {
  const router = fx.make({ serverId, ...extra });
  const received: Array<{ n: number; to: string[] }> = [];
  await router.ready(10_000);
  await router.consume((env) => {
    received.push({ n: (env.data as { n: number }).n, to: env.to ?? [] });
  });
  return { router, received };
}

async function metricValue(router: Router, name: string): Promise<number> {
  const text = await router.registry.getSingleMetricAsString(name);
  const line = text.split('\n').find((l) => l.startsWith(name) && !l.startsWith('#'));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

async function settle(ms = 300) {
  await sleep(ms);
}

for (const granularity of ['slot', 'user'] as const) {
  describe(`routing in ${granularity} granularity`, () => {
    let fx: RouterFixture;
    afterEach(async () => fx.cleanup());

    it('a dispatch to a user reaches exactly the gateways where that user is attached, and stops after detach', async () => {
      fx = routerFixture({ granularity, label: `route-${granularity}` });
      const a = await gateway(fx, 'a');
      const b = await gateway(fx, 'b');
      const c = await gateway(fx, 'c');
      const svc = fx.make();
      // Users in distinct slots (and partitions) so slot mode cannot deliver one user's traffic to another's gateway.
      const [alice, bob] = usersInDistinctPartitions(2);
      await a.router.attach(alice!);
      await b.router.attach(bob!);
      await c.router.attach(alice!); // alice also has a socket on c

      await svc.dispatch(typing([alice!], 1), { users: [alice!] }, { confirm: true });
      await svc.dispatch(typing([bob!], 2), { users: [bob!] }, { confirm: true });
      await waitFor(() => a.received.length >= 1 && b.received.length >= 1 && c.received.length >= 1, 'deliveries');
      await settle();
      assert.deepEqual(
        a.received.map((r) => r.n),
        [1],
      );
      assert.deepEqual(
        b.received.map((r) => r.n),
        [2],
      );
      assert.deepEqual(
        c.received.map((r) => r.n),
        [1],
      );

      a.router.detach(alice!);
      await a.router.bindingsSettled();
      await svc.dispatch(typing([alice!], 3), { users: [alice!] }, { confirm: true });
      await waitFor(() => c.received.length >= 2, 'delivery to c');
      await settle();
      assert.deepEqual(
        a.received.map((r) => r.n),
        [1],
        'a no longer receives alice after detach',
      );
      assert.deepEqual(
        c.received.map((r) => r.n),
        [1, 3],
      );
    });

    it('two attachments of one user hold one binding until both are detached', async () => {
      fx = routerFixture({ granularity, label: `refs-${granularity}` });
      const a = await gateway(fx, 'a');
      const svc = fx.make();
      await Promise.all([a.router.attach('carol'), a.router.attach('carol')]);
      assert.equal(a.router.stats().boundKeys, 1);
      assert.equal(a.router.stats().references, 2);

      a.router.detach('carol');
      await a.router.bindingsSettled();
      await svc.dispatch(typing(['carol'], 1), { users: ['carol'] }, { confirm: true });
      await waitFor(() => a.received.length === 1, 'delivery with one attachment left');

      a.router.detach('carol');
      await a.router.bindingsSettled();
      assert.equal(a.router.stats().boundKeys, 0);
      await svc.dispatch(typing(['carol'], 2), { users: ['carol'] }, { confirm: true });
      await settle();
      assert.deepEqual(
        a.received.map((r) => r.n),
        [1],
      );
    });

    it(
      granularity === 'slot'
        ? 'a dispatch to users across partitions is one publish (front exchange) and one copy per gateway queue'
        : 'a dispatch to users across partitions is one publish per partition, handed over once per gateway',
      async () => {
        // To their keys (the broadcast path is the next test's).
        fx = routerFixture({ granularity, broadcastAboveKeys: 'off', label: `cc-${granularity}` });
        const a = await gateway(fx, 'a');
        const b = await gateway(fx, 'b');
        const svc = fx.make();
        const users = usersInDistinctPartitions(6); // six partitions
        // More users sharing partitions with the first ones, to put several keys in one publish.
        const extra = ['x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7', 'x8'];
        for (const u of users.slice(0, 3)) await a.router.attach(u);
        for (const u of users.slice(3)) await b.router.attach(u);
        for (const u of extra) await a.router.attach(u);
        const everyone = [...users, ...extra];
        const partitions = new Set(everyone.map((u) => partitionOf(slotOf(u))));
        const expected = granularity === 'slot' ? 1 : partitions.size;

        const publishes = await svc.dispatch(typing(everyone, 7), { users: everyone }, { confirm: true });
        assert.equal(publishes, expected);
        const metrics = await svc.registry.getSingleMetricAsString('chat_router_publishes_total');
        assert.match(metrics, new RegExp(`kind="dispatch",outcome="ok"} ${expected}$`, 'm'));

        await waitFor(() => a.received.length >= 1 && b.received.length >= 1, 'deliveries');
        // Per-partition publishes put one copy per partition into a queue bound in several (the
        // consumer hands the dispatch over once); the front exchange routes one publish to a queue once.
        const aPartitions = new Set([...users.slice(0, 3), ...extra].map((u) => partitionOf(slotOf(u))));
        const bPartitions = new Set(users.slice(3).map((u) => partitionOf(slotOf(u))));
        const aCopies = granularity === 'slot' ? 0 : aPartitions.size - 1;
        const bCopies = granularity === 'slot' ? 0 : bPartitions.size - 1;
        await waitFor(
          async () =>
            (await metricValue(a.router, 'chat_router_duplicate_deliveries_total')) === aCopies &&
            (await metricValue(b.router, 'chat_router_duplicate_deliveries_total')) === bCopies,
          'every copy to arrive',
        );
        // A probe dispatched after it arrives after it: no late extra copy can be counted now.
        await svc.dispatch(typing(everyone, 8), { users: everyone }, { confirm: true });
        await waitFor(() => a.received.length >= 2 && b.received.length >= 2, 'probe deliveries');
        await settle();
        assert.deepEqual(
          a.received.map((r) => r.n),
          [7, 8],
        );
        assert.deepEqual(
          b.received.map((r) => r.n),
          [7, 8],
        );
        assert.equal(await metricValue(a.router, 'chat_router_duplicate_deliveries_total'), aCopies * 2);
        assert.equal(await metricValue(b.router, 'chat_router_duplicate_deliveries_total'), bCopies * 2);
      },
    );

    it('above broadcastAboveKeys a dispatch is one publish to every gateway queue, handed over only where a key is bound', async () => {
      fx = routerFixture({ granularity, broadcastAboveKeys: 2, label: `bcast-${granularity}` });
      const a = await gateway(fx, 'a');
      const b = await gateway(fx, 'b');
      const c = await gateway(fx, 'c'); // binds no key of the audience
      const svc = fx.make();
      const users = usersInDistinctPartitions(4);
      await a.router.attach(users[0]!);
      await a.router.attach(users[1]!);
      await b.router.attach(users[2]!);
      await c.router.attach('outsider');

      assert.equal(await svc.dispatch(typing(users, 1), { users }, { confirm: true }), 1);
      assert.equal(await metricValue(svc, 'chat_router_broadcasts_total'), 1);
      // Two keys are not above 2: routed to them, so c does not even see it.
      const pair = [users[0]!, users[2]!];
      await svc.dispatch(typing(pair, 2), { users: pair }, { confirm: true });
      assert.equal(await metricValue(svc, 'chat_router_broadcasts_total'), 1);
      await waitFor(() => a.received.length >= 2 && b.received.length >= 2, 'deliveries');
      const foreign = () => metricValue(c.router, 'chat_router_bundle_records_total');
      await waitFor(async () => (await foreign()) === 1, 'c skipping the broadcast');
      // A probe to c's own user, sent after both: once it is in, c has seen all it will see.
      await svc.dispatch(typing(['outsider'], 3), { users: ['outsider'] }, { confirm: true });
      await waitFor(() => c.received.length >= 1, 'the probe to c');
      await settle();
      assert.deepEqual(
        a.received.map((r) => r.n),
        [1, 2],
      );
      assert.deepEqual(
        b.received.map((r) => r.n),
        [1, 2],
      );
      assert.deepEqual(
        c.received.map((r) => r.n),
        [3],
      );
      assert.equal(await foreign(), 1);
    });
  });
}

describe('dispatch to slots', () => {
  let fx: RouterFixture;
  afterEach(async () => fx.cleanup());

  it('a gateway queue gets one copy when several of its users share the addressed slots', async () => {
    fx = routerFixture({ label: 'slots' });
    const a = await gateway(fx, 'a');
    const svc = fx.make();
    // Users of the same slot: one binding on a, one key in the publish.
    const slot = slotOf('dana');
    const sameSlot = ['dana'];
    for (let i = 0; sameSlot.length < 3; i++) if (slotOf(`p${i}`) === slot) sameSlot.push(`p${i}`);
    for (const u of sameSlot) await a.router.attach(u);
    assert.equal(a.router.stats().boundKeys, 1);
    const n = await svc.dispatch(
      { v: 1, type: 'dispatch', event: 'MESSAGE_CREATE', channel_id: 'c1', data: { n: 1 } },
      { users: sameSlot, slots: [slot] },
      { confirm: true },
    );
    assert.equal(n, 1);
    await waitFor(() => a.received.length === 1, 'one delivery');
    await settle();
    assert.equal(a.received.length, 1);
  });
});

describe('consumer robustness', () => {
  let fx: RouterFixture;
  afterEach(async () => fx.cleanup());

  it('malformed envelopes on a gateway queue are counted and dropped, and the consumer keeps going', async () => {
    fx = routerFixture({ label: 'malformed' });
    const a = await gateway(fx, 'a');
    const conn = await amqp.connect(amqpUrl());
    try {
      const ch = await conn.createChannel();
      const q = a.router.gatewayQueue!;
      const bad = [
        'not json',
        '{"v":1,"type":"dispatch","event":"NOPE","to":["x"],"data":{}}',
        '{"v":2,"type":"dispatch","event":"TYPING_START","to":["x"],"data":{}}',
        '{"v":1,"type":"dispatch","event":"TYPING_START","data":{}}',
        '[]',
      ];
      for (const body of bad) ch.sendToQueue(q, Buffer.from(body));
      ch.sendToQueue(q, Buffer.from(JSON.stringify(typing(['x'], 42))));
      await ch.close();
    } finally {
      await conn.close();
    }
    await waitFor(() => a.received.length === 1, 'the valid envelope');
    assert.equal(a.received[0]!.n, 42);
    const dropped = await a.router.registry.getSingleMetricAsString('chat_router_dropped_total');
    for (const reason of ['invalid_json', 'unknown_event', 'unsupported_version', 'no_audience', 'not_an_object']) {
      assert.match(dropped, new RegExp(`reason="${reason}"} 1`), reason);
    }
  });

  it('a handler that throws does not stop the consumer', async () => {
    fx = routerFixture({ label: 'throws' });
    const router = fx.make({ serverId: 'a' });
    await router.ready();
    const seen: number[] = [];
    await router.consume((env) => {
      const n = (env.data as { n: number }).n;
      seen.push(n);
      if (n === 1) throw new Error('boom');
    });
    await router.attach('erin');
    const svc = fx.make();
    await svc.dispatch(typing(['erin'], 1), { users: ['erin'] }, { confirm: true });
    await svc.dispatch(typing(['erin'], 2), { users: ['erin'] }, { confirm: true });
    await waitFor(() => seen.length === 2, 'both envelopes');
    assert.match(await router.registry.getSingleMetricAsString('chat_router_dropped_total'), /handler_error"} 1/);
  });
});

describe('durable writes', () => {
  let fx: RouterFixture;
  afterEach(async () => fx.cleanup());

  function write(id: number) {
    return {
      v: 1 as const,
      type: 'message.create' as const,
      id: String(264905529753620487n + BigInt(id)),
      channel_id: 'c1',
      author: { id: 'u1', username: 'one' },
      content: `m${id}`,
      timestamp: new Date().toISOString(),
    };
  }

  it('a confirmed durable write is in the persist queue and reaches a durable consumer with its properties', async () => {
    fx = routerFixture({ label: 'durable' });
    const svc = fx.make();
    await svc.ready();
    for (let i = 0; i < 50; i++) await svc.durableWrite(write(i));
    const persister: Router = fx.make();
    const got: string[] = [];
    await persister.consumeDurable((d) => {
      got.push(d.envelope.id);
      d.ack();
    });
    await waitFor(() => got.length === 50, '50 durable writes');
    assert.deepEqual(
      got,
      Array.from({ length: 50 }, (_, i) => write(i).id),
      'one publisher, one consumer: queue order',
    );
  });

  it('an invalid durable write is refused before publishing, and a poison message is dead-lettered with its reason', async () => {
    fx = routerFixture({ label: 'poison' });
    const svc = fx.make();
    await svc.ready();
    await assert.rejects(svc.durableWrite({ ...write(1), id: 'nope' }), { code: 'ROUTER_INVALID_ENVELOPE' });
    // A foreign publisher puts garbage in the queue; it must not block the good message behind it.
    const conn = await amqp.connect(amqpUrl());
    try {
      const ch = await conn.createConfirmChannel();
      ch.sendToQueue(svc.names.persistQueue, Buffer.from('{oops'), { persistent: true });
      await ch.waitForConfirms();
      await ch.close();
    } finally {
      await conn.close();
    }
    await svc.durableWrite(write(2));
    const got: string[] = [];
    const persister = fx.make();
    await persister.consumeDurable((d) => {
      if (d.envelope.type === 'message.create' && d.envelope.content === 'm2') got.push(d.envelope.id);
      d.ack();
    });
    await waitFor(() => got.length === 1, 'the good message');
    const conn2 = await amqp.connect(amqpUrl());
    try {
      const ch = await conn2.createChannel();
      let dead: amqp.GetMessage | false = false;
      for (let i = 0; i < 50 && !dead; i++) {
        dead = await ch.get(svc.names.deadQueue, { noAck: true });
        if (!dead) await sleep(100);
      }
      if (!dead) assert.fail('the poison message is not in the dead-letter queue');
      assert.equal(dead.content.toString(), '{oops');
      assert.equal(dead.properties.headers?.['x-chat-dead-reason'], 'invalid_json');
      await ch.close();
    } finally {
      await conn2.close();
    }
  });
});

// Durable writes issued in one event-loop turn travel as one `write.bundle` message; the durable
// consumer hands each record over as a delivery of its own and settles the message once all are.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DurableDelivery } from '@chat/router';
import { amqpUrl, useAmqpLeakCheck } from '@chat/testkit';
import amqp from 'amqplib';
import { createWrite, type RouterFixture, routerFixture, waitFor } from './fixture.js';

useAmqpLeakCheck();

async function metric(router: { registry: { metrics(): Promise<string> } }, pattern: RegExp): Promise<number> {
  const m = (await router.registry.metrics()).match(pattern);
  return m ? Number(m[1]) : 0;
}

async function readyCount(queue: string): Promise<number> {
  const conn = await amqp.connect(amqpUrl());
  try {
    const ch = await conn.createChannel();
    const q = await ch.checkQueue(queue);
    await ch.close();
    return q.messageCount;
  } finally {
    await conn.close();
  }
}

describe('write bundles', () => {
  let fx: RouterFixture;
  afterEach(async () => fx.cleanup());

  it('200 writes issued at once take at most a few messages, and each reaches the consumer once', async () => {
    fx = routerFixture({ label: 'wbundle' });
    const svc = fx.make();
    await svc.ready();
    const writes = Array.from({ length: 200 }, (_, i) => createWrite(i));
    await Promise.all(writes.map((w) => svc.durableWrite(w)));
    const messages = await metric(svc, /chat_router_publishes_total\{kind="durable",outcome="ok"\} (\d+)/);
    assert.ok(messages <= 8, `200 writes in one turn went out as ${messages} messages (≤ 64 writes each)`);
    assert.equal(await metric(svc, /chat_router_durable_writes_per_message_sum (\d+)/), 200);
    assert.equal(await readyCount(svc.names.persistQueue), messages);

    const persister = fx.make();
    const seen: string[] = [];
    await persister.consumeDurable((d) => {
      seen.push(d.envelope.id);
      d.ack();
    });
    await waitFor(() => seen.length >= 200, 'every write');
    await persister.close();
    assert.deepEqual(
      seen,
      writes.map((w) => w.id),
      'each once, in publish order',
    );
    assert.equal(await readyCount(svc.names.persistQueue), 0);
  });

  it('group commit: writes issued while one message awaits its confirm leave together when it is confirmed', async () => {
    fx = routerFixture({ label: 'wbundle-group' });
    const one = fx.make({ writesInFlight: 1 });
    const unlimited = fx.make({ writesInFlight: 0 });
    await Promise.all([one.ready(), unlimited.ready()]);
    // 30 writes, each in a turn of its own, none awaited before the next: a quorum-queue confirm takes
    // at least a disk sync, far longer than 30 turns of the event loop.
    const issue = async (svc: typeof one, from: number) => {
      const done: Array<Promise<void>> = [];
      for (let i = 0; i < 30; i++) {
        done.push(svc.durableWrite(createWrite(from + i)));
        await new Promise((r) => setImmediate(r));
      }
      await Promise.all(done);
      return metric(svc, /chat_router_publishes_total\{kind="durable",outcome="ok"\} (\d+)/);
    };
    const grouped = await issue(one, 0);
    const perTurn = await issue(unlimited, 100);
    assert.equal(perTurn, 30, 'without a limit, one message per turn');
    assert.ok(grouped <= 15, `with one message in flight, 30 writes took ${grouped} messages`);
    assert.equal(await metric(one, /chat_router_durable_writes_per_message_sum (\d+)/), 30);

    const persister = fx.make();
    const seen: string[] = [];
    await persister.consumeDurable((d) => {
      seen.push(d.envelope.id);
      d.ack();
    });
    await waitFor(() => seen.length >= 60, 'every write');
    await persister.close();
    assert.equal(new Set(seen).size, 60, 'each write once');
  });

  it('with coalesceWrites off, every write is its own message', async () => {
    fx = routerFixture({ label: 'wbundle-off' });
    const svc = fx.make({ coalesceWrites: false });
    await svc.ready();
    await Promise.all(Array.from({ length: 20 }, (_, i) => svc.durableWrite(createWrite(i))));
    assert.equal(await readyCount(svc.names.persistQueue), 20);
  });

  it('a requeued record brings its whole bundle back; a bad record is dead-lettered alone with its reason', async () => {
    fx = routerFixture({ label: 'wbundle-mixed' });
    const svc = fx.make();
    await svc.ready();
    // A bundle written by hand: two good writes around one that is not a durable write.
    const good = [createWrite(1), createWrite(2)];
    const body = [JSON.stringify(good[0]), '{"v":1,"type":"nope"}', JSON.stringify(good[1])].join('\n');
    const conn = await amqp.connect(amqpUrl());
    try {
      const ch = await conn.createConfirmChannel();
      ch.sendToQueue(svc.names.persistQueue, Buffer.from(body), { persistent: true, type: 'write.bundle' });
      await ch.waitForConfirms();
      await ch.close();
    } finally {
      await conn.close();
    }
    const persister = fx.make();
    const deliveries: DurableDelivery[] = [];
    await persister.consumeDurable((d) => {
      deliveries.push(d);
      // First time round: ack the first record, requeue the second good one.
      if (deliveries.length === 1) d.ack();
      else if (deliveries.length === 2) d.requeue();
      else d.ack();
    });
    await waitFor(() => deliveries.length >= 4, 'the bundle to come back');
    await sleep(300);
    assert.deepEqual(
      deliveries.map((d) => [d.envelope.id, d.redelivered]),
      [
        [good[0]!.id, false],
        [good[1]!.id, false],
        [good[0]!.id, true],
        [good[1]!.id, true],
      ],
      'both good records twice (the first round was requeued as a whole), the bad one never',
    );
    await persister.close();
    assert.equal(await readyCount(svc.names.persistQueue), 0);
    const conn2 = await amqp.connect(amqpUrl());
    try {
      const ch = await conn2.createChannel();
      const dead: amqp.GetMessage[] = [];
      for (let i = 0; i < 50 && dead.length < 2; i++) {
        const m = await ch.get(svc.names.deadQueue, { noAck: true });
        if (m) dead.push(m);
        else await sleep(100);
      }
      // Dead-lettered on each of the two deliveries of the bundle, alone each time.
      assert.equal(dead.length, 2);
      for (const m of dead) {
        assert.equal(m.content.toString(), '{"v":1,"type":"nope"}');
        assert.equal(m.properties.headers?.['x-chat-dead-reason'], 'unknown_type');
        assert.equal(m.properties.type, 'nope');
      }
      await ch.close();
    } finally {
      await conn2.close();
    }
  });
});

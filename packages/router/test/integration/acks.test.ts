// The durable consumer coalesces acks into `multiple` frames (internal/ack-batcher.ts). These tests
// check on a real broker that every ack reaches it — in order, out of order, around requeues and
// right before stopConsuming()/close() — and that nothing unacked is lost.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DurableDelivery, Router } from '@chat/router';
import { amqpUrl, useAmqpLeakCheck } from '@chat/testkit';
import amqp from 'amqplib';
import { createWrite, type RouterFixture, routerFixture, waitFor } from './fixture.js';

useAmqpLeakCheck();

/** Ready and unacked message counts of a queue, from a separate connection. */
async function queueCounts(queue: string): Promise<{ ready: number; consumers: number }> {
  const conn = await amqp.connect(amqpUrl());
  try {
    const ch = await conn.createChannel();
    const q = await ch.checkQueue(queue);
    await ch.close();
    return { ready: q.messageCount, consumers: q.consumerCount };
  } finally {
    await conn.close();
  }
}

/** `n` writes, one broker message each (these tests are about per-message acks, not write bundles). */
async function fill(fx: RouterFixture, n: number): Promise<Router> {
  const svc = fx.make({ coalesceWrites: false });
  await svc.ready();
  await Promise.all(Array.from({ length: n }, (_, i) => svc.durableWrite(createWrite(i))));
  return svc;
}

describe('durable consumer acks', () => {
  let fx: RouterFixture;
  afterEach(async () => fx.cleanup());

  it('acks given in one turn, in reverse order, reach the broker: the queue is empty after the consumer closes', async () => {
    fx = routerFixture({ label: 'acks-reverse' });
    const svc = await fill(fx, 300);
    const persister = fx.make();
    const taken: DurableDelivery[] = [];
    await persister.consumeDurable((d) => {
      taken.push(d);
    });
    await waitFor(() => taken.length === 300, 'all deliveries');
    for (const d of [...taken].reverse()) d.ack();
    // close() flushes pending acks before closing the channel; unacked messages would be requeued.
    await persister.close();
    assert.deepEqual(await queueCounts(svc.names.persistQueue), { ready: 0, consumers: 0 });
  });

  it('an ack behind a slow delivery is not held back, and requeued deliveries come again', async () => {
    fx = routerFixture({ label: 'acks-gap' });
    const svc = await fill(fx, 100);
    const persister = fx.make();
    const firstRound: DurableDelivery[] = [];
    const again: string[] = [];
    await persister.consumeDurable((d) => {
      if (d.redelivered) {
        again.push(d.envelope.id);
        d.ack();
      } else firstRound.push(d);
    });
    await waitFor(() => firstRound.length === 100, 'all deliveries');
    // Delivery 0 stays unsettled; 10..19 are requeued; the rest are acked.
    for (const d of firstRound.slice(10, 20)) d.requeue();
    for (const d of firstRound.slice(20)) d.ack();
    for (const d of firstRound.slice(1, 10)) d.ack();
    await waitFor(() => again.length === 10, 'the requeued ten to come back');
    assert.deepEqual(
      again.sort(),
      firstRound
        .slice(10, 20)
        .map((d) => d.envelope.id)
        .sort(),
    );
    // Everything but delivery 0 is settled on the broker: with the consumer channel open, only it
    // remains outstanding (not ready).
    await sleep(200);
    assert.equal((await queueCounts(svc.names.persistQueue)).ready, 0);
    // Closing without acking delivery 0 returns it to the queue: exactly one message left.
    await persister.close();
    assert.deepEqual(await queueCounts(svc.names.persistQueue), { ready: 1, consumers: 0 });
  });

  it('acks given right before stopConsuming() are not returned to the queue', async () => {
    fx = routerFixture({ label: 'acks-stop' });
    const svc = await fill(fx, 200);
    const persister = fx.make();
    const taken: DurableDelivery[] = [];
    await persister.consumeDurable((d) => {
      taken.push(d);
    });
    await waitFor(() => taken.length === 200, 'all deliveries');
    for (const d of taken) d.ack();
    await persister.stopConsuming();
    await persister.close();
    assert.deepEqual(await queueCounts(svc.names.persistQueue), { ready: 0, consumers: 0 });
  });
});

import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { createRouter, type DispatchGap } from '@chat/router';
import { amqpUrl, closeClientConnections, useAmqpLeakCheck } from '@chat/testkit';
import amqp from 'amqplib';
import { createWrite, type RouterFixture, readAll, routerFixture, waitFor, writeStream } from './fixture.js';

useAmqpLeakCheck();

describe('recovery after the broker closes the connections', () => {
  let fx: RouterFixture;
  afterEach(async () => fx.cleanup());

  it('the router reconnects, every attachment routes again, the consumer resumes, and no confirmed durable write is lost', async () => {
    fx = routerFixture({ label: 'recovery', outageWaitMs: 10_000 });
    const gw = fx.make({ serverId: 'gw1' });
    const svc = fx.make();
    await Promise.all([gw.ready(), svc.ready()]);
    const received = new Set<string>();
    await gw.consume((env) => {
      for (const u of env.to ?? []) received.add(u);
    });
    const users = Array.from({ length: 40 }, (_, i) => `r${i}`);
    await Promise.all(users.map((u) => gw.attach(u)));
    const boundBefore = gw.stats().boundKeys;

    let disconnects = 0;
    gw.on('disconnect', () => disconnects++);
    const gaps: DispatchGap[] = [];
    gw.on('dispatch-gap', (gap: DispatchGap) => gaps.push(gap));
    const confirmed = new Set<string>();
    const stream = writeStream(svc, 3000, 20, confirmed);
    // Kill every connection of this test twice while the stream runs.
    await waitFor(() => confirmed.size > 300, 'the stream to get going');
    assert.ok((await closeClientConnections({ namePrefix: fx.prefix })) >= 2);
    await waitFor(() => gw.isReady && svc.isReady, 'reconnect', 20_000);
    await waitFor(() => confirmed.size > 1500, 'the stream to continue', 30_000);
    assert.ok((await closeClientConnections({ namePrefix: fx.prefix })) >= 2);
    const failures = await stream;
    await Promise.all([gw.ready(20_000), svc.ready(20_000)]);
    assert.ok(disconnects >= 2, 'the gateway saw both disconnects');
    assert.match(await gw.registry.getSingleMetricAsString('chat_router_reconnects_total'), /reconnects_total \d+/);

    // Every attachment routes again, through the restored consumer.
    assert.equal(gw.stats().boundKeys, boundBefore);
    for (const u of users) {
      await svc.dispatch({ v: 1, type: 'dispatch', event: 'TYPING_START', to: [u], data: {} }, { users: [u] });
    }
    await waitFor(() => received.size === users.length, 'a dispatch to every attached user');
    assert.deepEqual(gaps, [], 'a reconnect that finds its queue in place reports no gap');

    // No confirmed write is lost; unconfirmed ones may or may not be there.
    const persister = fx.make();
    const counts = await readAll(persister, confirmed.size);
    const missing = [...confirmed].filter((id) => !counts.has(id));
    assert.deepEqual(missing, [], `${missing.length} confirmed writes missing`);
    assert.equal(confirmed.size + failures.length, 3000);
  });

  it('during an outage a durable write waits for the reconnect instead of failing', async () => {
    fx = routerFixture({ label: 'outage' });
    const svc = fx.make({ reconnectInitialDelayMs: 500 });
    await svc.ready();
    await closeClientConnections({ namePrefix: fx.prefix });
    await waitFor(() => !svc.isReady, 'the router to notice');
    await svc.durableWrite(createWrite(1)); // waits up to outageWaitMs (5 s), reconnect takes ~0.5 s
    assert.ok(svc.isReady);
  });

  it('a durable write fails with a retryable UnavailableError when the outage outlasts outageWaitMs', async () => {
    fx = routerFixture({ label: 'unavailable' });
    // Nothing listens on port 1: the router never connects.
    const svc = createRouter({ url: 'amqp://guest:guest@127.0.0.1:1', prefix: fx.prefix, outageWaitMs: 300 });
    await assert.rejects(svc.durableWrite(createWrite(1)), { code: 'ROUTER_UNAVAILABLE', retryable: true });
    await svc.close();
    await assert.rejects(svc.durableWrite(createWrite(2)), { code: 'ROUTER_CLOSED', retryable: false });
  });
});

/** A gateway router recording the `n` of every dispatch it consumes, with `users` attached, and a publisher. */
async function probedGateway(fx: RouterFixture, users: string[]) {
  const gw = fx.make({ serverId: 'gw1' });
  const svc = fx.make();
  await Promise.all([gw.ready(), svc.ready()]);
  const got: number[] = [];
  await gw.consume((env) => {
    got.push((env.data as { n: number }).n);
  });
  await Promise.all(users.map((u) => gw.attach(u)));
  const probe = (n: number) =>
    svc.dispatch(
      { v: 1, type: 'dispatch', event: 'TYPING_START', to: users, data: { n } },
      { users },
      { confirm: true },
    );
  return { gw, svc, got, probe };
}

/** Does what an operator (or the broker) might do behind the routers' backs, on a connection of its own. */
async function behindTheirBacks(op: (ch: amqp.Channel) => Promise<unknown>): Promise<void> {
  const conn = await amqp.connect(amqpUrl());
  try {
    const ch = await conn.createChannel();
    await op(ch);
    await ch.close();
  } finally {
    await conn.close();
  }
}

describe('front exchange recovery', () => {
  let fx: RouterFixture;
  afterEach(async () => fx.cleanup());

  // 'off': the probe goes to its 30 slot keys; 1: to the broadcast key, which must be bound again too.
  for (const broadcastAboveKeys of ['off', 1] as const) {
    it(`a reconnect re-declares the front exchange and re-binds the ${broadcastAboveKeys === 'off' ? 'slot keys' : 'broadcast key'} on it when it was deleted meanwhile`, async () => {
      fx = routerFixture({ label: 'front', outageWaitMs: 10_000, broadcastAboveKeys });
      const users = Array.from({ length: 30 }, (_, i) => `f${i}`);
      const { gw, svc, got, probe } = await probedGateway(fx, users);
      await probe(1);
      await waitFor(() => got.includes(1), 'the first probe');

      // Someone deletes the front exchange (and with it its bindings); the routers reconnect.
      await behindTheirBacks((ch) => ch.deleteExchange(svc.names.frontExchange));
      assert.ok((await closeClientConnections({ namePrefix: fx.prefix })) >= 2);
      await waitFor(() => gw.isReady && svc.isReady, 'reconnect', 20_000);
      await probe(2);
      await waitFor(() => got.includes(2), 'the probe after the reconnect: every slot binding is back');

      // A reconnect with the exchange in place keeps routing.
      assert.ok((await closeClientConnections({ namePrefix: fx.prefix })) >= 2);
      await waitFor(() => gw.isReady && svc.isReady, 'second reconnect', 20_000);
      await probe(3);
      await waitFor(() => got.includes(3), 'the probe after the second reconnect');
      assert.equal(
        (await svc.registry.getSingleMetricAsString('chat_router_broadcasts_total')).includes('broadcasts_total 3'),
        broadcastAboveKeys === 1,
      );
    });
  }
});

describe('gateway queue recovery', () => {
  let fx: RouterFixture;
  afterEach(async () => fx.cleanup());

  it('a gateway whose queue was deleted meanwhile declares it again, rebinds, and reports the gap once', async () => {
    fx = routerFixture({ label: 'regap', outageWaitMs: 10_000 });
    const { gw, got, probe } = await probedGateway(fx, ['g1', 'g2', 'g3']);
    const gaps: DispatchGap[] = [];
    gw.on('dispatch-gap', (gap: DispatchGap) => gaps.push(gap));

    // Deleting the queue cancels the consumer: the router reconnects and finds no queue.
    const queue = gw.gatewayQueue!;
    await behindTheirBacks((ch) => ch.deleteQueue(queue));
    await waitFor(() => gaps.length > 0, 'the dispatch-gap', 20_000);
    assert.deepEqual(gaps, [{ queue, previous: queue, reason: 'queue-recreated' }]);
    assert.equal(gw.gatewayQueue, queue, 'the same name while it is declarable');
    assert.ok(gw.isReady, 'the gap is reported after ready');
    await probe(1);
    await waitFor(() => got.includes(1), 'a dispatch through the re-declared queue and its bindings');
  });
});

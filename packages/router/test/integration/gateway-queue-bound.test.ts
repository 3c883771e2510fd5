// The gateway queue's bounds: `x-max-length` / `x-max-length-bytes` with `drop-head`, so a gateway
// that is away cannot make the broker hold its copies without limit; a gateway that comes back to a
// full queue reports the loss; a queue an earlier version declared without the bounds is left to expire.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { type DispatchGap, gatewayQueueName, type Router } from '@chat/router';
import { amqpUrl, closeClientConnections, useAmqpLeakCheck } from '@chat/testkit';
import amqp from 'amqplib';
import { type RouterFixture, routerFixture, waitFor } from './fixture.js';

useAmqpLeakCheck();

/** On a connection of its own: runs `op` on a channel. */
async function onOwnChannel<T>(op: (ch: amqp.Channel) => Promise<T>): Promise<T> {
  const conn = await amqp.connect(amqpUrl());
  try {
    const ch = await conn.createChannel();
    const out = await op(ch);
    await ch.close();
    return out;
  } finally {
    await conn.close();
  }
}

const depth = (queue: string) => onOwnChannel(async (ch) => (await ch.checkQueue(queue)).messageCount);

/** Dispatches `TYPING_START {n, pad}` to `user` for every n in `ns`, each confirmed by the broker. */
async function probes(svc: Router, user: string, ns: number[], pad = ''): Promise<void> {
  for (const n of ns) {
    await svc.dispatch(
      { v: 1, type: 'dispatch', event: 'TYPING_START', to: [user], data: { n, pad } },
      { users: [user] },
      { confirm: true },
    );
  }
}

describe('gateway queue bound', () => {
  let fx: RouterFixture;
  afterEach(async () => fx.cleanup());

  it('keeps the newest gatewayQueueMaxLength copies while the gateway is away, and the gateway reports queue-overflowed when it comes back', async () => {
    fx = routerFixture({ label: 'gwbound', outageWaitMs: 10_000 });
    // Away for at least 3 s after the broker closes its connection.
    const gw = fx.make({ serverId: 'gb1', gatewayQueueMaxLength: 5, reconnectInitialDelayMs: 3000 });
    await gw.ready();
    const got: number[] = [];
    await gw.consume((env) => {
      got.push((env.data as { n: number }).n);
    });
    await gw.attach('b1');
    const gaps: DispatchGap[] = [];
    gw.on('dispatch-gap', (gap: DispatchGap) => gaps.push(gap));
    const queue = gw.gatewayQueue!;

    assert.equal(await closeClientConnections({ namePrefix: `${fx.prefix}:gb1:` }), 1);
    await waitFor(() => !gw.isReady, 'the gateway to notice');
    const svc = fx.make();
    await svc.ready();
    await probes(svc, 'b1', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    assert.equal(gw.isReady, false, 'the gateway is still away: the queue had no consumer');
    assert.equal(await depth(queue), 5, 'the bound holds');

    await waitFor(() => gaps.length > 0, 'the dispatch-gap', 20_000);
    assert.deepEqual(gaps, [{ queue, previous: queue, reason: 'queue-overflowed' }]);
    await waitFor(() => got.length >= 5, 'the backlog');
    assert.deepEqual(got, [8, 9, 10, 11, 12], 'drop-head: the oldest copies went');

    // A reconnect to a queue under its bound reports nothing.
    await probes(svc, 'b1', [13]);
    await waitFor(() => got.includes(13), 'a live dispatch');
    assert.equal(await closeClientConnections({ namePrefix: `${fx.prefix}:gb1:` }), 1);
    await waitFor(() => !gw.isReady, 'the gateway to notice again');
    await probes(svc, 'b1', [14, 15]);
    await waitFor(() => gw.isReady && got.includes(15), 'the second reconnect and its backlog', 20_000);
    assert.equal(gaps.length, 1, 'no gap for a backlog under the bound');
  });

  it('bounds the queue by bytes too (gatewayQueueMaxBytes), keeping the newest copies', async () => {
    fx = routerFixture({ label: 'gwbytes' });
    const gw = fx.make({ serverId: 'gb2', gatewayQueueMaxLength: 0, gatewayQueueMaxBytes: 4000 });
    const svc = fx.make();
    await Promise.all([gw.ready(), svc.ready()]);
    await gw.attach('b2');
    const queue = gw.gatewayQueue!;
    await gw.close(); // the queue stays (x-expires), bound and unconsumed
    await probes(svc, 'b2', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'x'.repeat(900));
    const left = await onOwnChannel(async (ch) => {
      const ns: number[] = [];
      for (;;) {
        const msg = await ch.get(queue, { noAck: true });
        if (msg === false) return ns;
        assert.ok(msg.content.length > 900 && msg.content.length < 4000, `one copy is ${msg.content.length} bytes`);
        ns.push(
          ...msg.content
            .toString()
            .match(/"n":(\d+)/g)!
            .map((m) => Number(m.slice(4))),
        );
      }
    });
    assert.ok(left.length >= 1 && left.length <= 4, `${left.length} copies of ~1 KB each under a 4,000-byte bound`);
    assert.deepEqual(
      left,
      Array.from({ length: left.length }, (_, i) => 11 - left.length + i),
      'the newest are kept',
    );
  });

  it('a gateway queue an earlier version declared without the bounds is left to expire: the gateway moves to the next incarnation', async () => {
    fx = routerFixture({ label: 'gwlegacy' });
    const base = gatewayQueueName(fx.prefix, 'gb3');
    await onOwnChannel((ch) => ch.assertQueue(base, { durable: true, arguments: { 'x-expires': 60_000 } }));
    const warnings: string[] = [];
    const noop = () => {};
    const logger = {
      debug: noop,
      info: noop,
      error: noop,
      warn: (_o: unknown, msg?: string) => warnings.push(msg ?? ''),
    };
    const gw = fx.make({ serverId: 'gb3', logger });
    const svc = fx.make();
    await Promise.all([gw.ready(10_000), svc.ready()]);
    assert.equal(gw.gatewayQueue, `${base}.1`);
    assert.ok(
      warnings.some((w) => w.includes('exists with other arguments')),
      `warnings: ${JSON.stringify(warnings)}`,
    );
    const got: number[] = [];
    await gw.consume((env) => {
      got.push((env.data as { n: number }).n);
    });
    await gw.attach('b3');
    await probes(svc, 'b3', [1]);
    await waitFor(() => got.includes(1), 'a dispatch through the new incarnation');
    assert.equal(await depth(base), 0, 'nothing is bound to the old queue any more');
    await onOwnChannel((ch) => ch.deleteQueue(base));
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DispatchGap, Router } from '@chat/router';
import { type RabbitCluster, startRabbitCluster, useAmqpLeakCheck } from '@chat/testkit';
import { readAll, routerFixture, usersInDistinctPartitions, waitFor, writeStream } from './fixture.js';

useAmqpLeakCheck();

describe('a 3-node RabbitMQ cluster', () => {
  let cluster: RabbitCluster;
  before(async () => {
    cluster = await startRabbitCluster({ size: 3 });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('every durable write confirmed while the persist queue’s leader node is stopped is in the queue afterwards, counted one by one', async () => {
    const fx = routerFixture({ label: 'cluster', url: [...cluster.urls], outageWaitMs: 15_000 });
    let survivor = cluster.urls[0]!;
    try {
      const svc = fx.make();
      await svc.ready(30_000);
      const leader = await cluster.quorumLeader(svc.names.persistQueue);
      const confirmed = new Set<string>();
      const total = 4000;
      const stream = writeStream(svc, total, 32, confirmed);
      await waitFor(() => confirmed.size > 500, 'the stream to get going', 30_000);
      await cluster.stopNode(leader.index);
      survivor = cluster.urls[(leader.index + 1) % cluster.urls.length]!;
      const failures = await stream;
      assert.equal(confirmed.size + failures.length, total);
      assert.ok(confirmed.size > 500);

      const newLeader = await cluster.quorumLeader(svc.names.persistQueue);
      assert.notEqual(newLeader.index, leader.index, 'a new leader was elected');

      const reader = fx.make();
      const counts = await readAll(reader, confirmed.size);
      const missing = [...confirmed].filter((id) => !counts.has(id));
      assert.deepEqual(missing, [], `${missing.length} of ${confirmed.size} confirmed writes are missing`);
      // Unconfirmed writes may be present too, but nothing that was never written.
      for (const id of counts.keys())
        assert.ok(BigInt(id) >= 300000000000000000n && BigInt(id) < 300000000000000000n + BigInt(total));
    } finally {
      await fx.cleanup(survivor);
    }
  });

  it('a gateway whose queue’s node is SIGKILLed moves to a fresh queue, rebinds its slot and user keys, reports the gap, and receives again before the node is back', async () => {
    for (let i = 0; i < cluster.urls.length; i++) await cluster.startNode(i);
    const [first, second, third] = cluster.urls as [string, string, string];
    const users = usersInDistinctPartitions(2);
    const sides = (['slot', 'user'] as const).map((granularity) => {
      const fx = routerFixture({ granularity, label: `cluster-gw-${granularity}` });
      // The gateway reaches node 0 first, so its queue is declared there; the publisher lives on node 1.
      const gateway = fx.make({ url: [first, second, third], serverId: 'gw1' });
      const publisher = fx.make({ url: [second, third] });
      const received = new Map<string, number[]>();
      const gaps: DispatchGap[] = [];
      gateway.on('dispatch-gap', (gap: DispatchGap) => gaps.push(gap));
      return { granularity, fx, gateway, publisher, received, gaps };
    });
    const dispatchUntilEveryUserHears = async (publisher: Router, received: Map<string, number[]>, from: number) => {
      let n = from;
      const heard = () => users.every((u) => (received.get(u) ?? []).some((m) => m >= from));
      const deadline = Date.now() + 30_000;
      // Dispatches are at most once: keep publishing until each user's key delivered one from `from` on.
      // While the dead node's queue still holds the keys' bindings (until the gateway has moved and the
      // cluster has noticed the node is gone), the broker may nack a dispatch routed there: retryable,
      // so publish the next one.
      while (!heard()) {
        assert.ok(Date.now() < deadline, `no dispatch from ${from} on reached every user within 30 s`);
        for (const u of users)
          await publisher
            .dispatch(
              { v: 1, type: 'dispatch', event: 'TYPING_START', to: [u], data: { n, u } },
              { users: [u] },
              { confirm: true },
            )
            .catch((err: { code?: string }) => {
              if (err.code !== 'ROUTER_NACKED') throw err;
            });
        n += 1;
        await sleep(100);
      }
    };
    try {
      for (const side of sides) {
        await Promise.all([side.gateway.ready(30_000), side.publisher.ready(30_000)]);
        await side.gateway.consume((env) => {
          const { n, u } = env.data as { n: number; u: string };
          side.received.set(u, [...(side.received.get(u) ?? []), n]);
        });
        for (const u of users) await side.gateway.attach(u);
        await dispatchUntilEveryUserHears(side.publisher, side.received, 0);
      }
      const before = sides.map((s) => s.gateway.gatewayQueue);

      await cluster.killNode(0);
      for (const side of sides) await dispatchUntilEveryUserHears(side.publisher, side.received, 1_000_000);
      assert.equal(cluster.isRunning(0), false, 'the queue’s node is still down');

      for (const [i, side] of sides.entries()) {
        assert.equal(side.gateway.gatewayQueue, `${before[i]}.1`, `${side.granularity}: moved to the next incarnation`);
        assert.deepEqual(
          side.gaps,
          [{ queue: `${before[i]}.1`, previous: before[i], reason: 'queue-moved' }],
          `${side.granularity}: one dispatch-gap`,
        );
      }
    } finally {
      for (const side of sides) await side.fx.cleanup(second);
      await cluster.startNode(0);
    }
  });
});

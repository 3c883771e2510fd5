import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RabbitCluster, startRabbitCluster, useAmqpLeakCheck } from '@chat/testkit';
import { readAll, routerFixture, waitFor, writeStream } from './fixture.js';

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
});

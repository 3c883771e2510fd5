// The persist queue's bound: past `persistMaxLength` the broker nacks (reject-publish) and
// durableWrite rejects with the distinct, retryable QueueFullError; a queue that exists without
// the bound (an existing deployment) keeps working, with a warning naming the policy fix.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { QueueFullError, topologyNames } from '@chat/router';
import { useAmqpLeakCheck } from '@chat/testkit';
import amqp from 'amqplib';
import { createWrite, type RouterFixture, routerFixture } from './fixture.js';

useAmqpLeakCheck();

function captureLogger() {
  const warnings: string[] = [];
  const noop = () => {};
  return {
    warnings,
    logger: { debug: noop, info: noop, error: noop, warn: (_o: unknown, msg?: string) => warnings.push(msg ?? '') },
  };
}

describe('persist queue bound', () => {
  let fx: RouterFixture;
  afterEach(async () => fx.cleanup());

  it('past persistMaxLength a durable write is refused with QueueFullError (retryable), and the bound holds', async () => {
    fx = routerFixture({ label: 'bound' });
    const router = fx.make({ persistMaxLength: 5 });
    await router.ready(10_000);
    const outcomes: string[] = [];
    for (let n = 0; n < 12; n++) {
      try {
        await router.durableWrite(createWrite(n));
        outcomes.push('ok');
      } catch (err) {
        assert.ok(err instanceof QueueFullError, `expected QueueFullError, got ${(err as Error).name}`);
        assert.equal(err.code, 'ROUTER_QUEUE_FULL');
        assert.equal(err.retryable, true);
        outcomes.push('full');
      }
    }
    // Quorum queues check the bound before enqueueing (a message may go one over) and, once over,
    // refuse until the queue is back under a low-water mark: the first five are taken, then
    // everything after the first refusal is refused.
    const firstFull = outcomes.indexOf('full');
    assert.ok(firstFull >= 5 && firstFull <= 6, outcomes.join(','));
    assert.ok(
      outcomes.slice(firstFull).every((o) => o === 'full'),
      outcomes.join(','),
    );
    assert.equal(await router.persistQueueDepth(), firstFull, 'exactly the confirmed writes are queued');
    assert.equal(router.isReady, true, 'a refusal does not disturb the connection');
    // Once consumers take the backlog, writes are accepted again.
    const conn = await amqp.connect(fx.url as string);
    try {
      const ch = await conn.createChannel();
      while (await ch.get(topologyNames(fx.prefix, 16).persistQueue, { noAck: true }));
      await ch.close();
    } finally {
      await conn.close();
    }
    await router.durableWrite(createWrite(100));
    assert.equal(await router.persistQueueDepth(), 1);
  });

  it('an existing persist queue declared without x-max-length keeps working, with a warning that names the policy', async () => {
    fx = routerFixture({ label: 'legacy' });
    const names = topologyNames(fx.prefix, 16);
    // What an earlier version declared.
    const conn = await amqp.connect(fx.url as string);
    try {
      const ch = await conn.createChannel();
      await ch.assertQueue(names.persistQueue, {
        durable: true,
        arguments: {
          'x-queue-type': 'quorum',
          'x-delivery-limit': 10,
          'x-dead-letter-exchange': names.deadExchange,
          'x-dead-letter-strategy': 'at-least-once',
          'x-overflow': 'reject-publish',
        },
      });
      await ch.close();
    } finally {
      await conn.close();
    }
    const { warnings, logger } = captureLogger();
    const router = fx.make({ persistMaxLength: 5, logger });
    await router.ready(10_000);
    for (let n = 0; n < 8; n++) await router.durableWrite(createWrite(n)); // unbounded, as before
    assert.equal(await router.persistQueueDepth(), 8);
    const warning = warnings.find((w) => w.includes('declared with other arguments'));
    assert.ok(warning, `warnings: ${JSON.stringify(warnings)}`);
    assert.match(warning, /rabbitmqctl set_policy --apply-to queues \S+ '\^[^']+\\\.persist\$' '\{"max-length":5,/);
    assert.equal(router.isReady, true);
    assert.equal(warnings.filter((w) => w.includes('recycling')).length, 0, 'the 406 must not recycle the connection');
  });
});

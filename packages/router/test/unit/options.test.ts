import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError, resolveRouterOptions } from '@chat/router';

describe('router options', () => {
  it('fill every default and come back frozen', () => {
    const o = resolveRouterOptions();
    assert.deepEqual(o.urls, ['amqp://guest:guest@127.0.0.1:5672']);
    assert.equal(o.prefix, 'chat');
    assert.equal(o.partitions, 16);
    assert.equal(o.slots, 1024);
    assert.equal(o.granularity, 'slot');
    assert.equal(o.prefetch, 256);
    assert.equal(o.writesInFlight, 1);
    assert.equal(o.coalesceWrites, true);
    assert.equal(o.declareTopology, true);
    assert.equal(o.broadcastAboveKeys, 'auto');
    assert.equal(o.gatewayQueueMaxLength, 10_000);
    assert.equal(o.gatewayQueueMaxBytes, 64 * 1024 * 1024);
    assert.equal(o.amqpUser, 'guest');
    assert.equal(o.tls, false);
    assert.equal(o.connectionName, `chat:router:${process.pid}`);
    assert.ok(Object.isFrozen(o));
    assert.ok(Object.isFrozen(o.urls));
    assert.throws(() => {
      (o as { prefix: string }).prefix = 'other';
    }, TypeError);
  });

  it('keep what the caller set, and copy the URL list so that later changes to it do not leak in', () => {
    const urls = ['amqp://gw:pw@a', 'amqp://gw:pw@b'];
    const o = resolveRouterOptions({ url: urls, serverId: 'gw-1', prefix: 'x.y', granularity: 'user', lingerMs: 0 });
    urls.push('amqp://gw:pw@c');
    assert.deepEqual(o.urls, ['amqp://gw:pw@a', 'amqp://gw:pw@b']);
    assert.equal(o.serverId, 'gw-1');
    assert.equal(o.connectionName, `x.y:gw-1:${process.pid}`);
    assert.equal(o.granularity, 'user');
    assert.equal(o.amqpUser, 'gw');
  });

  it('refuse invalid values with InvalidArgumentError before anything connects', () => {
    const bad: Array<[Parameters<typeof resolveRouterOptions>[0], RegExp]> = [
      [{ url: [] }, /at least one broker/],
      [{ url: 'http://h' }, /amqp:\/\/ or amqps:\/\//],
      [{ prefix: 'a..b' }, /prefix/],
      [{ serverId: 'has space' }, /serverId/],
      [{ partitions: 0 }, /partitions must be an integer ≥ 1/],
      [{ slots: 100, partitions: 16 }, /multiple of partitions/],
      [{ granularity: 'channel' as never }, /granularity/],
      [{ prefetch: 1.5 }, /prefetch/],
      [{ lingerMs: -1 }, /lingerMs must be an integer ≥ 0/],
      [{ gatewayQueueMaxLength: -1 }, /gatewayQueueMaxLength must be an integer ≥ 0/],
      [{ gatewayQueueMaxBytes: 1.5 }, /gatewayQueueMaxBytes must be an integer ≥ 0/],
      [{ broadcastAboveKeys: 0 }, /broadcastAboveKeys must be an integer ≥ 1/],
      [{ broadcastAboveKeys: 'always' as never }, /broadcastAboveKeys/],
      [{ url: ['amqp://a:x@h1', 'amqp://b:x@h2'] }, /same AMQP user/],
    ];
    for (const [options, message] of bad) {
      assert.throws(
        () => resolveRouterOptions(options),
        (err: unknown) => {
          assert.ok(err instanceof InvalidArgumentError, String(err));
          assert.match(err.message, message);
          return true;
        },
      );
    }
  });

  it('accept 0 where 0 means none', () => {
    const o = resolveRouterOptions({
      persistMaxLength: 0,
      writesInFlight: 0,
      outageWaitMs: 0,
      heartbeatSeconds: 0,
      gatewayQueueMaxLength: 0,
      gatewayQueueMaxBytes: 0,
    });
    assert.equal(o.persistMaxLength, 0);
    assert.equal(o.gatewayQueueMaxLength, 0);
    assert.equal(o.gatewayQueueMaxBytes, 0);
    assert.equal(o.writesInFlight, 0);
    assert.equal(o.outageWaitMs, 0);
    assert.equal(o.heartbeatSeconds, 0);
  });
});

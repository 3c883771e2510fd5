// The gateway queue's consumer with a fake Delivery: what reaches the handler, what is dropped, and
// when each broker message is acked.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '@chat/protocol';
import type { DeliveryInfo, DispatchEnvelope } from '@chat/router';
import { Registry } from 'prom-client';
import { BUNDLE_TYPE, encodeRecord } from '../../src/internal/dispatch-bundle.js';
import { DispatchConsumer, type DispatchHandler, RecentIds } from '../../src/internal/dispatch-consumer.js';
import { Drops } from '../../src/internal/drops.js';
import { createMetrics } from '../../src/internal/metrics.js';
import { deferred, FakeDelivery, textDispatch } from './fake-delivery.js';

const env = textDispatch;

function consumer(handler: DispatchHandler, bound: string[] = []) {
  const metrics = createMetrics(new Registry(), 'test_');
  const keys = new Set(bound);
  const c = new DispatchConsumer({
    handler,
    isBound: (key) => keys.has(key),
    recent: new RecentIds(4),
    drops: new Drops(metrics, silentLogger),
    metrics,
  });
  return { c, metrics };
}

describe('dispatch consumer', () => {
  it('hands a dispatch over once per dispatch id and acks every copy', () => {
    const got: Array<[DispatchEnvelope, DeliveryInfo]> = [];
    const { c } = consumer((e, info) => {
      got.push([e, info]);
    });
    const first = new FakeDelivery(JSON.stringify(env('a')), { type: 'dispatch', messageId: 'd1' });
    const copy = new FakeDelivery(JSON.stringify(env('a')), { type: 'dispatch', messageId: 'd1' }, true);
    c.onDelivery(first);
    c.onDelivery(copy);
    assert.deepEqual(got, [[env('a'), { messageId: 'd1', redelivered: false }]]);
    assert.equal(first.settledAs, 'ack');
    assert.equal(copy.settledAs, 'ack');
  });

  it('drops malformed envelopes and handler failures without stopping, acking each', async () => {
    const { c, metrics } = consumer(() => {
      throw new Error('boom');
    });
    const bad = new FakeDelivery('{nope', { type: 'dispatch' });
    const thrown = new FakeDelivery(JSON.stringify(env('a')), { type: 'dispatch' });
    c.onDelivery(bad);
    c.onDelivery(thrown);
    assert.equal(bad.settledAs, 'ack');
    assert.equal(thrown.settledAs, 'ack');
    const dropped = (await metrics.dropped.get()).values.map((v) => [v.labels.reason, v.value]);
    assert.deepEqual(dropped.sort(), [
      ['handler_error', 1],
      ['invalid_json', 1],
    ]);
  });

  it('acks a dispatch only once its async handler settled', async () => {
    const gate = deferred();
    const { c } = consumer(() => gate.promise);
    const d = new FakeDelivery(JSON.stringify(env('a')), { type: 'dispatch' });
    c.onDelivery(d);
    await Promise.resolve();
    assert.equal(d.settledAs, undefined);
    gate.resolve();
    await d.settled;
    assert.equal(d.settledAs, 'ack');
  });

  it('a bundle: records for keys it binds, in order, once per id; acked after the last handler settled', async () => {
    const got: string[] = [];
    const gate = deferred();
    const { c, metrics } = consumer(
      (e) => {
        got.push((e.data as { content: string }).content);
        return gate.promise;
      },
      ['s.1'],
    );
    const body = [
      encodeRecord('r1', ['s.1'], env('mine')),
      encodeRecord('r2', ['s.2'], env('foreign')),
      encodeRecord('r3', ['s.2', 's.1'], env('also mine')),
      encodeRecord('r1', ['s.1'], env('mine again')),
    ].join('');
    const d = new FakeDelivery(body, { type: BUNDLE_TYPE });
    c.onDelivery(d);
    assert.deepEqual(got, ['mine', 'also mine']);
    assert.equal(d.settledAs, undefined);
    gate.resolve();
    await d.settled;
    const outcomes = (await metrics.bundleRecords.get()).values.map((v) => [v.labels.outcome, v.value]);
    assert.deepEqual(outcomes.sort(), [
      ['delivered', 2],
      ['foreign', 1],
    ]);
    assert.equal((await metrics.duplicates.get()).values[0]!.value, 1);
  });
});

describe('recent ids', () => {
  it('refuse an id while it is among the last `capacity` added, and evict the oldest first', () => {
    const r = new RecentIds(3);
    assert.deepEqual(
      ['a', 'b', 'c', 'a'].map((id) => r.add(id)),
      [true, true, true, false],
    );
    assert.equal(r.add('d'), true, 'a fourth id evicts the oldest, a');
    assert.equal(r.add('b'), false, 'b is still held');
    assert.equal(r.add('a'), true, 'a was evicted: it is new again (and evicts b)');
    assert.equal(r.add('c'), false);
    assert.equal(r.add('b'), true, 'b was evicted by a');
    // Round after round the ring keeps exactly the last three.
    for (let i = 0; i < 1000; i++) assert.equal(r.add(`x${i}`), true);
    assert.deepEqual(
      ['x997', 'x998', 'x999', 'x996'].map((id) => r.add(id)),
      [false, false, false, true],
    );
  });
});

// The persist queue's consumer with a fake Delivery: which writes reach the handler, which are
// dead-lettered (and how the dead letter looks), and how each broker message is settled.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '@chat/protocol';
import { type DurableDelivery, WRITER_NOT_ALLOWED } from '@chat/router';
import { Registry } from 'prom-client';
import { DEAD_REASON_HEADER, type DeadLetter, WRITER_HEADER } from '../../src/internal/dead-letter.js';
import { Drops } from '../../src/internal/drops.js';
import { DurableConsumer } from '../../src/internal/durable-consumer.js';
import { createMetrics } from '../../src/internal/metrics.js';
import { WRITE_BUNDLE_TYPE } from '../../src/internal/write-bundle.js';
import { FakeDelivery } from './fake-delivery.js';

const del = (id: string) => ({ v: 1, type: 'message.delete', id, message_id: '1', channel_id: 'c', author_id: 'u' });

function consumer(options: { writers?: string[]; failDeadLetters?: boolean } = {}) {
  const handed: DurableDelivery[] = [];
  const dead: DeadLetter[] = [];
  const metrics = createMetrics(new Registry(), 'test_');
  const c = new DurableConsumer({
    handler: (d) => {
      handed.push(d);
    },
    writers: options.writers === undefined ? undefined : new Set(options.writers),
    publishDead: async (letter) => {
      if (options.failDeadLetters) throw new Error('broker gone');
      dead.push(letter);
    },
    drops: new Drops(metrics, silentLogger),
    metrics,
    logger: silentLogger,
  });
  return { c, handed, dead, metrics };
}

describe('durable consumer', () => {
  it('hands a valid write over with its delivery count; the handler settles the broker message', async () => {
    const { c, handed, dead } = consumer();
    const d = new FakeDelivery(
      JSON.stringify(del('2')),
      { type: 'message.delete', headers: { 'x-delivery-count': 3 } },
      true,
    );
    c.onDelivery(d);
    assert.equal(handed.length, 1);
    assert.deepEqual(handed[0]!.envelope, del('2'));
    assert.equal(handed[0]!.deliveryCount, 3);
    assert.equal(handed[0]!.redelivered, true);
    assert.equal(d.settledAs, undefined, 'nothing settles it before the handler does');
    handed[0]!.requeue();
    handed[0]!.ack();
    assert.equal(d.settledAs, 'requeue', 'the first settlement counts, later ones are ignored');
    assert.equal(dead.length, 0);
  });

  it('dead-letters invalid JSON and invalid writes with the reason, then acks; the handler never sees them', async () => {
    const { c, handed, dead } = consumer();
    const notJson = new FakeDelivery('{nope', { type: 'message.create', messageId: 'm1' });
    const notAWrite = new FakeDelivery(JSON.stringify({ v: 1, type: 'dispatch' }), { type: 'dispatch' });
    c.onDelivery(notJson);
    c.onDelivery(notAWrite);
    await Promise.all([notJson.settled, notAWrite.settled]);
    assert.equal(handed.length, 0);
    assert.equal(notJson.settledAs, 'ack');
    assert.equal(notAWrite.settledAs, 'ack');
    assert.equal(dead[0]!.properties.headers?.[DEAD_REASON_HEADER], 'invalid_json');
    assert.equal(dead[0]!.content.toString(), '{nope', 'the body goes unchanged');
    assert.equal(dead[0]!.properties.messageId, 'm1', 'with the properties it came with');
    assert.equal(dead[0]!.properties.persistent, true);
    assert.equal(dead[1]!.properties.headers?.[DEAD_REASON_HEADER], 'unknown_type');
  });

  it('dead-letters a write from a writer not accepted, naming the writer in a header and dropping user_id', async () => {
    const { c, handed, dead } = consumer({ writers: ['gateway'] });
    const stranger = new FakeDelivery(JSON.stringify(del('2')), { userId: 'monitor', headers: { v: 1 } });
    const anonymous = new FakeDelivery(JSON.stringify(del('3')), {});
    const accepted = new FakeDelivery(JSON.stringify(del('4')), { userId: 'gateway' });
    for (const d of [stranger, anonymous, accepted]) c.onDelivery(d);
    await Promise.all([stranger.settled, anonymous.settled]);
    assert.deepEqual(
      handed.map((h) => h.envelope.id),
      ['4'],
    );
    assert.equal(dead.length, 2);
    assert.deepEqual(dead[0]!.properties.headers, {
      v: 1,
      [DEAD_REASON_HEADER]: WRITER_NOT_ALLOWED,
      [WRITER_HEADER]: 'monitor',
    });
    assert.equal(dead[0]!.properties.userId, undefined);
    assert.equal(dead[1]!.properties.headers?.[WRITER_HEADER], undefined, 'no user_id, no writer header');
  });

  it('requeues a write whose dead letter could not be published, and one whose handler throws', async () => {
    const failing = consumer({ failDeadLetters: true });
    const bad = new FakeDelivery('{nope');
    failing.c.onDelivery(bad);
    await bad.settled;
    assert.equal(bad.settledAs, 'requeue');

    const metrics = createMetrics(new Registry(), 'test_');
    const throwing = new DurableConsumer({
      handler: () => {
        throw new Error('store down');
      },
      writers: undefined,
      publishDead: async () => {},
      drops: new Drops(metrics, silentLogger),
      metrics,
      logger: silentLogger,
    });
    const d = new FakeDelivery(JSON.stringify(del('2')));
    throwing.onDelivery(d);
    assert.equal(d.settledAs, 'requeue');
  });

  it('a bundle: each record is a delivery; a bad one is dead-lettered alone; acked once all are settled', async () => {
    const { c, handed, dead } = consumer();
    const body = [JSON.stringify(del('2')), '{"v":1,"type":"message.delete","id":"9"}', JSON.stringify(del('3'))].join(
      '\n',
    );
    const d = new FakeDelivery(body, { type: WRITE_BUNDLE_TYPE, messageId: 'bundle-1', userId: 'gateway' });
    c.onDelivery(d);
    assert.deepEqual(
      handed.map((h) => h.envelope.id),
      ['2', '3'],
    );
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.equal(dead.length, 1);
    const letter = dead[0]!;
    assert.equal(letter.content.toString(), '{"v":1,"type":"message.delete","id":"9"}', 'the record alone');
    assert.equal(letter.properties.type, 'message.delete', 'typed as a single write');
    assert.equal(letter.properties.messageId, '9', 'identified by the write id');
    assert.equal(letter.properties.headers?.[WRITER_HEADER], 'gateway');
    handed[0]!.ack();
    assert.equal(d.settledAs, undefined, 'a record is still open');
    handed[1]!.ack();
    assert.equal(d.settledAs, 'ack');
  });

  it('a bundle with a requeued record is requeued as a whole once every record is settled', () => {
    const { c, handed } = consumer();
    const d = new FakeDelivery([JSON.stringify(del('2')), JSON.stringify(del('3'))].join('\n'), {
      type: WRITE_BUNDLE_TYPE,
    });
    c.onDelivery(d);
    handed[0]!.requeue();
    assert.equal(d.settledAs, undefined);
    handed[1]!.ack();
    assert.equal(d.settledAs, 'requeue');
  });

  it('handler deadLetter(reason) publishes the write with that reason before acking', async () => {
    const { c, handed, dead } = consumer();
    const d = new FakeDelivery(JSON.stringify(del('2')), { type: 'message.delete' });
    c.onDelivery(d);
    await handed[0]!.deadLetter('poison');
    assert.equal(dead[0]!.properties.headers?.[DEAD_REASON_HEADER], 'poison');
    assert.equal(d.settledAs, 'ack');
  });
});

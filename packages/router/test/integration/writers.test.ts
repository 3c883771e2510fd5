// Durable writes carry the broker-checked AMQP user of their publisher (`user_id`), and a durable
// consumer given `writers` hands over only writes from those users: a write from any other broker
// account (or one without `user_id`) is dead-lettered with the reason and the writer's name.
// A private node, so the test can create a second broker user.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRouter, type DurableDelivery, type Router, topologyNames, WRITER_NOT_ALLOWED } from '@chat/router';
import { type RabbitNode, startRabbitNode, uniquePrefix } from '@chat/testkit';
import amqp from 'amqplib';
import { createWrite, waitFor } from './fixture.js';

describe('durable writers (AMQP user_id)', () => {
  let node: RabbitNode;
  let otherUrl: string;
  before(async () => {
    node = await startRabbitNode();
    await node.rabbitmqctl(0, 'add_user', 'monitor', 'monitor-pw');
    await node.rabbitmqctl(0, 'set_permissions', '-p', '/', 'monitor', '.*', '.*', '.*');
    otherUrl = node.url.replace(/\/\/[^@]*@/, '//monitor:monitor-pw@');
    if (otherUrl === node.url) otherUrl = node.url.replace('amqp://', 'amqp://monitor:monitor-pw@');
  });
  after(async () => node?.stop());

  it("stores only the accepted users' writes; others are dead-lettered with the writer named", async () => {
    const prefix = uniquePrefix('writers');
    const routers: Router[] = [];
    const make = (url: string) => {
      const r = createRouter({ url, prefix });
      routers.push(r);
      return r;
    };
    const conn = await amqp.connect(node.url);
    try {
      const persister = make(node.url);
      const gateway = make(node.url);
      const intruder = make(otherUrl);
      assert.equal(gateway.options.amqpUser, 'guest');
      assert.equal(intruder.options.amqpUser, 'monitor');
      await Promise.all(routers.map((r) => r.ready()));
      const received: string[] = [];
      await persister.consumeDurable(
        (d: DurableDelivery) => {
          received.push(d.envelope.id);
          d.ack();
        },
        { writers: ['guest'] },
      );

      const accepted = createWrite(1);
      await gateway.durableWrite(accepted);
      // One single write and one bundle (two writes in one turn) from the other account; both confirmed
      // by the broker (the account may publish) and neither may reach the handler.
      const lone = createWrite(2);
      await intruder.durableWrite(lone);
      const bundled = [createWrite(3), createWrite(4)];
      await Promise.all(bundled.map((w) => intruder.durableWrite(w)));
      // A raw publish without user_id, as any client library would send by default.
      const ch = await conn.createConfirmChannel();
      const names = topologyNames(prefix, persister.options.partitions);
      const anonymous = createWrite(5);
      ch.sendToQueue(names.persistQueue, Buffer.from(JSON.stringify(anonymous)), {
        persistent: true,
        type: 'message.create',
        messageId: anonymous.id,
      });
      await ch.waitForConfirms();

      const dead: amqp.GetMessage[] = [];
      await waitFor(async () => {
        const m = await ch.get(names.deadQueue, { noAck: true });
        if (m) dead.push(m);
        return dead.length >= 4;
      }, 'four dead-lettered writes');
      assert.deepEqual(received, [accepted.id]);
      const byId = new Map(dead.map((m) => [m.properties.messageId as string, m]));
      assert.deepEqual([...byId.keys()].sort(), [lone.id, bundled[0]!.id, bundled[1]!.id, anonymous.id].sort());
      for (const id of [lone.id, bundled[0]!.id, bundled[1]!.id]) {
        const m = byId.get(id)!;
        assert.equal(m.properties.headers?.['x-chat-dead-reason'], WRITER_NOT_ALLOWED);
        assert.equal(m.properties.headers?.['x-chat-writer'], 'monitor');
        assert.equal(JSON.parse(m.content.toString()).id, id, 'a bundled record is dead-lettered alone');
      }
      const anon = byId.get(anonymous.id)!;
      assert.equal(anon.properties.headers?.['x-chat-dead-reason'], WRITER_NOT_ALLOWED);
      assert.equal(anon.properties.headers?.['x-chat-writer'], undefined);
      await ch.close();
    } finally {
      await Promise.all(routers.map((r) => r.close()));
      await conn.close();
    }
  });

  it('the broker refuses a publish whose user_id is not the connection user (why a consumer can trust it)', async () => {
    const conn = await amqp.connect(otherUrl);
    try {
      const ch = await conn.createConfirmChannel();
      const closed = new Promise<Error>((resolve) => ch.once('error', resolve));
      ch.publish('', 'anything', Buffer.from('{}'), { userId: 'guest' });
      const err = await closed;
      assert.match(err.message, /PRECONDITION_FAILED/);
      assert.match(err.message, /user_id/);
    } finally {
      await conn.close();
    }
  });
});

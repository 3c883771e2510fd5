// A gateway whose queue lost what was routed to it asks its sockets to RECONNECT and RESUME
// (docs/protocol.md §5.2): here the queue is deleted under a running gateway, the way it is gone when
// it expired during a long broker outage (the router's cluster test covers the queue's node dying).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CloseCode } from '@chat/protocol';
import { gatewayQueueName } from '@chat/router';
import { amqpUrl } from '@chat/testkit';
import amqp from 'amqplib';
import { RawClient } from './raw-client.js';
import { http, type Stack, signUp, startStack, waitForStored } from './stack.js';

describe('a gateway whose queue lost dispatches', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ gateways: 1 });
  });
  after(async () => stack?.close());

  it('sends RECONNECT to every socket, closes those that stay with 4000, and a RESUME then carries what was sent in the gap', async () => {
    const gw = stack.gateways[0]!;
    const ivy = await signUp(gw.url, 'gapivy');
    const jon = await signUp(gw.url, 'gapjon');
    const dm = (await http(gw.url, 'POST', '/api/channels', { kind: 'dm', recipients: [ivy.id] }, jon.token)).body;
    const send = async (content: string) =>
      (await http(gw.url, 'POST', `/api/channels/${dm.id}/messages`, { content }, jon.token)).body.id as string;
    const c1 = await RawClient.open(`ws://127.0.0.1:${gw.port}/ws`);
    await c1.identify(ivy.token);
    const seen = await send('before');
    await c1.next((f) => f.t === 'MESSAGE_CREATE' && f.d.id === seen);

    const conn = await amqp.connect(amqpUrl());
    try {
      const ch = await conn.createChannel();
      await ch.deleteQueue(gatewayQueueName(stack.prefix, gw.serverId));
    } finally {
      await conn.close();
    }
    const inGap = await send('in the gap');

    await c1.next((f) => f.op === 7, 30_000);
    assert.equal(await c1.closed(), CloseCode.UNKNOWN_ERROR, 'a socket that ignores RECONNECT is closed 4000');

    // The replay carries what is stored when it reads (a change stored later arrives live, §5.6).
    await waitForStored(gw.url, dm.id, inGap, jon.token);
    const c2 = await RawClient.open(`ws://127.0.0.1:${gw.port}/ws`);
    c2.send({ op: 6, d: { token: ivy.token, since: seen } });
    await c2.next((f) => f.t === 'RESUMED');
    assert.ok(
      c2.frames.some((f) => f.t === 'MESSAGE_CREATE' && f.d.id === inGap),
      'the message sent in the gap was replayed',
    );
    const after = await send('after');
    await c2.next((f) => f.t === 'MESSAGE_CREATE' && f.d.id === after);
    c2.close();
  });
});

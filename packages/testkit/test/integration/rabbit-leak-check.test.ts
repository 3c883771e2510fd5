// The AMQP leak check against the system broker at amqpUrl(): real sockets, real amqplib channels.
// The file uses the check on itself, so every test must also end with nothing open.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as net from 'node:net';
import { test } from 'node:test';
import {
  AmqpLeakError,
  amqpLeaks,
  amqpUrl,
  assertNoAmqpLeaks,
  closeClientConnections,
  uniquePrefix,
  useAmqpLeakCheck,
} from '@chat/testkit';
import amqp from 'amqplib';

useAmqpLeakCheck();

test('the check throws when a connection is left open and passes once it is closed', async () => {
  const connection = await amqp.connect(amqpUrl());
  const error = await assertNoAmqpLeaks({ graceMs: 100 }).then(
    () => assert.fail('expected a leak'),
    (err: unknown) => err,
  );
  assert.ok(error instanceof AmqpLeakError);
  assert.equal(error.code, 'TESTKIT_AMQP_LEAK');
  assert.match(error.message, /1 connection\(s\) and 0 channel\(s\)/);
  assert.match(
    error.details[0] ?? '',
    /^connection 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:5672 opened at .*rabbit-leak-check\.test\.ts/,
  );

  await connection.close();
  await assertNoAmqpLeaks();
  assert.deepEqual(amqpLeaks(), { connections: 0, channels: 0, details: [] });
});

test('the check throws when a channel is left open on an open connection', async () => {
  const connection = await amqp.connect(amqpUrl());
  try {
    const channel = await connection.createChannel();
    await assert.rejects(assertNoAmqpLeaks({ graceMs: 100 }), /channel 1 on connection/);
    assert.equal(amqpLeaks().channels, 1);

    await channel.close();
    assert.equal(amqpLeaks().channels, 0);
    assert.equal(amqpLeaks().connections, 1);
  } finally {
    await connection.close();
  }
  await assertNoAmqpLeaks();
});

test('a confirm channel left open is reported as one', async () => {
  const connection = await amqp.connect(amqpUrl());
  try {
    const channel = await connection.createConfirmChannel();
    assert.match(amqpLeaks().details.join('\n'), /confirm channel 1 on connection/);
    await channel.close();
  } finally {
    await connection.close();
  }
});

test('a channel counts as closed once its connection closes', async () => {
  const connection = await amqp.connect(amqpUrl());
  await connection.createChannel();
  await connection.createChannel();
  assert.equal(amqpLeaks().channels, 2);
  await connection.close();
  await assertNoAmqpLeaks();
});

test('a connection the broker force-closes counts as closed', async () => {
  const name = `${uniquePrefix('leak')}forced`;
  const connection = await amqp.connect(amqpUrl(), { clientProperties: { connection_name: name } });
  connection.on('error', () => {});
  await connection.createChannel();
  const closed = once(connection, 'close');
  assert.equal(await closeClientConnections({ namePrefix: name }), 1);
  await closed;
  await assertNoAmqpLeaks();
});

test('channels of a connection with amqplib recovery are tracked too', async () => {
  const model = await amqp.connect(amqpUrl(), { recovery: true });
  try {
    const channel = await model.createChannel();
    assert.equal(amqpLeaks().channels, 1);
    await channel.close();
    assert.equal(amqpLeaks().channels, 0);
  } finally {
    await model.close();
  }
});

test('sockets to ports that are not AMQP ports are not counted', async () => {
  const server = net.createServer((socket) => socket.end());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  assert.equal(amqpLeaks().connections, 0);
  socket.destroy();
  server.close();
  await once(server, 'close');
});

test('closeLeaked closes the leaked connections after reporting them', async () => {
  const bare = await amqp.connect(amqpUrl());
  const withChannel = await amqp.connect(amqpUrl());
  const channel = await withChannel.createChannel();
  const closed = [once(bare, 'close'), once(withChannel, 'close'), once(channel, 'close')];
  await assert.rejects(
    assertNoAmqpLeaks({ graceMs: 100, closeLeaked: true }),
    (error: unknown) => error instanceof AmqpLeakError && error.details.length === 3,
  );
  await Promise.all(closed);
  assert.deepEqual(amqpLeaks(), { connections: 0, channels: 0, details: [] });
});
